"""The drift-method registry: its records, the README table, scipy's figures, names, ``auto``.

Every registered method is checked against scipy (or a brute-force formula where scipy has
none) on random raw data, for every column kind it applies to; a method registered without a
reference here fails ``test_every_method_has_a_reference``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

import vigil.checks.drift as drift
from vigil.checks.drift import (
    CATEGORICAL_METHODS,
    DEFAULT_THRESHOLDS,
    NUMERIC_METHODS,
    CategoricalDistribution,
    DriftMethod,
    NumericDistribution,
    compute_drift,
    drift_methods,
    get_method,
    method_names,
    register,
)
from vigil.checks.drift.methods import auto
from vigil.errors import ConfigError, VigilError

README = Path(__file__).resolve().parents[1] / "README.md"
EXACT = 1e-12
Cat = CategoricalDistribution


def raw(x: np.ndarray) -> NumericDistribution:
    return NumericDistribution.from_values(x)


# --- the package's names and the records -----------------------------------------------------


def test_exported_names_are_exactly_the_intended_ones() -> None:
    assert sorted(drift.__all__) == sorted(
        [
            *("CATEGORICAL_METHODS", "CORRECTIONS", "DEFAULT_THRESHOLDS", "NUMERIC_METHODS"),
            *("CategoricalDistribution", "ColumnKind", "Distribution", "DriftMethod"),
            *("DriftResult", "NumericDistribution", "compute_drift", "correct_pvalues"),
            *("dataset_drift", "drift_methods", "get_method", "method_names", "methods"),
            "register",
        ]
    )
    for name in drift.__all__:
        assert hasattr(drift, name), name


def test_registry_order_and_the_constants_it_feeds() -> None:
    assert method_names() == (
        *("Simple", "Robust", "LInfinity", "ChiSquared", "ks", "wasserstein", "psi"),
        *("jensen_shannon", "hellinger", "kl_div", "chi_squared", "z_test", "auto"),
    )
    assert method_names("numerical") == NUMERIC_METHODS
    assert method_names("numerical", origin="sagemaker") == ("Simple", "Robust")
    assert method_names("categorical", origin="sagemaker") == ("LInfinity", "ChiSquared")
    assert "|".join(method_names(origin="evidently")) == (
        "ks|wasserstein|psi|jensen_shannon|hellinger|kl_div|chi_squared|z_test|auto"
    )
    assert method_names("categorical") == CATEGORICAL_METHODS
    assert (
        *("Simple", "Robust", "ks", "wasserstein", "psi", "jensen_shannon", "hellinger"),
        *("kl_div", "chi_squared", "z_test", "auto"),
    ) == NUMERIC_METHODS
    assert {
        m.name: m.default_threshold for m in drift_methods() if m.name != "auto"
    } == DEFAULT_THRESHOLDS


def test_each_method_lives_in_its_own_module() -> None:
    owner: dict[str, str] = {}
    for m in drift_methods():
        fns = [f for f in (m.numerical, m.categorical, m.choose) if f is not None]
        assert fns, m.name
        modules = {fn.__module__ for fn in fns}
        assert len(modules) == 1, (m.name, modules)
        (module,) = modules
        assert module.startswith("vigil.checks.drift.methods."), module
        # named for the method (SageMaker's ChiSquared beside Evidently's chi_squared)
        assert module.rsplit(".", 1)[1].replace("_", "").endswith(m.name.lower().replace("_", ""))
        assert module not in owner, f"{m.name} shares {module} with {owner.get(module)}"
        owner[module] = m.name


def test_records_are_consistent() -> None:
    for m in drift_methods():
        if m.name == "auto":
            assert m.choose is not None and m.kind is None and m.default_threshold is None
            continue
        assert m.kind == ("p_value" if m.drift_if == "<" else "distance"), m.name
        assert m.origin == ("sagemaker" if m.name[0].isupper() else "evidently"), m.name
        assert m.description and "\n" not in m.description


def test_decision_rules() -> None:
    simple, psi, ks = get_method("Simple"), get_method("psi"), get_method("ks")
    assert not simple.is_drifted(0.1, 0.1) and simple.is_drifted(0.11, 0.1)  # SageMaker: >
    assert psi.is_drifted(0.1, 0.1) and not psi.is_drifted(0.09, 0.1)  # Evidently: >=
    assert ks.is_drifted(0.04, 0.05) and not ks.is_drifted(0.05, 0.05)  # p-values: <
    assert not any(m.is_drifted(math.nan, 0.0) for m in (simple, psi, ks))


# --- names -----------------------------------------------------------------------------------


def test_lookup_is_case_insensitive() -> None:
    assert get_method("JENSEN_SHANNON") is get_method("jensen_shannon")
    assert get_method("linfinity", "categorical").name == "LInfinity"


def test_unknown_name_raises_config_error_naming_the_choices() -> None:
    with pytest.raises(ConfigError) as info:
        get_method("nope")
    assert isinstance(info.value, VigilError) and isinstance(info.value, ValueError)
    valid = ", ".join(method_names())
    assert info.value.message == f"unknown drift method 'nope'; valid: {valid}"
    with pytest.raises(ConfigError) as info:
        get_method("nope", "numerical")
    assert info.value.message == (
        "unknown drift method 'nope'; valid for numeric features: "
        "Simple, Robust, ks, wasserstein, psi, jensen_shannon, hellinger, kl_div, chi_squared, "
        "z_test, auto"
    )
    with pytest.raises(ConfigError, match=r"'ks' does not apply to categorical.*LInfinity"):
        get_method("KS", "categorical")
    with pytest.raises(ConfigError, match="unknown drift method 3"):
        get_method(3)  # type: ignore[arg-type]


def test_register_refuses_duplicates_and_inconsistent_records() -> None:
    ks = get_method("ks")
    with pytest.raises(ConfigError, match="already registered"):
        register(ks)
    with pytest.raises(ConfigError, match="nothing to replace"):
        register(dataclasses.replace(ks, name="ks2"), replace=True)
    with pytest.raises(ConfigError, match="inconsistent"):
        dataclasses.replace(ks, applies_to=("numerical", "categorical"))  # no categorical fn
    with pytest.raises(ConfigError, match="inconsistent"):
        dataclasses.replace(ks, default_threshold=-1.0)
    assert method_names().count("ks") == 1


# --- the README table ------------------------------------------------------------------------

_THRESHOLD = re.compile(r"^(\d+(?:\.\d+)?) \((?:drift if )?(p )?(>=|>|<)\)$")


def _readme_rows() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Drift methods\n", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    assert lines[0] == "| method | applies to | definition | default threshold |"
    rows = [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in lines[2:]]
    assert all(len(r) == 4 for r in rows)
    return rows


def test_readme_table_lists_exactly_the_registry() -> None:
    rows = _readme_rows()
    assert [r[0] for r in rows] == [f"`{n}`" for n in method_names()]
    for (name, applies, definition, threshold), m in zip(rows, drift_methods(), strict=True):
        assert tuple(k.strip() for k in applies.split(",")) == m.applies_to, name
        assert definition.replace("\\|", "|") == m.description, name
        if m.default_threshold is None:
            assert threshold == "the chosen method's", name
            continue
        found = _THRESHOLD.match(threshold)
        assert found is not None, (name, threshold)
        assert float(found.group(1)) == m.default_threshold, name
        assert found.group(3) == m.drift_if, name
        assert (found.group(2) is not None) == (m.kind == "p_value"), name


# --- every method against scipy --------------------------------------------------------------

Num = np.ndarray
Counts = dict[str, float]


def _counts(a: Counts, b: Counts) -> tuple[np.ndarray, np.ndarray]:
    keys = sorted(set(a) | set(b))
    return np.array([a.get(k, 0.0) for k in keys]), np.array([b.get(k, 0.0) for k in keys])


def _shares(a: Counts, b: Counts) -> tuple[np.ndarray, np.ndarray]:
    p, q = _counts(a, b)
    return p / p.sum(), q / q.sum()


def _deciles(a: Num, b: Num) -> tuple[np.ndarray, np.ndarray]:
    edges = np.quantile(a, np.arange(1, 10) / 10, method="inverted_cdf")
    return (
        np.bincount(np.digitize(a, edges, right=True), minlength=10).astype(float),
        np.bincount(np.digitize(b, edges, right=True), minlength=10).astype(float),
    )


def _sturges(a: Num, b: Num) -> tuple[np.ndarray, np.ndarray]:
    edges = np.histogram_bin_edges(np.concatenate((a, b)), bins="sturges")
    return np.histogram(a, edges)[0] / a.size, np.histogram(b, edges)[0] / b.size


def _psi(p: np.ndarray, q: np.ndarray) -> float:
    p, q = p / p.sum(), q / q.sum()
    p, q = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
    return float(np.sum((q - p) * np.log(q / p)))


def _hellinger(p: np.ndarray, q: np.ndarray) -> float:
    return math.sqrt(1 - float(np.sum(np.sqrt(p * q))))


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    # Evidently's smoothing (1e-4 for empty bins, each side), then scipy renormalises
    p, q = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
    return float(stats.entropy(p, q))


def _contingency(ca: np.ndarray, cb: np.ndarray) -> float:
    return float(stats.chi2_contingency(np.vstack((ca, cb)), correction=False).pvalue)


def _z(a: list[Any], b: list[Any]) -> float:
    first = min(min(a), min(b))
    p1, p2 = np.mean([x != first for x in a]), np.mean([x != first for x in b])
    n, m = len(a), len(b)
    pooled = (p1 * n + p2 * m) / (n + m)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
    return float(2 * stats.norm.sf(abs(z)))


def _expand(c: Counts) -> list[str]:
    return [k for k, v in c.items() for _ in range(int(v))]


def _sagemaker_chisquare(a: Counts, b: Counts) -> float:
    # the random counts leave every expected count >= 5: Deequ merges nothing
    keys = sorted(a)
    obs = np.array([b.get(k, 0.0) for k in keys])
    share = np.array([a[k] for k in keys]) / sum(a.values())
    assert np.all(share * obs.sum() >= 5)
    return float(stats.chisquare(obs, share * obs.sum()).pvalue)


def _ks_stat(a: Num, b: Num) -> float:
    return float(stats.ks_2samp(a, b).statistic)


def _robust(linf: float, n: int, m: int) -> float:
    return max(0.0, linf - 1.8 * math.sqrt((n + m) / (n * m)))


NUMERICAL: dict[str, Callable[[Num, Num], float]] = {
    "Simple": _ks_stat,
    "Robust": lambda a, b: _robust(_ks_stat(a, b), a.size, b.size),
    "ks": lambda a, b: float(stats.ks_2samp(a, b).pvalue),
    "wasserstein": lambda a, b: float(stats.wasserstein_distance(a, b) / np.std(a)),
    "psi": lambda a, b: _psi(*_deciles(a, b)),
    "jensen_shannon": lambda a, b: float(jensenshannon(*_sturges(a, b))),
    "hellinger": lambda a, b: _hellinger(*_sturges(a, b)),
    "kl_div": lambda a, b: _kl(*_sturges(a, b)),
    "chi_squared": lambda a, b: _contingency(*_deciles(a, b)),
    # one category per value, named by its repr: the "first" category is first as text
    "z_test": lambda a, b: _z([repr(x) for x in a.tolist()], [repr(x) for x in b.tolist()]),
}
CATEGORICAL: dict[str, Callable[[Counts, Counts], float]] = {
    "LInfinity": lambda a, b: float(np.max(np.abs(np.subtract(*_shares(a, b))))),
    "ChiSquared": _sagemaker_chisquare,
    "psi": lambda a, b: _psi(*_shares(a, b)),
    "jensen_shannon": lambda a, b: float(jensenshannon(*_shares(a, b))),
    "hellinger": lambda a, b: _hellinger(*_shares(a, b)),
    "kl_div": lambda a, b: _kl(*_shares(a, b)),
    "chi_squared": lambda a, b: _contingency(*_counts(a, b)),
    "z_test": lambda a, b: _z(_expand(a), _expand(b)),
}
ROUNDING = {"hellinger": 1e-9, "chi_squared": 1e-9}  # two algebraic forms of one figure


def test_every_method_has_a_reference() -> None:
    assert set(NUMERICAL) | {"auto"} == set(method_names("numerical"))
    assert set(CATEGORICAL) | {"auto"} == set(method_names("categorical"))


def _tol(name: str) -> float:
    return ROUNDING.get(name, EXACT)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", [n for n in method_names("numerical") if n != "auto"])
def test_numerical_methods_equal_scipy(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=400 + seed), rng.normal(0.2, 1.1, size=300)
    got = compute_drift(name, raw(a), raw(b)).value
    assert got == pytest.approx(NUMERICAL[name](a, b), rel=_tol(name), abs=EXACT)
    assert get_method(name).compute(raw(a), raw(b)) == got


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", [n for n in method_names("categorical") if n != "auto"])
def test_categorical_methods_equal_scipy(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = [f"k{i}" for i in range(6)]
    a = dict(zip(keys, rng.integers(100, 400, 6).astype(float).tolist(), strict=True))
    b = dict(zip(keys, rng.integers(50, 200, 6).astype(float).tolist(), strict=True))
    b["new"] = float(rng.integers(1, 30))  # a category the baseline never saw
    got = compute_drift(name, Cat(a), Cat(b)).value
    ref = CATEGORICAL[name](a, b)
    assert got == pytest.approx(ref, rel=_tol(name), abs=EXACT)


def test_robust_linfinity_equals_the_formula() -> None:
    a, b = {"x": 300.0, "y": 100.0}, {"x": 100.0, "y": 300.0}
    got = compute_drift("LInfinity", Cat(a), Cat(b), robust=True).value
    assert got == pytest.approx(_robust(CATEGORICAL["LInfinity"](a, b), 400, 400), rel=EXACT)


# --- auto ------------------------------------------------------------------------------------

AUTO_CASES = [
    (raw(np.arange(1000.0)), raw(np.arange(500.0)), "ks"),
    (raw(np.arange(1001.0)), raw(np.arange(500.0)), "wasserstein"),
    (raw(np.tile([1.0, 2.0, 3.0], 100)), raw(np.array([1.0, 2.0, 2.0])), "chi_squared"),
    (raw(np.tile([0.0, 1.0], 100)), raw(np.array([1.0, 1.0])), "z_test"),
    (Cat({"a": 1000, "b": 1}), Cat({"a": 3}), "jensen_shannon"),
]


@pytest.mark.parametrize(("base", "cur", "expected"), AUTO_CASES)
def test_auto_picks_registered_methods(base: Any, cur: Any, expected: str) -> None:
    method, a, b = auto.choose(base, cur)
    assert method is get_method(expected)
    kind = "numerical" if isinstance(a, NumericDistribution) else "categorical"
    assert kind in method.applies_to
    res = compute_drift("auto", base, cur)
    assert (res.method, res.threshold, res.kind) == (
        expected,
        method.default_threshold,
        method.kind,
    )
    assert res.value == method.compute(a, b)


def test_auto_reads_the_registry_at_call_time() -> None:
    original = get_method("ks")
    stand_in = dataclasses.replace(original, default_threshold=0.5, numerical=lambda a, b: 0.25)
    register(stand_in, replace=True)
    try:
        res = compute_drift("auto", raw(np.arange(100.0)), raw(np.arange(50.0)))
        assert (res.method, res.value, res.threshold, res.drifted) == ("ks", 0.25, 0.5, True)
        assert method_names().index("ks") == 4  # replacing keeps the listing order
    finally:
        register(original, replace=True)
    assert get_method("ks") is original


def test_auto_is_no_method_of_its_own() -> None:
    record: DriftMethod = get_method("auto")
    with pytest.raises(ConfigError, match="picks another method"):
        record.is_drifted(0.5, 0.1)
    with pytest.raises(ConfigError, match="computes nothing"):
        record.compute(raw(np.arange(3.0)), raw(np.arange(3.0)))


def test_the_cli_offers_every_registered_method() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "400", "TERM": "dumb"}
    done = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "baseline", "--help"],
        capture_output=True, text=True, env=env, check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in method_names():
        assert name in done.stdout, name
