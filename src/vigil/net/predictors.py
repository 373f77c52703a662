"""MODEL, as ``vigil explain`` and :func:`vigil.explain` take it, turned into the core's
:class:`~vigil.analysis.explain.Model`: a scikit-learn / XGBoost / LightGBM model file (joblib
or pickle), a Python entry point ``module:callable``, or the HTTP(S) URL of a serving endpoint.

- A **file** is loaded with joblib (which reads plain pickles too). Loading a pickle runs
  code: the CLI loads any local path its user gives; with a code ``policy`` (the server) the
  file must lie in the operator's ``VIGIL_CODE_DIR``.
- An **entry point** is imported as the action engine imports one (with a ``policy``: only
  from ``VIGIL_ALLOW_PYTHON`` modules or ``VIGIL_CODE_DIR``). An object with
  ``predict_proba``/``predict`` is used as a model; any other callable is called with the
  feature matrix and must return one row of scores per record.
- An **endpoint** is sent the records in batches (``predictor.content_type``: CSV rows, JSON
  Lines ``{"features": [...]}`` or ``content_template`` with ``$features``, or a JSON array of
  rows) through the outbound policy's client (``VIGIL_OUTBOUND_ALLOW``); its answer is read
  as Clarify reads an endpoint's: CSV lines, or JSON (lines, a list, or
  ``{"predictions": [...]}``) where ``predictor.probability`` / ``label`` may be JMESPath
  expressions.

A classifier's output is ``predict_proba``'s columns (``"probability": 1`` is the positive
class of a binary classifier), a regressor's ``predict``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from vigil.analysis.explain.model import Model, ModelError
from vigil.formats.clarify_explain import PredictorConfig
from vigil.store.code_policy import CodeNotAllowedError, CodePolicy, load_entry_point

__all__ = ["HttpPredictor", "LoadedModel", "load_model", "model_from_object"]

Array = npt.NDArray[np.float64]
ENTRY_POINT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
BATCH_ROWS = 1000


@dataclass(frozen=True)
class LoadedModel:
    """The core's model, and the ``predictor`` config left for the core to apply (a JMESPath
    ``probability`` is applied by the endpoint reader, so the core gets every column)."""

    model: Model
    predictor: PredictorConfig


def _quiet(method: Any) -> Any:
    """``method`` without the feature-name warnings a model fitted on a DataFrame gives for a
    matrix."""

    def call(rows: Array) -> Any:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*feature names.*")
            return method(rows)

    return call


def model_from_object(obj: Any, name: str) -> Model:
    """A fitted model object (``predict_proba`` for classifiers, else ``predict``) or a plain
    callable as a :class:`Model`."""
    if type(obj).__name__ == "Booster" and type(obj).__module__.startswith("xgboost"):
        raise ModelError(
            f"{name}: an xgboost Booster takes DMatrix input; save the scikit-learn wrapper "
            "(XGBClassifier / XGBRegressor) instead"
        )
    if callable(getattr(obj, "predict_proba", None)):
        return Model(_quiet(obj.predict_proba), name=name, native=obj, output="predict_proba")
    if callable(getattr(obj, "predict", None)):
        return Model(_quiet(obj.predict), name=name, native=obj, output="predict")
    if callable(obj):
        return Model(obj, name=name)
    raise ModelError(f"{name}: {type(obj).__name__} has no predict_proba or predict and is not "
                     "callable")


def _load_file(path: Path, policy: CodePolicy | None) -> Model:
    if policy is not None:
        root = os.path.realpath(policy.code_dir) if policy.code_dir else None
        real = os.path.realpath(path)
        if root is None or not (real == root or real.startswith(root.rstrip(os.sep) + os.sep)):
            raise CodeNotAllowedError(
                f"model {str(path)!r}: loading a model file runs its code; only files in the "
                "operator's VIGIL_CODE_DIR are loaded on this server"
            )
    if not path.is_file():
        raise ModelError(f"model {str(path)!r}: no such file (expected a joblib or pickle "
                         "model file, a module:callable entry point, or an http(s):// URL)")
    # lazy: joblib (and the model's own packages) load only when a model file is given
    import joblib

    try:
        obj = joblib.load(path)
    except Exception as exc:  # a model file is arbitrary pickled code: any failure is its error
        raise ModelError(
            f"model {str(path)!r}: cannot be loaded with joblib/pickle: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    return model_from_object(obj, str(path))


def _load_entry_point(spec: str, policy: CodePolicy | None) -> Model:
    try:
        obj = load_entry_point(spec, policy)
    except (ImportError, AttributeError) as exc:
        raise ModelError(f"model entry point {spec!r}: cannot be imported: {exc}") from None
    return model_from_object(obj, spec)


def load_model(
    spec: str | os.PathLike[str],
    predictor: PredictorConfig | None = None,
    *,
    policy: CodePolicy | None = None,
    timeout: float = 60.0,
) -> LoadedModel:
    """The model ``spec`` names (a file, ``module:callable`` or an http(s) URL)."""
    predictor = predictor or PredictorConfig()
    text = os.fspath(spec)
    if text.startswith(("http://", "https://")):
        http = HttpPredictor(text, predictor, timeout=timeout)
        left = replace(predictor, probability=http.core_index(predictor.probability),
                       label=http.core_index(predictor.label))
        return LoadedModel(Model(http, name=text), left)
    if ENTRY_POINT.match(text) and not Path(text).exists():
        return LoadedModel(_load_entry_point(text, policy), predictor)
    return LoadedModel(_load_file(Path(text), policy), predictor)


class HttpPredictor:
    """Calls a serving endpoint over HTTP in batches of ``batch_rows`` records."""

    def __init__(
        self, url: str, predictor: PredictorConfig, *, timeout: float = 60.0,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self.url = url
        self.predictor = predictor
        self.timeout = timeout
        self.batch_rows = batch_rows
        self.sent = 0
        self._client: Any = None

    @staticmethod
    def core_index(index: int | str | None) -> int | str | None:
        """What the core still selects: a JMESPath is applied here, so it selects nothing."""
        return None if isinstance(index, str) and not index.isdigit() else index

    def _body(self, rows: Array) -> bytes:
        kind = self.predictor.content_type
        cells = [[None if np.isnan(v) else float(v) for v in row] for row in rows.tolist()]
        if kind == "text/csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            for row in cells:
                writer.writerow(["" if v is None else repr(v) for v in row])
            return buffer.getvalue().encode()
        template = self.predictor.content_template
        if kind == "application/jsonlines":
            lines = [
                template.replace("$features", orjson.dumps(r).decode()) if template
                else orjson.dumps({"features": r}).decode()
                for r in cells
            ]
            return ("\n".join(lines) + "\n").encode()
        whole = orjson.dumps(cells).decode()
        return (template.replace("$features", whole) if template else whole).encode()

    def _records(self, text: str, media: str, first: int) -> list[Any]:
        if "json" not in media:
            return [
                [float(c) for c in row] for row in csv.reader(io.StringIO(text)) if row
            ]
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError:
            try:
                return [orjson.loads(line) for line in text.splitlines() if line.strip()]
            except orjson.JSONDecodeError as exc:
                raise ModelError(f"{self.url}: answer for input rows {first}.. is not JSON: "
                                 f"{exc}") from None
        if isinstance(doc, dict) and isinstance(doc.get("predictions"), list):
            return list(doc["predictions"])
        return doc if isinstance(doc, list) else [doc]

    def _pick(self, record: Any) -> list[float]:
        # lazy: JMESPath only for JSON answers with an expression
        import jmespath

        key = next((k for k in (self.predictor.probability, self.predictor.label)
                    if isinstance(k, str) and not k.isdigit()), None)
        value = jmespath.search(key, record) if key is not None else record
        if isinstance(value, dict):
            raise ModelError(f"{self.url}: a record of the answer is an object "
                             f"({list(value)[:5]}); set predictor.probability to a JMESPath")
        values = value if isinstance(value, list) else [value]
        return [float(v) for v in values]

    def _post(self, rows: Array, first: int) -> list[list[float]]:
        # lazy: httpx and the outbound policy's client only for endpoint models
        import httpx

        from vigil.net.http import guarded_client

        if self._client is None:
            self._client = guarded_client(timeout=self.timeout)
        accept = self.predictor.accept_type or self.predictor.content_type
        where = f"{self.url}: request for input rows {first}..{first + len(rows) - 1}"
        try:
            answer = self._client.post(
                self.url, content=self._body(rows),
                headers={"Content-Type": self.predictor.content_type, "Accept": accept},
            )
        except httpx.HTTPError as exc:
            raise ModelError(f"{where}: {type(exc).__name__}: {exc}") from None
        if answer.status_code >= 400:
            first_line = (answer.text.strip().splitlines() or [""])[0][:200]
            raise ModelError(f"{where}: the endpoint answered HTTP {answer.status_code}"
                             f"{': ' + first_line if first_line else ''}")
        media = answer.headers.get("content-type", accept)
        try:
            records = [self._pick(r) for r in self._records(answer.text, media, first)]
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{where}: the answer is not numeric scores: {exc}") from None
        if len(records) != len(rows) or len({len(r) for r in records}) > 1:
            raise ModelError(f"{where}: the endpoint answered {len(records)} record(s) of "
                             f"{sorted({len(r) for r in records})} value(s) for {len(rows)} "
                             "row(s); expected one row of scores per record")
        return records

    def __call__(self, rows: Array) -> Array:
        out: list[list[float]] = []
        for start in range(0, len(rows), self.batch_rows):
            out.extend(self._post(rows[start : start + self.batch_rows], self.sent + start))
        self.sent += len(rows)
        return np.asarray(out, dtype=np.float64)
