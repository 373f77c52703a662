"""Many patterns against one event: an index on top-level literals, then the compiled checks.

Each pattern is indexed under one top-level key whose values are plain strings (preferring
``detail-type``, ``source``, ``kind``): an event is only checked against the patterns indexed
under its own value of that key, plus the patterns with no such key. The answer is the same
as checking every pattern, in the order the entries were given.

>>> rules = RuleSet([
...     ("failed-training", {"source": ["aws.sagemaker"],
...                          "detail": {"TrainingJobStatus": ["Failed"]}}),
...     ("any-build", {"source": ["aws.codebuild"]}),
...     ("all", {})])
>>> rules.matching({"source": "aws.sagemaker", "detail": {"TrainingJobStatus": "Failed"}})
['failed-training', 'all']
>>> rules.matching({"source": "aws.codebuild"})
['any-build', 'all']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from vigil.events.pattern_compile import is_or_list, leaves
from vigil.events.patterns import CompiledPattern, compile_pattern

T = TypeVar("T")

#: The top-level keys an index prefers, most selective first.
PREFERRED_KEYS = ("detail-type", "source", "kind")


def _index_key(pattern: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    """A top-level key whose values are all plain strings, and those strings."""
    candidates: dict[str, list[str]] = {}
    for key, value in pattern.items():
        if key == "$or" and is_or_list(value):
            continue
        values = value if isinstance(value, list) else [value]
        if values and not isinstance(value, Mapping) and all(isinstance(v, str) for v in values):
            candidates[key] = values
    for key in PREFERRED_KEYS:
        if key in candidates:
            return key, candidates[key]
    return next(iter(candidates.items()), None)


class RuleSet(Generic[T]):
    """Entries ``(name, pattern)``; :meth:`matching` returns the names whose pattern matches.

    A pattern may be a plain mapping (validated and compiled here, so a bad one raises
    :class:`~vigil.events.patterns.PatternError`) or a :class:`CompiledPattern`.
    """

    def __init__(self, entries: Iterable[tuple[T, Mapping[str, Any] | CompiledPattern]]) -> None:
        self._names: list[T] = []
        self._compiled: list[CompiledPattern] = []
        self._always: list[int] = []
        self._index: dict[str, dict[str, list[int]]] = {}
        for i, (name, pattern) in enumerate(entries):
            compiled = pattern if isinstance(pattern, CompiledPattern) else compile_pattern(pattern)
            self._names.append(name)
            self._compiled.append(compiled)
            found = _index_key(compiled.pattern)
            if found is None:
                self._always.append(i)
                continue
            key, values = found
            table = self._index.setdefault(key, {})
            for value in set(values):
                table.setdefault(value, []).append(i)

    def __len__(self) -> int:
        return len(self._names)

    def candidates(self, event: Mapping[str, Any]) -> list[int]:
        """Positions of the entries the index cannot rule out, in order."""
        found = list(self._always)
        for key, table in self._index.items():
            value = event.get(key)
            if type(value) is str:
                found.extend(table.get(value, ()))
            elif isinstance(value, list):
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
