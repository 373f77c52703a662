"""Writing an explanation as Clarify does: ``analysis.json`` with the ``explanations``
section, and the local values in ``explanations_shap/out.csv`` (a header row of feature
names, then one row per record in input order) when ``save_local_shap_values`` is set.

>>> import tempfile, numpy as np
>>> from vigil.analysis.explain.run import Explanation, LabelExplanation
>>> e = Explanation(["a"], [LabelExplanation("label0", {"a": 0.5}, 0.25,
...     np.array([[0.5], [-0.5]]))], "kernel_shap", True, 0, np.zeros((1, 1)))
>>> with tempfile.TemporaryDirectory() as d:
...     paths = save_explanation(e, d, local=True)
...     print(open(paths[1]).read().splitlines())
['a', '0.5', '-0.5']
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from vigil.analysis.explain.run import Explanation
from vigil.formats._base import write_atomic
from vigil.locations import Location, ObjectPath, as_location

__all__ = ["LOCAL_CSV", "local_csv", "save_explanation"]

LOCAL_CSV = Path("explanations_shap") / "out.csv"


def local_csv(explanation: Explanation) -> str:
    """The local values as CSV text (header row, one row per record)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(explanation.local_header())
    for row in explanation.local_matrix().tolist():
        writer.writerow([repr(float(v)) for v in row])
    return buffer.getvalue()


def save_explanation(
    explanation: Explanation,
    directory: str | os.PathLike[str] | ObjectPath,
    *,
    local: bool = False,
) -> list[Location]:
    """Write ``analysis.json`` (and, with ``local``, ``explanations_shap/out.csv``) into
    ``directory`` (a local folder or an object-store URL); return the paths written."""
    out = as_location(directory)
    text = json.dumps(explanation.to_analysis(), indent=4, ensure_ascii=False) + "\n"
    paths = [write_atomic(out / "analysis.json", text)]
    if local:
        paths.append(write_atomic(out / LOCAL_CSV.as_posix(), local_csv(explanation)))
    return paths
