"""Monitoring as code: the ``vigil.yaml`` that ``vigil apply`` reads and ``vigil export`` writes.

A file declares endpoints, baselines and schedules by name::

    version: 1
    endpoints:
      - name: churn
        capture_uri: s3://bucket/capture/churn
    baselines:
      - name: churn-v1
        endpoint: churn
        path: baselines/churn-v1          # statistics.json + constraints.json, or data
    schedules:
      - name: churn-hourly
        endpoint: churn
        baseline: churn-v1
        expression: cron(0 * ? * * *)
        window_start_offset: -PT1H
        window_end_offset: -PT0H

:func:`load_config` validates it and names the file, line and field of every problem;
:func:`dump_config` writes one back (stable key order, ``load(dump(x)) == x``);
:func:`diff_config` compares the current state with the desired one, so that applying the
same file twice changes nothing the second time.

>>> cfg = parse_config('''
... endpoints: [{name: churn}]
... schedules:
...   - {name: hourly, endpoint: churn, baseline: b1, expression: "rate(1 hour)"}
... ''')
>>> sorted(cfg.undefined_references())
[Reference(kind='baseline', name='b1')]
>>> diff_config(cfg, cfg).summary()
'created 0, updated 0, unchanged 2'
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from vigil.checks.suggest import ConstraintOptions
from vigil.errors import ConfigError, VigilError
from vigil.schedule import parse_offset, parse_schedule

__all__ = [
    "BaselineSpec",
    "ConfigFileError",
    "ConfigProblem",
    "EndpointSpec",
    "KindPlan",
    "Plan",
    "Reference",
    "ScheduleSpec",
    "Update",
    "VigilConfig",
    "diff_config",
    "dump_config",
    "load_config",
    "parse_config",
]

CONFIG_VERSION = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
# options suggest_baseline takes besides the fields of ConstraintOptions
_READER_OPTIONS = ("format", "header", "capture_content")
_DEFER = "vigil_defer_checks"


def _check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ConfigError(f"{value!r} is not a valid name: use 1-63 letters, digits, '-' or '_'")
    return value


Name = Annotated[str, AfterValidator(_check_name)]
"""A resource name: 1-63 letters, digits, ``-`` or ``_``."""


class _KeyedConfigError(ConfigError):
    """A ConfigError about one key of a free-form mapping (so that its line can be found)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EndpointSpec(_Spec):
    """A monitored endpoint (and variant) and where its captured records are stored."""

    name: Name
    variant: Name = "AllTraffic"
    capture_uri: str | None = None


class BaselineSpec(_Spec):
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
            raise _KeyedConfigError(
                unknown[0],
                f"unknown baseline option(s) {', '.join(unknown)}; expected any of "
                f"{', '.join(sorted(known | set(_READER_OPTIONS)))}",
            )
        for key in v:
            if key not in known:
                continue
            try:
                ConstraintOptions(**{key: v[key]}).validate()
            except VigilError as e:
                raise _KeyedConfigError(key, e.message) from None
            except (TypeError, ValueError):
                raise _KeyedConfigError(
                    key, f"{key} {v[key]!r}: expected a value of type {types[key]}"
                ) from None
        return v


class ScheduleSpec(_Spec):
    """When a monitor runs against an endpoint, with which baseline, over which window.

    ``expression`` is anything :func:`~vigil.schedule.expression.parse_schedule` accepts; the
    offsets are ISO-8601 durations relative to the scheduled time (``-PT1H``), and ``NOW``
    needs both. ``config`` holds the analysis settings (features attribute, preprocessor
    path, capture content, ...), passed through as written.
    """

    name: Name
    endpoint: Name
    baseline: Name
    expression: str
    window_start_offset: str | None = None
    window_end_offset: str | None = None
    monitor_type: Literal["DataQuality", "ModelQuality"] = "DataQuality"
    status: Literal["Scheduled", "Paused"] = "Scheduled"
    config: dict[str, JsonValue] = {}

    @field_validator("expression")
    @classmethod
    def _valid_expression(cls, v: str) -> str:
        parse_schedule(v)
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


class Reference(NamedTuple):
    """A resource named by another: ``Reference("endpoint", "churn")``."""

    kind: Literal["endpoint", "baseline"]
    name: str


class SubscriptionSpec(_Spec):
    """One subscriber of a topic (protocol email, webhook, slack, pagerduty, alertmanager)."""

    id: Name
    protocol: Literal["email", "webhook", "slack", "pagerduty", "alertmanager"]
    config: dict[str, JsonValue] = {}
    filter_policy: dict[str, JsonValue] | None = None
    retry: dict[str, JsonValue] | None = None


class GroupingSpec(_Spec):
    """Alertmanager's grouping for a topic: alarms with equal ``group_by`` labels (``alarm``,
    ``state`` or an alarm dimension) form one notification, sent ``group_wait`` seconds after
    the group appears, at most every ``group_interval`` while it changes, and every
    ``repeat_interval`` while it still fires unchanged."""

    group_by: list[str] = ["alarm"]
    group_wait: float = Field(default=30.0, ge=0)
    group_interval: float = Field(default=300.0, ge=0)
    repeat_interval: float | None = Field(default=14400.0, gt=0)
    send_resolved: bool = True
    inhibit_rules: list[dict[str, list[str]]] = []  # {source: [...], target: [...], equal: [...]}


class TopicSpec(_Spec):
    """A topic, its subscriptions and (optionally) its grouping of notifications."""

    name: Name
    grouping: GroupingSpec | None = None
    subscriptions: list[SubscriptionSpec] = []


def _alarm(value: Any) -> Any:
    from vigil.alerts.alarms import CompositeAlarm, MetricAlarm

    if isinstance(value, (MetricAlarm, CompositeAlarm)):
        return value
    model = CompositeAlarm if isinstance(value, dict) and "rule" in value else MetricAlarm
    return model.model_validate(value)


def _rule(value: Any) -> Any:
    from vigil.actions.spec import Rule

    return value if isinstance(value, Rule) else Rule.model_validate(value)


def _workflow(value: Any) -> Any:
    from vigil.actions.spec import Workflow

    return value if isinstance(value, Workflow) else Workflow.model_validate(value)


AlarmItem = Annotated[Any, BeforeValidator(_alarm)]
RuleItem = Annotated[Any, BeforeValidator(_rule)]
WorkflowItem = Annotated[Any, BeforeValidator(_workflow)]


class VigilConfig(_Spec):
    """The whole file: endpoints, baselines, schedules, topics, alarms, workflows and rules,
    each unique by name within its kind."""

    version: int = CONFIG_VERSION
    endpoints: list[EndpointSpec] = []
    baselines: list[BaselineSpec] = []
    schedules: list[ScheduleSpec] = []
    topics: list[TopicSpec] = []
    alarms: list[AlarmItem] = []
    workflows: list[WorkflowItem] = []
    rules: list[RuleItem] = []

    @field_validator("version")
    @classmethod
    def _supported_version(cls, v: int) -> int:
        if v != CONFIG_VERSION:
            raise ConfigError(f"version {v} is not supported; expected {CONFIG_VERSION}")
        return v

    @model_validator(mode="after")
    def _unique_names(self, info: ValidationInfo) -> VigilConfig:
        if info.context and info.context.get(_DEFER):
            return self  # load_config reports these with line numbers
        problems = self._duplicate_names()
        if problems:
            raise ConfigError("; ".join(f"{_format_loc(loc)}: {msg}" for loc, msg in problems))
        return self

    def _duplicate_names(self) -> list[tuple[tuple[str | int, ...], str]]:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for kind, specs in (
            ("endpoints", self.endpoints),
            ("baselines", self.baselines),
            ("schedules", self.schedules),
            ("topics", self.topics),
            ("alarms", self.alarms),
            ("workflows", self.workflows),
            ("rules", self.rules),
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


# --- errors with file and line ---------------------------------------------------------------


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a config file: where it is and what was expected."""

    source: str
    line: int | None
    location: str
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return (
            f"{where}: {self.location}: {self.message}"
            if self.location
            else f"{where}: {self.message}"
        )


class ConfigFileError(ConfigError):
    """A config file that does not validate; ``problems`` lists each with its line."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _format_loc(loc: Iterable[str | int]) -> str:
    """``("schedules", 0, "expression")`` as ``schedules[0].expression``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _line_of(root: yaml.Node | None, loc: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the deepest node of ``loc`` that exists in the YAML tree."""
    if root is None:
        return None
    node: yaml.Node = root
    line = root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _duplicate_keys(
    node: yaml.Node | None, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], int, str]]:
    """Keys given twice in one mapping (YAML keeps the last silently): (loc, line, key)."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else None
            if k is not None and k != "<<":
                if k in seen:
                    yield (*path, k), key.start_mark.line + 1, k
                seen.add(k)
            yield from _duplicate_keys(value, (*path, k if k is not None else "?"))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, i))


_MODELS: dict[str, type[BaseModel]] = {
    "endpoints": EndpointSpec,
    "baselines": BaselineSpec,
    "schedules": ScheduleSpec,
    "topics": TopicSpec,
}


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel]:
    """The model whose field ``loc`` names (for listing the keys it accepts)."""
    if len(loc) >= 3 and isinstance(loc[0], str) and loc[0] in _MODELS:
        return _MODELS[loc[0]]
    return VigilConfig


def _message(error: Any) -> str:
    """A pydantic error as one readable sentence."""
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        allowed = ", ".join(_model_at(loc).model_fields)
        return f"unknown key {loc[-1]!r}; expected one of {allowed}"
    if kind == "missing":
        return f"missing required key {loc[-1]!r}" if loc else "missing"
    ctx = error.get("ctx") or {}
    exc = ctx.get("error")
    if isinstance(exc, VigilError):
        return exc.message
    if isinstance(exc, Exception):
        return str(exc)
    given = error.get("input")
    if isinstance(given, (dict, list)):
        return str(error["msg"])
    return f"{error['msg']}, got {given!r}"


def parse_config(text: str, source: str = "<string>") -> VigilConfig:
    """Validate the YAML text of a config; ``source`` names it in error messages.

    >>> parse_config("schedules:\\n  - name: s\\n    expresion: NOW\\n", "vigil.yaml")
    Traceback (most recent call last):
    ...
    vigil.app.config.ConfigFileError: [config_error] vigil.yaml:2: schedules[0].endpoint: missing required key 'endpoint'
    vigil.yaml:2: schedules[0].baseline: missing required key 'baseline'
    vigil.yaml:2: schedules[0].expression: missing required key 'expression'
    vigil.yaml:3: schedules[0].expresion: unknown key 'expresion'; expected one of name, endpoint, baseline, expression, window_start_offset, window_end_offset, monitor_type, status, config
    """  # noqa: E501
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (e.context, e.problem) if p)
        raise ConfigFileError(
            [ConfigProblem(source, line, "", f"not valid YAML: {problem}")]
        ) from None
    except yaml.YAMLError as e:
        raise ConfigFileError([ConfigProblem(source, None, "", f"not valid YAML: {e}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigFileError(
            [
                ConfigProblem(
                    source,
                    _line_of(root, ()),
                    "",
                    f"expected a mapping with version, endpoints, baselines and schedules; "
                    f"got a {type(data).__name__}",
                )
            ]
        )
    problems = [
        ConfigProblem(source, line, _format_loc(loc), f"duplicate key {key!r}")
        for loc, line, key in _duplicate_keys(root)
    ]
    config: VigilConfig | None = None
    try:
        config = VigilConfig.model_validate(data, context={_DEFER: True})
    except ValidationError as e:
        for error in e.errors():
            loc = tuple(error["loc"])
            exc = (error.get("ctx") or {}).get("error")
            if isinstance(exc, _KeyedConfigError):
                loc = (*loc, exc.key)
            problems.append(
                ConfigProblem(source, _line_of(root, loc), _format_loc(loc), _message(error))
            )
    if config is not None:
        problems.extend(
            ConfigProblem(source, _line_of(root, loc), _format_loc(loc), msg)
            for loc, msg in config._duplicate_names()
        )
    if problems or config is None:
        problems.sort(key=lambda p: p.line or 0)
        raise ConfigFileError(problems)
    return config


def load_config(path: str | os.PathLike[str]) -> VigilConfig:
    """Read and validate a ``vigil.yaml``; errors name the file, line and field.

    Paths inside the file are kept as written; see :meth:`VigilConfig.resolve_paths`.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read the config file: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    return parse_config(text, str(path))


# --- writing -----------------------------------------------------------------------------------

_HEADER = "# Vigil monitoring as code: apply with `vigil apply -f <this file>`.\n"


class _Dumper(yaml.SafeDumper):
    """SafeDumper that double-quotes strings holding Unicode line breaks.

    PyYAML would write them unquoted or single-quoted with ``allow_unicode``, and read them
    back as line breaks, so ``load(dump(x))`` would differ from ``x``.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if any(c in value for c in "\x85\u2028\u2029"):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _spec_dict(spec: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in spec.model_dump(mode="json").items():
        if value is None or value == {}:
            continue
        out[name] = _sorted(value) if isinstance(value, dict) else value
    return out


def dump_config(config: VigilConfig) -> str:
    """The config as YAML: fields in model order, free-form dicts sorted, empty values left out.

    >>> cfg = VigilConfig(endpoints=[EndpointSpec(name="churn")])
    >>> print(dump_config(cfg), end="")
    # Vigil monitoring as code: apply with `vigil apply -f <this file>`.
    version: 1
    endpoints:
    - name: churn
      variant: AllTraffic
    >>> parse_config(dump_config(cfg)) == cfg
    True
    """
    data: dict[str, Any] = {"version": config.version}
    for kind in KINDS:
        specs = getattr(config, kind)
        if specs:
            data[kind] = [_spec_dict(s) for s in specs]
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=1000,
    )
    return _HEADER + body


# --- plans -------------------------------------------------------------------------------------

Spec = Any  # EndpointSpec | BaselineSpec | ScheduleSpec | TopicSpec | alarms, workflows, rules
KINDS = ("endpoints", "baselines", "schedules", "topics", "alarms", "workflows", "rules")


@dataclass(frozen=True)
class Update:
    """A resource whose desired spec differs from the current one."""

    before: Spec
    after: Spec
    fields: tuple[str, ...]

    @property
    def name(self) -> str:
        """The resource's name."""
        return self.after.name


@dataclass(frozen=True)
class KindPlan:
    """What applying a config does to one kind of resource.

    ``absent`` holds resources that exist but are not in the file: ``vigil apply`` leaves
    them alone (a ``--prune`` option would delete them).
    """

    kind: str
    create: tuple[Spec, ...] = ()
    update: tuple[Update, ...] = ()
    unchanged: tuple[Spec, ...] = ()
    absent: tuple[Spec, ...] = ()

    @property
    def has_changes(self) -> bool:
        """Whether applying creates or updates anything of this kind."""
        return bool(self.create or self.update)


@dataclass(frozen=True)
class Plan:
    """Creates, updates and unchanged resources per kind, in the order to apply them."""

    endpoints: KindPlan = field(default_factory=lambda: KindPlan("endpoint"))
    baselines: KindPlan = field(default_factory=lambda: KindPlan("baseline"))
    schedules: KindPlan = field(default_factory=lambda: KindPlan("schedule"))
    topics: KindPlan = field(default_factory=lambda: KindPlan("topic"))
    alarms: KindPlan = field(default_factory=lambda: KindPlan("alarm"))
    workflows: KindPlan = field(default_factory=lambda: KindPlan("workflow"))
    rules: KindPlan = field(default_factory=lambda: KindPlan("rule"))

    @property
    def kinds(self) -> tuple[KindPlan, ...]:
        """Every kind in dependency order (endpoints before baselines before schedules...)."""
        return (
            self.endpoints,
            self.baselines,
            self.schedules,
            self.topics,
            self.alarms,
            self.workflows,
            self.rules,
        )

    @property
    def has_changes(self) -> bool:
        """Whether applying the config would change anything."""
        return any(k.has_changes for k in self.kinds)

    def summary(self) -> str:
        """``created 1, updated 0, unchanged 2`` over every kind."""
        created = sum(len(k.create) for k in self.kinds)
        updated = sum(len(k.update) for k in self.kinds)
        unchanged = sum(len(k.unchanged) for k in self.kinds)
        return f"created {created}, updated {updated}, unchanged {unchanged}"

    def lines(self) -> list[str]:
        """One line per change, for a dry run: ``+ schedule s1``, ``~ schedule s2 (status)``."""
        out: list[str] = []
        for k in self.kinds:
            out.extend(f"+ {k.kind} {s.name}" for s in k.create)
            out.extend(f"~ {k.kind} {u.name} ({', '.join(u.fields)})" for u in k.update)
        return out


def _plan_kind(
    kind: str,
    current: list[Any],
    desired: list[Any],
) -> KindPlan:
    existing = {s.name: s for s in current}
    wanted = {s.name for s in desired}
    create: list[Spec] = []
    update: list[Update] = []
    unchanged: list[Spec] = []
    for spec in desired:
        before = existing.get(spec.name)
        if before is None:
            create.append(spec)
        elif before == spec:
            unchanged.append(spec)
        else:
            changed = tuple(
                f for f in type(spec).model_fields if getattr(before, f) != getattr(spec, f)
            )
            update.append(Update(before=before, after=spec, fields=changed))
    absent = tuple(s for s in current if s.name not in wanted)
    return KindPlan(kind, tuple(create), tuple(update), tuple(unchanged), absent)


def diff_config(current: VigilConfig, desired: VigilConfig) -> Plan:
    """What applying ``desired`` over ``current`` creates, updates and leaves unchanged.

    >>> a = VigilConfig(endpoints=[EndpointSpec(name="e1")])
    >>> b = VigilConfig(endpoints=[EndpointSpec(name="e1", variant="v2"), EndpointSpec(name="e2")])
    >>> plan = diff_config(a, b)
    >>> plan.summary(), plan.lines()
    ('created 1, updated 1, unchanged 0', ['+ endpoint e2', '~ endpoint e1 (variant)'])
    """
    return Plan(
        **{
            kind: _plan_kind(kind[:-1], getattr(current, kind), getattr(desired, kind))
            for kind in KINDS
        }
    )
