"""Reading a ``vigil.yaml``: YAML parsed with its line numbers, so that every problem names
the file, the line and the field, and what was expected."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vigil.app.config.alerting import TopicSpec
from vigil.app.config.base import DEFER_CHECKS, KeyedConfigError, format_loc
from vigil.app.config.catalog import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.app.config.dashboards import (
    WIDGET_MODELS,
    DashboardSpec,
    MetricQuery,
    ThresholdSpec,
)
from vigil.app.config.document import VigilConfig
from vigil.errors import ConfigError, VigilError


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


ConfigFileError.__module__ = "vigil.app.config"  # its public name, in tracebacks too


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
    "dashboards": DashboardSpec,
}


def _widget_loc(loc: tuple[str | int, ...]) -> tuple[tuple[str | int, ...], type[BaseModel] | None]:
    """A dashboard widget's error location without pydantic's tag (``dashboards[0].widgets[1]
    .metric.foo`` is ``...widgets[1].foo``), and the model whose keys it lists."""
    if len(loc) >= 5 and loc[0] == "dashboards" and loc[2] == "widgets":
        widget = WIDGET_MODELS.get(str(loc[4]))
        if widget is not None:
            rest = loc[5:]
            model: type[BaseModel] = widget
            if len(rest) > 1 and rest[0] in ("metrics", "metric"):
                model = MetricQuery
            elif len(rest) > 1 and rest[0] == "thresholds":
                model = ThresholdSpec
            return (*loc[:4], *rest), model
    return loc, None


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel]:
    """The model whose field ``loc`` names (for listing the keys it accepts)."""
    _, widget = _widget_loc(loc)
    if widget is not None:
        return widget
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
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        ctx = error.get("ctx") or {}
        expected = ", ".join(WIDGET_MODELS)
        if kind == "union_tag_not_found":
            return f"missing required key 'type' (one of {expected})"
        return f"type: {ctx.get('tag')!r} is not one of {expected}"
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


def expanded_size(root: yaml.Node | None, limit: int) -> int | None:
    """How many YAML values ``root`` holds once its aliases are expanded (each alias counts
    its whole anchored value again), or ``None`` past ``limit`` or for a recursive alias:
    a few lines of nested aliases can expand to billions of values.

    >>> expanded_size(yaml.compose("a: &x [1, 2]\\nb: [*x, *x]"), 100)
    13
    >>> expanded_size(yaml.compose("a: &x [1, 2]\\nb: [*x, *x]"), 10) is None
    True
    """
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(node: yaml.Node) -> int | None:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in busy:
            return None  # an alias inside its own anchor
        busy.add(key)
        total = 1
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        for child in children:
            n = size(child)
            if n is None:
                return None
            total += n
            if total > limit:
                return None
        busy.discard(key)
        sizes[key] = total
        return total

    return 0 if root is None else size(root)


def parse_config(
    text: str, source: str = "<string>", *, max_values: int | None = None
) -> VigilConfig:
    """Validate the YAML text of a config; ``source`` names it in error messages.
    ``max_values`` (what the server passes for a file sent to it) refuses a file that holds
    more values than that once its aliases are expanded (see :func:`expanded_size`).

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
    except RecursionError:
        raise ConfigFileError(
            [ConfigProblem(source, None, "", "not valid YAML: nested too deeply")]
        ) from None
    if max_values is not None and expanded_size(root, max_values) is None:
        raise ConfigFileError(
            [ConfigProblem(source, None, "", f"holds more than {max_values} values once its "
                           "YAML aliases are expanded (or an alias inside its own anchor)")]
        )
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
        ConfigProblem(source, line, format_loc(loc), f"duplicate key {key!r}")
        for loc, line, key in _duplicate_keys(root)
    ]
    config: VigilConfig | None = None
    try:
        config = VigilConfig.model_validate(data, context={DEFER_CHECKS: True})
    except ValidationError as e:
        for error in e.errors():
            loc = tuple(error["loc"])
            exc = (error.get("ctx") or {}).get("error")
            if isinstance(exc, KeyedConfigError):
                loc = (*loc, exc.key)
            shown, _ = _widget_loc(loc)
            problems.append(
                ConfigProblem(source, _line_of(root, shown), format_loc(shown), _message(error))
            )
    if config is not None:
        problems.extend(
            ConfigProblem(source, _line_of(root, loc), format_loc(loc), msg)
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
