"""Reading a capture window: hour folders, time filter, payload decoding, preprocessors."""

from __future__ import annotations

import base64
import json
import logging
import shutil
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import fsspec
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.capture import window as window_module
from vigil.capture.window import TIME_TYPE, read_window
from vigil.errors import ConfigError, FormatError
from vigil.formats import CaptureRecord

UTC = timezone.utc
T0 = datetime(2024, 5, 1, 10, tzinfo=UTC)


def content(data: str, encoding: str = "CSV", ctype: str | None = None, mode: str = "INPUT"):
    if ctype is None:
        ctype = {"CSV": "text/csv", "JSON": "application/json"}.get(encoding, "text/csv")
    return {"observedContentType": ctype, "mode": mode, "data": data, "encoding": encoding}


def line(
    data: str | None,
    when: datetime,
    encoding: str = "CSV",
    out: str | None = None,
    out_encoding: str = "CSV",
    event_id: str | None = None,
    inference_id: str | None = None,
    in_type: str | None = None,
    out_type: str | None = None,
    custom: list[str] | None = None,
) -> str:
    """One capture line, as SageMaker writes it (through the typed CaptureRecord)."""
    capture: dict[str, Any] = {}
    if data is not None:
        capture["endpointInput"] = content(data, encoding, in_type)
    if out is not None:
        capture["endpointOutput"] = content(out, out_encoding, out_type, "OUTPUT")
    meta: dict[str, Any] = {
        "eventId": event_id or str(uuid.uuid4()),
        "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if inference_id is not None:
        meta["inferenceId"] = inference_id
    if custom is not None:
        meta["customAttributes"] = custom
    record = {"captureData": capture, "eventMetadata": meta, "eventVersion": "0"}
    try:
        return CaptureRecord.from_dict(record).to_line()
    except FormatError:  # an encoding SageMaker never writes: build the line by hand
        return json.dumps(record, separators=(",", ":"))


def write(
    root: Path, lines: list[str], when: datetime, endpoint: str = "ep", variant: str = "AllTraffic"
) -> Path:
    """A capture file in SageMaker's layout: {endpoint}/{variant}/yyyy/mm/dd/hh/MM-SS-mmm-uuid."""
    folder = root / endpoint / variant / when.strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{when:%M-%S}-000-{uuid.uuid4()}.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# -- hour folders and the time filter -----------------------------------------------------------


def test_hour_folders_and_inference_time_boundaries(tmp_path: Path):
    times = {
        "a": at(-120),  # 08:00, two folders before
        "b": at(-0.5 / 60),  # 09:59:59.5 -> 09:59:59 (strftime drops the fraction)
        "c": at(0),  # 10:00:00
        "d": at(30),
        "e": at(60 - 1 / 60),  # 10:59:59
        "f": at(60),  # 11:00:00
        "g": at(60 + 1 / 60),  # 11:00:01
        "h": at(120),  # 12:00
    }
    for name, when in times.items():
        write(tmp_path, [line(f"{name},1", when, event_id=name)], when)
    w = read_window(tmp_path, "ep", T0, T0 + timedelta(hours=1))
    assert w.event_ids.to_pylist() == ["c", "d", "e"]
    assert [Path(f).parent.name for f in w.files] == ["10", "10", "10"]  # 11 not read
    assert w.records_read == 3 and w.records_in_window == 3 and w.hour_folders == 1
    assert w.last_record_time == times["h"]

    w = read_window(tmp_path, "ep", at(30), at(60 + 1 / 60))
    assert w.event_ids.to_pylist() == ["d", "e", "f"]
    assert sorted({Path(f).parent.name for f in w.files}) == ["10", "11"]
    assert w.records_read == 5 and w.records_in_window == 3

    # naive datetimes are UTC; aware ones are converted; ISO strings work too
    naive = read_window(tmp_path, "ep", datetime(2024, 5, 1, 10), datetime(2024, 5, 1, 11))
    paris = timezone(timedelta(hours=2))
    aware = read_window(
        tmp_path, "ep", datetime(2024, 5, 1, 12, tzinfo=paris), T0 + timedelta(hours=1)
    )
    text = read_window(tmp_path, "ep", "2024-05-01T10:00:00Z", "2024-05-01T11:00:00+00:00")
    for other in (naive, aware, text):
        assert other.table.equals(read_window(tmp_path, "ep", T0, at(60)).table)
    before = read_window(tmp_path, "ep", at(-1), T0)
    assert before.event_ids.to_pylist() == ["b"]


def test_metadata_columns_and_features(tmp_path: Path):
    write(
        tmp_path,
        [line("1,2", at(1), event_id="e1", inference_id="i1"), line("3,4", at(2), event_id="e2")],
        at(0),
    )
    w = read_window(tmp_path, "ep", T0, at(60))
    assert w.table.column_names == [
        "_c0",
        "_c1",
        "__event_id",
        "__inference_id",
        "__inference_time",
    ]
    assert w.table.schema.field("__inference_time").type == TIME_TYPE
    assert w.inference_ids.to_pylist() == ["i1", None]
    assert w.inference_times.to_pylist() == [at(1), at(2)]
    assert w.features().column_names == ["_c0", "_c1"]
    assert w.summary()["rows"] == 2


def test_months_and_days_are_walked(tmp_path: Path):
    for when in (
        datetime(2023, 12, 31, 23, 30, tzinfo=UTC),
        datetime(2024, 1, 1, 0, 30, tzinfo=UTC),
        datetime(2024, 2, 29, 5, tzinfo=UTC),
    ):
        write(tmp_path, [line("1", when, event_id=when.isoformat())], when)
    w = read_window(tmp_path, "ep", datetime(2023, 12, 31, 23), datetime(2024, 1, 1, 1))
    assert w.num_rows == 2 and w.hour_folders == 2
    w = read_window(tmp_path, "ep", datetime(2024, 1, 2), datetime(2024, 12, 1))
    assert w.event_ids.to_pylist() == ["2024-02-29T05:00:00+00:00"]


# -- decoding -----------------------------------------------------------------------------------


def test_csv_json_base64_and_mixed_encodings(tmp_path: Path):
    b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    lines = [
        line("1,2.5,a", at(1), out="0.9", event_id="csv"),
        line('{"x": 1, "y": "b"}', at(2), "JSON", out="0.1", event_id="json-in csv-out"),
        line("3,4", at(3), out='{"score": 0.7}', out_encoding="JSON", event_id="csv-in json-out"),
        line(
            b64("5,6"),
            at(4),
            "BASE64",
            in_type="text/csv",
            out=b64('{"score": 0.2}'),
            out_encoding="BASE64",
            out_type="application/json",
            event_id="b64",
        ),
        line(b64("\x89PNG"), at(5), "BASE64", in_type="image/png", out="1", event_id="png"),
        line("7,8", at(6), "XML", out="1", event_id="xml"),
    ]
    path = write(tmp_path, lines, at(0))
    w = read_window(tmp_path, "ep", T0, at(60), content="both")
    rows = w.table.to_pylist()
    by_id = {r["__event_id"]: r for r in rows}
    assert list(by_id) == ["csv", "json-in csv-out", "csv-in json-out", "b64"]
    assert (by_id["csv"]["_c0"], by_id["csv"]["_c1"], by_id["csv"]["_c2"]) == ("1", "2.5", "a")
    assert by_id["csv"]["_o0"] == "0.9"
    assert (by_id["json-in csv-out"]["x"], by_id["json-in csv-out"]["_o0"]) == (1, "0.1")
    assert (by_id["csv-in json-out"]["_c1"], by_id["csv-in json-out"]["score"]) == ("4", 0.7)
    assert (by_id["b64"]["_c0"], by_id["b64"]["score"]) == ("5", 0.2)
    assert w.bad.count == 2
    assert [(e.source, e.line) for e in w.bad.examples] == [(str(path), 5), (str(path), 6)]
    assert "not tabular" in w.bad.examples[0].reason and "image/png" in w.bad.examples[0].reason
    assert "'XML' is not one of CSV, JSON, BASE64" in w.bad.examples[1].reason
    # content="output" reads only the outputs
    out = read_window(tmp_path, "ep", T0, at(60), content="output")
    assert out.features().column_names == ["_o0", "score"]


def test_json_batches_become_rows(tmp_path: Path):
    lines = [
        line(
            '{"instances": [[1, 2], [3, 4], [5, 6]]}',
            at(1),
            "JSON",
            out='{"predictions": [0.1, 0.2, 0.3]}',
            out_encoding="JSON",
            event_id="instances",
        ),
        line(
            '[{"a": 1, "b": 2}, {"a": 3, "b": 4}]', at(2), "JSON", out="0.5\n0.6", event_id="objs"
        ),
        line(
            '{"inputs": [[7, 8]]}',
            at(3),
            "JSON",
            out="[0.7]",
            out_encoding="JSON",
            event_id="inputs",
        ),
        line("9,10\n11,12\n", at(4), out="0.9,0.95", event_id="csv batch, one output line"),
        line(
            '{"instances": [[1, 2], [3, 4]]}',
            at(5),
            "JSON",
            out='{"predictions": [0.1, 0.2, 0.3]}',
            out_encoding="JSON",
            event_id="mismatch",
        ),
        line("[1, 2, 3]", at(6), "JSON", out="[0.2, 0.8]", out_encoding="JSON", event_id="vector"),
    ]
    write(tmp_path, lines, at(0))
    w = read_window(tmp_path, "ep", T0, at(60), content="both")
    t = w.table.to_pydict()
    assert t["__event_id"] == ["instances"] * 3 + ["objs"] * 2 + ["inputs"] + [
        "csv batch, one output line"
    ] * 2 + ["vector"]
    assert t["_c0"][:3] == ["1", "3", "5"] and t["_o0"][:3] == ["0.1", "0.2", "0.3"]
    assert t["a"][3:5] == [1, 3] and t["_o0"][3:5] == ["0.5", "0.6"]
    assert (t["_c0"][5], t["_c1"][5], t["_o0"][5]) == ("7", "8", "0.7")
    assert t["_c1"][6:8] == ["10", "12"] and t["_o0"][6:8] == ["0.9", "0.95"]
    assert (t["_c2"][8], t["_o0"][8], t["_o1"][8]) == (3, "0.2", 0.8)  # one row, 2 outputs
    assert w.bad.count == 1 and w.bad.examples[0].line == 5
    assert "2 input rows but 3 output rows" in w.bad.examples[0].reason
    # JSON numbers become numbers when a column has no text
    only_json = read_window(tmp_path, "ep", at(1), at(2), content="both")
    assert only_json.table.schema.field("_c0").type == pa.int64()
    assert only_json.table.schema.field("_o0").type == pa.float64()


def test_jmespath_attributes_in_both_sagemaker_styles(tmp_path: Path):
    # a batch: {"instances": [{"features": [...]}, ...]} -> {"predictions": [{...}, ...]}
    batch_in = json.dumps({"instances": [{"features": [1, 2]}, {"features": [3, 4]}]})
    batch_out = json.dumps(
        {
            "predictions": [
                {"predicted_label": 1, "score": 0.8},
                {"predicted_label": 0, "score": 0.3},
            ]
        }
    )
    # one nested record -> one nested answer with a probability vector
    single_in = json.dumps({"data": {"features": [5, 6]}, "meta": {"user": "u1"}})
    single_out = json.dumps({"prediction": {"label": 2}, "probabilities": [0.1, 0.2, 0.7]})
    write(tmp_path, [line(batch_in, at(1), "JSON", out=batch_out, out_encoding="JSON")], at(0))
    write(tmp_path, [line(single_in, at(61), "JSON", out=single_out, out_encoding="JSON")], at(60))

    w = read_window(
        tmp_path,
        "ep",
        T0,
        at(60),
        content="both",
        features_attribute="instances[*].features",
        inference_attribute="predictions[*].predicted_label",
        probability_attribute="predictions[*].score",
    )
    assert w.features().to_pydict() == {
        "_c0": [1, 3],
        "_c1": [2, 4],
        "prediction": [1, 0],
        "probability": [0.8, 0.3],
    }
    w = read_window(
        tmp_path,
        "ep",
        at(60),
        at(120),
        content="both",
        features_attribute="data.features",
        inference_attribute="prediction.label",
        probability_attribute="probabilities",
        feature_names=["age", "income"],
    )
    assert w.features().to_pydict() == {
        "age": [5],
        "income": [6],
        "prediction": [2],
        "probability": ["[0.1,0.2,0.7]"],
    }
    # "[*]" is not needed when the expression already gives one value per row
    w = read_window(
        tmp_path,
        "ep",
        T0,
        at(60),
        content="output",
        inference_attribute="predictions[*].predicted_label",
    )
    assert w.features().to_pydict() == {"prediction": [1, 0]}
    # an expression that matches nothing is a bad record, not a failure
    w = read_window(tmp_path, "ep", T0, at(120), content="both", inference_attribute="nothing.here")
    assert w.num_rows == 0 and w.bad.count == 2
    assert "matched nothing" in w.bad.examples[0].reason


def test_csv_outputs_take_a_column_index(tmp_path: Path):
    write(tmp_path, [line("1,2\n3,4", at(1), out="1,0.9\n0,0.2")], at(0))
    w = read_window(
        tmp_path,
        "ep",
        T0,
        at(60),
        content="both",
        inference_attribute="0",
        probability_attribute="1",
    )
    assert w.features().to_pydict() == {
        "_c0": ["1", "3"],
        "_c1": ["2", "4"],
        "prediction": ["1", "0"],
        "probability": ["0.9", "0.2"],
    }


def test_feature_names_name_csv_columns(tmp_path: Path):
    write(tmp_path, [line("1,2", at(1)), line("1,2,3", at(2))], at(0))
    for fast in (True, False):
        w = read_window(tmp_path, "ep", T0, at(60), feature_names=["a", "b"], fast=fast)
        assert w.features().to_pydict() == {"a": ["1"], "b": ["2"]}
        assert (
            w.bad.count == 1
            and "expected 2 values (feature_names), found 3" in w.bad.examples[0].reason
        )


# -- the preprocessor ---------------------------------------------------------------------------


def test_preprocessor_contract(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    lines = [
        line("1,2", at(1), out="0.5", event_id="keep", inference_id="i1", custom=['{"test": 0}']),
        line("3,4", at(2), out="0.6", event_id="split"),
        line("5,6", at(3), out="0.7", event_id="drop"),
        line("7,8", at(4), out="0.8", event_id="boom"),
        line("9,9", at(5), out="0.9", event_id="none"),
    ]
    path = write(tmp_path, lines, at(0))
    seen: list[Any] = []

    def handler(inference_record):
        r = inference_record
        seen.append(
            (
                r.endpoint_input.data,
                r.endpoint_input.encoding,
                r.endpoint_input.observed_content_type,
                r.endpoint_output.data,
                r.event_metadata.event_id,
                r.event_metadata.inference_id,
                r.event_metadata.inference_time,
                r.event_version,
                r.inference_id,
                r.inference_time,
                r.event_metadata.custom_attribute,
                r.event_data.endpointInput.encoding,
            )
        )
        event = r.event_metadata.event_id
        values = r.endpoint_input.data.split(",")
        if event == "drop":
            return []
        if event == "boom":
            raise RuntimeError("cannot handle 7")
        if event == "none":
            return None
        row = {f"f{i}": v for i, v in enumerate(values)} | {"label": r.endpoint_output.data}
        return [row, row] if event == "split" else row

    w = read_window(tmp_path, "ep", T0, at(60), preprocessor=handler)
    assert seen[0] == (
        "1,2",
        "CSV",
        "text/csv",
        "0.5",
        "keep",
        "i1",
        "2024-05-01T10:01:00Z",
        "0",
        "i1",
        "2024-05-01T10:01:00Z",
        ['{"test": 0}'],
        "CSV",
    )
    assert w.features().to_pydict() == {
        "f0": ["1", "3", "3"],
        "f1": ["2", "4", "4"],
        "label": ["0.5", "0.6", "0.6"],
    }
    assert w.event_ids.to_pylist() == ["keep", "split", "split"]
    assert w.records_in_window == 5 and w.records_dropped == 1 and w.bad.count == 2
    assert [(e.source, e.line) for e in w.bad.examples] == [(str(path), 4), (str(path), 5)]
    assert w.bad.examples[0].reason == "preprocessor raised RuntimeError: cannot handle 7"
    assert "returned NoneType; expected a dict, a list of dicts or []" in w.bad.examples[1].reason

    # a .py file with the two-parameter form gets a logger; SageMaker's own sample works unchanged
    script = tmp_path / "preprocessor.py"
    script.write_text(
        "def preprocess_handler(inference_record, logger):\n"
        "    logger.info('record %s', inference_record.event_metadata.event_id)\n"
        "    input_data = inference_record.endpoint_input.data\n"
        "    output_data = inference_record.endpoint_output.data.rstrip('\\n')\n"
        "    data = output_data + ',' + input_data\n"
        "    return {str(i).zfill(20): d for i, d in enumerate(data.split(','))}\n"
    )
    with caplog.at_level(logging.INFO, logger="vigil.capture.preprocessor"):
        w = read_window(tmp_path, "ep", T0, at(60), preprocessor=str(script))
    assert w.features().column_names == [str(i).zfill(20) for i in range(3)]
    assert w.features().column(0).to_pylist() == ["0.5", "0.6", "0.7", "0.8", "0.9"]
    assert [r.getMessage() for r in caplog.records][:2] == ["record keep", "record split"]

    # one parameter: no logger is passed
    w = read_window(tmp_path, "ep", T0, at(60), preprocessor=lambda record: {"n": 1})
    assert w.num_rows == 5
    with pytest.raises(ConfigError, match="defines no preprocess_handler"):
        (tmp_path / "empty.py").write_text("x = 1\n")
        read_window(tmp_path, "ep", T0, at(60), preprocessor=tmp_path / "empty.py")
    with pytest.raises(ConfigError, match="no such file"):
        read_window(tmp_path, "ep", T0, at(60), preprocessor=tmp_path / "missing.py")


# -- bad records and empty windows --------------------------------------------------------------


def test_bad_records_are_counted_with_file_and_line(tmp_path: Path):
    good = line("1,2", at(1), event_id="good")
    no_time = json.dumps(
        {"captureData": {"endpointInput": content("1,2")}, "eventMetadata": {"eventId": "x"}}
    )
    bad_time = json.dumps(
        {
            "captureData": {"endpointInput": content("1,2")},
            "eventMetadata": {"eventId": "x", "inferenceTime": "yesterday"},
        }
    )
    no_capture = json.dumps(
        {"eventMetadata": {"eventId": "x", "inferenceTime": "2024-05-01T10:02:00Z"}}
    )
    bad_json = line('{"a": ', at(3), "JSON")
    first = write(
        tmp_path, [good, "{truncated", "", no_time, bad_time, no_capture, bad_json], at(0)
    )
    second = write(tmp_path, [line("3,4", at(30), event_id="good2"), "[1, 2]"], at(30))
    for fast in (True, False):
        w = read_window(tmp_path, "ep", T0, at(60), fast=fast)
        assert w.event_ids.to_pylist() == ["good", "good2"]
        assert w.records_read == 8 and w.bad.count == 6
        assert [(Path(e.source).name, e.line) for e in w.bad.examples] == [
            (first.name, 2),
            (first.name, 4),
            (first.name, 5),
            (first.name, 6),
            (first.name, 7),
            (second.name, 2),
        ]
        reasons = [e.reason for e in w.bad.examples]
        assert reasons[0].startswith("not valid JSON")
        assert reasons[1] == "no eventMetadata.inferenceTime"
        assert reasons[2] == "inferenceTime 'yesterday' is not an ISO-8601 time"
        assert reasons[3] == "bad capture record: expected an object with 'captureData'"
        assert reasons[4].startswith("bad capture record: JSON payload does not parse")
        assert reasons[5] == "expected a JSON object with 'captureData'"
        assert w.bad.examples[0].text == "{truncated"


def test_unreadable_files_and_gzip(tmp_path: Path):
    import gzip

    folder = write(tmp_path, [line("1,2", at(1), event_id="plain")], at(1)).parent
    (folder / "02-00-000-z.jsonl.gz").write_bytes(
        gzip.compress((line("3,4", at(2), event_id="gz") + "\n").encode())
    )
    (folder / "03-00-000-broken.jsonl.gz").write_bytes(b"not gzip")
    w = read_window(tmp_path, "ep", T0, at(60))
    assert w.event_ids.to_pylist() == ["plain", "gz"] and w.fast_files == 2
    assert w.bad.count == 1 and w.bad.examples[0].line is None
    assert w.bad.examples[0].reason.startswith("cannot read the file: ")
    assert w.bad.examples[0].source.endswith("03-00-000-broken.jsonl.gz")


def test_empty_window_reasons(tmp_path: Path):
    missing = read_window(tmp_path, "nope", T0, at(60))
    assert missing.num_rows == 0 and missing.last_record_time is None
    assert missing.empty_reason() == (
        f"no capture data in window [2024-05-01T10:00:00Z, 2024-05-01T11:00:00Z) under "
        f"{tmp_path / 'nope' / 'AllTraffic'}: the folder does not exist; "
        "no record has ever been captured there"
    )
    write(tmp_path, [line("1,2", at(50)), line("{", at(52), "JSON")], at(50))
    w = read_window(tmp_path, "ep", at(-60), T0)
    assert w.empty_reason().endswith(
        ": no hour folder overlaps the window; last record seen at 2024-05-01T10:52:00Z"
    )
    w = read_window(tmp_path, "ep", T0, at(30))
    assert w.empty_reason().endswith(
        ": 2 records read from 1 files in 1 hour folders, none with inferenceTime in the window; "
        "last record seen at 2024-05-01T10:52:00Z"
    )
    w = read_window(tmp_path, "ep", at(51), at(60))
    assert "1 in the window gave no rows: 1 bad records skipped (first: " in w.empty_reason()
    w = read_window(tmp_path, "ep", at(45), at(60), preprocessor=lambda r: [])
    assert w.empty_reason().endswith("2 in the window gave no rows: 2 dropped by the preprocessor")
    assert read_window(tmp_path, "ep", T0, at(60)).empty_reason() == ""
    # records newer than the window, in folders the window does not reach, count as last seen
    write(tmp_path, [line("1,2", at(300))], at(300))
    assert read_window(tmp_path, "ep", T0, at(30)).last_record_time == at(300)
    # the writer's in-progress files (dot-files, .part) are not read
    (tmp_path / "ep" / "AllTraffic" / "2024" / "05" / "01" / "10" / ".x.jsonl.part").write_text(
        line("1,2", at(10)) + "\n"
    )
    assert read_window(tmp_path, "ep", T0, at(30)).num_rows == 0


def test_invalid_arguments_are_config_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="is not after start"):
        read_window(tmp_path, "ep", at(60), T0)
    with pytest.raises(ConfigError, match="content 'inputs'"):
        read_window(tmp_path, "ep", T0, at(60), content="inputs")
    with pytest.raises(ConfigError, match="read the output"):
        read_window(tmp_path, "ep", T0, at(60), inference_attribute="predictions")
    with pytest.raises(ConfigError, match="not a JMESPath expression"):
        read_window(tmp_path, "ep", T0, at(60), content="both", inference_attribute="a[")


# -- real SageMaker files -----------------------------------------------------------------------


def test_real_sagemaker_capture_files(tmp_path: Path, sagemaker_dir: Path):
    names = {
        "data_capture_csv_encoding_from_notebook_output.jsonl": datetime(2022, 4, 18, tzinfo=UTC),
        "data_capture_json_encoding.jsonl": datetime(2019, 11, 24, 7, tzinfo=UTC),
        "data_capture_with_inferenceId_from_notebook_output.jsonl": datetime(
            2021, 5, 18, tzinfo=UTC
        ),
    }
    for name, hour in names.items():
        folder = tmp_path / "churn" / "AllTraffic" / hour.strftime("%Y/%m/%d/%H")
        folder.mkdir(parents=True)
        shutil.copy(sagemaker_dir / name, folder / f"21-48-000-{uuid.uuid4()}.jsonl")

    csv = read_window(
        tmp_path, "churn", datetime(2022, 4, 18), datetime(2022, 4, 18, 1), content="both"
    )
    assert csv.num_rows == 3 and csv.table.num_columns == 69 + 1 + 3
    t = csv.table.to_pydict()
    assert t["_c0"] == ["132", "130", "85"] and t["_c2"] == ["182.9", "263.7", "210.3"]
    assert t["_o0"] == ["0.036397725343704224", "0.3791300654411316", "0.017852725461125374"]
    assert t["__event_id"][0] == "f04a8538-696c-4648-8064-8b680b2e3318"
    assert t["__inference_time"][2] == datetime(2022, 4, 18, 0, 21, 50, tzinfo=UTC)
    assert csv.table.equals(
        read_window(
            tmp_path,
            "churn",
            datetime(2022, 4, 18),
            datetime(2022, 4, 18, 1),
            content="both",
            fast=False,
        ).table
    )

    js = read_window(
        tmp_path, "churn", datetime(2019, 11, 24, 7), datetime(2019, 11, 24, 8), content="both"
    )
    assert js.features().to_pydict() == {"_c0": [1.0, 2.0, 5.0] * 2, "_o0": [3.5, 4.0, 5.5] * 2}
    assert js.records_in_window == 2
    # a window that cuts between the two records (07:30:50 and 07:31:30)
    cut = read_window(
        tmp_path,
        "churn",
        datetime(2019, 11, 24, 7, 31),
        datetime(2019, 11, 24, 8),
        content="both",
        inference_attribute="predictions",
    )
    assert cut.features().to_pydict() == {"_c0": [1.0, 2.0, 5.0], "prediction": [3.5, 4.0, 5.5]}

    ids = read_window(tmp_path, "churn", datetime(2021, 5, 18), datetime(2021, 5, 19))
    assert ids.inference_ids.to_pylist() == ["58", "59"] and ids.bad.count == 0
    assert ids.last_record_time == datetime(2022, 4, 18, 0, 21, 50, tzinfo=UTC)


# -- fast path == per-record path ---------------------------------------------------------------


def _forbid_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(self, raw):
        raise AssertionError("the per-record path was used")

    monkeypatch.setattr(window_module._Reader, "_slow", slow)


def test_fast_path_equals_per_record_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    values = ["1", "-2.5", "3e-4", "", "abc", "NaN", "null", "1.0", "0"]
    for hour in range(3):
        for minute in range(0, 60, 20):
            lines = []
            for i in range(50):
                when = T0 + timedelta(hours=hour, minutes=minute, seconds=i)
                data = ",".join(values[(i * 7 + j * 3 + hour) % len(values)] for j in range(6))
                out = values[(i + minute) % len(values)] or "0"
                lines.append(
                    line(
                        data + ("\n" if i % 5 == 0 else ""),
                        when,
                        out=out,
                        event_id=f"{hour}-{minute}-{i}",
                        inference_id=str(i) if i % 2 else None,
                    )
                )
            write(tmp_path, lines, T0 + timedelta(hours=hour, minutes=minute))
    windows = [(at(10), at(150)), (T0, at(180)), (at(20.5), at(20.5 + 1 / 60))]
    for start, end in windows:
        for kwargs in (
            {},
            {"content": "both"},
            {"content": "output"},
            {"feature_names": list("abcdef")},
        ):
            slow = read_window(tmp_path, "ep", start, end, fast=False, **kwargs)
            with monkeypatch.context() as m:
                _forbid_slow(m)
                fast = read_window(tmp_path, "ep", start, end, **kwargs)
            assert fast.table.schema == slow.table.schema
            assert fast.table.equals(slow.table), (start, end, kwargs)
            assert (fast.records_read, fast.records_in_window, fast.last_record_time) == (
                slow.records_read,
                slow.records_in_window,
                slow.last_record_time,
            )
    assert slow.num_rows == 1  # the last window holds one second
    full = read_window(tmp_path, "ep", T0, at(180))
    assert full.num_rows == 450 and full.table.column("_c3").null_count > 0


def test_files_the_fast_path_declines_give_the_same_table(tmp_path: Path):
    specials = ["1, 2", '"a,b",c', "x\ty", "caf\u00e9,1", "1,2\n3,4", "1,2,3", "1,\u00a02"]
    lines = [line(s, at(i + 1), out="1", event_id=str(i)) for i, s in enumerate(specials)]
    write(tmp_path, [line("0,0", at(0.5), out="1"), *lines], at(0))
    fast = read_window(tmp_path, "ep", T0, at(60), content="both")
    slow = read_window(tmp_path, "ep", T0, at(60), content="both", fast=False)
    assert fast.table.equals(slow.table) and fast.bad.count == slow.bad.count == 1
    t = fast.table.to_pydict()
    assert t["_c0"][1:4] == ["1", "a,b", "x\ty"] and t["_c1"][1] == "2"
    assert t["_c1"][-1] == "2"  # no-break space stripped as Python's str.strip does


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["0", "1.5", "-3", "", "x", "1e9", "nan", "TRUE"]),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(0, 59),
    st.integers(1, 60),
)
def test_fast_equals_slow_property(tmp_path_factory: pytest.TempPathFactory, rows, lo, width):
    root = tmp_path_factory.mktemp("prop")
    lines = [line(",".join(r), at(i * 2 % 60 + 0.25), out=r[0] or "0") for i, r in enumerate(rows)]
    write(root, lines, at(0))
    start, end = at(lo), at(lo + width)
    for content_ in ("input", "both"):
        fast = read_window(root, "ep", start, end, content=content_)
        slow = read_window(root, "ep", start, end, content=content_, fast=False)
        assert fast.table.equals(slow.table)


# -- other roots --------------------------------------------------------------------------------


def test_file_urls_and_fsspec_roots(tmp_path: Path):
    write(tmp_path, [line("1,2", at(1), event_id="local")], at(0))
    url = read_window(f"file://{tmp_path}", "ep", T0, at(60))
    assert url.event_ids.to_pylist() == ["local"]

    fs = fsspec.filesystem("memory")
    base = f"/vigil-test-{uuid.uuid4()}"
    hour = f"{base}/ep/AllTraffic/2024/05/01/10"
    fs.pipe(f"{hour}/01-00-000-a.jsonl", (line("3,4", at(1), event_id="mem") + "\n").encode())
    fs.pipe(
        f"{base}/ep/AllTraffic/2024/05/01/13/00-00-000-b.jsonl",
        (line("5,6", at(180)) + "\n").encode(),
    )
    try:
        w = read_window(f"memory://{base}", "ep", T0, at(60))
        assert w.event_ids.to_pylist() == ["mem"]
        assert w.files == [f"memory://{hour}/01-00-000-a.jsonl"]
        assert w.last_record_time == at(180)
        empty = read_window(f"memory://{base}", "ep", at(60), at(120))
        assert "last record seen at 2024-05-01T13:00:00Z" in empty.empty_reason()
    finally:
        fs.rm(base, recursive=True)
