"""Type inference as SageMaker's analyzer (Deequ's ``DataType`` analyzer) does it.

Every non-null value is classified as Integral, Fractional, Boolean or String; the column's
type follows Deequ's rule: all null -> ``Unknown``; any String value, or Booleans mixed with
numbers -> ``String``; only Booleans -> ``String`` (statistics.json has no Boolean type);
any Fractional -> ``Fractional``; otherwise ``Integral``.

Typed columns (Arrow, pandas, Polars) are classified by their type: integers are Integral,
floats Fractional (as Deequ's regex classifies their text form ``1.0``), booleans Boolean.
Text columns (CSV, JSON strings) are classified value by value with Deequ's patterns.

>>> import pyarrow as pa
>>> counts, numbers = classify(pa.array(["1", "2.5", "x", None, "true"]))
>>> counts
TypeCounts(missing=1, integral=1, fractional=1, boolean=1, string=1)
>>> counts.inferred_type()
'String'
>>> numbers.tolist()
[1.0, 2.5]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

INTEGRAL_PATTERN = r"^[+-]?\d+$"
FRACTIONAL_PATTERN = r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$"
BOOLEAN_PATTERN = r"^(true|false)$"
_EMPTY = np.empty(0, dtype=np.float64)
_NUMPY_TYPES = {
    getattr(pa, name)(): np.dtype(name)
    for name in (
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
    )
}


@dataclass
class TypeCounts:
    """How many values of each kind a column holds (mergeable by addition)."""

    missing: int = 0
    integral: int = 0
    fractional: int = 0
    boolean: int = 0
    string: int = 0

    def __iadd__(self, other: TypeCounts) -> TypeCounts:
        self.missing += other.missing
        self.integral += other.integral
        self.fractional += other.fractional
        self.boolean += other.boolean
        self.string += other.string
        return self

    @property
    def present(self) -> int:
        """Non-null values."""
        return self.integral + self.fractional + self.boolean + self.string

    def inferred_type(self) -> str:
        """Deequ's decision rule, mapped onto statistics.json's four types."""
        if self.present == 0:
            return "Unknown"
        if self.string > 0 or self.boolean > 0:
            return "String"
        if self.fractional > 0:
            return "Fractional"
        return "Integral"

    def matching(self, inferred_type: str) -> int:
        """Values that fit ``inferred_type`` (an Integral value fits Fractional too)."""
        if inferred_type == "Integral":
            return self.integral
        if inferred_type == "Fractional":
            return self.integral + self.fractional
        return self.present


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _bool_array(mask: np.ndarray) -> pa.Array:
    """A numpy mask as an Arrow boolean array, built from its bits: ``pa.array`` would import
    pandas (~0.15 s, 300 modules) only to ask whether the mask is a pandas object.

    >>> _bool_array(np.array([True, False, True])).to_pylist()
    [True, False, True]
    """
    bits = np.packbits(np.asarray(mask, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(bits)])


def _plain_numpy(arr: pa.Array) -> np.ndarray:
    """A null-free numeric or boolean Arrow array as numpy, without pyarrow's pandas shim
    (whose import alone costs ~0.2 s)."""
    if pa.types.is_boolean(arr.type):
        return _plain_numpy(arr.cast(pa.uint8())).astype(bool)
    dtype = _NUMPY_TYPES.get(arr.type)
    if dtype is None or arr.null_count:
        return np.asarray(arr.to_numpy(zero_copy_only=False))
    return np.frombuffer(
        arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize
    )


def _numbers(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric column's non-null values as float64 (zero-copy when possible)."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    parts = []
    for chunk in chunks:
        if chunk.null_count:
            chunk = pc.drop_null(chunk)
        if pa.types.is_decimal(chunk.type):
            chunk = chunk.cast(pa.float64())
        parts.append(_plain_numpy(chunk).astype(np.float64, copy=False))
    if not parts:
        return _EMPTY
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def classify(arr: pa.Array | pa.ChunkedArray) -> tuple[TypeCounts, np.ndarray]:
    """Classify a column's values; also return its numeric values as float64 (nulls dropped).

    Floating NaN counts as missing, as pandas users expect.
    """
    t = arr.type
    if pa.types.is_dictionary(t):
        if _is_text(t.value_type):
            return _classify_text(arr)
        arr = arr.cast(t.value_type)
        t = arr.type
    n = len(arr)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        values = _numbers(arr)
        if pa.types.is_floating(t):
            nan = np.isnan(values)
            if nan.any():
                values = values[~nan]
        present = len(values)
        counts = TypeCounts(missing=n - present)
        if pa.types.is_integer(t):
            counts.integral = present
        else:
            counts.fractional = present
        return counts, values
    if pa.types.is_boolean(t):
        present = n - arr.null_count
        return TypeCounts(missing=n - present, boolean=present), _EMPTY
    if not _is_text(t):
        text = arr.cast(pa.string()) if pa.types.is_temporal(t) else None
        if text is None:
            present = n - arr.null_count
            return TypeCounts(missing=n - present, string=present), _EMPTY
        arr = text
    return _classify_text(arr)


@dataclass
class Distinct:
    """A text column's distinct non-null values, their counts and each row's index."""

    values: pa.Array
    freq: np.ndarray
    indices: np.ndarray


def distinct_text(arr: pa.Array | pa.ChunkedArray, max_share: float = 0.125) -> Distinct | None:
    """Distinct values of a text or dictionary-encoded text column, or None when more than
    ``max_share`` of its (at least 1024) values are distinct: then per-value work is cheaper.
    """
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    if len(chunks) == 1 and pa.types.is_dictionary(chunks[0].type):
        chunk = chunks[0]
        dictionary = chunk.dictionary
        indices = _plain_numpy(pc.drop_null(chunk.indices)).astype(np.intp, copy=False)
    else:
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        present = pc.drop_null(arr)
        if isinstance(present, pa.ChunkedArray):
            present = present.combine_chunks()
        encoded = pc.dictionary_encode(present)
        dictionary = encoded.dictionary
        if len(present) >= 1024 and len(dictionary) > max_share * len(present):
            return None
        indices = _plain_numpy(encoded.indices).astype(np.intp, copy=False)
    if not (pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type)):
        dictionary = dictionary.cast(pa.string())
    freq = np.bincount(indices, minlength=len(dictionary))
    return Distinct(dictionary, freq, indices)


def classify_distinct(d: Distinct, n: int) -> tuple[TypeCounts, np.ndarray]:
    """Classify the distinct values only, then weight them by their counts."""
    dictionary, freq, indices = d.values, d.freq, d.indices

    def matches(pattern: str) -> np.ndarray:
        return _plain_numpy(pc.match_substring_regex(dictionary, pattern))

    is_int, is_num, is_bool = (
        matches(INTEGRAL_PATTERN),
        matches(FRACTIONAL_PATTERN),
        matches(BOOLEAN_PATTERN),
    )
    counts = TypeCounts(
        missing=n - len(indices),
        integral=int(freq[is_int].sum()),
        fractional=int(freq[is_num & ~is_int].sum()),
        boolean=int(freq[is_bool].sum()),
        string=int(freq[~is_num & ~is_bool].sum()),
    )
    if not is_num.any():
        return counts, _EMPTY
    dict_numbers = np.full(len(dictionary), np.nan)
    picked = pc.filter(dictionary, _bool_array(is_num))
    dict_numbers[is_num] = _plain_numpy(picked.cast(pa.float64()))
    return counts, dict_numbers[indices[is_num[indices]]]


def _classify_text(arr: pa.Array | pa.ChunkedArray) -> tuple[TypeCounts, np.ndarray]:
    d = distinct_text(arr)
    if d is not None:
        return classify_distinct(d, len(arr))
    present_values = pc.drop_null(arr)
    n = len(arr)
    present = len(present_values)
    counts = TypeCounts(missing=n - present)
    if present == 0:
        return counts, _EMPTY
    # Fast path: every value is a plain integer (most CSV integer columns).
    is_int = pc.match_substring_regex(present_values, INTEGRAL_PATTERN)
    n_int = pc.sum(is_int).as_py() or 0
    if n_int == present:
        counts.integral = present
        return counts, _numbers(present_values.cast(pa.float64()))
    is_num = pc.match_substring_regex(present_values, FRACTIONAL_PATTERN)
    n_num = pc.sum(is_num).as_py() or 0
    counts.integral = n_int
    counts.fractional = n_num - n_int
    rest = present - n_num
    if rest:
        counts.boolean = pc.sum(pc.match_substring_regex(present_values, BOOLEAN_PATTERN)).as_py()
        counts.string = rest - counts.boolean
        numbers = pc.filter(present_values, is_num).cast(pa.float64())
    else:
        numbers = present_values.cast(pa.float64())
    return counts, _numbers(numbers)
