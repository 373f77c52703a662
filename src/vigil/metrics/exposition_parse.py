"""A parser of Prometheus' text exposition format 0.0.4 (what a ``/metrics`` endpoint serves).

:func:`parse_exposition` reads the text into :class:`~vigil.metrics.exposition.MetricFamily`
objects in order of appearance. ``# TYPE`` and ``# HELP`` lines give a family its type and
help; a sample belongs to the family declared with its name, or, for ``_bucket``, ``_sum``,
``_count`` (and ``_created``), to the histogram or summary its base name declares; a sample
no ``# TYPE`` covers is ``untyped`` in a family of its own. Other ``#`` lines and blank lines
are comments. Label values unescape ``\\\\``, ``\\"`` and ``\\n``; values are Go floats
(``NaN``, ``+Inf``, ``-Inf``, exponents); the optional timestamp is integer milliseconds.
A line that breaks the grammar raises :class:`ExpositionError` naming the line and what was
expected.

>>> text = '''# HELP http_requests_total Requests.
... # TYPE http_requests_total counter
... http_requests_total{method="post",path="/a\\\\"b"} 1027 1395066363000
... # TYPE rpc_seconds histogram
... rpc_seconds_bucket{le="0.1"} 3
... rpc_seconds_bucket{le="+Inf"} 4
... rpc_seconds_sum 1.5
... rpc_seconds_count 4
... up NaN
... '''
>>> for f in parse_exposition(text):
...     print(f.name, f.type, [(s.name, dict(s.labels), s.value, s.timestamp_ms)
...                            for s in f.samples][:1])
http_requests_total counter [('http_requests_total', {'method': 'post', 'path': '/a"b'}, 1027.0, 1395066363000)]
rpc_seconds histogram [('rpc_seconds_bucket', {'le': '0.1'}, 3.0, None)]
up untyped [('up', {}, nan, None)]
>>> parse_exposition('x{a="1" 2\\n')
Traceback (most recent call last):
...
vigil.metrics.exposition_parse.ExpositionError: [exposition_error] line 1: expected a label \
name="value", ',' or '}' at column 9, got '2'
"""  # noqa: E501 (a doctest's output line)

from __future__ import annotations

import re

from vigil.errors import FormatError
from vigil.metrics.exposition import TYPES, MetricFamily, Sample

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_PAIR = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\\n]|\\.)*)"\s*')
_UNESCAPE = re.compile(r"\\(.)")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_SPECIAL = {"nan": float("nan"), "+inf": float("inf"), "inf": float("inf"), "-inf": -float("inf")}
_SUFFIXES = {
    "_bucket": ("histogram",),
    "_sum": ("histogram", "summary"),
    "_count": ("histogram", "summary"),
    "_created": ("histogram", "summary", "counter"),
}


class ExpositionError(FormatError):
    """A text exposition that breaks the format (the message names the line)."""

    code = "exposition_error"


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def parse_float(text: str) -> float:
    """A sample value as Go's ``strconv.ParseFloat`` reads it (as Prometheus does).

    >>> parse_float("1.5e-3"), parse_float("+Inf"), parse_float("-inf"), parse_float("7E-5")
    (0.0015, inf, -inf, 7e-05)
    >>> parse_float("1_000")
    Traceback (most recent call last):
    ...
    vigil.metrics.exposition_parse.ExpositionError: [exposition_error] not a number: '1_000'
    """
    special = _SPECIAL.get(text.lower())
    if special is not None:
        return special
    if not _FLOAT.match(text):
        raise ExpositionError(f"not a number: {text!r}")
    return float(text)


def _labels(line: str, pos: int, number: int) -> tuple[dict[str, str], int]:
    """The label set starting after ``{`` at ``pos``; returns it and the index after ``}``."""
    labels: dict[str, str] = {}
    while True:
        while pos < len(line) and line[pos] in " \t":
            pos += 1
        if pos < len(line) and line[pos] == "}":
            return labels, pos + 1
        m = _LABEL_PAIR.match(line, pos)
        if m is None:
            got = line[pos : pos + 10] or "the end of the line"
            raise ExpositionError(
                f"line {number}: expected a label name=\"value\" or '}}' at column {pos + 1}, "
                f"got {got!r}"
            )
        name = m.group(1)
        if name in labels:
            raise ExpositionError(f"line {number}: label {name!r} appears twice")
        labels[name] = _unescape(m.group(2))
        pos = m.end()
        if pos < len(line) and line[pos] == ",":
            pos += 1
        elif pos < len(line) and line[pos] == "}":
            return labels, pos + 1
        else:
            got = line[pos : pos + 10] or "the end of the line"
            raise ExpositionError(
                f"line {number}: expected a label name=\"value\", ',' or '}}' at column "
                f"{pos + 1}, got {got!r}"
            )


def parse_sample(line: str, number: int = 1) -> Sample:
    """One sample line: ``name{labels} value [timestamp]``.

    >>> parse_sample('a_total{x="1",} -Inf 12')
    Sample(name='a_total', labels={'x': '1'}, value=-inf, timestamp_ms=12)
    """
    m = _NAME.match(line)
    if m is None:
        raise ExpositionError(f"line {number}: expected a metric name, got {line[:20]!r}")
    name, pos = m.group(), m.end()
    if pos < len(line) and line[pos] not in " \t{":
        raise ExpositionError(
            f"line {number}: invalid character {line[pos]!r} in metric name {line[: pos + 1]!r}"
        )
    labels: dict[str, str] = {}
    rest = line[pos:].lstrip(" \t")
    if rest.startswith("{"):
        labels, after = _labels(line, line.index("{", pos) + 1, number)
        rest = line[after:]
    fields = rest.split()
    if not fields:
        raise ExpositionError(f"line {number}: {name}: expected a value after the name")
    if len(fields) > 2:
        raise ExpositionError(
            f"line {number}: {name}: expected a value and an optional timestamp, "
            f"got {rest.strip()!r}"
        )
    try:
        value = parse_float(fields[0])
    except ExpositionError:
        raise ExpositionError(
            f"line {number}: {name}: expected a float value, got {fields[0]!r}"
        ) from None
    stamp = None
    if len(fields) == 2:
        try:
            stamp = int(fields[1]) if "_" not in fields[1] else None
        except ValueError:
            stamp = None
        if stamp is None:
            raise ExpositionError(
                f"line {number}: {name}: expected an integer timestamp (ms), got {fields[1]!r}"
            )
    return Sample(name, labels, value, stamp)


def _family_of(name: str, declared: dict[str, MetricFamily]) -> MetricFamily | None:
    found = declared.get(name)
    if found is not None:
        return found
    for suffix, types in _SUFFIXES.items():
        if name.endswith(suffix):
            base = declared.get(name[: -len(suffix)])
            if base is not None and base.type in types:
                return base
    return None


def parse_exposition(text: str) -> list[MetricFamily]:
    """Every family of the exposition ``text``, in order of first appearance."""
    declared: dict[str, MetricFamily] = {}  # by name, from # TYPE / # HELP or a first sample
    typed: set[str] = set()
    families: list[MetricFamily] = []
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(" \t\r")
        if not line:
            continue
        if line.startswith("#"):
            parts = line[1:].lstrip(" \t").split(None, 2)
            if len(parts) < 2 or parts[0] not in ("HELP", "TYPE"):
                continue  # a comment
            keyword, name = parts[0], parts[1]
            if not _NAME.fullmatch(name):
                raise ExpositionError(f"line {number}: {keyword}: invalid metric name {name!r}")
            fam = declared.get(name)
            if fam is None:
                fam = declared[name] = MetricFamily(name, "untyped")
                families.append(fam)
            if keyword == "TYPE":
                kind = parts[2].strip() if len(parts) > 2 else ""
                if kind not in TYPES:
                    raise ExpositionError(
                        f"line {number}: TYPE {name}: expected one of {', '.join(TYPES)}, "
                        f"got {kind!r}"
                    )
                if name in typed:
                    raise ExpositionError(f"line {number}: second TYPE line for {name}")
                if fam.samples:
                    raise ExpositionError(f"line {number}: TYPE {name} after its samples")
                typed.add(name)
                fam.type = kind
            else:
                help_text = raw.split(name, 1)[1][1:] if len(parts) > 2 else ""
                fam.help = _unescape(help_text.rstrip("\r"))
            continue
        sample = parse_sample(line, number)
        fam = _family_of(sample.name, declared)
        if fam is None:
            fam = declared[sample.name] = MetricFamily(sample.name, "untyped")
            families.append(fam)
        fam.samples.append(sample)
    return families
