"""The document: a whole ``vigil.yaml``, its kinds of resource, and the references between
them (a schedule names an endpoint and a baseline).

>>> cfg = VigilConfig(endpoints=[EndpointSpec(name="churn")],
...                   baselines=[BaselineSpec(name="b1", endpoint="churn", path="b1")])
>>> sorted(cfg.references()), cfg.undefined_references()
([Reference(kind='endpoint', name='churn')], set())
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import ValidationInfo, field_validator, model_validator

from vigil.alerts.notify.platform import PlatformSpec
from vigil.alerts.platform import PlatformDefaults
from vigil.app.config.alerting import AlarmItem, RuleItem, TopicSpec, WorkflowItem
from vigil.app.config.base import CONFIG_VERSION, DEFER_CHECKS, SpecModel, format_loc
from vigil.app.config.catalog import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.app.config.dashboards import DashboardSpec
from vigil.app.config.scrape import ScrapeConfigSpec
from vigil.errors import ConfigError

# every kind of resource, in the order to apply them (and to write them)
KINDS = (
    "endpoints", "baselines", "schedules", "topics", "alarms", "workflows", "rules",
    "scrape_configs", "dashboards",
)  # fmt: skip


class Reference(NamedTuple):
    """A resource named by another: ``Reference("endpoint", "churn")``."""

    kind: Literal["endpoint", "baseline"]
    name: str


class VigilConfig(SpecModel):
    """The whole file: endpoints, baselines, schedules, topics, alarms, workflows and rules,
    each unique by name within its kind, and ``defaults`` (the default alarms of endpoints
    and hosts, :class:`~vigil.alerts.platform.PlatformDefaults`)."""

    version: int = CONFIG_VERSION
    endpoints: list[EndpointSpec] = []
    baselines: list[BaselineSpec] = []
    schedules: list[ScheduleSpec] = []
    topics: list[TopicSpec] = []
    alarms: list[AlarmItem] = []
    workflows: list[WorkflowItem] = []
    rules: list[RuleItem] = []
    scrape_configs: list[ScrapeConfigSpec] = []
    dashboards: list[DashboardSpec] = []  # dashboards as code (vigil.app.config.dashboards)
    # default failure notifications of platform runs (vigil.alerts.notify.platform)
    platform: PlatformSpec | None = None
    defaults: PlatformDefaults | None = None

    @field_validator("version")
    @classmethod
    def _supported_version(cls, v: int) -> int:
        if v != CONFIG_VERSION:
            raise ConfigError(f"version {v} is not supported; expected {CONFIG_VERSION}")
        return v

    @model_validator(mode="after")
    def _unique_names(self, info: ValidationInfo) -> VigilConfig:
        if info.context and info.context.get(DEFER_CHECKS):
            return self  # load_config reports these with line numbers
        problems = self._duplicate_names()
        if problems:
            raise ConfigError("; ".join(f"{format_loc(loc)}: {msg}" for loc, msg in problems))
        return self

    def _duplicate_names(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Each resource whose name an earlier one of its kind has: (location, message)."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for kind, specs in (
            ("endpoints", self.endpoints),
            ("baselines", self.baselines),
            ("schedules", self.schedules),
            ("topics", self.topics),
            ("alarms", self.alarms),
            ("workflows", self.workflows),
            ("rules", self.rules),
            ("scrape_configs", self.scrape_configs),
            ("dashboards", self.dashboards),
        ):
            seen: dict[str, int] = {}
            for i, spec in enumerate(specs):
                if spec.name in seen:
                    problems.append(
                        (
                            (kind, i, "name"),
                            f"duplicate {kind[:-1]} name {spec.name!r} "
                            f"(first at {kind}[{seen[spec.name]}])",
                        )
                    )
                else:
                    seen[spec.name] = i
        return problems

    def references(self) -> set[Reference]:
        """Every endpoint and baseline that a baseline or a schedule names."""
        refs = {Reference("endpoint", b.endpoint) for b in self.baselines if b.endpoint}
        for s in self.schedules:
            refs.add(Reference("endpoint", s.endpoint))
            refs.add(Reference("baseline", s.baseline))
        return refs

    def defined(self) -> set[Reference]:
        """Every endpoint and baseline this file defines."""
        return {Reference("endpoint", e.name) for e in self.endpoints} | {
            Reference("baseline", b.name) for b in self.baselines
        }

    def undefined_references(self) -> set[Reference]:
        """References this file does not define: they must already exist when it is applied."""
        return self.references() - self.defined()

    def resolve_paths(self, base: str | os.PathLike[str]) -> VigilConfig:
        """A copy whose relative local baseline paths and capture URIs start at ``base``.

        ``vigil apply -f dir/vigil.yaml`` reads ``path: baselines/b1`` as ``dir/baselines/b1``.
        URLs (``s3://...``) and absolute paths are left as they are.
        """
        root = Path(base)

        def resolve(p: str | None) -> str | None:
            if p is None or "://" in p or Path(p).is_absolute():
                return p
            return os.path.abspath(root / p)

        return self.model_copy(
            update={
                "endpoints": [
                    e.model_copy(update={"capture_uri": resolve(e.capture_uri)})
                    for e in self.endpoints
                ],
                "baselines": [
                    b.model_copy(update={"path": resolve(b.path)}) for b in self.baselines
                ],
            }
        )
