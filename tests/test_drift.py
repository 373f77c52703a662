"""Drift methods checked against scipy / numpy on the same data.

Tolerances: raw data (every weight 1) must match scipy to ``EXACT`` (1e-12, relative and
absolute). Weighted samples imitate a KLL sketch by keeping every other sorted item with weight
2 (``halve``); each CDF then moves by at most ``1/n``, which gives the bounds asserted below.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from vigil.checks.drift import (
    CATEGORICAL_METHODS,
    DEFAULT_THRESHOLDS,
    NUMERIC_METHODS,
    CategoricalDistribution,
    DriftResult,
    NumericDistribution,
    compute_drift,
    correct_pvalues,
    dataset_drift,
)
from vigil.checks.drift import methods as d
from vigil.errors import BaselineMismatchError, ConfigError

EXACT = 1e-12
Num = NumericDistribution
Cat = CategoricalDistribution


def approx(x: float) -> object:
    return pytest.approx(x, rel=EXACT, abs=EXACT)


def raw(x: np.ndarray) -> NumericDistribution:
    return Num.from_values(x)


def halve(x: np.ndarray) -> NumericDistribution:
    """Every other sorted item (odd positions) with weight 2: a level-1 KLL compaction."""
    s = np.sort(x)[1::2]
    return Num(s, np.full(s.size, 2.0))


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.normal(size=4000), rng.normal(0.05, 1.0, size=3000)


# --- distributions -------------------------------------------------------------------------


def test_numeric_distribution_from_values() -> None:
    x = np.array([3.0, np.nan, 1.0, 2.0, 2.0])
    dist = Num.from_values(x)
    assert dist.values.tolist() == [1.0, 2.0, 2.0, 3.0]
    assert dist.weights.tolist() == [1.0] * 4
    assert dist.n == 4.0
    assert dist.mean == approx(2.0)
    assert dist.std == approx(float(np.std([1.0, 2.0, 2.0, 3.0])))


def test_numeric_distribution_sorts_and_weights() -> None:
    dist = Num(np.array([5.0, 1.0, np.nan]), np.array([2.0, 4.0, 8.0]))
    assert dist.values.tolist() == [1.0, 5.0]
    assert dist.weights.tolist() == [4.0, 2.0]
    assert dist.n == 6.0
    assert dist.mean == approx((4 + 10) / 6)
    assert dist.std == approx(math.sqrt((4 * (1 - 7 / 3) ** 2 + 2 * (5 - 7 / 3) ** 2) / 6))


def test_categorical_distribution() -> None:
    dist = Cat.from_values(["a", "b", "a", None, float("nan")])
    assert dist.counts == {"a": 2.0, "b": 1.0}
    assert dist.n == 3.0


# --- SageMaker: Simple, Robust, LInfinity, ChiSquared ----------------------------------------


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact:RuntimeWarning")
@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-20, 20), min_size=1, max_size=60),
    st.lists(st.integers(-20, 20), min_size=1, max_size=60),
)
def test_simple_equals_ks_statistic_with_ties(a: list[int], b: list[int]) -> None:
    x, y = np.array(a, dtype=float), np.array(b, dtype=float)
    got = compute_drift("Simple", raw(x), raw(y)).value
    ref = stats.ks_2samp(x, y)
    assert got == approx(float(ref.statistic))
    assert compute_drift("ks", raw(x), raw(y)).value == approx(float(ref.pvalue))


def test_simple_equals_ks_statistic_continuous(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    assert compute_drift("Simple", raw(a), raw(b)).value == approx(stats.ks_2samp(a, b).statistic)


def test_simple_on_weighted_sample_within_bound(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    exact = stats.ks_2samp(a, b).statistic
    got = compute_drift("Simple", halve(a), halve(b)).value
    assert abs(got - exact) <= 1 / a.size + 1 / b.size


def test_robust_hand_numbers() -> None:
    a, b = raw(np.arange(100.0)), raw(np.arange(50.0, 150.0))
    assert compute_drift("Simple", a, b).value == approx(0.5)
    # 0.5 - 1.8 * sqrt(200 / 10000) = 0.5 - 0.25455844122715715
    res = compute_drift("Robust", a, b)
    assert res.value == approx(0.24544155877284285)
    assert res.drifted and res.method == "Robust" and res.threshold == 0.1
    # four items a side: 0.5 - 1.8 * sqrt(8 / 16) < 0 -> clamped at 0
    small = compute_drift("robust", raw(np.array([1.0, 2, 3, 4])), raw(np.array([3.0, 4, 5, 6])))
    assert small.value == 0.0 and not small.drifted


def test_linfinity_hand_case() -> None:
    res = compute_drift("LInfinity", Cat({"a": 3, "b": 1}), Cat({"a": 1, "b": 3}))
    assert res.value == 0.5 and res.drifted and res.kind == "distance"
    # robust: 0.5 - 1.8 * sqrt(8 / 16) < 0
    assert (
        compute_drift("LInfinity", Cat({"a": 3, "b": 1}), Cat({"a": 1, "b": 3}), robust=True).value
        == 0
    )
    # n = m = 400: 0.5 - 1.8 * sqrt(800 / 160000) = 0.5 - 0.12727922061357858
    big = compute_drift(
        "linfinity", Cat({"a": 300, "b": 100}), Cat({"a": 100, "b": 300}), robust=True
    )
    assert big.value == approx(0.37272077938642142)
    # a category only the current side has counts in the union
    new = compute_drift("LInfinity", Cat({"a": 10}), Cat({"a": 6, "z": 4}))
    assert new.value == approx(0.4)


def test_chisquared_regrouping_hand_case() -> None:
    base = {"a": 50, "b": 30, "c": 12, "d": 5, "e": 3}  # total 100
    cur = {"a": 20, "b": 14, "c": 4, "d": 1, "e": 1, "new": 9}  # "new" is ignored
    labels, obs, exp = d.sagemaker_chisquare_buckets(base, cur)
    # m' = 40 -> expected 20, 12, 4.8, 2, 1.2; K=5 allows floor(1.0)=1 below 5, three are:
    # merge e into d (3.2), then d into c (8.0): K=3 allows 0 below 5 -> stop.
    assert labels == ["a", "b", "c"]
    assert obs.tolist() == [20.0, 14.0, 6.0]
    assert exp == pytest.approx([20.0, 12.0, 8.0], rel=EXACT)
    res = compute_drift("ChiSquared", Cat(base), Cat(cur))
    assert res.value == approx(stats.chisquare(obs, exp).pvalue)
    assert res.kind == "p_value" and res.threshold == 0.1
    assert res.drifted == (res.value < 0.1)


def test_chisquared_two_buckets_cochran_and_nan() -> None:
    # K=2 needs every expected >= 10: expected 18 and 2 -> merged into one bucket -> NaN
    res = compute_drift("ChiSquared", Cat({"x": 90, "y": 10}), Cat({"x": 15, "y": 5}))
    assert math.isnan(res.value) and not res.drifted
    assert res.to_dict()["value"] is None
    # enough data: a plain 2-bucket goodness-of-fit
    res = compute_drift("chisquared", Cat({"x": 90, "y": 10}), Cat({"x": 150, "y": 50}))
    assert res.value == approx(stats.chisquare([150, 50], [180, 20]).pvalue)
    assert res.drifted


def test_chisquared_matches_scipy_random() -> None:
    rng = np.random.default_rng(7)
    keys = [f"k{i}" for i in range(12)]
    base = dict(zip(keys, rng.integers(0, 400, 12).tolist(), strict=True))
    cur = dict(zip(keys, rng.integers(0, 60, 12).tolist(), strict=True))
    _, obs, exp = d.sagemaker_chisquare_buckets(base, cur)
    assert obs.sum() == pytest.approx(exp.sum(), rel=1e-12)
    got = compute_drift("ChiSquared", Cat(base), Cat(cur)).value
    assert got == approx(stats.chisquare(obs, exp).pvalue)


# --- ks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "m"), [(5, 7), (300, 200), (12000, 11000)])
def test_ks_pvalue_equals_scipy(n: int, m: int) -> None:
    rng = np.random.default_rng(n)
    a, b = rng.normal(size=n), rng.normal(0.1, 1.0, size=m)
    res = compute_drift("ks", raw(a), raw(b))
    assert res.value == approx(stats.ks_2samp(a, b).pvalue)
    assert res.drifted == (res.value < 0.05) and res.threshold == 0.05


def test_ks_weighted_uses_asymptotic(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    ha, hb = halve(a), halve(b)
    got = compute_drift("ks", ha, hb).value
    dw = d.ks_statistic(ha.values, ha.weights, hb.values, hb.weights)
    en = round(ha.n * hb.n / (ha.n + hb.n))
    assert got == approx(stats.kstwo.sf(dw, en))
    # against the raw test: the statistic moves by at most delta, and sf is decreasing
    delta = 1 / a.size + 1 / b.size
    dr = stats.ks_2samp(a, b).statistic
    assert stats.kstwo.sf(dr + delta, en) <= got <= stats.kstwo.sf(dr - delta, en)


# --- psi -----------------------------------------------------------------------------------


def _hand_psi(p: np.ndarray, q: np.ndarray) -> float:
    p, q = p / p.sum(), q / q.sum()
    p[p == 0] = 1e-4
    q[q == 0] = 1e-4
    return float(np.sum((q - p) * np.log(q / p)))


def test_psi_numeric_hand(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    edges = np.quantile(a, np.arange(1, 10) / 10, method="inverted_cdf")
    ca = np.bincount(np.digitize(a, edges, right=True), minlength=10).astype(float)
    cb = np.bincount(np.digitize(b, edges, right=True), minlength=10).astype(float)
    assert ca.tolist() == [400.0] * 10
    res = compute_drift("psi", raw(a), raw(b))
    assert res.value == approx(_hand_psi(ca, cb))
    assert res.threshold == 0.1 and res.drifted == (res.value >= 0.1)
    # weighted sample: edges move by one item at most; stated tolerance 0.002
    assert compute_drift("psi", halve(a), halve(b)).value == pytest.approx(res.value, abs=2e-3)


def test_psi_empty_bins_use_epsilon() -> None:
    a = np.arange(100.0)
    b = np.full(50, 1000.0)  # all current mass in the last open bin
    edges = np.quantile(a, np.arange(1, 10) / 10, method="inverted_cdf")
    ca = np.bincount(np.digitize(a, edges, right=True), minlength=10).astype(float)
    cb = np.bincount(np.digitize(b, edges, right=True), minlength=10).astype(float)
    assert compute_drift("psi", raw(a), raw(b)).value == approx(_hand_psi(ca, cb))


def test_psi_categorical_hand() -> None:
    base, cur = Cat({"a": 50, "b": 30, "c": 20}), Cat({"a": 40, "b": 40, "d": 20})
    p = np.array([0.5, 0.3, 0.2, 1e-4])
    q = np.array([0.4, 0.4, 1e-4, 0.2])
    assert compute_drift("psi", base, cur).value == approx(float(np.sum((q - p) * np.log(q / p))))


# --- jensen_shannon, hellinger -------------------------------------------------------------


def _sturges_shares(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = np.histogram_bin_edges(np.concatenate((a, b)), bins="sturges")
    return np.histogram(a, edges)[0] / a.size, np.histogram(b, edges)[0] / b.size


def test_jensen_shannon_numeric_equals_scipy(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    p, q = _sturges_shares(a, b)
    res = compute_drift("jensen_shannon", raw(a), raw(b))
    assert res.value == approx(float(jensenshannon(p, q)))
    assert res.threshold == 0.1 and res.kind == "distance"
    # weighted sample: same number of bins, edges from a range missing one item; tolerance 0.01
    assert compute_drift("jensen_shannon", halve(a), halve(b)).value == pytest.approx(
        res.value, abs=0.01
    )


def test_jensen_shannon_few_values_per_value_bins() -> None:
    a = np.array([1.0] * 30 + [2.0] * 50 + [3.0] * 20)
    b = np.array([1.0] * 10 + [2.0] * 50 + [4.0] * 40)
    p = np.array([0.3, 0.5, 0.2, 0.0])
    q = np.array([0.1, 0.5, 0.0, 0.4])
    assert compute_drift("jensen_shannon", raw(a), raw(b)).value == approx(jensenshannon(p, q))


def test_jensen_shannon_categorical_equals_scipy() -> None:
    base, cur = Cat({"a": 5, "b": 3, "c": 2}), Cat({"a": 1, "c": 1, "d": 2})
    p, q = np.array([0.5, 0.3, 0.2, 0.0]), np.array([0.25, 0.0, 0.25, 0.5])
    assert compute_drift("jensen_shannon", base, cur).value == approx(jensenshannon(p, q))


def test_hellinger_hand_formula(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    p, q = _sturges_shares(a, b)
    hand = math.sqrt(1 - float(np.sum(np.sqrt(p * q))))
    res = compute_drift("hellinger", raw(a), raw(b))
    assert res.value == pytest.approx(hand, rel=1e-9)  # two algebraic forms, 1e-9 rounding
    cat = compute_drift("hellinger", Cat({"a": 1, "b": 3}), Cat({"a": 3, "b": 1}))
    assert cat.value == approx(math.sqrt(1 - 2 * math.sqrt(3 / 16)))
    assert res.threshold == 0.1


# --- wasserstein ---------------------------------------------------------------------------


def test_wasserstein_equals_scipy(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    res = compute_drift("wasserstein", raw(a), raw(b))
    assert res.value == approx(stats.wasserstein_distance(a, b) / np.std(a))
    assert res.threshold == 0.1 and res.drifted == (res.value >= 0.1)


def test_wasserstein_weighted(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    ha, hb = halve(a), halve(b)
    got = compute_drift("wasserstein", ha, hb).value
    w = stats.wasserstein_distance(ha.values, hb.values, ha.weights, hb.weights)
    assert got == approx(w / ha.std)
    # triangle inequality bounds the distance to the raw figure
    err = stats.wasserstein_distance(a, ha.values, None, ha.weights) + stats.wasserstein_distance(
        b, hb.values, None, hb.weights
    )
    assert abs(w - stats.wasserstein_distance(a, b)) <= err + EXACT


def test_wasserstein_zero_std_floor() -> None:
    res = compute_drift("wasserstein", raw(np.array([5.0, 5.0, 5.0])), raw(np.array([5.0, 5, 6])))
    assert res.value == approx((1 / 3) / 0.001)


# --- chi_squared, z_test -------------------------------------------------------------------


def test_chi_squared_categorical_contingency() -> None:
    base, cur = Cat({"a": 50, "b": 30, "c": 20}), Cat({"a": 30, "b": 30, "d": 5})
    table = np.array([[50, 30, 20, 0], [30, 30, 0, 5]])
    res = compute_drift("chi_squared", base, cur)
    assert res.value == approx(stats.chi2_contingency(table, correction=False).pvalue)
    assert res.threshold == 0.05 and res.kind == "p_value"


def test_chi_squared_numeric_quantile_bins(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    edges = np.quantile(a, np.arange(1, 10) / 10, method="inverted_cdf")
    ca = np.bincount(np.digitize(a, edges, right=True), minlength=10)
    cb = np.bincount(np.digitize(b, edges, right=True), minlength=10)
    got = compute_drift("chi_squared", raw(a), raw(b)).value
    assert got == approx(stats.chi2_contingency(np.vstack((ca, cb)), correction=False).pvalue)


def test_z_test_hand_formula_and_chi2_agreement() -> None:
    base, cur = Cat({"no": 70, "yes": 30}), Cat({"no": 45, "yes": 55})
    n, m, p1, p2 = 100, 100, 0.30, 0.55
    pooled = (p1 * n + p2 * m) / (n + m)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
    res = compute_drift("z_test", base, cur)
    assert res.value == approx(2 * stats.norm.sf(abs(z)))
    assert res.drifted and res.threshold == 0.05
    # z^2 is Pearson's chi-square of the 2 x 2 table (no Yates correction)
    assert compute_drift("chi_squared", base, cur).value == pytest.approx(res.value, rel=1e-9)


# --- auto ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "cur", "expected"),
    [
        (raw(np.arange(1000.0)), raw(np.arange(500.0)), "ks"),
        (raw(np.arange(1001.0)), raw(np.arange(500.0)), "wasserstein"),
        (raw(np.tile([1.0, 2.0, 3.0], 100)), raw(np.array([1.0, 2.0, 2.0])), "chi_squared"),
        (raw(np.tile([0.0, 1.0], 100)), raw(np.array([1.0, 1.0])), "z_test"),
        (raw(np.tile([1.0, 2, 3, 4, 5], 300)), raw(np.array([1.0, 2.0])), "jensen_shannon"),
        (Cat({"a": 10, "b": 5, "c": 1}), Cat({"a": 3}), "chi_squared"),
        (Cat({"a": 10, "b": 5}), Cat({"a": 3}), "z_test"),
        (Cat({"a": 1000, "b": 1}), Cat({"a": 3}), "jensen_shannon"),
    ],
)
def test_auto_resolution(base: object, cur: object, expected: str) -> None:
    res = compute_drift("auto", base, cur)  # type: ignore[arg-type]
    assert res.method == expected
    assert res.threshold == DEFAULT_THRESHOLDS[expected]


def test_auto_few_valued_numeric_is_categorical() -> None:
    a, b = np.tile([1.0, 2.0, 3.0], 100), np.array([1.0] * 20 + [2.0] * 10 + [3.0] * 10)
    res = compute_drift("auto", raw(a), raw(b))
    table = np.array([[100, 100, 100], [20, 10, 10]])
    assert res.value == approx(stats.chi2_contingency(table, correction=False).pvalue)
    # distinct_count from a sketch overrides the count of items
    assert compute_drift("auto", raw(a), raw(b), distinct_count=50).method == "ks"


# --- edge cases, names, errors -------------------------------------------------------------


def test_identical_distributions() -> None:
    x = raw(np.random.default_rng(3).normal(size=500))
    c = Cat({"a": 10, "b": 20, "c": 30})
    for method, dist in [
        *((m, x) for m in NUMERIC_METHODS),
        *((m, c) for m in CATEGORICAL_METHODS),
    ]:
        res = compute_drift(method, dist, dist)
        assert res.value == (1.0 if res.kind == "p_value" else 0.0), method
        assert not res.drifted


def test_empty_side_gives_nan() -> None:
    empty_n, empty_c = raw(np.array([np.nan])), Cat({})
    for m in NUMERIC_METHODS:
        for base, cur in [(empty_n, raw(np.arange(3.0))), (raw(np.arange(3.0)), empty_n)]:
            res = compute_drift(m, base, cur)
            assert math.isnan(res.value) and not res.drifted
    for m in CATEGORICAL_METHODS:
        res = compute_drift(m, Cat({"a": 1}), empty_c)
        assert math.isnan(res.value) and not res.drifted


def test_thresholds_and_boundaries() -> None:
    a, b = raw(np.array([1.0, 2, 3, 4])), raw(np.array([3.0, 4, 5, 6]))
    assert not compute_drift("Simple", a, b, threshold=0.5).drifted  # SageMaker: value > thr
    assert compute_drift("Simple", a, b, threshold=0.49).drifted
    psi = compute_drift("psi", a, b).value
    assert compute_drift("psi", a, b, threshold=psi).drifted  # Evidently: value >= thr
    p = compute_drift("ks", a, b).value
    assert not compute_drift("ks", a, b, threshold=p).drifted  # p-values: p < thr


def test_method_names_and_errors() -> None:
    a = raw(np.arange(10.0))
    assert compute_drift("SIMPLE", a, a).method == "Simple"
    assert compute_drift("Jensen_Shannon", a, a).method == "jensen_shannon"
    with pytest.raises(ConfigError, match=r"'nope'.*wasserstein"):
        compute_drift("nope", a, a)
    with pytest.raises(ConfigError, match=r"'wasserstein'.*categorical.*LInfinity"):
        compute_drift("wasserstein", Cat({"a": 1}), Cat({"a": 1}))
    with pytest.raises(ConfigError, match=r"'LInfinity'.*numeric"):
        compute_drift("LInfinity", a, a)
    with pytest.raises(ValueError, match="threshold"):
        compute_drift("ks", a, a, threshold=-1)
    with pytest.raises(BaselineMismatchError):
        compute_drift("psi", a, Cat({"a": 1}))


def test_to_dict() -> None:
    r = DriftResult("ks", 0.25, 0.05, False, "p_value")
    assert r.to_dict() == {
        "method": "ks",
        "value": 0.25,
        "threshold": 0.05,
        "drifted": False,
        "kind": "p_value",
    }


# --- multiple testing, dataset level -------------------------------------------------------


def _family() -> dict[str, DriftResult]:
    ps = {"a": 0.001, "b": 0.008, "c": 0.039, "d": 0.041, "e": 0.042, "f": 0.6}
    out = {k: DriftResult("ks", v, 0.05, v < 0.05, "p_value") for k, v in ps.items()}
    out["dist"] = DriftResult("psi", 0.3, 0.1, True, "distance")
    out["nan"] = DriftResult("ks", math.nan, 0.05, False, "p_value")
    return out


def test_bonferroni() -> None:
    got = correct_pvalues(_family(), "bonferroni")
    assert {k: got[k].value for k in "abcdef"} == pytest.approx(
        {"a": 0.006, "b": 0.048, "c": 0.234, "d": 0.246, "e": 0.252, "f": 1.0}, rel=EXACT
    )
    assert [k for k in "abcdef" if got[k].drifted] == ["a", "b"]
    assert got["dist"] == _family()["dist"]
    assert math.isnan(got["nan"].value)


def test_fdr_benjamini_hochberg() -> None:
    fam = _family()
    got = correct_pvalues(fam, "fdr")
    # hand: p_(i) * 6 / i = .006 .024 .078 .0615 .0504 .6, then running minimum from the top
    hand = {"a": 0.006, "b": 0.024, "c": 0.0504, "d": 0.0504, "e": 0.0504, "f": 0.6}
    assert {k: got[k].value for k in "abcdef"} == pytest.approx(hand, rel=EXACT)
    ref = stats.false_discovery_control([fam[k].value for k in "abcdef"], method="bh")
    assert [got[k].value for k in "abcdef"] == pytest.approx(ref.tolist(), rel=EXACT)
    assert [k for k in "abcdef" if got[k].drifted] == ["a", "b"]
    assert correct_pvalues(fam, "none") == fam
    with pytest.raises(ConfigError):
        correct_pvalues(fam, "holm")  # type: ignore[arg-type]


def test_dataset_drift() -> None:
    fam = _family()  # 6 of 7 evaluated results drifted; the NaN one is left out
    assert dataset_drift(fam) == (pytest.approx(6 / 7), True)
    assert dataset_drift(fam, share_threshold=0.9) == (pytest.approx(6 / 7), False)
    half = {
        "x": DriftResult("psi", 0.2, 0.1, True, "distance"),
        "y": DriftResult("psi", 0.0, 0.1, False, "distance"),
    }
    assert dataset_drift(half) == (0.5, True)
    assert dataset_drift({}) == (0.0, False)
