"""``kl_div``, the Kullback-Leibler drift method: scipy on the same smoothed counts, Evidently's
own figure (when the peers' venv is there), and drift of a model's predictions end to end.

The reference here is independent of Vigil's code: numpy's Sturges histogram (Evidently's
bins), the smoothing written out again, and ``scipy.stats.entropy(p, q)``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from test_runtime import ISO, T0, _runtime
from vigil.app.catalog import register_baseline, upsert_endpoint, upsert_schedule
from vigil.app.config import BaselineSpec, EndpointSpec, ScheduleSpec
from vigil.checks.drift import (
    CategoricalDistribution,
    NumericDistribution,
    compute_drift,
    get_method,
)
from vigil.monitor.runner import run_scheduled


def _smooth(shares: np.ndarray) -> np.ndarray:
    """Evidently's rule, written out: empty -> 1e-4, or min non-zero / 1e6 when that is <= 1e-4."""
    low = shares[shares != 0].min()
    return np.where(shares == 0, low / 10**6 if low <= 0.0001 else 0.0001, shares)


def _sturges(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = np.histogram_bin_edges(np.concatenate((a, b)), bins="sturges")
    return np.histogram(a, edges)[0] / a.size, np.histogram(b, edges)[0] / b.size


def _reference(p: np.ndarray, q: np.ndarray) -> float:
    return float(stats.entropy(_smooth(p), _smooth(q)))  # scipy renormalises both


def test_the_record() -> None:
    m = get_method("KL_DIV")
    assert (m.name, m.applies_to, m.default_threshold, m.drift_if, m.kind) == (
        "kl_div", ("numerical", "categorical"), 0.1, ">=", "distance"
    )
    assert m.is_drifted(0.1, 0.1) and not m.is_drifted(0.099, 0.1)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_numerical_equals_scipy_on_sturges_bins(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=500 + 7 * seed)
    b = rng.normal(0.8, 0.6, size=400)  # shifted: the window leaves some baseline bins empty
    got = compute_drift("kl_div", NumericDistribution.from_values(a),
                        NumericDistribution.from_values(b))
    p, q = _sturges(a, b)
    assert (p == 0).any() or (q == 0).any()  # the smoothing is exercised
    assert got.value == pytest.approx(_reference(p, q), rel=1e-12)
    assert got.drifted == (got.value >= 0.1) and got.threshold == 0.1


def test_numerical_with_few_values_bins_per_value() -> None:
    a = np.repeat([1.0, 2.0, 3.0], [30, 50, 20])
    b = np.repeat([1.0, 2.0, 4.0], [10, 50, 40])  # 3 unseen in the window, 4 new
    got = compute_drift("kl_div", NumericDistribution.from_values(a),
                        NumericDistribution.from_values(b)).value
    p = np.array([30, 50, 20, 0]) / 100
    q = np.array([10, 50, 0, 40]) / 100
    assert got == pytest.approx(_reference(p, q), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_categorical_with_an_unseen_category_equals_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = [f"k{i}" for i in range(5)]
    a = dict(zip(keys, rng.integers(100, 400, 5).astype(float).tolist(), strict=True))
    b = dict(zip(keys, rng.integers(50, 200, 5).astype(float).tolist(), strict=True))
    b["new"] = 7.0  # never seen by the baseline: an empty baseline bin
    got = compute_drift("kl_div", CategoricalDistribution(a), CategoricalDistribution(b)).value
    order = sorted(set(a) | set(b))
    p = np.array([a.get(k, 0.0) for k in order]) / sum(a.values())
    q = np.array([b.get(k, 0.0) for k in order]) / sum(b.values())
    assert got == pytest.approx(_reference(p, q), rel=1e-12)


def test_tiny_shares_take_the_smaller_epsilon() -> None:
    # a share of 1e-5 on the baseline side: its empty bin gets 1e-5 / 1e6, not 1e-4
    a = {"x": 99_999.0, "y": 1.0}
    b = {"x": 50.0, "y": 30.0, "z": 20.0}
    got = compute_drift("kl_div", CategoricalDistribution(a), CategoricalDistribution(b)).value
    p, q = np.array([99_999, 1, 0]) / 100_000, np.array([50, 30, 20]) / 100
    assert got == pytest.approx(_reference(p, q), rel=1e-12)
    assert got != pytest.approx(float(stats.entropy(np.where(p == 0, 1e-4, p), q)), rel=1e-6)


def test_identical_sides_do_not_drift() -> None:
    a = NumericDistribution.from_values(np.arange(200.0))
    res = compute_drift("kl_div", a, a)
    assert res.value == pytest.approx(0.0, abs=1e-15) and not res.drifted


def test_prediction_drift_with_kl_div_end_to_end(tmp_path: Path) -> None:
    """A data-quality schedule over the outputs, its baseline built from the training
    predictions with ``drift_method: kl_div``: the window's figure equals scipy's on the same
    counts, and the shifted hour drifts while the unshifted one does not."""
    rng = np.random.default_rng(4)
    train_scores = np.round(rng.beta(2, 5, 1500), 4)
    train = tmp_path / "train-predictions.csv"
    train.write_text("_o0\n" + "\n".join(f"{v:.4f}" for v in train_scores) + "\n")
    rt = _runtime(tmp_path / "data")
    upsert_endpoint(rt.db, EndpointSpec(name="scorer"))
    register_baseline(rt.settings, rt.db, BaselineSpec(
        name="scores", endpoint="scorer", path=str(train), options={"drift_method": "kl_div"}))
    upsert_schedule(rt.db, ScheduleSpec(name="pd", endpoint="scorer", baseline="scores",
                                        expression="rate(1 hour)", config={"content": "output"}))
    windows = [np.round(rng.beta(a, b, 400), 4) for a, b in ((2, 5), (5, 2))]
    for h, scores in enumerate(windows):
        t = T0 + timedelta(hours=h)
        folder = Path(rt.settings.capture_root) / "scorer" / "AllTraffic" / f"{t:%Y/%m/%d/%H}"
        folder.mkdir(parents=True)
        folder.joinpath("00-00-000-a.jsonl").write_text("".join(
            '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
            '"data":"1,2","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv",'
            f'"mode":"OUTPUT","data":"{v:.4f}","encoding":"CSV"}}}},"eventMetadata":'
            f'{{"eventId":"{h}-{i}","inferenceTime":"{t + timedelta(seconds=8 * i):{ISO}}"}},'
            '"eventVersion":"0"}\n'
            for i, v in enumerate(scores)
        ))
    statuses = []
    for h in (1, 2):
        ex = run_scheduled(rt, "pd", T0 + timedelta(hours=h))
        assert ex is not None
        statuses.append(ex.status)
    assert statuses == ["Completed", "CompletedWithViolations"]
    rows = rt.metrics.query("aws/sagemaker/Endpoints/data-metrics", "feature_baseline_drift__o0",
                            {"Endpoint": "scorer", "MonitoringSchedule": "pd"},
                            T0, T0 + timedelta(hours=3), 3600, ["Maximum"])
    figures = [r["Maximum"] for r in rows]
    expected = [_reference(*_sturges(train_scores, w)) for w in windows]
    assert figures == pytest.approx(expected, rel=1e-9)  # exact sketches (< 2,050 values)
    assert figures[0] < 0.1 <= figures[1]
