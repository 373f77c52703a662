"""Live: a real ``vigil server`` with ``rate(1 minute)`` ModelBias and ModelExplainability
schedules, captures and labels sent over HTTP with the real clock, a loopback webhook.

The model served is a logistic regression saved in the operator's code directory; the
baselines are ``vigil bias`` / ``vigil explain`` on its training data. The traffic is biased
against group 1 (its scores lowered) and shifted (income nearly constant, age spread wide), so
the first window with data ends CompletedWithViolations for both schedules, their default
alarms page within 15 s of the executions, and one captured inference's explanation comes back
from ``GET /endpoints/loans/explanations/{id}``."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

from live_server import VIGIL, Hook, free_port, start_vigil_server
from test_runtime import cli

HEADERS = ["group", "income", "age"]


def _people(rng: np.random.Generator, n: int, shifted: bool) -> np.ndarray:
    group = rng.integers(0, 2, n)
    income = rng.normal(50, 1 if shifted else 15, n).round(1)
    age = rng.integers(0, 120, n) if shifted else rng.integers(20, 70, n)
    return np.column_stack([group, income, age]).astype(float)


def _truth(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    p = 1 / (1 + np.exp(-((x[:, 1] - 50) / 10 + (x[:, 2] - 45) / 30)))
    return (rng.uniform(size=len(x)) < p).astype(int)


def _baselines(tmp: Path, code: Path) -> tuple[Path, Path, LogisticRegression]:
    rng = np.random.default_rng(0)
    x = _people(rng, 2000, False)
    y = _truth(rng, x)
    model = LogisticRegression(max_iter=1000).fit(x, y)
    joblib.dump(model, code / "model.joblib")
    score = model.predict_proba(x)[:, 1]
    train = tmp / "train.csv"
    train.write_text("".join(
        f"{int(a)},{b},{int(c)},{t},{s:.6f}\n" for (a, b, c), t, s in zip(x, y, score)))
    bias_cfg = tmp / "bias.json"
    bias_cfg.write_text(json.dumps({
        "headers": [*HEADERS, "approved", "score"], "label": "approved",
        "label_values_or_threshold": [1],
        "facet": [{"name_or_index": "group", "value_or_threshold": [1]}],
        "predictor": {"probability": "score"}}))
    features = tmp / "features.csv"
    features.write_text("".join(f"{int(a)},{b},{int(c)}\n" for a, b, c in x[:300]))
    shap_cfg = tmp / "shap.json"
    shap_cfg.write_text(json.dumps({
        "headers": HEADERS, "predictor": {"probability": 1},
        "methods": {"shap": {"baseline": [[0.5, 50.0, 45.0]]}}}))
    for args in (["bias", str(train), "--config", str(bias_cfg), "--output", str(tmp / "b")],
                 ["explain", str(features), "--config", str(shap_cfg), "--model",
                  str(code / "model.joblib"), "--output", str(tmp / "s")]):
        done = subprocess.run([*VIGIL, *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    return tmp / "b", tmp / "s", model


def test_bias_and_attribution_drift_page_live(tmp_path: Path):
    code = tmp_path / "code"
    code.mkdir()
    bias_base, shap_base, model = _baselines(tmp_path, code)
    data = tmp_path / "data"
    token = cli(data, "token", "create", "--name", "live", "--scopes", "admin")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip().splitlines()[-1]
    Hook.received = []
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = free_port()
    env = {**os.environ, "VIGIL_OUTBOUND_ALLOW": "127.0.0.1/32", "VIGIL_CODE_DIR": str(code),
           "VIGIL_ALLOWED_ROOTS": str(tmp_path)}
    server = start_vigil_server(data, port, env, stderr=subprocess.PIPE)
    stop = threading.Event()
    try:
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1",
                           headers={"Authorization": f"Bearer {secret}"}, timeout=30)
        assert api.post("/endpoints", json={"name": "loans"}).status_code == 201
        for name, path in (("fair", bias_base / "analysis.json"), ("shap", shap_base)):
            r = api.post("/baselines", json={"name": name, "endpoint": "loans",
                                             "path": str(path)})
            assert r.status_code == 201, r.text
        assert api.post("/topics", json={"name": "team"}).status_code == 201
        hook = {"url": f"http://127.0.0.1:{receiver.server_port}/hook"}
        r = api.post("/topics/team/subscriptions", json={"protocol": "webhook", "config": hook})
        assert r.status_code == 201, r.text
        actions = {"default_alarm_actions": ["team"]}
        r = api.post("/schedules", json={
            "name": "bias", "endpoint": "loans", "baseline": "fair",
            "expression": "rate(1 minute)", "monitor_type": "ModelBias",
            "config": {**actions, "bootstrap": {"n_resamples": 300},
                       "analysis_config": {
                           "label": "approved", "label_values_or_threshold": [1],
                           "facet": [{"name_or_index": "group", "value_or_threshold": [1]}],
                           "headers": HEADERS}}})
        assert r.status_code == 201, r.text
        r = api.post("/schedules", json={
            "name": "shap", "endpoint": "loans", "baseline": "shap",
            "expression": "rate(1 minute)", "monitor_type": "ModelExplainability",
            "config": {**actions, "model": "model.joblib", "analysis_config": {
                "headers": HEADERS, "predictor": {"probability": 1},
                "methods": {"shap": {"baseline": [[0.5, 50.0, 45.0]],
                                     "save_local_shap_values": True}}}}})
        assert r.status_code == 201, r.text
        sent: list[str] = []
        rng = np.random.default_rng(1)

        def send() -> None:
            while not stop.is_set():
                x = _people(rng, 20, True)
                score = model.predict_proba(x)[:, 1]
                score = np.where(x[:, 0] == 1, np.clip(score - 0.3, 0, 1), score)
                ids = [f"r{len(sent) + k}" for k in range(len(x))]
                api.post("/endpoints/loans/captures", json={"records": [
                    {"input": f"{int(a)},{b},{int(c)}", "output": f"{s:.6f}",
                     "content_type": "text/csv", "inference_id": i}
                    for (a, b, c), s, i in zip(x, score, ids)]})
                api.post("/ground-truth", json={"records": [
                    {"event_id": i, "label": int(t)} for i, t in zip(ids, _truth(rng, x))]})
                sent.extend(ids)
                stop.wait(1.0)

        threading.Thread(target=send, daemon=True).start()
        started = time.time()
        alarms: dict[str, float] = {}
        while time.time() < started + 150 and len(alarms) < 2:
            for at, body in list(Hook.received):
                payload = body.get("payload", {})
                if payload.get("state") == "ALARM" and payload.get("alarm") in (
                        "bias-bias", "shap-attribution"):
                    alarms.setdefault(payload["alarm"], at)
            time.sleep(0.2)
        assert set(alarms) == {"bias-bias", "shap-attribution"}, Hook.received
        for schedule, alarm in (("bias", "bias-bias"), ("shap", "shap-attribution")):
            runs = api.get("/executions", params={"schedule": schedule}).json()["executions"]
            done = [e for e in runs if e["status"] == "CompletedWithViolations"]
            assert done, runs
            ended = min(datetime.fromisoformat(e["ended_at"]).timestamp() for e in done)
            assert alarms[alarm] - ended <= 15, (alarm, alarms[alarm] - ended)
            assert "report.html" in done[0]["outputs"]
        runs = api.get("/executions", params={"schedule": "shap"}).json()["executions"]
        window_start = min(e["window_start"] for e in runs
                           if e["status"] == "CompletedWithViolations")
        found = None
        for record_id in sent:
            r = api.get(f"/endpoints/loans/explanations/{record_id}")
            if r.status_code == 200:
                found = r.json()
                break
        assert found is not None, "no sent inference was explained"
        assert found["window_start"] >= window_start[:19]
        x = np.array([[found["features"][h] for h in HEADERS]])
        (label,) = found["explanations"].values()
        total = label["expected_value"] + sum(label["shap_values"].values())
        assert abs(total - model.predict_proba(x)[0, 1]) < 1e-9
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        receiver.shutdown()
