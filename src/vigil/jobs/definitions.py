"""SageMaker metric definitions (``{"Name", "Regex"}``) applied to a training program's log lines.

Each definition's regex runs over every line; the **first capture group** is the value and
must parse as a float with the full grammar (sign, digits, fraction, exponent, ``nan``,
``inf``/``infinity``), so ``7E-5`` is 7e-05 and not 7 (platform.md §5 #2). A capture that
does not parse is counted and skipped, never silently lost; a value that parses but is not
finite is counted apart (the metric store, like CloudWatch, takes finite values only).

CloudWatch writes a tab as ``#011``, and SageMaker users write their regexes against that
text (``.*\\[[0-9]+\\].*#011validation-rmse:(\\S+)``). A program run here writes real tabs, so
a line is tried as it is, then with its tabs written ``#011``, then (a log that came from
CloudWatch) with its ``#011`` read back as tabs: the first form that matches counts.

>>> parser = LogMetricParser([parse_definition("validation:loss=val_loss: ([-+0-9.eE]+)"),
...                           MetricDefinition("validation-rmse", r"#011validation-rmse:(\\S+)")])
>>> parser.parse_line("epoch 3 val_loss: 7E-5")
[('validation:loss', 7e-05)]
>>> parser.parse_line("[12]\\ttrain-rmse:1.25702\\tvalidation-rmse:2.43126")
[('validation-rmse', 2.43126)]
>>> parser.parse_line("val_loss: 1e")  # matched, but not a float: counted, skipped
[]
>>> [(c.name, c.matched, c.unparsable) for c in parser.counts()]
[('validation:loss', 2, 1), ('validation-rmse', 1, 0)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vigil.errors import ConfigError

__all__ = [
    "MAX_DEFINITIONS",
    "DefinitionCounts",
    "LogMetricParser",
    "MetricDefinition",
    "MetricDefinitionError",
    "parse_definition",
    "parse_float",
]

MAX_DEFINITIONS = 40  # SageMaker's limit per training job
MAX_NAME = 255
MAX_REGEX = 500
TAB_ESCAPE = "#011"

_FLOAT = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)\Z", re.IGNORECASE
)


class MetricDefinitionError(ConfigError):
    """A metric definition that cannot be used: no name, a regex that does not compile or has
    no capture group, too many definitions."""

    code = "metric_definition"


def parse_float(text: str) -> float | None:
    """``text`` (surrounding spaces ignored) as a float, or ``None`` when it is not one.

    The grammar is a decimal float's: sign, digits with an optional fraction, an optional
    exponent, or ``nan``/``inf``/``infinity`` in any case. Python's own ``float()`` would also
    take ``1_000`` and other spellings a log value never means, so it is not used alone.

    >>> [parse_float(s) for s in ["0.31", "-7E-5", "+.5e+2", "1.", "NaN", "-inf", "Infinity"]]
    [0.31, -7e-05, 50.0, 1.0, nan, -inf, inf]
    >>> [parse_float(s) for s in ["", "1e", "e5", "1_000", "0x1p3", "1.2.3", "--1", "12%"]]
    [None, None, None, None, None, None, None, None]
    """
    stripped = text.strip()
    if not _FLOAT.match(stripped):
        return None
    return float(stripped)


@dataclass(frozen=True)
class MetricDefinition:
    """One SageMaker metric definition: the metric ``name`` and the ``regex`` whose first
    capture group is the value."""

    name: str
    regex: str

    def compiled(self) -> re.Pattern[str]:
        """The compiled regex; :class:`MetricDefinitionError` naming the definition when it
        does not compile or captures nothing.

        >>> MetricDefinition("loss", "loss=(").compiled()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        vigil.jobs.definitions.MetricDefinitionError: ... 'loss=(' does not compile: ...
        """
        if not self.name or len(self.name) > MAX_NAME:
            raise MetricDefinitionError(
                f"metric definition {self.name!r}: expected a name of 1 to {MAX_NAME} characters"
            )
        if not self.regex or len(self.regex) > MAX_REGEX:
            raise MetricDefinitionError(
                f"metric definition {self.name!r}: expected a regex of 1 to {MAX_REGEX} "
                f"characters, got {len(self.regex)}"
            )
        try:
            pattern = re.compile(self.regex)
        except re.error as exc:
            raise MetricDefinitionError(
                f"metric definition {self.name!r}: regex {self.regex!r} does not compile: {exc}"
            ) from None
        if pattern.groups < 1:
            raise MetricDefinitionError(
                f"metric definition {self.name!r}: regex {self.regex!r} has no capture group "
                "(the first group is the value)"
            )
        return pattern


def parse_definition(text: str) -> MetricDefinition:
    """``NAME=REGEX`` (split at the first ``=``; names hold ``:`` as ``validation:loss``).

    >>> parse_definition("train:error=Train_error=(.*?);")
    MetricDefinition(name='train:error', regex='Train_error=(.*?);')
    >>> parse_definition("no-regex")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    vigil.jobs.definitions.MetricDefinitionError: ... 'no-regex': expected NAME=REGEX, ...
    """
    name, sep, regex = text.partition("=")
    if not sep or not name.strip() or not regex:
        raise MetricDefinitionError(
            f"metric definition {text!r}: expected NAME=REGEX, e.g. "
            "'validation:loss=val_loss: ([-+0-9.eE]+)'"
        )
    definition = MetricDefinition(name.strip(), regex)
    definition.compiled()
    return definition


@dataclass
class DefinitionCounts:
    """What one definition found: lines ``matched``, of which ``unparsable`` (the capture is
    no float) and ``non_finite`` (nan or inf: parsed, not stored)."""

    name: str
    matched: int = 0
    unparsable: int = 0
    non_finite: int = 0

    @property
    def stored(self) -> int:
        """Values kept: matched lines less the unparsable and non-finite ones."""
        return self.matched - self.unparsable - self.non_finite

    def summary(self) -> str:
        """The end-of-run line, e.g. ``validation:loss: matched 12 lines, 1 unparsable``."""
        text = f"{self.name}: matched {self.matched} lines, {self.unparsable} unparsable"
        if self.non_finite:
            text += f", {self.non_finite} non-finite (not stored)"
        return text


class LogMetricParser:
    """Applies metric definitions to lines, counting what each one matched."""

    def __init__(self, definitions: Sequence[MetricDefinition]) -> None:
        if len(definitions) > MAX_DEFINITIONS:
            raise MetricDefinitionError(
                f"metric definitions: at most {MAX_DEFINITIONS} per job, got {len(definitions)}"
            )
        names = [d.name for d in definitions]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise MetricDefinitionError(f"metric definitions: name(s) given twice: {duplicated}")
        self.definitions = list(definitions)
        self._patterns = [(d.name, d.compiled()) for d in definitions]
        self._counts = {d.name: DefinitionCounts(d.name) for d in definitions}

    def parse_line(self, line: str) -> list[tuple[str, float]]:
        """The finite ``(metric, value)`` pairs the definitions find in one line (its line
        break, if any, ignored)."""
        line = line.rstrip("\r\n")
        forms = [line]
        if "\t" in line:
            forms.append(line.replace("\t", TAB_ESCAPE))
        if TAB_ESCAPE in line:
            forms.append(line.replace(TAB_ESCAPE, "\t"))
        found = []
        for name, pattern in self._patterns:
            match = next((m for m in map(pattern.search, forms) if m is not None), None)
            if match is None:
                continue
            counts = self._counts[name]
            counts.matched += 1
            value = parse_float(match.group(1) or "")
            if value is None:
                counts.unparsable += 1
            elif not math.isfinite(value):
                counts.non_finite += 1
            else:
                found.append((name, value))
        return found

    def parse_lines(self, lines: Iterable[str]) -> list[tuple[str, float]]:
        """Every pair found in ``lines``, in order."""
        return [pair for line in lines for pair in self.parse_line(line)]

    def counts(self) -> list[DefinitionCounts]:
        """Per definition, in the order given, what it matched so far."""
        return [self._counts[d.name] for d in self.definitions]
