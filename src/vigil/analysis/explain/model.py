"""What the explanation core calls: a :class:`Model` (a plain ``ndarray -> ndarray`` callable,
plus the native object when there is one, for the exact algorithms) and the selection of the
explained outputs through the config's ``predictor``.

>>> import numpy as np
>>> m = Model(lambda x: np.column_stack([1 - x[:, 0], x[:, 0]]), name="toy")
>>> outputs = ExplainedOutputs.select(m, PredictorConfig(probability=1), 2)
>>> outputs(np.array([[0.25, 0.0]])).tolist(), outputs.columns
([[0.25]], [1])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from vigil.errors import ConfigError, VigilError
from vigil.formats.clarify_explain import PredictorConfig, label_names

__all__ = ["ExplainedOutputs", "Model", "ModelError", "Predict"]

Predict = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]
Output = Literal["predict", "predict_proba", "callable"]


class ModelError(VigilError, RuntimeError):
    """A model that cannot be loaded, or that answers an error or output of the wrong shape;
    the message names the file, entry point or endpoint (and the record where one is known)."""

    code = "model_error"


@dataclass(frozen=True)
class Model:
    """A model as the core sees it.

    ``predict`` maps rows (n, features) to outputs (n, k) or (n,). ``native`` is the loaded
    scikit-learn / XGBoost / LightGBM object when there is one (the exact algorithms read its
    trees or coefficients); ``output`` says which of its methods ``predict`` is
    (``predict_proba``'s columns for a classifier, ``predict`` for a regressor)."""

    predict: Predict
    name: str = "model"
    native: object | None = None
    output: Output = "callable"

    def outputs(self, rows: npt.NDArray[np.float64], *, first_row: int = 0) -> (
        npt.NDArray[np.float64]
    ):
        """The model's answer for ``rows`` as a finite (n, k) float matrix, or a
        :class:`ModelError` naming the model (and the record for a non-finite value)."""
        try:
            raw = self.predict(rows)
        except VigilError:
            raise
        except Exception as exc:  # the model is the user's code: any failure is its error
            raise ModelError(f"{self.name}: the model failed on {len(rows)} row(s): "
                             f"{type(exc).__name__}: {exc}") from exc
        try:
            out = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{self.name}: the model's answer is not numeric: {exc}") from None
        if out.ndim == 1:
            out = out[:, None]
        if out.ndim != 2 or out.shape[0] != len(rows):
            raise ModelError(
                f"{self.name}: the model answered shape {tuple(out.shape)} for {len(rows)} "
                "row(s); expected one row of scores per input row"
            )
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():
            where = int(np.argmax(bad))
            raise ModelError(
                f"{self.name}: the model answered {out[where].tolist()} for input row {where} "
                f"of {len(rows)} (explaining records from {first_row}): expected finite numbers"
            )
        return out


@dataclass(frozen=True)
class ExplainedOutputs:
    """The model outputs that are explained (``columns`` of the model's answer) and their
    ``kernel_shap`` label names, as the ``predictor`` config chooses them: ``probability``
    (else ``label``) picks one column, neither picks every column."""

    model: Model
    columns: list[int]
    labels: list[str]

    @classmethod
    def select(cls, model: Model, predictor: PredictorConfig, width: int) -> ExplainedOutputs:
        """Choose among ``width`` output columns."""
        key, chosen = next(
            ((k, v) for k, v in (("probability", predictor.probability),
                                 ("label", predictor.label)) if v is not None),
            ("", None),
        )
        if chosen is None:
            columns = list(range(width))
            return cls(model, columns, label_names(width, predictor.label_headers))
        if isinstance(chosen, str) and not chosen.isdigit():
            raise ConfigError(
                f"predictor.{key} {chosen!r}: a JMESPath applies to JSON answers only; "
                f"{model.name} answers a matrix, so give a column index"
            )
        index = int(chosen)
        if index >= width:
            raise ConfigError(
                f"predictor.{key} {index}: {model.name} answers {width} column(s) (0..{width - 1})"
            )
        headers = predictor.label_headers
        if headers is not None and len(headers) == width:
            names = [headers[index]]
        else:
            names = label_names(1, headers)
        return cls(model, [index], names)

    def __call__(self, rows: npt.NDArray[np.float64], *, first_row: int = 0) -> (
        npt.NDArray[np.float64]
    ):
        return self.model.outputs(rows, first_row=first_row)[:, self.columns]
