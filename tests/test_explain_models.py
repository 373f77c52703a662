"""Models as ``vigil explain`` takes them: scikit-learn, XGBoost and LightGBM files (joblib
and pickle), a Python entry point and an HTTP endpoint (a real server on loopback), each
checked against brute-force Shapley values; and the errors a bad model gives."""

from __future__ import annotations

import csv
import io
import json
import pickle
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier

from explain_oracle import brute_shapley
from vigil.analysis.explain import ModelError, explain_matrix
from vigil.formats.clarify_explain import PredictorConfig, ShapConfig
from vigil.net.errors import OutboundRefusedError
from vigil.net.predictors import load_model
from vigil.store.code_policy import CodeNotAllowedError, CodePolicy

pytest.importorskip("shap")
xgboost = pytest.importorskip("xgboost")
lightgbm = pytest.importorskip("lightgbm")

M = 4
NAMES = [f"f{i}" for i in range(M)]
WEIGHTS = np.array([0.8, -0.5, 0.3, 0.0])


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return make_classification(n_samples=200, n_features=M, n_informative=3, n_redundant=0,
                               random_state=5)


def _explain(spec, records, base, predictor, **shap):
    loaded = load_model(spec, predictor)
    return explain_matrix(records, NAMES, loaded.model, ShapConfig(baseline=base.tolist(), **shap),
                          loaded.predictor)


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_boosted_model_files(tmp_path, data, library) -> None:
    x, y = data
    cls = (xgboost.XGBClassifier(n_estimators=10, max_depth=3) if library == "xgboost"
           else lightgbm.LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1))
    cls.fit(x, y)
    path = tmp_path / "model.joblib"
    joblib.dump(cls, path)
    records = x[40:46]
    prob = lambda r: cls.predict_proba(r)[:, 1]  # noqa: E731
    margin = _explain(path, records, x[:1], PredictorConfig(probability=1), use_logit=True)
    assert margin.algorithm == "tree_shap"
    want, expected = brute_shapley(prob, records, x[:1], use_logit=True)
    np.testing.assert_allclose(margin.labels[0].local, want, atol=1e-4)  # float32 trees
    assert margin.labels[0].expected_value == pytest.approx(expected, abs=1e-4)
    p = _explain(path, records, x[:3], PredictorConfig(probability=1))
    assert p.algorithm == "kernel_shap" and p.exact
    want, _ = brute_shapley(prob, records, x[:3])
    np.testing.assert_allclose(p.labels[0].local, want, atol=1e-6)  # float32 probabilities


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_boosted_regressors_take_tree_shap(tmp_path, library) -> None:
    x, y = make_regression(n_samples=150, n_features=M, random_state=2)
    reg = (xgboost.XGBRegressor(n_estimators=10, max_depth=3) if library == "xgboost"
           else lightgbm.LGBMRegressor(n_estimators=10, num_leaves=7, verbose=-1))
    reg.fit(x, y)
    path = tmp_path / "reg.pkl"
    path.write_bytes(pickle.dumps(reg))
    result = _explain(path, x[:5], x[100:102], PredictorConfig())
    assert result.algorithm == "tree_shap"
    want, _ = brute_shapley(reg.predict, x[:5], x[100:102])
    np.testing.assert_allclose(result.labels[0].local, want, rtol=1e-4, atol=1e-3)


def test_sklearn_pickle_and_entry_point(tmp_path, data, monkeypatch) -> None:
    x, y = data
    rf = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(x, y)
    path = tmp_path / "rf.pkl"
    path.write_bytes(pickle.dumps(rf))
    records, base = x[:5], x[50:52]
    from_file = _explain(path, records, base, PredictorConfig(probability=1))
    assert from_file.algorithm == "tree_shap"
    want, _ = brute_shapley(lambda r: rf.predict_proba(r)[:, 1], records, base)
    np.testing.assert_allclose(from_file.labels[0].local, want, atol=1e-6)
    (tmp_path / "scoring_mod.py").write_text(
        "import numpy as np\n"
        f"W = np.array({WEIGHTS.tolist()})\n"
        "def score(rows):\n"
        "    return 1 / (1 + np.exp(-(rows @ W)))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = _explain("scoring_mod:score", records, base, PredictorConfig())
    want, _ = brute_shapley(lambda r: 1 / (1 + np.exp(-(r @ WEIGHTS))), records, base)
    np.testing.assert_allclose(entry.labels[0].local, want, atol=1e-9)


def test_model_file_errors(tmp_path) -> None:
    bad = tmp_path / "broken.joblib"
    bad.write_bytes(b"not a pickle at all")
    with pytest.raises(ModelError, match=r"broken.joblib.*cannot be loaded"):
        load_model(bad)
    with pytest.raises(ModelError, match="no such file"):
        load_model(tmp_path / "missing.joblib")
    with pytest.raises(ModelError, match="cannot be imported"):
        load_model("no_such_module_xyz:fn")
    joblib.dump({"not": "a model"}, tmp_path / "dict.joblib")
    with pytest.raises(ModelError, match="no predict_proba or predict"):
        load_model(tmp_path / "dict.joblib")
    with pytest.raises(CodeNotAllowedError, match="VIGIL_CODE_DIR"):
        load_model(bad, policy=CodePolicy())
    allowed = CodePolicy(code_dir=str(tmp_path / "code"))
    with pytest.raises(CodeNotAllowedError):
        load_model(bad, policy=allowed)


class _Scorer(BaseHTTPRequestHandler):
    """A serving endpoint: CSV rows in; ``label,score`` CSV lines or JSON out; /fail is 500,
    /short answers one record too few."""

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        rows = np.array([[float(c) for c in r] for r in csv.reader(io.StringIO(body)) if r])
        score = 1 / (1 + np.exp(-(rows @ WEIGHTS)))
        if self.path == "/fail":
            self.send_response(500)
            answer, kind = b"model exploded\n", "text/plain"
        elif self.path == "/json":
            self.send_response(200)
            answer = json.dumps({"predictions": [{"score": float(s)} for s in score]}).encode()
            kind = "application/json"
        else:
            self.send_response(200)
            lines = [f"{int(s > 0.5)},{float(s)!r}" for s in score]
            if self.path == "/short":
                lines = lines[:-1]
            answer, kind = ("\n".join(lines) + "\n").encode(), "text/csv"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def endpoint(monkeypatch) -> Iterator[str]:
    monkeypatch.setenv("VIGIL_OUTBOUND_ALLOW", "127.0.0.1/32")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scorer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_endpoint(endpoint, data, monkeypatch) -> None:
    x, _ = data
    records, base = x[:4], x[60:62]
    want, _ = brute_shapley(lambda r: 1 / (1 + np.exp(-(r @ WEIGHTS))), records, base)
    by_csv = _explain(endpoint + "/invocations", records, base, PredictorConfig(probability=1))
    np.testing.assert_allclose(by_csv.labels[0].local, want, atol=1e-9)
    by_json = _explain(endpoint + "/json", records, base,
                       PredictorConfig(probability="score", label_headers=["churn"]))
    np.testing.assert_allclose(by_json.labels[0].local, want, atol=1e-9)
    assert by_json.labels[0].label == "churn"
    with pytest.raises(ModelError, match="HTTP 500: model exploded"):
        _explain(endpoint + "/fail", records, base, PredictorConfig(probability=1))
    with pytest.raises(ModelError, match=r"answered .* record"):
        _explain(endpoint + "/short", records, base, PredictorConfig(probability=1))
    monkeypatch.setenv("VIGIL_OUTBOUND_ALLOW", "")
    with pytest.raises(OutboundRefusedError):
        _explain(endpoint + "/invocations", records, base, PredictorConfig(probability=1))


def test_unreachable_endpoint_is_a_model_error(data) -> None:
    x, _ = data
    with pytest.raises(ModelError, match=r"127.0.0.1:9"):
        _explain("http://127.0.0.1:9/x", x[:2], x[:1], PredictorConfig())


def test_policy_allows_files_in_the_code_dir(tmp_path, data) -> None:
    x, y = data
    code = tmp_path / "code"
    code.mkdir()
    rf = RandomForestClassifier(n_estimators=3, max_depth=2, random_state=0).fit(x, y)
    joblib.dump(rf, code / "rf.joblib")
    loaded = load_model(code / "rf.joblib", policy=CodePolicy(code_dir=str(code)))
    assert loaded.model.output == "predict_proba"
    assert isinstance(Path(loaded.model.name), Path)
