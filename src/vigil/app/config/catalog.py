"""The specs of the catalog: endpoints, baselines and schedules."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Literal

from pydantic import JsonValue, field_validator, model_validator

from vigil.analysis.engines import ENGINES
from vigil.analysis.engines.spark import spark_master
from vigil.app.config.base import KeyedConfigError, Name, SpecModel
from vigil.checks.suggest import ConstraintOptions
from vigil.errors import ConfigError, VigilError
from vigil.schedule import parse_offset, parse_schedule

# options suggest_baseline takes besides the fields of ConstraintOptions
_READER_OPTIONS = ("format", "header", "capture_content")


class EndpointSpec(SpecModel):
    """A monitored endpoint (and variant) and where its captured records are stored.

    ``config`` holds its settings: its default alarms' (``default_alarms: false`` turns
    them off; ``error_rate``, ``p99_latency_ms``, ``default_alarm_actions``, see
    :mod:`vigil.alerts.platform`)."""

    name: Name
    variant: Name = "AllTraffic"
    capture_uri: str | None = None
    config: dict[str, JsonValue] = {}


class BaselineSpec(SpecModel):
    """A baseline: a directory holding statistics.json and constraints.json, or data to profile.

    ``options`` are passed to ``suggest_baseline`` when the baseline is built from data:
    the fields of :class:`~vigil.checks.suggest.ConstraintOptions` and ``format``,
    ``header``, ``capture_content``.
    """

    name: Name
    endpoint: Name | None = None
    path: str
    options: dict[str, JsonValue] = {}

    @field_validator("path")
    @classmethod
    def _path_not_empty(cls, v: str) -> str:
        if not v:
            raise ConfigError("a baseline needs a path: a baseline directory or a data file")
        return v

    @field_validator("options")
    @classmethod
    def _known_options(cls, v: dict[str, JsonValue]) -> dict[str, JsonValue]:
        types = {f.name: f.type for f in fields(ConstraintOptions)}
        known = set(types)
        unknown = sorted(set(v) - known - set(_READER_OPTIONS))
        if unknown:
            raise KeyedConfigError(
                unknown[0],
                f"unknown baseline option(s) {', '.join(unknown)}; expected any of "
                f"{', '.join(sorted(known | set(_READER_OPTIONS)))}",
            )
        for key in v:
            if key not in known:
                continue
            option: dict[str, Any] = {key: v[key]}  # checked by ConstraintOptions itself
            try:
                ConstraintOptions(**option).validate()
            except VigilError as e:
                raise KeyedConfigError(key, e.message) from None
            except (TypeError, ValueError):
                raise KeyedConfigError(
                    key, f"{key} {v[key]!r}: expected a value of type {types[key]}"
                ) from None
        return v


class ScheduleSpec(SpecModel):
    """When a monitor runs against an endpoint, with which baseline, over which window.

    ``expression`` is anything :func:`~vigil.schedule.expression.parse_schedule` accepts; the
    offsets are ISO-8601 durations relative to the scheduled time (``-PT1H``), and ``NOW``
    needs both. ``config`` holds the analysis settings (features attribute, preprocessor
    path, capture content, ...), passed through as written; ``engine`` (``local`` or
    ``spark``) and ``spark_master`` (a Spark master URL) say where executions profile.
    """

    name: Name
    endpoint: Name
    baseline: Name
    expression: str
    window_start_offset: str | None = None
    window_end_offset: str | None = None
    monitor_type: Literal["DataQuality", "ModelQuality", "ModelBias", "ModelExplainability"] = (
        "DataQuality"
    )
    status: Literal["Scheduled", "Paused"] = "Scheduled"
    config: dict[str, JsonValue] = {}

    @field_validator("expression")
    @classmethod
    def _valid_expression(cls, v: str) -> str:
        parse_schedule(v)
        return v

    @field_validator("config")
    @classmethod
    def _valid_engine(cls, v: dict[str, JsonValue]) -> dict[str, JsonValue]:
        engine, master = v.get("engine", "local"), v.get("spark_master")
        if engine not in ENGINES:
            raise KeyedConfigError(
                "engine", f"engine {engine!r}: expected one of {', '.join(ENGINES)}"
            )
        if master is not None:
            if engine != "spark" or not isinstance(master, str):
                raise KeyedConfigError(
                    "spark_master", "spark_master: expected a Spark master URL with engine: spark"
                )
            try:
                spark_master(master)
            except VigilError as e:
                raise KeyedConfigError("spark_master", e.message) from None
        return v

    @field_validator("window_start_offset", "window_end_offset")
    @classmethod
    def _valid_offset(cls, v: str | None) -> str | None:
        if v is not None:
            parse_offset(v)
        return v

    @model_validator(mode="after")
    def _window(self) -> ScheduleSpec:
        start, end = self.window_start_offset, self.window_end_offset
        if parse_schedule(self.expression).is_one_time and (start is None or end is None):
            raise ConfigError(
                f"{self.expression}: a one-time schedule needs window_start_offset and "
                "window_end_offset, such as -PT1H and -PT0H"
            )
        if start is not None and end is not None and parse_offset(start) >= parse_offset(end):
            raise ConfigError(f"window_start_offset {start} is not before window_end_offset {end}")
        return self
