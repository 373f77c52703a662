"""Default alarms of the platform: every endpoint and every host gets some, out of the box.

Endpoints (one pair per registered endpoint and variant, and per endpoint that serving
telemetry reports under ``AWS/SageMaker``):

- ``{endpoint}-5xx-errors``: ``Invocation5XXErrors`` Average (the error rate, each request
  counting 1 or 0) over 1-minute periods greater than ``error_rate`` (default 0.05) in 3 of
  the last 5 minutes. Three minutes of a sustained error rate page; one bad minute does not.
- ``{endpoint}-p99-latency``: ``ModelLatency`` p99 over 5-minute periods greater than
  ``p99_latency_ms`` (default 1,000 ms, compared in the metric's microseconds) in 3 of 3
  periods: a tail that stays slow for a quarter of an hour, not one slow burst.

Hosts (one set per ``Host`` that reports ``vigil/Host`` figures):

- ``host-{host}-memory``: ``MemoryUtilization`` Average over 1-minute periods greater than
  ``memory_percent`` (default 90) in 3 of 3 minutes;
- ``host-{host}-disk-{mount}``: ``DiskUtilization`` Maximum over 5-minute periods greater
  than ``disk_percent`` (default 90) in 2 of 2 periods (disks fill slowly; a temporary
  file written and removed within minutes does not page).

Missing data is ``notBreaching`` for all of them: an endpoint without traffic or a host that
stopped reporting never pages through these alarms (and, as every alarm, one without data
stays ``INSUFFICIENT_DATA`` and says nothing). Severities: 5xx errors ``critical``, latency,
memory and disk ``high`` (each configurable).

They notify the topics of the ``platform:`` block's ``failure_topics`` (those a failed job
or pipeline notifies) unless vigil.yaml's ``defaults`` section names others. That section
changes the thresholds, the severities and the topics notified (``alarm_actions``), or
turns either family off (``enabled: false``); an
endpoint's ``config`` overrides its own: ``default_alarms: false``, ``error_rate``,
``p99_latency_ms``, ``default_alarm_actions``. Applying the change updates the alarms
(keeping their state) or deletes those turned off.

>>> [a.name for a in endpoint_alarms("churn", "AllTraffic", {}, EndpointAlarmDefaults())]
['churn-5xx-errors', 'churn-p99-latency']
>>> endpoint_alarms("churn", "AllTraffic", {"p99_latency_ms": 250},
...                 EndpointAlarmDefaults())[1].threshold
250000.0
>>> endpoint_alarms("churn", "AllTraffic", {"default_alarms": False}, EndpointAlarmDefaults())
[]
>>> [a.name for a in host_alarms("web-1", ["/", "/data"], HostAlarmDefaults())]
['host-web-1-memory', 'host-web-1-disk-/', 'host-web-1-disk-/data']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from vigil.alerts.alarms import MetricAlarm
from vigil.alerts.notify.platform import get_platform_spec
from vigil.alerts.service import put_alarm
from vigil.errors import ConfigError
from vigil.events.severity import Severity
from vigil.store.db import Database
from vigil.store.metrics import MetricStore
from vigil.store.models import AlarmRecord, Endpoint, PlatformSetting

SERVING_NAMESPACE = "AWS/SageMaker"
HOST_NAMESPACE = "vigil/Host"
ENDPOINT_PREFIX = "default alarm of endpoint "
HOST_PREFIX = "default alarm of host "
#: the key of the ``defaults`` section in the platform settings table
SETTINGS_KEY = "defaults"


class _Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointAlarmDefaults(_Defaults):
    """The default alarms of every endpoint: 5xx error rate and p99 model latency."""

    enabled: bool = True
    error_rate: float = Field(default=0.05, gt=0, le=1)
    p99_latency_ms: float = Field(default=1000.0, gt=0)
    error_severity: Severity = "critical"
    latency_severity: Severity = "high"
    #: the topics notified; unset: the ``platform:`` block's ``failure_topics``
    alarm_actions: list[str] | None = None


class HostAlarmDefaults(_Defaults):
    """The default alarms of every host: memory and disk utilisation."""

    enabled: bool = True
    memory_percent: float = Field(default=90.0, gt=0, le=100)
    disk_percent: float = Field(default=90.0, gt=0, le=100)
    severity: Severity = "high"
    #: the topics notified; unset: the ``platform:`` block's ``failure_topics``
    alarm_actions: list[str] | None = None


class PlatformDefaults(_Defaults):
    """vigil.yaml's ``defaults``: the default alarms of endpoints and hosts."""

    endpoint_alarms: EndpointAlarmDefaults = EndpointAlarmDefaults()
    host_alarms: HostAlarmDefaults = HostAlarmDefaults()


def _number(config: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{where} config.{key}: expected a positive number, got {value!r}")
    return float(value)


def endpoint_alarms(
    endpoint: str,
    variant: str,
    config: Mapping[str, Any],
    defaults: EndpointAlarmDefaults,
) -> list[MetricAlarm]:
    """The default alarms of one endpoint variant (none when turned off), its own ``config``
    overriding ``defaults``."""
    if not defaults.enabled or config.get("default_alarms") is False:
        return []
    where = f"endpoint {endpoint!r}"
    rate = _number(config, "error_rate", defaults.error_rate, where)
    if rate > 1:
        raise ConfigError(f"{where} config.error_rate: expected a fraction (0-1], got {rate}")
    latency_ms = _number(config, "p99_latency_ms", defaults.p99_latency_ms, where)
    actions = config.get("default_alarm_actions", defaults.alarm_actions or [])
    if not isinstance(actions, list):
        raise ConfigError(f"{where} config.default_alarm_actions: expected a list of names")
    actions = [str(a) for a in actions]
    dims = {"EndpointName": endpoint, "VariantName": variant or "AllTraffic"}
    common: dict[str, Any] = {
        "namespace": SERVING_NAMESPACE,
        "dimensions": dims,
        "comparison_operator": "GreaterThanThreshold",
        "treat_missing_data": "notBreaching",
        "alarm_actions": actions,
        "ok_actions": actions,
        "description": f"{ENDPOINT_PREFIX}{endpoint}",
    }
    return [
        MetricAlarm(
            name=f"{endpoint}-5xx-errors",
            metric_name="Invocation5XXErrors",
            statistic="Average",
            period=60,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            threshold=rate,
            severity=defaults.error_severity,
            **common,
        ),
        MetricAlarm(
            name=f"{endpoint}-p99-latency",
            metric_name="ModelLatency",
            statistic="p99",
            period=300,
            evaluation_periods=3,
            datapoints_to_alarm=3,
            threshold=latency_ms * 1000.0,  # ModelLatency is in microseconds
            severity=defaults.latency_severity,
            **common,
        ),
    ]


def host_alarms(host: str, mounts: Iterable[str], defaults: HostAlarmDefaults) -> list[MetricAlarm]:
    """The default alarms of one host: memory, and disk per mount point (none when off)."""
    if not defaults.enabled:
        return []
    common: dict[str, Any] = {
        "namespace": HOST_NAMESPACE,
        "comparison_operator": "GreaterThanThreshold",
        "treat_missing_data": "notBreaching",
        "alarm_actions": list(defaults.alarm_actions or []),
        "ok_actions": list(defaults.alarm_actions or []),
        "severity": defaults.severity,
        "description": f"{HOST_PREFIX}{host}",
    }
    out = [
        MetricAlarm(
            name=f"host-{host}-memory",
            metric_name="MemoryUtilization",
            dimensions={"Host": host},
            statistic="Average",
            period=60,
            evaluation_periods=3,
            threshold=defaults.memory_percent,
            **common,
        )
    ]
    for mount in mounts:
        out.append(
            MetricAlarm(
                name=f"host-{host}-disk-{mount}",
                metric_name="DiskUtilization",
                dimensions={"Host": host, "Mount": mount},
                statistic="Maximum",
                period=300,
                evaluation_periods=2,
                threshold=defaults.disk_percent,
                **common,
            )
        )
    return out


# -- stored settings -----------------------------------------------------------------------


def load_defaults(db: Database) -> PlatformDefaults:
    """The stored ``defaults`` section (the built-in one when none was applied), the topics
    left unset filled from the ``platform:`` block's ``failure_topics``: out of the box the
    endpoints' and hosts' alarms notify whom failed jobs and pipelines notify."""
    with db.session() as s:
        row = s.get(PlatformSetting, SETTINGS_KEY)
        value = dict(row.value) if row is not None and row.value else {}
    defaults = PlatformDefaults.model_validate(value)
    topics = list(get_platform_spec(db).failure_topics)
    endpoint, host = defaults.endpoint_alarms, defaults.host_alarms
    if endpoint.alarm_actions is None:
        endpoint = endpoint.model_copy(update={"alarm_actions": topics})
    if host.alarm_actions is None:
        host = host.model_copy(update={"alarm_actions": topics})
    return defaults.model_copy(update={"endpoint_alarms": endpoint, "host_alarms": host})


def stored_defaults(db: Database) -> PlatformDefaults | None:
    """The ``defaults`` section as applied, or None when none was (for ``vigil export``)."""
    with db.session() as s:
        row = s.get(PlatformSetting, SETTINGS_KEY)
        return PlatformDefaults.model_validate(row.value) if row is not None else None


def save_defaults(db: Database, defaults: PlatformDefaults) -> None:
    """Store the ``defaults`` section (then :func:`ensure_platform_alarms` applies it)."""
    with db.session() as s:
        row = s.get(PlatformSetting, SETTINGS_KEY) or PlatformSetting(key=SETTINGS_KEY)
        row.value = defaults.model_dump(mode="json")
        s.add(row)


# -- keeping the alarms in line ------------------------------------------------------------


class _Alarms:
    """The stored alarms, read once: every name, and the default alarms by owner."""

    def __init__(self, db: Database) -> None:
        self.names: set[str] = set()
        self.owned: dict[str, dict[str, dict[str, Any]]] = {}  # description -> name -> spec
        with db.session() as s:
            for name, kind, spec in s.execute(
                select(AlarmRecord.name, AlarmRecord.kind, AlarmRecord.spec)
            ):
                self.names.add(name)
                description = str((spec or {}).get("description", ""))
                if kind == "metric" and description.startswith((ENDPOINT_PREFIX, HOST_PREFIX)):
                    self.owned.setdefault(description, {})[name] = spec or {}


def _sync(
    db: Database, stored: _Alarms, prefix: str, owner: str, wanted: list[MetricAlarm]
) -> list[str]:
    """Make ``owner``'s default alarms exactly ``wanted``: create the missing, update the
    changed (their state is kept), delete the ones no longer wanted; a user's own alarm of
    the same name is left alone. The names changed."""
    changed: list[str] = []
    mine = stored.owned.get(f"{prefix}{owner}", {})
    for alarm in wanted:
        spec = alarm.model_dump(mode="json")
        if alarm.name in mine:
            if mine[alarm.name] == spec:
                continue
        elif alarm.name in stored.names:
            continue
        put_alarm(db, alarm)
        stored.names.add(alarm.name)
        changed.append(alarm.name)
    stale = sorted(set(mine) - {a.name for a in wanted})
    if stale:
        with db.session() as s:
            for name in stale:
                row = s.get(AlarmRecord, name)
                if row is not None:
                    s.delete(row)
        stored.names.difference_update(stale)
        changed.extend(stale)
    return changed


def ensure_endpoint_alarms(
    db: Database, endpoint: str, defaults: PlatformDefaults | None = None
) -> list[str]:
    """Bring one registered endpoint's default alarms in line with the defaults and its
    config (deleted when the endpoint is gone); the names created, updated or deleted."""
    defaults = defaults or load_defaults(db)
    with db.session() as s:
        row = s.get(Endpoint, endpoint)
        found = (row.variant, dict(row.config or {})) if row is not None else None
    wanted = (
        endpoint_alarms(endpoint, found[0], found[1], defaults.endpoint_alarms) if found else []
    )
    return _sync(db, _Alarms(db), ENDPOINT_PREFIX, endpoint, wanted)


def reported_hosts(store: MetricStore) -> dict[str, list[str]]:
    """Every host that reports ``vigil/Host`` figures, with the mounts of its disk figures."""
    hosts: dict[str, set[str]] = {}
    for _, name, dims in store.list_metrics(namespace=HOST_NAMESPACE):
        host = dims.get("Host")
        if not host:
            continue
        mounts = hosts.setdefault(host, set())
        if name == "DiskUtilization" and dims.get("Mount"):
            mounts.add(dims["Mount"])
    return {h: sorted(m) for h, m in hosts.items()}


def reported_endpoints(store: MetricStore) -> dict[str, str]:
    """Every endpoint serving telemetry reports (``AWS/SageMaker``), with its variant."""
    found: dict[str, str] = {}
    for _, _, dims in store.list_metrics(namespace=SERVING_NAMESPACE, name_prefix="Invocation"):
        if dims.get("EndpointName"):
            found.setdefault(dims["EndpointName"], dims.get("VariantName") or "AllTraffic")
    return found


def ensure_platform_alarms(db: Database, store: MetricStore) -> list[str]:
    """Bring every endpoint's and host's default alarms in line with the stored defaults:
    registered endpoints, endpoints and hosts the metric store has figures of. Cheap enough
    for every minute (five queries when nothing changed); the names changed. An endpoint
    deleted, or a host whose figures aged out, loses its default alarms."""
    defaults = load_defaults(db)
    stored = _Alarms(db)
    changed: list[str] = []
    with db.session() as s:
        registered = {
            e.name: (e.variant, dict(e.config or {})) for e in s.scalars(select(Endpoint))
        }
    endpoints = dict(registered)
    for name, variant in reported_endpoints(store).items():
        endpoints.setdefault(name, (variant, {}))
    for name, (variant, config) in endpoints.items():
        wanted = endpoint_alarms(name, variant, config, defaults.endpoint_alarms)
        changed += _sync(db, stored, ENDPOINT_PREFIX, name, wanted)
    hosts = reported_hosts(store)
    for host, mounts in hosts.items():
        wanted = host_alarms(host, mounts, defaults.host_alarms)
        changed += _sync(db, stored, HOST_PREFIX, host, wanted)
    for description in list(stored.owned):  # endpoints deleted, hosts whose figures aged out
        prefix = ENDPOINT_PREFIX if description.startswith(ENDPOINT_PREFIX) else HOST_PREFIX
        owner = description[len(prefix):]
        if owner not in (endpoints if prefix == ENDPOINT_PREFIX else hosts):
            changed += _sync(db, stored, prefix, owner, [])
    return changed
