"""The metrics of a multiclass classifier: labels as codes, the confusion matrix, the
support-weighted figures.

>>> tc, pc, vocab, ok = encode(np.array(["a", "b", "b"]), np.array(["a", "b", "a"]), None)
>>> vocab, multiclass_scalars(tc, pc, len(vocab))[1].tolist()
(['a', 'b'], [[1, 0], [1, 1]])
>>> label_key(1.0), label_key("cat")
('1.0', 'cat')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vigil.checks.model_quality.best_constant import multiclass_best_constant
from vigil.checks.model_quality.counts import weighted_from_confusion
from vigil.formats.jackson import java_double

__all__ = ["encode", "label_key", "multiclass_scalars"]


def multiclass_scalars(t: np.ndarray, p: np.ndarray, k: int,
                       weights: np.ndarray | None = None) -> tuple[dict[str, float], np.ndarray]:
    """The weighted figures (and the best constant classifier's) of label codes ``t`` and
    ``p`` among ``k`` labels, and the confusion matrix; ``weights``: the rows each entry
    stands for."""
    cm = np.bincount(t * k + p, weights=weights, minlength=k * k).reshape(k, k)
    if weights is not None:
        cm = np.rint(cm).astype(np.int64)
    out = weighted_from_confusion(cm)
    out.update(multiclass_best_constant(cm))
    return out, cm


def encode(t: np.ndarray, p: np.ndarray, labels: Sequence[Any] | None) -> tuple[
        np.ndarray, np.ndarray, list[Any], np.ndarray]:
    """Label codes of truth and predictions, the label list and a mask of rows kept."""
    if (t.dtype.kind in "iufb") != (p.dtype.kind in "iufb") or t.dtype.kind == "O" or (
            p.dtype.kind == "O"):
        t, p = _label_text(t), _label_text(p)
    if labels is None:
        vocab = np.unique(np.concatenate([t, p]))
        tc = np.searchsorted(vocab, t)
        pc = np.searchsorted(vocab, p)
        return tc, pc, vocab.tolist(), np.ones(len(t), dtype=bool)
    given = np.asarray(list(labels))
    if given.dtype.kind != t.dtype.kind and not (given.dtype.kind in "iuf" and t.dtype.kind
                                                 in "iuf"):
        given, t, p = _label_text(given), _label_text(t), _label_text(p)
    order = np.argsort(given, kind="stable")
    ordered = given[order]

    def codes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.clip(np.searchsorted(ordered, a), 0, len(ordered) - 1)
        return order[pos], ordered[pos] == a

    tc, tok = codes(t)
    pc, pok = codes(p)
    return tc, pc, list(labels), tok & pok


def _label_text(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f" and np.all(np.mod(a[np.isfinite(a)], 1) == 0):
        return a.astype(np.int64).astype(str)
    if a.dtype.kind == "O":
        return np.array([_label_str(v) for v in a])
    return a.astype(str)


def _label_str(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (np.floating,)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def label_key(label: Any) -> str:
    """A label as a key of the confusion matrix in ``statistics.json`` (floats as Java
    writes them)."""
    if isinstance(label, float):
        return java_double(label)
    return str(label)
