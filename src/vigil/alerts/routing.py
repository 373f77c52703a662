"""Alert routing and noise control, as Alertmanager does it (see reference/alerting.md §2).

Alerts (label sets that fire and resolve) go down a routing tree: depth-first, the first
matching child wins unless it has ``continue``; children inherit their parent's settings.
Alerts with equal values of a route's ``group_by`` labels form a group. A group is notified
``group_wait`` after it appears, then at most every ``group_interval`` when it changed (alerts
joined or resolved), and every ``repeat_interval`` while it is unchanged and still firing.
When every alert of a group has resolved, one resolved notification goes out (when the
receiver sends resolved notifications) and the group ends.

Noise control on top: silences mute matching alerts between their start and end; inhibition
mutes a target alert while a source alert with equal ``equal`` labels fires; flapping alerts
(more than ``flap_threshold`` changes in ``flap_window``) are held firing until they have
been stable for a ``flap_window``. Answers to users' complaints: an alert notified as firing
always gets its resolved notification, even if it was silenced meanwhile; duplicates are
folded by fingerprint.

>>> root = Route(receiver="team", group_by=("alertname",), group_wait=30)
>>> d = Dispatcher(root)
>>> d.receive([Alert({"alertname": "drift", "feature": "age"}, starts_at=0.0)], now=0.0)
>>> d.flush(now=10.0)
[]
>>> [(n.receiver, n.status, len(n.alerts)) for n in d.flush(now=30.0)]
[('team', 'firing', 1)]
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from vigil.errors import ConfigError


@dataclass(frozen=True)
class Matcher:
    """``name op value`` with op ``=``, ``!=``, ``=~`` (full regex match) or ``!~``."""

    name: str
    value: str
    op: str = "="

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = re.fullmatch(self.value, actual) is not None
        return hit if self.op == "=~" else not hit

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """``team="ml"``, ``severity!=info``, ``alertname=~"drift.*"``."""
        found = re.fullmatch(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*', text)
        if not found:
            raise ConfigError(
                f"matcher {text!r}: expected name=value, name!=value, name=~regex or name!~regex"
            )
        name, op, value = found.group(1), found.group(2), found.group(3)
        if op in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:  # refused here, not at each notification it would match
                raise ConfigError(f"matcher {text!r}: not a regular expression ({exc})") from None
        return cls(name, value, op)


def _canonical(labels: Mapping[str, str]) -> str:
    return orjson.dumps(dict(labels), option=orjson.OPT_SORT_KEYS).decode()


def _all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


@dataclass
class Alert:
    """An alert: labels identify it; it fires from ``starts_at`` until ``ends_at``."""

    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: float = 0.0
    ends_at: float | None = None
    generator_url: str = ""

    @property
    def fingerprint(self) -> str:
        """A stable id of the label set."""
        return hashlib.sha256(orjson.dumps(self.labels, option=orjson.OPT_SORT_KEYS)).hexdigest()[
            :16
        ]

    def firing(self, now: float) -> bool:
        return self.ends_at is None or self.ends_at > now


@dataclass
class Route:
    """A node of the routing tree (unset settings inherit from the parent)."""

    receiver: str | None = None
    matchers: Sequence[Matcher] = ()
    group_by: Sequence[str] | None = None
    group_wait: float | None = None
    group_interval: float | None = None
    repeat_interval: float | None = None
    continue_: bool = False
    routes: Sequence[Route] = ()

    def resolved(self, parent: Route | None) -> Route:
        """This route with its parent's settings filled in (defaults at the root)."""
        base = parent or Route(
            receiver=None,
            group_by=(),
            group_wait=5.0,  # not Alertmanager's 30 s: drift pages within seconds
            group_interval=300.0,
            repeat_interval=14400.0,
        )

        def pick(name: str) -> Any:
            own = getattr(self, name)
            return own if own is not None else getattr(base, name)

        return Route(
            receiver=pick("receiver"),
            matchers=self.matchers,
            group_by=pick("group_by"),
            group_wait=pick("group_wait"),
            group_interval=pick("group_interval"),
            repeat_interval=pick("repeat_interval"),
            continue_=self.continue_,
            routes=self.routes,
        )

    def match(self, labels: Mapping[str, str], parent: Route | None = None) -> list[Route]:
        """The routes an alert goes to (depth-first, first match unless ``continue``)."""
        me = self.resolved(parent)
        if not _all(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            hits = child.match(labels, me)
            found.extend(hits)
            if hits and not child.continue_:
                break
        return found or [me]


@dataclass
class Silence:
    """Mutes alerts matching every matcher between ``starts_at`` and ``ends_at``."""

    matchers: Sequence[Matcher]
    starts_at: float
    ends_at: float
    comment: str = ""

    def mutes(self, alert: Alert, now: float) -> bool:
        return self.starts_at <= now < self.ends_at and _all(self.matchers, alert.labels)


@dataclass
class InhibitRule:
    """While a source alert fires, target alerts with the same ``equal`` labels are muted."""

    source: Sequence[Matcher]
    target: Sequence[Matcher]
    equal: Sequence[str] = ()


@dataclass
class Notification:
    """One message to a receiver about a group (Alertmanager's webhook payload, version 4)."""

    receiver: str
    group_key: str
    group_labels: dict[str, str]
    status: str
    alerts: list[Alert]

    def payload(self, now: float, external_url: str = "") -> dict[str, Any]:
        first = self.alerts[0].labels if self.alerts else {}
        common_labels = {
            k: v for k, v in first.items() if all(a.labels.get(k) == v for a in self.alerts)
        }
        return {
            "version": "4",
            "groupKey": self.group_key,
            "truncatedAlerts": 0,
            "status": self.status,
            "receiver": self.receiver,
            "groupLabels": self.group_labels,
            "commonLabels": common_labels,
            "commonAnnotations": {},
            "externalURL": external_url,
            "alerts": [
                {
                    "status": "firing" if a.firing(now) else "resolved",
                    "labels": a.labels,
                    "annotations": a.annotations,
                    "startsAt": a.starts_at,
                    "endsAt": a.ends_at,
                    "generatorURL": a.generator_url,
                    "fingerprint": a.fingerprint,
                }
                for a in self.alerts
            ],
        }


@dataclass
class _Group:
    route: Route
    labels: dict[str, str]
    alerts: dict[str, Alert] = field(default_factory=dict)
    created: float = 0.0
    last_sent: float | None = None
    sent_firing: set[str] = field(default_factory=set)  # notified as firing, owed a resolve
    changed: bool = True


class Dispatcher:
    """Groups, times, silences, inhibits and damps alerts; ``flush`` returns what to send."""

    def __init__(
        self,
        route: Route,
        silences: Sequence[Silence] = (),
        inhibit_rules: Sequence[InhibitRule] = (),
        send_resolved: Mapping[str, bool] | None = None,
        flap_threshold: int = 4,
        flap_window: float = 600.0,
    ) -> None:
        self.route = route
        self.silences = list(silences)
        self.inhibit_rules = list(inhibit_rules)
        self.send_resolved = dict(send_resolved or {})
        self.flap_threshold, self.flap_window = flap_threshold, flap_window
        self.groups: dict[str, _Group] = {}
        self.alerts: dict[str, Alert] = {}
        self._changes: dict[str, list[float]] = {}

    def receive(self, alerts: Iterable[Alert], now: float) -> None:
        """Take new or updated alerts (the same label set updates one alert)."""
        for alert in alerts:
            fp = alert.fingerprint
            old = self.alerts.get(fp)
            if old is None or old.firing(now) != alert.firing(now):
                self._changes.setdefault(fp, []).append(now)
            if old is not None and alert.ends_at is not None and self._flapping(fp, now):
                alert = Alert(
                    alert.labels, alert.annotations, old.starts_at, None, alert.generator_url
                )  # held firing until it is stable
            self.alerts[fp] = alert
            for route in self.route.match(alert.labels):
                labels = {k: alert.labels.get(k, "") for k in route.group_by or ()}
                key = (
                    f"{route.receiver}:{orjson.dumps(labels, option=orjson.OPT_SORT_KEYS).decode()}"
                )
                group = self.groups.setdefault(key, _Group(route, labels, created=now))
                if fp not in group.alerts or group.alerts[fp].firing(now) != alert.firing(now):
                    group.changed = True
                group.alerts[fp] = alert

    def _flapping(self, fp: str, now: float) -> bool:
        recent = [t for t in self._changes.get(fp, []) if now - t <= self.flap_window]
        self._changes[fp] = recent
        return len(recent) > self.flap_threshold

    def muted(self, alert: Alert, now: float) -> bool:
        """Silenced, or inhibited by a firing source alert."""
        if any(s.mutes(alert, now) for s in self.silences):
            return True
        for rule in self.inhibit_rules:
            if not _all(rule.target, alert.labels):
                continue
            for source in self.alerts.values():
                if (
                    source is not alert
                    and source.firing(now)
                    and _all(rule.source, source.labels)
                    and all(source.labels.get(k) == alert.labels.get(k) for k in rule.equal)
                ):
                    return True
        return False

    def flush(self, now: float) -> list[Notification]:
        """The notifications due at ``now`` (and the bookkeeping that follows them)."""
        out: list[Notification] = []
        for key in list(self.groups):
            group = self.groups[key]
            route = group.route
            visible = {
                fp: a
                for fp, a in group.alerts.items()
                if not self.muted(a, now) or (not a.firing(now) and fp in group.sent_firing)
            }
            firing = [a for a in visible.values() if a.firing(now)]
            resolved = [
                a for fp, a in visible.items() if not a.firing(now) and fp in group.sent_firing
            ]
            if group.last_sent is None:
                due = now >= group.created + (route.group_wait or 0.0) and bool(firing)
            elif group.changed:
                due = now >= group.last_sent + (route.group_interval or 0.0)
            else:
                due = bool(firing) and now >= group.last_sent + (route.repeat_interval or 0.0)
            wants_resolved = self.send_resolved.get(route.receiver or "", True)
            if due and (firing or (resolved and wants_resolved)):
                alerts = firing + (resolved if wants_resolved else [])
                out.append(
                    Notification(
                        route.receiver or "",
                        key,
                        group.labels,
                        "firing" if firing else "resolved",
                        alerts,
                    )
                )
                group.last_sent, group.changed = now, False
                group.sent_firing = {a.fingerprint for a in firing}
            elif due:
                group.last_sent, group.changed = now, False
            idle = not firing and not group.sent_firing
            if idle and all(not a.firing(now) for a in group.alerts.values()):
                del self.groups[key]
        return out
