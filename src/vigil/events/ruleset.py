"""Many patterns against one event: an index on one literal leaf per pattern, then the
compiled checks.

Each pattern is indexed under one of its leaves whose values are all plain strings, at any
depth (``source``, ``detail.TrainingJobName``...): the event's string at that path must be
one of them for the pattern to match, so an event is checked only against the patterns
indexed under its own value there, plus the patterns with no such leaf. Of a pattern's
literal leaves the index takes the rarest one (the one whose values the fewest patterns
share: a job name before a status, a status before ``source: aws.sagemaker``), so the
candidates stay few when many rules watch one source. Where the event holds an array, any
element may match; where an array stands in the way of the path, every pattern indexed on
that path is a candidate. The answer is the same as checking every pattern, in the order
the entries were given.

>>> rules = RuleSet([
...     ("failed-training", {"source": ["aws.sagemaker"],
...                          "detail": {"TrainingJobStatus": ["Failed"]}}),
...     ("any-build", {"source": ["aws.codebuild"]}),
...     ("all", {})])
>>> rules.matching({"source": "aws.sagemaker", "detail": {"TrainingJobStatus": "Failed"}})
['failed-training', 'all']
>>> rules.matching({"source": "aws.codebuild"})
['any-build', 'all']
>>> rules.path_of(0), rules.candidates({"source": "aws.sagemaker", "detail": {}})
(('detail', 'TrainingJobStatus'), [2])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from vigil.events.pattern_compile import is_or_list, leaves
from vigil.events.patterns import CompiledPattern, compile_pattern

T = TypeVar("T")

Path = tuple[str, ...]
_UNKNOWN = object()  # the index cannot decide (an array on the path): every entry is a candidate


def literal_leaves(pattern: Mapping[str, Any], path: Path = ()) -> list[tuple[Path, list[str]]]:
    """Every leaf of ``pattern`` whose values are all plain strings, with its path (``$or``
    branches left out: they are alternatives, not requirements).

    >>> literal_leaves({"source": ["a"], "detail": {"s": ["x", "y"], "n": [{"exists": True}]}})
    [(('source',), ['a']), (('detail', 's'), ['x', 'y'])]
    """
    out: list[tuple[Path, list[str]]] = []
    for key, value in pattern.items():
        if key == "$or" and is_or_list(value):
            continue
        if isinstance(value, Mapping):
            out.extend(literal_leaves(value, (*path, key)))
            continue
        values = value if isinstance(value, list) else [value]
        if values and all(type(v) is str for v in values):
            out.append(((*path, key), list(values)))
    return out


def _value_at(event: Mapping[str, Any], path: Path) -> Any:
    """The event's value at ``path``: ``None`` when there is none, :data:`_UNKNOWN` when an
    array stands in the way."""
    current: Any = event
    for key in path:
        if not isinstance(current, Mapping):
            return _UNKNOWN if isinstance(current, list) else None
        current = current.get(key)
    return current


class RuleSet(Generic[T]):
    """Entries ``(name, pattern)``; :meth:`matching` returns the names whose pattern matches.

    A pattern may be a plain mapping (validated and compiled here, so a bad one raises
    :class:`~vigil.events.patterns.PatternError`) or a :class:`CompiledPattern`.
    """

    def __init__(self, entries: Iterable[tuple[T, Mapping[str, Any] | CompiledPattern]]) -> None:
        self._names: list[T] = []
        self._compiled: list[CompiledPattern] = []
        for name, pattern in entries:
            compiled = pattern if isinstance(pattern, CompiledPattern) else compile_pattern(pattern)
            self._names.append(name)
            self._compiled.append(compiled)
        found = [literal_leaves(c.pattern) for c in self._compiled]
        shared = Counter((path, v) for leaves_ in found for path, vs in leaves_ for v in set(vs))
        self._always: list[int] = []
        self._paths: list[Path] = []
        self._tables: list[dict[str, list[int]]] = []  # per path: value -> entries
        self._everyone: list[list[int]] = []  # per path: every entry indexed on it
        self._path_of: dict[int, Path] = {}
        where: dict[Path, int] = {}
        for i, leaves_ in enumerate(found):
            if not leaves_:
                self._always.append(i)
                continue
            path, values = min(
                leaves_, key=lambda leaf: (max(shared[(leaf[0], v)] for v in leaf[1]),
                                           len(leaf[1]), -len(leaf[0]))
            )  # fmt: skip
            if path not in where:
                where[path] = len(self._paths)
                self._paths.append(path)
                self._tables.append({})
                self._everyone.append([])
            k = where[path]
            for value in set(values):
                self._tables[k].setdefault(value, []).append(i)
            self._everyone[k].append(i)
            self._path_of[i] = path

    def __len__(self) -> int:
        return len(self._names)

    def path_of(self, position: int) -> Path | None:
        """The path entry ``position`` is indexed on (``None``: it is checked on every event)."""
        return self._path_of.get(position)

    def candidates(self, event: Mapping[str, Any]) -> list[int]:
        """Positions of the entries the index cannot rule out, in order."""
        found = list(self._always)
        for path, table, everyone in zip(self._paths, self._tables, self._everyone, strict=True):
            value = event.get(path[0]) if len(path) == 1 else _value_at(event, path)
            if type(value) is str:
                found.extend(table.get(value, ()))
            elif value is _UNKNOWN:
                found.extend(everyone)
            elif isinstance(value, list):
                if any(isinstance(x, Mapping) for x in value):
                    found.extend(everyone)  # objects in the array: left to the full check
                    continue
                for item in leaves(value):
                    if type(item) is str:
                        found.extend(table.get(item, ()))
        if len(found) > 1:
            found = sorted(set(found))
        return found

    def matching(self, event: Mapping[str, Any]) -> list[T]:
        """The names of the entries whose pattern matches ``event``, in the given order."""
        compiled, names = self._compiled, self._names
        return [names[i] for i in self.candidates(event) if compiled[i].fn(event)]
