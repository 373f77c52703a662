"""Prometheus' text exposition format 0.0.4: the families, the writer, and name sanitising.

A :class:`MetricFamily` is a name, a type (``counter``, ``gauge``, ``histogram``, ``summary``
or ``untyped``), a help text and its samples; :func:`render` writes families as
``text/plain; version=0.0.4``: ``# HELP`` and ``# TYPE`` once per family before its samples,
label values escaped (``\\\\``, ``\\"``, ``\\n``), help escaped (``\\\\``, ``\\n``), ``NaN``,
``+Inf`` and ``-Inf`` spelled as Prometheus reads them, and a final newline.
:func:`histogram_samples` turns per-bucket counts into the cumulative ``_bucket`` series
(ending with ``le="+Inf"``), ``_sum`` and ``_count``. The parser is
:mod:`vigil.metrics.exposition_parse`.

>>> fam = MetricFamily("vigil_alarms", "gauge", "Alarms by state.",
...                    [Sample("vigil_alarms", {"state": 'AL"ARM'}, 2.0)])
>>> print(render([fam]), end="")
# HELP vigil_alarms Alarms by state.
# TYPE vigil_alarms gauge
vigil_alarms{state="AL\\"ARM"} 2
>>> print(render([MetricFamily("h_seconds", "histogram", "", histogram_samples(
...     "h_seconds", {}, [0.1, 1.0], [3, 1, 2], 4.5))]), end="")
# TYPE h_seconds histogram
h_seconds_bucket{le="0.1"} 3
h_seconds_bucket{le="1"} 4
h_seconds_bucket{le="+Inf"} 6
h_seconds_sum 4.5
h_seconds_count 6
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from vigil.errors import InputError

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_BAD = re.compile(r"[^a-zA-Z0-9_]+")

#: OpenTelemetry's default explicit bucket bounds, in seconds (0.005 s to 10 s).
LATENCY_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample line: series ``name``, ``labels``, ``value`` and an optional timestamp
    in milliseconds since the epoch."""

    name: str
    labels: Mapping[str, str]
    value: float
    timestamp_ms: int | None = None


@dataclass(slots=True)
class MetricFamily:
    """A metric's metadata and samples (for a histogram ``x``: ``x_bucket``, ``x_sum``,
    ``x_count``; for a summary: ``x``, ``x_sum``, ``x_count``)."""

    name: str
    type: str
    help: str = ""
    samples: list[Sample] = field(default_factory=list)


def is_metric_name(name: str) -> bool:
    """Whether ``name`` is a valid Prometheus metric name.

    >>> is_metric_name("vigil_alarms"), is_metric_name("9lives"), is_metric_name("a-b")
    (True, False, False)
    """
    return bool(_NAME.match(name))


def is_label_name(name: str) -> bool:
    """Whether ``name`` is a valid label name that is not reserved (``__`` prefix).

    >>> is_label_name("endpoint"), is_label_name("__name__"), is_label_name("a:b")
    (True, False, False)
    """
    return bool(_LABEL.match(name)) and not name.startswith("__")


def snake(text: str) -> str:
    """``text`` as a lower snake-case name part: CamelCase split, every run of other
    characters one underscore, never empty, never starting with a digit.

    >>> snake("AWS/SageMaker"), snake("Invocation5XXErrors"), snake("validation:loss")
    ('aws_sage_maker', 'invocation5_xx_errors', 'validation_loss')
    >>> snake("9 lives"), snake("///")
    ('_9_lives', '_')
    """
    out = _BAD.sub("_", _CAMEL.sub("_", text)).lower()
    out = re.sub("_+", "_", out)
    if out != "_":
        out = out.strip("_") or "_"
    return "_" + out if out[0].isdigit() else out


def label_name(text: str) -> str:
    """``text`` as a valid, unreserved label name (dimension ``EndpointName`` ->
    ``endpoint_name``).

    >>> label_name("EndpointName"), label_name("__x"), label_name("GPU UUID")
    ('endpoint_name', 'x', 'gpu_uuid')
    """
    name = snake(text).lstrip("_") or "label"
    return "_" + name if name[0].isdigit() else name


def format_value(value: float) -> str:
    """A sample value as Prometheus writes it: integers without a fraction, ``NaN``, ``+Inf``.

    >>> [format_value(v) for v in (3.0, 0.25, float("inf"), -float("inf"), float("nan"), 1e22)]
    ['3', '0.25', '+Inf', '-Inf', 'NaN', '1e+22']
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def escape_label_value(value: str) -> str:
    r"""Escape ``\``, ``"`` and newline in a label value.

    >>> escape_label_value('a\\b"c\nd')
    'a\\\\b\\"c\\nd'
    """
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    r"""Escape ``\`` and newline in a help text.

    >>> escape_help('say "hi"\\now')
    'say "hi"\\\\now'
    """
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels.items())
    return "{" + inner + "}"


def render_family(family: MetricFamily) -> str:
    """One family's lines (``# HELP`` only when it has a help text), each ending in ``\\n``."""
    if family.type not in TYPES:
        raise InputError(f"{family.name}: type {family.type!r} is not one of {', '.join(TYPES)}")
    lines = []
    if family.help:
        lines.append(f"# HELP {family.name} {escape_help(family.help)}\n")
    lines.append(f"# TYPE {family.name} {family.type}\n")
    for s in family.samples:
        stamp = "" if s.timestamp_ms is None else f" {s.timestamp_ms}"
        lines.append(f"{s.name}{_labels(s.labels)} {format_value(s.value)}{stamp}\n")
    return "".join(lines)


def render(families: Iterable[MetricFamily]) -> str:
    """The exposition of ``families``; those with the same name are merged (first one's
    metadata), so every name has one ``# HELP``/``# TYPE`` and its samples together."""
    merged: dict[str, MetricFamily] = {}
    for fam in families:
        held = merged.get(fam.name)
        if held is None:
            merged[fam.name] = MetricFamily(fam.name, fam.type, fam.help, list(fam.samples))
        else:
            held.samples.extend(fam.samples)
    return "".join(render_family(f) for f in merged.values())


def histogram_samples(
    name: str,
    labels: Mapping[str, str],
    bounds: Sequence[float],
    counts: Sequence[float],
    total: float,
) -> list[Sample]:
    """The ``_bucket``/``_sum``/``_count`` samples of a histogram from per-bucket counts:
    ``counts[i]`` observations fell in ``(bounds[i-1], bounds[i]]``, the last entry
    (``len(bounds) + 1`` in all) above every bound; ``total`` is the sum of observations.

    >>> [(s.labels.get("le"), s.value) for s in histogram_samples("x", {}, [1], [2, 5], 9)]
    [('1', 2.0), ('+Inf', 7.0), (None, 9.0), (None, 7.0)]
    """
    if len(counts) != len(bounds) + 1:
        raise InputError(f"{name}: {len(bounds)} bounds need {len(bounds) + 1} counts")
    out = []
    running = 0.0
    for bound, count in zip([*bounds, math.inf], counts):
        running += float(count)
        out.append(Sample(f"{name}_bucket", {**labels, "le": format_value(bound)}, running))
    out.append(Sample(f"{name}_sum", dict(labels), float(total)))
    out.append(Sample(f"{name}_count", dict(labels), running))
    return out
