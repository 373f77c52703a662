"""Input transformers (EventBridge's InputPathsMap/InputTemplate, InputPath, Input) and their
wiring into rules: vigil.yaml, the API, export, and a real dispatch to a target."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from live_server import Hook, LiveServer
from vigil.actions import dispatch
from vigil.actions.spec import Rule, Workflow
from vigil.app.config import dump_config, parse_config
from vigil.events.transform import InputTransformerError, compile_transformer
from vigil.store.db import Database
from vigil.store.models import Event
from vigil.store.settings import Settings

BUILD = {
    "version": "0", "id": "e-1", "detail-type": "CodeBuild Build State Change",
    "source": "aws.codebuild", "account": "123456789012", "time": "2017-09-01T16:14:28Z",
    "region": "us-west-2", "resources": ["arn:aws:codebuild:us-west-2:123456789012:build/p:1"],
    "detail": {"build-status": "FAILED", "project-name": "my-project", "build-id": "b-1",
               "additional-information": {"phases": [{"phase-type": "SUBMITTED"},
                                                      {"phase-type": "BUILD",
                                                       "phase-status": "FAILED"}]}},
}  # fmt: skip


def test_the_documented_text_example() -> None:
    # platform.md §1.7 / EventBridge "Input transformation": the CodeBuild example
    t = compile_transformer(
        {"build-id": "$.detail.build-id", "build-status": "$.detail.build-status"},
        "Build '<build-id>' has reached the build status of '<build-status>'.",
    )
    assert t.render(BUILD, rule_name="r") == (
        "Build 'b-1' has reached the build status of 'FAILED'."
    )


def test_json_template_values_paths_and_reserved_variables() -> None:
    t = compile_transformer(
        {"project": "$.detail.project-name", "phases": "$.detail.additional-information.phases",
         "second": "$.detail.additional-information.phases[1].phase-type",
         "types": "$.detail.additional-information.phases[*].phase-type",
         "region": "$['region']", "gone": "$.detail.nothing.here"},
        '{"p": "<project>", "phases": <phases>, "second": <second>, "types": <types>, '
        '"text": "<project> in <region>: <second> <gone>", "gone": <gone>, '
        '"rule": "<aws.events.rule-name>", "arn": "<aws.events.rule-arn>", '
        '"at": "<aws.events.event.ingestion-time>", "event": <aws.events.event>, '
        '"whole": <aws.events.event.json>}',
    )
    at = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    out = t.render(BUILD, rule_name="builds", ingestion_time=at)
    phases = BUILD["detail"]["additional-information"]["phases"]
    expected = {
        "p": "my-project", "phases": phases, "second": "BUILD", "types": ["SUBMITTED", "BUILD"],
        "text": "my-project in us-west-2: BUILD ", "gone": None, "rule": "builds",
        "arn": "arn:vigil:events:::rule/builds", "at": "2024-05-01T12:00:00Z",
        "event": {k: v for k, v in BUILD.items() if k != "detail"}, "whole": BUILD,
    }  # fmt: skip
    assert out == expected


def test_values_inside_strings_are_escaped_and_objects_become_json_text() -> None:
    t = compile_transformer({"s": "$.s", "o": "$.o"}, '{"text": "<s> / <o>"}')
    out = t.render({"s": 'say "hi"\n', "o": {"k": [1, "x"]}}, rule_name="r")
    assert out == {"text": 'say "hi"\n / ' + json.dumps({"k": [1, "x"]})}
    quoted = compile_transformer({"s": "$.s"}, '"<s> is here"')  # one JSON string
    assert quoted.render({"s": "x"}, rule_name="r") == "x is here"
    assert compile_transformer({"n": "$.n"}, "n=<n> <b>").render({}, rule_name="r") == "n= <b>"


@pytest.mark.parametrize(
    ("paths", "template", "message"),
    [
        ({"x": "detail.a"}, "<x>", "input_transformer.input_paths_map.x: expected a JSONPath"),
        ({"x": "$.a[?(@.b)]"}, "<x>", "input_paths_map.x: JSONPath '$.a[?(@.b)]': cannot read"),
        ({"bad name": "$.a"}, "<x>", "input_paths_map.bad name: a variable name is"),
        ({"aws.events.rule-name": "$.a"}, "<x>", "are reserved"),
        ({f"v{i}": "$.a" for i in range(101)}, "<v1>", "101 variables (at most 100)"),
        ({"x": "$.a"}, "", "input_template: expected a non-empty string"),
        ({"x": "$.a"}, '{"a": <y>}', "input_template: <y> names no variable (variables: x)"),
        ({"x": "$.a"}, '{"a": <x>,}', "input_template: not a valid JSON template"),
        ({}, "text <aws.events.event.json>", "can only be a JSON value"),
    ],
)
def test_bad_transformers_name_the_field(paths: Any, template: str, message: str) -> None:
    with pytest.raises(InputTransformerError) as caught:
        compile_transformer(paths, template)
    assert message in str(caught.value)


def _rule(**kw: Any) -> dict[str, Any]:
    return {"name": "on-build", "pattern": {"source": ["aws.codebuild"],
                                            "detail": {"build-status": ["FAILED"]}}, **kw}


def test_rules_accept_camel_case_and_round_trip_through_vigil_yaml() -> None:
    yaml_text = """
version: 1
rules:
  - name: on-build
    pattern: {source: [aws.codebuild], detail: {build-status: [FAILED]}}
    targets:
      - url: http://example.test/a
        InputTransformer:
          InputPathsMap: {id: $.detail.build-id}
          InputTemplate: '{"build": "<id>"}'
      - url: http://example.test/b
        InputPath: $.detail
      - url: http://example.test/c
        Input: {"constant": true}
      - url: http://example.test/d
"""
    config = parse_config(yaml_text)
    rule = config.rules[0]
    assert [rule.input_for(t, BUILD) for t in rule.targets] == [
        {"build": "b-1"}, BUILD["detail"], {"constant": True}, BUILD,
    ]
    dumped = dump_config(config)
    assert "input_transformer:" in dumped and "input_paths_map:" in dumped
    assert "input_transformer: null" not in dumped
    assert parse_config(dumped) == config
    plain = Rule.model_validate(_rule(targets=[{"url": "http://x"}])).model_dump(mode="json")
    assert plain["targets"] == [{"type": "http", "url": "http://x", "method": "POST",
                                 "headers": {}, "timeout_seconds": 30.0}]  # nothing added


def test_rule_level_transformer_and_bad_settings() -> None:
    rule = Rule.model_validate(_rule(
        input_transformer={"input_paths_map": {"p": "$.detail.project-name"},
                           "input_template": "<p> failed"},
        targets=[{"url": "http://x"}, {"url": "http://y", "input_path": "$.id"}]))
    assert [rule.input_for(t, BUILD) for t in rule.targets] == ["my-project failed", "e-1"]
    with pytest.raises(ValidationError, match="set one of input_transformer, input_path"):
        Rule.model_validate(_rule(targets=[{"url": "http://x", "input_path": "$.a",
                                            "InputTransformer": {"InputTemplate": "x"}}]))
    with pytest.raises(ValidationError, match=r"input_paths_map\.x: expected a JSONPath"):
        Rule.model_validate(_rule(targets=[{"url": "http://x", "input_transformer": {
            "input_paths_map": {"x": "nope"}, "input_template": "<x>"}}]))
    with pytest.raises(ValidationError, match="belong to rule targets"):
        Workflow.model_validate({"name": "w", "steps": [
            {"name": "s", "target": {"url": "http://x", "input_path": "$.a"}}]})


def test_dispatch_hands_the_transformed_input_to_the_target() -> None:
    db = Database("sqlite://")
    db.create_all()
    rule = Rule.model_validate(_rule(targets=[{"entry_point": "json:dumps", "InputTransformer": {
        "InputPathsMap": {"id": "$.detail.build-id",
                          "phases": "$.detail.additional-information.phases[*].phase-type"},
        "InputTemplate": '{"build": "<id>", "phases": <phases>, "rule": "<aws.events.rule-name>"}',
    }}]))
    runs = dispatch(db, BUILD, [rule])
    assert [(r.status, json.loads(r.output)) for r in runs] == [
        ("Succeeded", {"build": "b-1", "phases": ["SUBMITTED", "BUILD"], "rule": "on-build"})
    ]
    assert dispatch(db, {**BUILD, "detail": {"build-status": "SUCCEEDED"}}, [rule]) == []


@pytest.fixture
def hook() -> Iterator[str]:
    Hook.received = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_address[1]}/hook"
    http.shutdown()


def test_live_server_rule_from_the_api_posts_the_transformed_input(
    tmp_path: Path, hook: str
) -> None:
    """A real server: a rule created over the API with EventBridge's CamelCase keys; a stored
    event runs it on the scheduler's tick; the webhook receives the transformed input."""
    settings = Settings(data_dir=tmp_path / "data", scheduler_interval=0.2)
    srv = LiveServer(settings, {"writer": "write"}, start_scheduler=True)
    try:
        body = {"name": "on-drift", "pattern": {"kind": ["concept_drift"]}, "targets": [{
            "type": "http", "url": hook, "InputTransformer": {
                "InputPathsMap": {"ep": "$.endpoint_name", "p": "$.detail.p_value"},
                "InputTemplate": '{"text": "drift on <ep>", "p": <p>}'}}]}
        with srv.client("writer") as c:
            created = c.post("/rules", json=body)
            assert created.status_code == 201, created.text
            stored = c.get("/rules/on-drift").json()
        assert stored["targets"][0]["input_transformer"] == {
            "input_paths_map": {"ep": "$.endpoint_name", "p": "$.detail.p_value"},
            "input_template": '{"text": "drift on <ep>", "p": <p>}',
        }
        with srv.db.session() as s:
            now = datetime.now(timezone.utc)
            s.add(Event(kind="concept_drift", endpoint_name="churn", time=now,
                        detail={"p_value": 0.003}))
        deadline = time.monotonic() + 15
        while not Hook.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [b for _, b in Hook.received] == [{"text": "drift on churn", "p": 0.003}]
    finally:
        srv.stop()
