"""Performance estimation for model-quality schedules: a CBPE calibration kept beside the
baseline (``cbpe.json``), applied to each window's scores before labels arrive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from vigil.checks.cbpe import CBPE
from vigil.errors import InputError
from vigil.formats._base import write_atomic
from vigil.io.readers import iter_tables
from vigil.locations import Location, ObjectPath, as_location

CBPE_FILE = "cbpe.json"


def _positive(labels: np.ndarray, positive_label: Any) -> np.ndarray:
    if positive_label is None:
        return labels.astype(float)
    return np.array(
        [str(v) == str(positive_label) or _num_eq(v, positive_label) for v in labels], dtype=float
    )


def _num_eq(a: Any, b: Any) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def fit_cbpe(
    data: Any,
    ground_truth_attribute: str,
    probability_attribute: str,
    positive_label: Any = None,
    threshold: float = 0.5,
    **reader: Any,
) -> CBPE:
    """Calibrate CBPE on a labelled data set (table or paths)."""
    tables = list(iter_tables(data, **reader))
    table = pa.concat_tables(tables, promote_options="permissive") if tables else None
    if (
        table is None
        or ground_truth_attribute not in table.column_names
        or probability_attribute not in table.column_names
    ):
        raise InputError(
            f"performance estimation needs columns {ground_truth_attribute!r} and "
            f"{probability_attribute!r}"
        )
    labels = np.asarray(table.column(ground_truth_attribute).to_pylist(), dtype=object)
    scores = np.asarray(table.column(probability_attribute).to_pylist(), dtype=float)
    return CBPE(threshold=threshold).fit(_positive(labels, positive_label), scores)


def save_cbpe(directory: str | Path | ObjectPath, estimator: CBPE) -> Location:
    """Write ``cbpe.json`` into a baseline directory."""
    text = orjson.dumps(estimator.to_dict()).decode()
    return write_atomic(as_location(directory) / CBPE_FILE, text)


def load_cbpe(directory: str | Path | ObjectPath) -> CBPE | None:
    """The baseline's CBPE calibration, or None when it has none."""
    path = as_location(directory) / CBPE_FILE
    if not path.is_file():
        return None
    return CBPE.from_dict(orjson.loads(path.read_bytes()))
