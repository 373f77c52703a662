"""JSON exactly as SageMaker's analyzer writes it (Jackson's default pretty printer).

SageMaker's Spark container serialises artifacts with Jackson: objects indent by two
spaces with ``"key" : value``, arrays stay on one line (``[ 1.0, 2.0 ]``,
``[ {`` ... ``}, {`` ... ``} ]``),
doubles use Java's ``Double.toString`` (``2048.0``, ``1.0E-4``, ``1.0E7``) and non-finite
doubles are quoted (``"NaN"``). Writing the same bytes lets a SageMaker user diff our files
against theirs.

>>> dumps({"version": 0.0, "data": [[1.0, 2.5]], "empty": {}})
'{\\n  "version" : 0.0,\\n  "data" : [ [ 1.0, 2.5 ] ],\\n  "empty" : { }\\n}'
>>> java_double(1e-4), java_double(12345678.0), java_double(0.1)
('1.0E-4', '1.2345678E7', '0.1')
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import numpy as np
import orjson

from vigil.errors import FormatError


def java_double(x: float) -> str:
    """Format a float as Java's ``Double.toString`` does (shortest round-trip digits)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    ax = abs(x)
    if 1e-3 <= ax < 1e7:
        text = repr(x)
        if "e" in text or "E" in text:  # pragma: no cover - repr is positional in this range
            text = format(Decimal(text), "f")
        return text if "." in text else text + ".0"
    sign, digits, exponent = Decimal(repr(x)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    exp10 = len(digits) + int(exponent) - 1
    mantissa = ds[0] + "." + (ds[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{exp10}"


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = java_double(value)
        return f'"{text}"' if not math.isfinite(value) else text
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    # numpy scalars and the like
    if hasattr(value, "item"):
        return _scalar(value.item())
    raise FormatError(f"cannot serialise {type(value).__name__} as JSON")


def _write(value: Any, level: int, out: list[str]) -> None:
    if isinstance(value, dict):
        if not value:
            out.append("{ }")
            return
        out.append("{")
        pad = "  " * (level + 1)
        first = True
        for key, item in value.items():
            out.append("\n" + pad if first else ",\n" + pad)
            first = False
            out.append(orjson.dumps(str(key)).decode() + " : ")
            _write(item, level + 1, out)
        out.append("\n" + "  " * level + "}")
    elif isinstance(value, (list, tuple)):
        fast = _float_list(value)
        if fast is not None:
            out.append(fast)
            return
        if not value:
            out.append("[ ]")
            return
        out.append("[ ")
        for i, item in enumerate(value):
            if i:
                out.append(", ")
            _write(item, level, out)
        out.append(" ]")
    else:
        out.append(_scalar(value))


def _float_list(values: list[Any] | tuple[Any, ...]) -> str | None:
    """A long list of plain floats (KLL sketch levels) formatted in bulk; else None.

    orjson prints the same shortest digits as Java wherever Java uses plain notation
    (``1e-3 <= |x| < 1e7``); the few items outside that range are formatted one by one.
    """
    if len(values) < 16 or not all(type(v) is float for v in values):
        return None
    arr = np.asarray(values, dtype=np.float64)
    mags = np.abs(arr)
    odd = np.flatnonzero(~(((mags >= 1e-3) & (mags < 1e7)) | ((arr == 0) & ~np.signbit(arr))))
    parts = (
        orjson.dumps(values).decode()[1:-1].split(",") if len(odd) < len(arr) else [""] * len(arr)
    )
    for i in odd:
        parts[i] = _scalar(values[i])
    return "[ " + ", ".join(parts) + " ]"


def dumps(value: Any) -> str:
    """Serialise plain JSON data the way Jackson's ``DefaultPrettyPrinter`` does."""
    out: list[str] = []
    _write(value, 0, out)
    return "".join(out)


def loads(text: str | bytes) -> Any:
    """Parse JSON text (orjson); bare ``NaN``/``Infinity`` tokens are accepted too."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
