"""Model-quality metrics, suggested constraints and constraint checks (SageMaker's metric set).

Metrics per problem type (keys and order as SageMaker writes them):

``Regression``
    ``mae``, ``mse``, ``rmse``, ``r2`` (scikit-learn's ``mean_absolute_error``,
    ``mean_squared_error``, its square root, ``r2_score``).
``BinaryClassification``
    ``confusion_matrix`` (actual -> predicted, ``"1"`` the positive label), ``recall``,
    ``precision``, ``accuracy``, the three ``*_best_constant_classifier`` forms,
    ``true_positive_rate``, ``true_negative_rate``, ``false_positive_rate``,
    ``false_negative_rate``, ``receiver_operating_characteristic_curve``,
    ``precision_recall_curve``, ``auc`` (ROC AUC), ``f0_5``, ``f1``, ``f2`` and their
    ``*_best_constant_classifier`` forms.
``MulticlassClassification``
    ``confusion_matrix`` (actual -> predicted), ``accuracy``, ``weighted_recall``,
    ``weighted_precision``, ``weighted_f0_5``, ``weighted_f1``, ``weighted_f2`` (per-class
    figures averaged with weights = the class's share of the ground truth, as scikit-learn's
    ``average="weighted"``) and the ``*_best_constant_classifier`` form of each.

Definitions chosen:

* **Best constant classifier.** Binary: the classifier that always predicts the positive
  label. This is what SageMaker reports (its documented sample, 1 positive in 4 rows, has
  ``recall_best_constant_classifier`` 1.0 and ``precision``/``accuracy`` 0.25) and it is the
  constant prediction that maximises recall and every F-beta score (always predicting the
  negative label scores 0 on all of them). Multiclass: the classifier that always predicts the
  majority class of the ground truth (the first in label order on a tie); it maximises accuracy
  and every weighted metric among constant predictors, whose figures are then ``p``,
  ``p``, ``p**2`` and ``p * (1 + b**2) * p / (b**2 + p)`` for the class share ``p``.
  (SageMaker's documented multiclass sample reports the minority class's figures instead.)
* **Zero denominators** (no predicted positives, no actual positives...) give ``0.0``, as
  scikit-learn with ``zero_division=0`` and Spark's MLlib. ``auc`` with a single class in the
  window is undefined: ``nan`` (written ``"NaN"``), never a crash; so are the curves (empty).
* **Scores.** Without scores (``y_score=None``) binary predictions are the labels given and the
  ROC figures use the 0/1 predictions as scores; with scores and no predictions, a row is
  positive when ``score >= probability_threshold``.
* **Standard deviation.** With at least ``MIN_ROWS_FOR_STD`` (200) rows: five subsamples, each
  row kept with probability 0.8 (Bernoulli sampling, as Spark's ``sample(false, 0.8)``), drawn
  from ``numpy.random.default_rng(seed)``; the metric on each; their population standard
  deviation (``numpy.std``, ``ddof=0``). Fewer rows: the string ``"NaN"``, as SageMaker writes.
* **Rows skipped.** A row with a missing label, prediction or (when given) a missing or NaN
  score is skipped and counted per reason in :attr:`ModelQualityResult.skipped`.

Modules: :mod:`~.keys` (metric keys, problem types), :mod:`~.inputs` (columns, missing
values, the positive label), :mod:`~.counts` (ratios, F-beta, weighted figures),
:mod:`~.binary`, :mod:`~.multiclass`, :mod:`~.regression`, :mod:`~.curves` (ROC, PR, AUC),
:mod:`~.best_constant`, :mod:`~.deviation` (subsample standard deviations), :mod:`~.compute`
(:func:`compute_metrics`), :mod:`~.constraints` (suggested constraints), :mod:`~.check`
(constraint checks with SageMaker's wording), :mod:`~.result`, :mod:`~.entropy` (Vigil's
``H(label | prediction)`` of confusion counts and its change from the baseline's).

>>> r = compute_metrics("BinaryClassification", [0, 0, 1, 1], None, [0.1, 0.6, 0.4, 0.9])
>>> r["accuracy"], r["recall"], r["auc"], r["precision_best_constant_classifier"]
(0.5, 0.5, 0.75, 0.5)
>>> r.metrics["confusion_matrix"]
{'0': {'0': 1, '1': 1}, '1': {'0': 1, '1': 1}}
"""

from __future__ import annotations

from vigil.checks.model_quality.check import check_model_quality
from vigil.checks.model_quality.compute import compute_metrics
from vigil.checks.model_quality.constraints import suggest_model_quality_constraints
from vigil.checks.model_quality.deviation import MIN_ROWS_FOR_STD
from vigil.checks.model_quality.inputs import positive_mask
from vigil.checks.model_quality.keys import (
    BINARY_METRICS,
    ERROR_METRICS,
    MULTICLASS_METRICS,
    REGRESSION_METRICS,
    normalize_problem_type,
)
from vigil.checks.model_quality.result import ModelQualityResult

__all__ = [
    "BINARY_METRICS",
    "ERROR_METRICS",
    "MIN_ROWS_FOR_STD",
    "MULTICLASS_METRICS",
    "REGRESSION_METRICS",
    "ModelQualityResult",
    "check_model_quality",
    "compute_metrics",
    "normalize_problem_type",
    "positive_mask",
    "suggest_model_quality_constraints",
]
