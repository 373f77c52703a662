"""``scrape_configs`` of ``vigil.yaml``: Prometheus targets the server scrapes into its store.

The keys are Prometheus' own (a subset)::

    scrape_configs:
      - job_name: model-server
        scrape_interval: 15s            # Prometheus durations: 500ms, 15s, 1m, 1h
        scrape_timeout: 10s
        metrics_path: /metrics
        scheme: http
        honor_labels: false
        authorization: {type: Bearer, credentials: "${env:MODEL_SERVER_TOKEN}"}
        static_configs:
          - targets: ["10.0.0.5:8080"]
            labels: {team: ml}
        metric_relabel_configs:
          - {source_labels: [__name__], regex: "go_.*", action: drop}

``bearer_token`` is accepted for ``authorization.credentials``; both are secrets (sealed at
rest, redacted by ``vigil export``).

>>> spec = ScrapeConfigSpec(job_name="m", scrape_interval="1m30s",
...                         static_configs=[{"targets": ["127.0.0.1:9"]}])
>>> spec.name, spec.interval_seconds, spec.timeout_seconds, spec.token
('m', 90.0, 10.0, None)
>>> parse_duration("1h5m500ms")
3900.5
>>> parse_duration("5 minutes")
Traceback (most recent call last):
...
vigil.errors.ConfigError: [config_error] '5 minutes' is not a duration: expected e.g. 500ms, 15s, 1m, 1h30m
"""  # noqa: E501 (a doctest's output line)

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from vigil.app.config.base import SpecModel
from vigil.errors import ConfigError
from vigil.store.secrets import SecretFields, keep_stored

_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_JOB = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
#: the secret settings of a stored scrape config (top level, and inside ``authorization``)
SECRETS = SecretFields(values=("bearer_token",))
AUTHORIZATION_SECRETS = SecretFields(values=("credentials",))


def parse_duration(text: str | float | int) -> float:
    """Seconds in a Prometheus duration (``1h30m``, ``15s``, ``500ms``) or a number of seconds."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        value = str(text).strip()
        pos, seconds = 0, 0.0
        for m in _DURATION.finditer(value):
            if m.start() != pos:
                break
            seconds += int(m.group(1)) * _SECONDS[m.group(2)]
            pos = m.end()
        if not value or pos != len(value):
            raise ConfigError(
                f"{text!r} is not a duration: expected e.g. 500ms, 15s, 1m, 1h30m"
            )
    if seconds <= 0:
        raise ConfigError(f"{text!r}: expected a duration above zero")
    return seconds


class StaticConfig(SpecModel):
    """Targets (``host:port``) and the labels added to every series scraped from them."""

    targets: list[str] = Field(min_length=1)
    labels: dict[str, str] = {}

    @field_validator("targets")
    @classmethod
    def _host_port(cls, targets: list[str]) -> list[str]:
        for t in targets:
            host, sep, port = t.rpartition(":")
            if not sep or not host or not port.isdigit() or "/" in t:
                raise ConfigError(f"target {t!r}: expected host:port (e.g. 10.0.0.5:8080)")
        return targets


class Authorization(SpecModel):
    """The ``Authorization`` header sent to the target: ``<type> <credentials>``."""

    type: str = "Bearer"
    credentials: str | None = None


class RelabelConfig(SpecModel):
    """Keep or drop scraped series whose ``source_labels`` joined by ``separator`` match
    ``regex`` whole (Prometheus' ``metric_relabel_configs``, actions keep and drop)."""

    source_labels: list[str] = ["__name__"]
    separator: str = ";"
    regex: str = "(.*)"
    action: Literal["keep", "drop"] = "keep"

    @field_validator("regex")
    @classmethod
    def _compiles(cls, regex: str) -> str:
        try:
            re.compile(regex)
        except re.error as exc:
            raise ConfigError(f"regex {regex!r} does not compile: {exc}") from None
        return regex

    def keeps(self, labels: dict[str, str]) -> bool:
        """Whether a series with ``labels`` (``__name__`` included) passes this rule."""
        joined = self.separator.join(labels.get(k, "") for k in self.source_labels)
        matched = re.fullmatch(self.regex, joined) is not None
        return matched if self.action == "keep" else not matched


class ScrapeConfigSpec(SpecModel):
    """One scrape job: its targets, cadence, path, auth and series filters."""

    job_name: str
    scrape_interval: str | float = "15s"
    scrape_timeout: str | float = "10s"
    metrics_path: str = "/metrics"
    scheme: Literal["http", "https"] = "http"
    honor_labels: bool = False
    authorization: Authorization | None = None
    bearer_token: str | None = None
    static_configs: list[StaticConfig] = Field(min_length=1)
    metric_relabel_configs: list[RelabelConfig] = []

    @field_validator("job_name")
    @classmethod
    def _job(cls, value: str) -> str:
        if not _JOB.match(value):
            raise ConfigError(
                f"job_name {value!r}: use 1-100 letters, digits, '_', '.', ':' or '-'"
            )
        return value

    @field_validator("scrape_interval", "scrape_timeout")
    @classmethod
    def _duration(cls, value: str | float) -> str | float:
        parse_duration(value)
        return value

    @field_validator("metrics_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ConfigError(f"metrics_path {value!r}: expected a path starting with '/'")
        return value

    @model_validator(mode="after")
    def _one_token(self) -> ScrapeConfigSpec:
        if self.bearer_token and self.authorization and self.authorization.credentials:
            raise ConfigError("give authorization.credentials or bearer_token, not both")
        return self

    @property
    def name(self) -> str:
        """The job's name (what ``vigil apply`` plans by)."""
        return self.job_name

    @property
    def interval_seconds(self) -> float:
        """``scrape_interval`` in seconds."""
        return parse_duration(self.scrape_interval)

    @property
    def timeout_seconds(self) -> float:
        """``scrape_timeout`` in seconds (never above the interval, as Prometheus demands)."""
        return min(parse_duration(self.scrape_timeout), self.interval_seconds)

    @property
    def token(self) -> str | None:
        """The credentials to send, from ``authorization`` or ``bearer_token``."""
        if self.authorization is not None and self.authorization.credentials:
            return self.authorization.credentials
        return self.bearer_token

    def header(self) -> dict[str, str]:
        """The request's ``Authorization`` header, if any."""
        token = self.token
        if not token:
            return {}
        kind = self.authorization.type if self.authorization is not None else "Bearer"
        return {"Authorization": f"{kind} {token}"}


def map_secrets(doc: dict[str, Any], fn: Any) -> dict[str, Any]:
    """``doc`` (a dumped spec) with ``fn(fields, mapping)`` applied where secrets live."""
    out = fn(SECRETS, doc)
    auth = out.get("authorization")
    if isinstance(auth, dict):
        out["authorization"] = fn(AUTHORIZATION_SECRETS, auth)
    return dict(out)


def keep_stored_scrape(
    desired: list[ScrapeConfigSpec], current: list[ScrapeConfigSpec]
) -> list[ScrapeConfigSpec]:
    """``desired`` with each redacted credential (``***``) replaced by the one of ``current``
    (as :func:`vigil.app.prom_targets.stored_scrape_configs` reads it, ``diff`` mode)."""
    held = {c.job_name: c.model_dump(mode="json", exclude_none=True) for c in current}
    out = []
    for spec in desired:
        before = held.get(spec.job_name)
        if before is not None:
            doc = spec.model_dump(mode="json", exclude_none=True)
            kept = keep_stored(SECRETS, doc, before)
            auth, held_auth = kept.get("authorization"), before.get("authorization")
            if isinstance(auth, dict) and isinstance(held_auth, dict):
                kept["authorization"] = keep_stored(
                    AUTHORIZATION_SECRETS, auth, held_auth
                )
            if kept != doc:
                spec = ScrapeConfigSpec.model_validate(kept)
        out.append(spec)
    return out
