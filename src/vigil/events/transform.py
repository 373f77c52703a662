"""EventBridge's input transformers: what a rule's target receives instead of the event.

An ``InputPathsMap`` names up to 100 variables, each a JSONPath into the event (``$``, dots,
``['key']``, array indices, ``*``; no filters). An ``InputTemplate`` uses them as ``<name>``:

* a JSON template (it starts with ``{`` or ``[``): a variable inside a JSON string is
  inserted as text (quote string variables yourself: ``"job": "<name>"``); outside a string
  it is inserted as its JSON value; the result is parsed JSON;
* a text template: values are inserted as text (objects and arrays as JSON); the result is
  a string (a template that is one quoted JSON string gives that string).

A path that finds nothing gives ``null`` as a JSON value and an empty string in text.
Reserved variables: ``<aws.events.rule-arn>``, ``<aws.events.rule-name>``,
``<aws.events.event.ingestion-time>`` (ISO-8601), and, only as a JSON value,
``<aws.events.event>`` (the event without ``detail``) and ``<aws.events.event.json>``.
``<`` and ``>`` cannot be escaped; a ``<word>`` that names no variable stays as written.

>>> t = compile_transformer({"build-id": "$.detail.build-id",
...                          "build-status": "$.detail.build-status"},
...     "Build '<build-id>' has reached the build status of '<build-status>'.")
>>> t.render({"detail": {"build-id": "b-1", "build-status": "FAILED"}}, rule_name="r")
"Build 'b-1' has reached the build status of 'FAILED'."
>>> j = compile_transformer({"name": "$.detail.name", "tags": "$.detail.tags[*]"},
...     '{"job": "<name>", "tags": <tags>, "rule": "<aws.events.rule-name>", "n": "<b>"}')
>>> j.render({"detail": {"name": "t1", "tags": ["a", "b"]}}, rule_name="failed")
{'job': 't1', 'tags': ['a', 'b'], 'rule': 'failed', 'n': '<b>'}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from vigil.errors import ConfigError

MAX_VARIABLES = 100
MAX_TEMPLATE = 8192
RULE_ARN, RULE_NAME = "aws.events.rule-arn", "aws.events.rule-name"
INGESTION_TIME, EVENT, EVENT_JSON = (
    "aws.events.event.ingestion-time", "aws.events.event", "aws.events.event.json"
)  # fmt: skip
RESERVED = (RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON)
_VAR = re.compile(r"^[A-Za-z0-9_.\-]{1,256}$")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_SEGMENT = re.compile(r"\.([^.\[\]]+)|\[(\d+|\*)\]|\['([^']*)'\]")
_MISSING: Any = object()


class InputTransformerError(ConfigError):
    """An input transformer, input path or template that is not valid; names the entry."""

    code = "input_transformer"


def parse_path(path: Any, where: str) -> tuple[str | int | None, ...]:
    """The segments of a JSONPath: a key, an index, or ``None`` for ``*``.

    >>> parse_path("$.detail.steps[0]['a b'].*", "p")
    ('detail', 'steps', 0, 'a b', None)
    >>> parse_path("detail.x", "input_paths_map.x")
    Traceback (most recent call last):
    ...
    vigil.events.transform.InputTransformerError: [input_transformer] input_paths_map.x: \
expected a JSONPath starting with '$' (dots, ['key'], [index], *), got 'detail.x'
    """
    if not isinstance(path, str) or not path.startswith("$"):
        raise InputTransformerError(
            f"{where}: expected a JSONPath starting with '$' (dots, ['key'], [index], *), "
            f"got {path!r}"
        )
    out: list[str | int | None] = []
    pos = 1
    while pos < len(path):
        found = _SEGMENT.match(path, pos)
        if found is None:
            raise InputTransformerError(
                f"{where}: JSONPath {path!r}: cannot read {path[pos:]!r} (expected .key, "
                f"['key'], [index] or *; filters are not supported)"
            )
        key, index, quoted = found.groups()
        if key is not None:
            out.append(None if key == "*" else key)
        elif index is not None:
            out.append(None if index == "*" else int(index))
        else:
            out.append(quoted)
        pos = found.end()
    return tuple(out)


def select(segments: tuple[str | int | None, ...], event: Any) -> Any:
    """The value at a parsed path; a path with ``*`` gives the list of what it finds.

    >>> select(parse_path("$.a[*].b", "p"), {"a": [{"b": 1}, {"c": 2}, {"b": 3}]})
    [1, 3]
    """
    found = [event]
    wild = False
    for seg in segments:
        nxt: list[Any] = []
        for node in found:
            if seg is None:
                wild = True
                if isinstance(node, Mapping):
                    nxt.extend(node.values())
                elif isinstance(node, list):
                    nxt.extend(node)
            elif isinstance(seg, int):
                if isinstance(node, list) and seg < len(node):
                    nxt.append(node[seg])
            elif isinstance(node, Mapping) and seg in node:
                nxt.append(node[seg])
        found = nxt
    if wild:
        return found
    return found[0] if found else _MISSING


@dataclass(frozen=True)
class _Slot:
    start: int
    end: int
    name: str
    in_string: bool


def _slots(template: str, names: set[str], as_json: bool, at: str) -> list[_Slot]:
    """Every ``<name>`` naming a variable, and whether it sits inside a JSON string."""
    out: list[_Slot] = []
    inside = escaped = False
    i = 0
    while i < len(template):
        c = template[i]
        found = _PLACEHOLDER.match(template, i) if c == "<" else None
        if found and found.group(1) in names:
            out.append(_Slot(i, found.end(), found.group(1), inside or not as_json))
            i = found.end()
            escaped = False
            continue
        if found and as_json and not inside:
            raise InputTransformerError(
                f"{at}: <{found.group(1)}> names no variable (variables: "
                f"{', '.join(sorted(names - set(RESERVED))) or 'none'})"
            )
        if as_json:
            if escaped:
                escaped = False
            elif c == "\\" and inside:
                escaped = True
            elif c == '"':
                inside = not inside
        i += 1
    return out


@dataclass(frozen=True)
class InputTransformer:
    """A validated ``InputPathsMap`` and ``InputTemplate``; :meth:`render` applies them."""

    input_paths_map: Mapping[str, str]
    input_template: str
    paths: Mapping[str, tuple[str | int | None, ...]]
    slots: tuple[_Slot, ...]
    as_json: bool

    def render(
        self,
        event: Mapping[str, Any],
        *,
        rule_name: str,
        rule_arn: str | None = None,
        ingestion_time: datetime | None = None,
    ) -> Any:
        """The input for a target: parsed JSON for a JSON template, else a string."""
        values = {name: select(path, event) for name, path in self.paths.items()}
        values[RULE_NAME] = rule_name
        values[RULE_ARN] = rule_arn or f"arn:vigil:events:::rule/{rule_name}"
        when = ingestion_time or datetime.now(timezone.utc)
        values[INGESTION_TIME] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        values[EVENT] = {k: v for k, v in event.items() if k != "detail"}
        values[EVENT_JSON] = dict(event)
        text = _fill(self.input_template, self.slots, values, self.as_json)
        if not self.as_json:
            if text.startswith('"'):
                try:
                    return json.loads(text)
                except ValueError:
                    return text
            return text
        try:
            return json.loads(text)
        except ValueError as exc:
            raise InputTransformerError(
                f"input_template: the filled template is not JSON ({exc}): {text[:200]!r}"
            ) from None


def _fill(template: str, slots: tuple[_Slot, ...], values: Mapping[str, Any], as_json: bool) -> str:
    parts: list[str] = []
    pos = 0
    for slot in slots:
        parts.append(template[pos : slot.start])
        value = values.get(slot.name, _MISSING)
        if slot.in_string:
            if value is _MISSING:
                text = ""
            else:
                text = value if isinstance(value, str) else json.dumps(value)
            parts.append(json.dumps(text)[1:-1] if as_json else text)
        else:
            parts.append("null" if value is _MISSING else json.dumps(value))
        pos = slot.end
    parts.append(template[pos:])
    return "".join(parts)


def compile_transformer(
    input_paths_map: Any, input_template: Any, where: str = "input_transformer"
) -> InputTransformer:
    """Validate a transformer; :class:`InputTransformerError` names the variable or field.

    >>> compile_transformer({"aws.events.x": "$.a"}, "<aws.events.x>")
    Traceback (most recent call last):
    ...
    vigil.events.transform.InputTransformerError: [input_transformer] \
input_transformer.input_paths_map.aws.events.x: names starting with 'aws.events.' are reserved
    >>> compile_transformer({}, '{"e": "<aws.events.event>"}')
    Traceback (most recent call last):
    ...
    vigil.events.transform.InputTransformerError: [input_transformer] \
input_transformer.input_template: <aws.events.event> can only be a JSON value, not text
    """
    if input_paths_map is None:
        input_paths_map = {}
    if not isinstance(input_paths_map, Mapping):
        raise InputTransformerError(f"{where}.input_paths_map: expected an object of name: path")
    if len(input_paths_map) > MAX_VARIABLES:
        raise InputTransformerError(
            f"{where}.input_paths_map: {len(input_paths_map)} variables (at most {MAX_VARIABLES})"
        )
    paths: dict[str, tuple[str | int | None, ...]] = {}
    for name, path in input_paths_map.items():
        at = f"{where}.input_paths_map.{name}"
        if not isinstance(name, str) or not _VAR.match(name):
            raise InputTransformerError(
                f"{at}: a variable name is 1-256 letters, digits, '_', '-' or '.'"
            )
        if name.lower().startswith("aws.events."):
            raise InputTransformerError(f"{at}: names starting with 'aws.events.' are reserved")
        paths[name] = parse_path(path, at)
    at = f"{where}.input_template"
    if not isinstance(input_template, str) or not input_template:
        raise InputTransformerError(f"{at}: expected a non-empty string")
    if len(input_template) > MAX_TEMPLATE:
        raise InputTransformerError(f"{at}: longer than {MAX_TEMPLATE} characters")
    as_json = input_template.lstrip()[:1] in ("{", "[")
    slots = tuple(_slots(input_template, set(paths) | set(RESERVED), as_json, at))
    for slot in slots:
        if slot.name in (EVENT, EVENT_JSON) and slot.in_string:
            raise InputTransformerError(f"{at}: <{slot.name}> can only be a JSON value, not text")
    if as_json:  # every variable null: the template must still be JSON
        try:
            json.loads(_fill(input_template, slots, {}, True))
        except ValueError as exc:
            raise InputTransformerError(f"{at}: not a valid JSON template ({exc})") from None
    return InputTransformer(dict(input_paths_map), input_template, paths, slots, as_json)


def input_path(path: str, event: Mapping[str, Any]) -> Any:
    """EventBridge's ``InputPath``: the part of the event at ``path`` (``None`` if absent).

    >>> input_path("$.detail", {"detail": {"a": 1}})
    {'a': 1}
    """
    found = select(parse_path(path, "input_path"), event)
    return None if found is _MISSING else found
