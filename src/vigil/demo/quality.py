"""The demo's model-quality half: the served predictions' ground truth, a model-quality baseline
and an hourly ``ModelQuality`` schedule, backfilled like the data-quality one.

1. :func:`apply_schedule` baselines the model's scores on its training cases against their
   labels (SageMaker's model-quality ``statistics.json`` and ``constraints.json`` on
   accuracy, AUC and F1, with a CBPE calibration) and applies ``quality.yaml`` (the baseline
   and the schedule ``hourly-model``), as ``vigil apply -f`` does.
2. :func:`upload_ground_truth` reads back the captures the middleware wrote (their event ids)
   and writes each served prediction's true label with the SDK's
   ``vigil.write_ground_truth``, collected at the end of the simulated hour it was served in
   (labels arriving within the hour; the demo's clock is simulated, so the labels' is too).
3. :func:`backfill` runs the seven hourly windows and prints each one's figures: the drifting
   hours (larger ``mean radius``, ``mean texture``) lose accuracy, a violation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import vigil
from vigil.analysis.estimation import fit_cbpe, save_cbpe
from vigil.analysis.model_quality import suggest_model_quality_baseline
from vigil.app.catalog import apply_config
from vigil.app.config import load_config
from vigil.capture.window import read_window
from vigil.formats.model_quality import ModelQualityStatistics
from vigil.locations import as_location
from vigil.monitor.runner import run_scheduled
from vigil.monitor.runtime import Runtime
from vigil.store.artifacts import ground_truth_root
from vigil.store.models import Execution

__all__ = ["BASELINE", "SCHEDULE", "apply_schedule", "backfill", "run", "upload_ground_truth"]

SCHEDULE = "hourly-model"
BASELINE = "cancer-quality"
#: the constrained figures: at 60 cases an hour the rates of a few cases are noise
CONSTRAINED = ("accuracy", "auc", "f1")


def apply_schedule(rt: Runtime, output: Path, model: Any, x: np.ndarray, y: np.ndarray) -> None:
    """Baseline the model's scores on ``x`` against labels ``y`` and apply ``quality.yaml``
    (the baseline and the ModelQuality schedule) in ``output``."""
    reference = pa.table({"probability": model.predict_proba(x)[:, 1], "label": y})
    baseline = suggest_model_quality_baseline(
        reference, "BinaryClassification", None, "label", "probability",
        positive_label=1, tolerance=0.1, std_multiplier=3,
    )
    section = baseline.constraints.constraints
    for key in [k for k in section if k not in CONSTRAINED]:
        del section[key]
    folder = baseline.save(output / "quality-baseline")
    save_cbpe(folder, fit_cbpe(reference, "label", "probability", 1))
    (output / "quality.yaml").write_text(
        f"""version: 1
baselines:
  - name: {BASELINE}
    endpoint: cancer-model
    path: quality-baseline
schedules:
  - name: {SCHEDULE}
    endpoint: cancer-model
    baseline: {BASELINE}
    expression: cron(0 * ? * * *)
    monitor_type: ModelQuality
    config:
      problem_type: BinaryClassification
      positive_label: 1
"""
    )
    desired = load_config(output / "quality.yaml").resolve_paths(output.resolve())
    plan = apply_config(rt.settings, rt.db, desired)
    print(f"vigil apply -f {output / 'quality.yaml'}: {plan.summary()}")


def upload_ground_truth(
    rt: Runtime, first_hour: datetime, hours: int, per_hour: int, step_s: int,
    labels: Sequence[int],
) -> int:
    """Write the true label of every captured prediction: request ``i`` of hour ``h`` was
    served at ``first_hour + h hours + i * step_s seconds`` and is case ``h * per_hour + i``
    of ``labels``. Returns the number of labels written."""
    end = first_hour + timedelta(hours=hours)
    window = read_window(rt.settings.capture_root, "cancer-model", first_hour, end)
    by_hour: dict[int, dict[str, int]] = {}
    for event_id, when in zip(window.event_ids.to_pylist(), window.inference_times.to_pylist()):
        offset = round((when - first_hour).total_seconds())
        h, i = offset // 3600, (offset % 3600) // step_s
        if (offset % 3600) % step_s == 0 and i < per_hour and 0 <= h < hours:
            by_hour.setdefault(h, {})[str(event_id)] = int(labels[h * per_hour + i])
    for h, pairs in by_hour.items():
        vigil.write_ground_truth(ground_truth_root(rt.settings), pairs,
                                 collected_at=first_hour + timedelta(hours=h, minutes=55))
    count = sum(len(p) for p in by_hour.values())
    print(f"ground truth: {count} labels of the served predictions "
          f"(vigil.write_ground_truth, collected within each hour)")
    return count


def backfill(rt: Runtime, first_hour: datetime, hours: int) -> list[Execution]:
    """Run the schedule's hourly windows and print each one's accuracy and violations."""
    done = []
    for h in range(1, hours + 1):
        ex = run_scheduled(rt, SCHEDULE, first_hour + timedelta(hours=h))
        if ex is None:
            continue
        done.append(ex)
        figures = ""
        if ex.output_uri and (as_location(ex.output_uri) / "statistics.json").is_file():
            stats = ModelQualityStatistics.load(
                as_location(ex.output_uri) / "statistics.json"
            ).metric_values()
            figures = f"accuracy {stats['accuracy']:.3f}, auc {stats['auc']:.3f}, "
        print(f"  model quality {ex.window_start:%Y-%m-%dT%H:%M}..{ex.window_end:%H:%M}  "
              f"{ex.records_read} labelled, {figures}{ex.violation_count or 0} violation(s)"
              + (f", failed: {ex.failure_reason}" if ex.status == "Failed" else ""))
    return done


def run(
    rt: Runtime, output: Path, model: Any, train: tuple[np.ndarray, np.ndarray],
    first_hour: datetime, hours: int, per_hour: int, step_s: int, labels: Sequence[int],
) -> bool:
    """The whole model-quality half; True when no execution failed."""
    apply_schedule(rt, output, model, *train)
    upload_ground_truth(rt, first_hour, hours, per_hour, step_s, labels)
    print(f"vigil monitor backfill {SCHEDULE} --start {first_hour:%Y-%m-%dT%H:%M:%SZ} "
          f"--end {first_hour + timedelta(hours=hours):%Y-%m-%dT%H:%M:%SZ}")
    done = backfill(rt, first_hour, hours)
    return len(done) == hours and all(ex.status != "Failed" for ex in done)
