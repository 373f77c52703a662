"""Ground truth: SageMaker files by collection hour, joined to captures by inferenceId/eventId."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from vigil.capture.ground_truth import join_ground_truth, read_ground_truth, write_ground_truth
from vigil.capture.window import read_window
from vigil.io.readers import BadRecords

T = datetime(2021, 5, 18, 0, tzinfo=timezone.utc)


def _captures(tmp_path: Path, sagemaker_dir: Path) -> Path:
    """The real capture lines (two with inferenceId, three without) in SageMaker's layout."""
    root = tmp_path / "capture"
    for name, when in [
        ("data_capture_with_inferenceId_from_notebook_output.jsonl", T),
        (
            "data_capture_csv_encoding_from_notebook_output.jsonl",
            datetime(2022, 4, 18, 0, tzinfo=timezone.utc),
        ),
    ]:
        folder = root / "churn" / "AllTraffic" / f"{when:%Y/%m/%d/%H}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(sagemaker_dir / name, folder / "29-02-000-x.jsonl")
    return root


def test_join_by_inference_id_else_event_id_with_counts(tmp_path: Path, sagemaker_dir: Path):
    root = _captures(tmp_path, sagemaker_dir)
    gt = tmp_path / "ground-truth"
    # labels arrive a day after the inferences: one by inferenceId, one unknown event
    write_ground_truth(gt, {"58": "1", "nobody": "0"}, collected_at=T + timedelta(days=1))
    # the real SageMaker ground-truth line, collected the same day
    folder = gt / f"{T + timedelta(days=1, hours=1):%Y/%m/%d/%H}"
    folder.mkdir(parents=True)
    shutil.copy(sagemaker_dir / "ground_truth_record.jsonl", folder / "00-00-000-gt.jsonl")
    window = read_window(root, "churn", T, T + timedelta(hours=1), content="both")
    assert window.table.num_rows == 2
    labels = read_ground_truth(gt, T + timedelta(days=1), T + timedelta(days=1, hours=2))
    real_id = json.loads((sagemaker_dir / "ground_truth_record.jsonl").read_text())[
        "eventMetadata"
    ]["eventId"]
    assert set(labels.column("event_id").to_pylist()) == {"58", "nobody", real_id}
    joined = join_ground_truth(window.table, labels)
    assert joined.summary() == {
        "captures_with_label": 1,
        "captures_without_label": 1,
        "labels_without_capture": 2,
    }
    assert joined.table.column("label").to_pylist() == ["1"]
    assert joined.table.column("__inference_id").to_pylist() == ["58"]
    # label delay: a labels window that ends before collection finds nothing
    early = read_ground_truth(gt, T, T + timedelta(hours=23))
    assert early.num_rows == 0


def test_event_id_is_the_key_without_inference_id(tmp_path: Path, sagemaker_dir: Path):
    root = _captures(tmp_path, sagemaker_dir)
    when = datetime(2022, 4, 18, 0, tzinfo=timezone.utc)
    window = read_window(root, "churn", when, when + timedelta(hours=1))
    ids = window.table.column("__event_id").to_pylist()
    gt = tmp_path / "gt"
    write_ground_truth(gt, {ids[0]: 1, ids[2]: 0}, collected_at=when + timedelta(hours=3))
    joined = join_ground_truth(window.table, read_ground_truth(gt, when, when + timedelta(hours=4)))
    assert joined.table.column("label").to_pylist() == ["1", "0"]
    assert (joined.matched, joined.unmatched_captures, joined.unmatched_labels) == (2, 1, 0)


def test_bad_ground_truth_lines_are_counted(tmp_path: Path):
    folder = tmp_path / "2024/01/01/00"
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text(
        '{"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": '
        '{"eventId": "a"}, "eventVersion": "0"}\n{oops\n{"eventMetadata": {}}\n'
    )
    bad = BadRecords()
    t = datetime(2024, 1, 1, tzinfo=timezone.utc)
    labels = read_ground_truth(tmp_path, t, t + timedelta(hours=1), bad)
    assert labels.column("event_id").to_pylist() == ["a"]
    assert bad.count == 2 and [e.line for e in bad.examples] == [2, 3]
