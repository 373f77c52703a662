"""Every real SageMaker artifact loads and re-serialises without losing a value."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.errors import FormatError
from vigil.formats import (
    CaptureRecord,
    Constraints,
    ConstraintViolations,
    GroundTruthRecord,
    Statistics,
    jackson,
)


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("data_quality_statistics.json", Statistics),
        ("data_quality_constraints.json", Constraints),
        ("data_quality_constraint_violations.json", ConstraintViolations),
    ],
)
def test_data_quality_artifacts_round_trip_byte_for_byte(sagemaker_dir: Path, name: str, cls):
    raw = (sagemaker_dir / name).read_text()
    model = cls.loads(raw)
    # the violations file alone ends with a newline; every byte before it is ours too
    assert model.dumps() == raw.rstrip("\n")
    assert json.loads(model.dumps()) == json.loads(raw)


@pytest.mark.parametrize(
    "name",
    [
        "model_quality_regression_statistics.json",
        "model_quality_regression_constraints.json",
        "model_quality_regression_statistics_with_evaluation_time.json",
    ],
)
def test_jackson_writer_reproduces_model_quality_files(sagemaker_dir: Path, name: str):
    raw = (sagemaker_dir / name).read_text()
    data = jackson.loads(raw)
    assert jackson.dumps(data) == raw


def test_nan_string_is_kept_as_string_and_floats_quote_nan():
    # SageMaker writes "NaN" as a JSON string; a float NaN is written the same way
    assert jackson.dumps({"standard_deviation": "NaN"}) == '{\n  "standard_deviation" : "NaN"\n}'
    assert jackson.dumps({"x": math.nan, "y": math.inf}) == (
        '{\n  "x" : "NaN",\n  "y" : "Infinity"\n}'
    )


def test_statistics_reads_nan_strings_as_floats():
    stats = Statistics.loads(
        '{"version": 0, "dataset": {"item_count": 0}, "features": [{"name": "x", '
        '"inferred_type": "Fractional", "numerical_statistics": {"common": '
        '{"num_present": 0, "num_missing": 3}, "mean": "NaN"}}]}'
    )
    assert math.isnan(stats.features[0].numerical_statistics.mean)
    assert stats.version == 0 and isinstance(stats.version, int)
    assert '"version" : 0,' in stats.dumps()  # an integer version stays an integer


@pytest.mark.parametrize(
    ("value", "java"),
    [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (2048.0, "2048.0"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1234567.0, "1234567.0"),
        (1e7, "1.0E7"),
        (12345678.9, "1.23456789E7"),
        (-3.208758170289026, "-3.208758170289026"),
        (1.5e-10, "1.5E-10"),
        (1e300, "1.0E300"),
    ],
)
def test_java_double_to_string(value: float, java: str):
    # expected strings are what java.lang.Double.toString prints for these doubles
    assert jackson.java_double(value) == java
    assert float(java) == value


def test_older_constraints_fall_back_to_documented_defaults(sagemaker_dir: Path):
    cons = Constraints.load(sagemaker_dir / "data_quality_constraints.json")
    dc = cons.monitoring_config.distribution_constraints
    assert dc.categorical_comparison_threshold is None  # absent in this older file
    assert dc.categorical_threshold == dc.comparison_threshold == 0.1
    assert dc.categorical_method == "LInfinity"
    bare = Constraints.loads('{"version": 0, "features": []}')
    assert bare.monitoring_config.datatype_check_threshold == 0.1  # documented default
    assert bare.monitoring_config.distribution_constraints.comparison_method == "Robust"


def test_unknown_keys_survive_a_round_trip():
    text = (
        '{"violations": [{"feature_name": "a", "constraint_check_type": "x", '
        '"description": "d", "extra_key": [1, 2]}], "top_extra": {"k": true}}'
    )
    model = ConstraintViolations.loads(text)
    assert json.loads(model.dumps()) == json.loads(text)


def test_capture_and_ground_truth_records_load(sagemaker_dir: Path):
    lines = 0
    for path in sorted(sagemaker_dir.glob("*.jsonl")):
        cls = GroundTruthRecord if path.name.startswith("ground_truth") else CaptureRecord
        for line in path.read_text().splitlines():
            record = cls.loads(line)
            assert record.to_dict() == json.loads(line)
            lines += 1
    assert lines == 8
    rec = CaptureRecord.loads(
        (sagemaker_dir / "data_capture_with_inferenceId_from_notebook_output.jsonl")
        .read_text()
        .splitlines()[0]
    )
    assert rec.event_metadata.inference_id == "58"
    assert rec.capture_data.endpoint_input.encoding == "CSV"


def test_bad_artifact_names_file_and_field(tmp_path: Path):
    path = tmp_path / "statistics.json"
    path.write_text('{"version": 0, "dataset": {"item_count": "many"}, "features": []}')
    with pytest.raises(FormatError, match=r"statistics.json: field 'dataset.item_count'"):
        Statistics.load(path)
    path.write_text("{not json")
    with pytest.raises(FormatError, match="not valid JSON"):
        Statistics.load(path)
    with pytest.raises(FormatError, match="cannot read"):
        Statistics.load(tmp_path / "absent.json")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=16, max_size=80))
def test_fast_float_lists_print_as_java_does(values: list[float]):
    expected = "[ " + ", ".join(jackson._scalar(v) for v in values) + " ]"
    assert jackson.dumps(values) == expected


def test_capture_records_write_back_as_sagemaker_lines(sagemaker_dir: Path):
    path = sagemaker_dir / "data_capture_csv_encoding_from_notebook_output.jsonl"
    for line in path.read_text().splitlines():
        assert CaptureRecord.loads(line).to_line() == line  # SageMaker's compact form
    built = CaptureRecord.model_validate({
        "captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                          "data": "1,2", "encoding": "CSV"}},
        "eventMetadata": {"eventId": "e-1", "inferenceTime": "2024-01-01T00:00:00Z"},
    })
    assert json.loads(built.to_line()) == {
        "captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                          "data": "1,2", "encoding": "CSV"}},
        "eventMetadata": {"eventId": "e-1", "inferenceTime": "2024-01-01T00:00:00Z"},
        "eventVersion": "0",
    }
    gt = (sagemaker_dir / "ground_truth_record.jsonl").read_text().strip()
    assert json.loads(GroundTruthRecord.loads(gt).to_line()) == json.loads(gt)
