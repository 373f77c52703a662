"""Run smclarify 0.5 (in tests/oracles/.venv) on a batch of cases; print its reports as JSON.

stdin: a JSON list of cases, each {"data": parquet path, "label": name, "label_values": [...],
"facet": name, "facet_values": [...] or null, "predicted_label": name or null,
"group_variable": name or null, "stages": ["pre_training", "post_training"],
"drop": [columns to leave out]}. stdout: a JSON list, per case {stage: report or {"error": text}}.
Infinite values come back as smclarify writes them ("Infinity" strings).
"""

from __future__ import annotations

import json
import sys
import warnings

import pandas as pd
from smclarify.bias import report


def run(case: dict) -> dict:
    df = pd.read_parquet(case["data"])
    for col in case.get("category", []):
        df[col] = df[col].astype("category")
    df = df.drop(columns=case.get("drop", []))
    label = report.LabelColumn(case["label"], df[case["label"]], list(case["label_values"]))
    facet = report.FacetColumn(
        case["facet"], None if case.get("facet_values") is None else list(case["facet_values"])
    )
    predicted = None
    if case.get("predicted_label"):
        predicted = report.LabelColumn(case["predicted_label"], df[case["predicted_label"]])
    group = df[case["group_variable"]] if case.get("group_variable") else None
    out: dict = {}
    for stage in case.get("stages", ["pre_training"]):
        try:
            out[stage] = report.bias_report(
                df.copy(),
                facet,
                report.LabelColumn(label.name, label.series, list(case["label_values"])),
                report.StageType(stage),
                predicted if stage == "post_training" else None,
                metrics=["all"],
                group_variable=group,
            )
        except Exception as exc:  # a whole-report error, reported as text
            out[stage] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def main() -> None:
    warnings.simplefilter("ignore")
    cases = json.load(sys.stdin)
    json.dump([run(c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
