"""Vigil's drift detectors fire at exactly the indices River 0.26's do on the same streams."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import numpy as np
import pytest
import river.drift as river_drift
import river.drift.binary as river_binary

import vigil.checks.detectors
from vigil.checks.detectors import (
    ADWIN,
    DDM,
    EDDM,
    HDDM_A,
    HDDM_W,
    KSWIN,
    DriftDetector,
    PageHinkley,
)
from vigil.errors import ConfigError, FormatError, InputError

N = 3000


# ---- seeded streams -------------------------------------------------------------------------

def abrupt(seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [*rng.normal(0.0, 1.0, N // 2), *rng.normal(1.5, 1.0, N - N // 2)]


def gradual(seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    mean = np.clip((np.arange(N) - N / 3) / (N / 3), 0.0, 1.0) * 2.0
    return list(rng.normal(mean, 1.0))


def stationary(seed: int) -> list[float]:
    return list(np.random.default_rng(seed).normal(0.0, 1.0, N))


def river_choices(seed: int) -> list[float]:
    rng = random.Random(seed)
    return [float(v) for v in rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)]


def errors_abrupt(seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(v) for v in (rng.random(N) < np.where(np.arange(N) < N // 2, 0.1, 0.35))]


def errors_gradual(seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    rate = 0.1 + 0.3 * np.clip((np.arange(N) - 1000) / 1500, 0.0, 1.0)
    return [float(v) for v in (rng.random(N) < rate)]


def errors_stationary(seed: int) -> list[float]:
    return [float(v) for v in (np.random.default_rng(seed).random(N) < 0.2)]


REAL_DRIFTING = [abrupt, gradual, river_choices]
BINARY_DRIFTING = [errors_abrupt, errors_gradual]

# (ours, River's, which streams must show a drift, which need only agree)
PAIRS: dict[str, tuple[Callable[[], DriftDetector], Callable[[], object], list, list]] = {
    "ADWIN": (ADWIN, river_drift.ADWIN, REAL_DRIFTING + BINARY_DRIFTING, [stationary]),
    "KSWIN": (
        lambda: KSWIN(seed=7),
        lambda: river_drift.KSWIN(seed=7),
        REAL_DRIFTING,
        [stationary],
    ),
    "PageHinkley": (PageHinkley, river_drift.PageHinkley, REAL_DRIFTING, [stationary]),
    "DDM": (DDM, river_binary.DDM, BINARY_DRIFTING, [errors_stationary]),
    "EDDM": (EDDM, river_binary.EDDM, BINARY_DRIFTING, [errors_stationary]),
    "HDDM_A": (HDDM_A, river_binary.HDDMA, BINARY_DRIFTING, [errors_stationary]),
    "HDDM_W": (HDDM_W, river_binary.HDDMW, BINARY_DRIFTING, [errors_stationary]),
}
CASES = [
    pytest.param(name, stream, seed, must_fire, id=f"{name}-{stream.__name__}-{seed}")
    for name, (_, _, drifting, quiet) in PAIRS.items()
    for stream in drifting + quiet
    for seed in ((1, 2) if name == "KSWIN" else (1, 2, 3))  # River's KSWIN is the slow one
    for must_fire in [stream in drifting]
]


def signals(detector: object, stream: list[float]) -> tuple[list[int], list[int]]:
    drifts, warnings = [], []
    for i, x in enumerate(stream):
        detector.update(x)
        if detector.drift_detected:
            drifts.append(i)
        if getattr(detector, "warning_detected", False):
            warnings.append(i)
    return drifts, warnings


@pytest.mark.parametrize(("name", "stream", "seed", "must_fire"), CASES)
def test_same_indices_as_river(name: str, stream: Callable, seed: int, must_fire: bool) -> None:
    ours, theirs, _, _ = PAIRS[name]
    data = stream(seed)
    our_drifts, our_warnings = signals(ours(), data)
    river_drifts, river_warnings = signals(theirs(), data)
    assert our_drifts == river_drifts
    assert our_warnings == river_warnings
    if must_fire:
        assert our_drifts, f"{name} saw no drift on {stream.__name__}"


# ---- state persists between executions ----------------------------------------------------

def detector_factories() -> list:
    return [
        pytest.param(ADWIN, abrupt, id="ADWIN"),
        pytest.param(lambda: ADWIN(clock=1), gradual, id="ADWIN-clock1"),
        pytest.param(lambda: KSWIN(seed=3), abrupt, id="KSWIN"),
        pytest.param(KSWIN, river_choices, id="KSWIN-unseeded"),
        pytest.param(PageHinkley, gradual, id="PageHinkley"),
        pytest.param(lambda: PageHinkley(mode="down", threshold=20), lambda s: [-v for v in
                     gradual(s)], id="PageHinkley-down"),
        pytest.param(DDM, errors_abrupt, id="DDM"),
        pytest.param(EDDM, errors_gradual, id="EDDM"),
        pytest.param(lambda: HDDM_A(two_sided_test=True), errors_abrupt, id="HDDM_A"),
        pytest.param(lambda: HDDM_W(two_sided_test=True), errors_abrupt, id="HDDM_W"),
    ]


@pytest.mark.parametrize(("factory", "stream"), detector_factories())
def test_restored_detector_continues_as_if_never_interrupted(factory, stream) -> None:
    data = stream(5)[:2000]
    initial = json.dumps(factory().to_state(), allow_nan=False)
    expected = signals(DriftDetector.from_state(json.loads(initial)), data)
    assert expected[0], "the stream should hold a drift"

    rng = random.Random(0)
    detector = DriftDetector.from_state(json.loads(initial))
    drifts, warnings, start = [], [], 0
    while start < len(data):
        stop = start + rng.randint(1, 80)  # an execution's window
        for i in range(start, min(stop, len(data))):
            detector.update(data[i])
            if detector.drift_detected:
                drifts.append(i)
            if getattr(detector, "warning_detected", False):
                warnings.append(i)
        stored = json.dumps(detector.to_state(), allow_nan=False)  # strict JSON
        detector = DriftDetector.from_state(json.loads(stored))
        assert detector.n_seen == min(stop, len(data))
        start = stop
    assert (drifts, warnings) == expected


def test_restored_right_after_a_drift_resets_on_next_value() -> None:
    data = errors_abrupt(1)
    drifts, _ = signals(DDM(), data)
    detector = DDM()
    for x in data[: drifts[0] + 1]:
        detector.update(x)
    restored = DDM.from_state(detector.to_state())
    assert restored.drift_detected
    rest = [i + drifts[0] + 1 for i in signals(restored, data[drifts[0] + 1 :])[0]]
    assert rest == drifts[1:]


def test_from_state_rejects_bad_state() -> None:
    state = ADWIN().to_state()
    with pytest.raises(FormatError, match="format_error"):
        DDM.from_state(state)
    with pytest.raises(FormatError):
        DriftDetector.from_state({"type": "Nope", "params": {}, "state": {}, "version": 1})
    with pytest.raises(FormatError):
        DriftDetector.from_state({**state, "version": 99})
    broken = json.loads(json.dumps(state))
    del broken["state"]["_totals"]
    with pytest.raises(FormatError, match="_totals"):
        DriftDetector.from_state(broken)
    assert isinstance(ADWIN.from_state(state), ADWIN)


# ---- API ------------------------------------------------------------------------------------

def test_public_names() -> None:
    assert sorted(vigil.checks.detectors.__all__) == sorted(
        ["ADWIN", "KSWIN", "PageHinkley", "DDM", "EDDM", "HDDM_A", "HDDM_W", "DriftDetector"]
    )


def test_river_defaults() -> None:
    assert repr(ADWIN()) == (
        "ADWIN(delta=0.002, clock=32, max_buckets=5, min_window_length=5, grace_period=10)"
    )
    k = KSWIN()
    assert (k.alpha, k.window_size, k.stat_size) == (0.005, 100, 30)
    ph = PageHinkley()
    assert (ph.min_instances, ph.delta, ph.threshold, ph.alpha, ph.mode) == (
        30, 0.005, 50.0, 0.9999, "both")
    assert (DDM().warm_start, DDM().warning_threshold, DDM().drift_threshold) == (30, 2.0, 3.0)
    assert (EDDM().alpha, EDDM().beta) == (0.95, 0.9)
    a, w = HDDM_A(), HDDM_W()
    assert (a.drift_confidence, a.warning_confidence, a.two_sided_test) == (0.001, 0.005, False)
    assert (w.drift_confidence, w.warning_confidence, w.lambda_val) == (0.001, 0.005, 0.05)
    assert not hasattr(ADWIN(), "warning_detected")
    assert not DDM().warning_detected


@pytest.mark.parametrize("cls", [ADWIN, KSWIN, PageHinkley, DDM, EDDM, HDDM_A, HDDM_W])
def test_bad_input_is_rejected_without_touching_state(cls) -> None:
    detector = cls()
    detector.update(1)
    before = detector.to_state()
    for bad in (float("nan"), float("inf")):
        with pytest.raises(InputError, match="input_error"):
            detector.update(bad)
    with pytest.raises((TypeError, ValueError)):
        detector.update("x")
    assert detector.to_state() == before


def test_bool_and_int_inputs_match_floats() -> None:
    data = errors_abrupt(2)
    assert signals(DDM(), [bool(v) for v in data]) == signals(DDM(), data)
    assert signals(HDDM_W(), [int(v) for v in data]) == signals(HDDM_W(), data)


def test_bad_parameters() -> None:
    with pytest.raises(ConfigError):
        PageHinkley(mode="sideways")
    with pytest.raises(ConfigError):
        EDDM(alpha=0.5, beta=0.9)
    with pytest.raises(ConfigError):
        KSWIN(window_size=10, stat_size=30)
    with pytest.raises(ConfigError):
        KSWIN(alpha=2)


def test_kswin_p_values_equal_rivers() -> None:
    data = abrupt(4)[:1200]
    ours, theirs = KSWIN(seed=11), river_drift.KSWIN(seed=11)
    for x in data:
        ours.update(x)
        theirs.update(x)
        assert ours.p_value == float(theirs.p_value)


def test_kswin_warm_window() -> None:
    warm = stationary(9)[:100]
    data = abrupt(9)[1400:1700]
    ours = signals(KSWIN(seed=1, window=warm), data)
    assert ours == signals(river_drift.KSWIN(seed=1, window=warm), data)
    assert ours[0]


def test_adwin_window_statistics_match_river() -> None:
    ours, theirs = ADWIN(), river_drift.ADWIN()
    for x in gradual(8):
        ours.update(x)
        theirs.update(x)
        assert (ours.width, ours.n_detections) == (theirs.width, theirs.n_detections)
        assert ours.total == pytest.approx(theirs.total, abs=1e-9)
        assert ours.variance == pytest.approx(theirs.variance, rel=1e-9, abs=1e-9)
        assert ours.estimation == pytest.approx(theirs.estimation, abs=1e-9)


NON_DEFAULT = [
    pytest.param(lambda m: m.ADWIN(delta=0.05, clock=1, min_window_length=1, grace_period=0),
                 abrupt, id="ADWIN-clock1"),
    pytest.param(lambda m: m.ADWIN(delta=0.1, clock=7, max_buckets=2), gradual, id="ADWIN-mb2"),
    pytest.param(lambda m: m.KSWIN(alpha=0.01, window_size=60, stat_size=20, seed=5), gradual,
                 id="KSWIN-small"),
    pytest.param(lambda m: m.PageHinkley(mode="up", threshold=20), gradual, id="PH-up"),
    pytest.param(lambda m: m.PageHinkley(mode="down", threshold=20, min_instances=5),
                 lambda s: [-v for v in gradual(s)], id="PH-down"),
    pytest.param(lambda m: m.HDDM_A(two_sided_test=True),
                 lambda s: [1.0 - v for v in errors_abrupt(s)], id="HDDM_A-2sided"),
    pytest.param(lambda m: m.HDDM_W(two_sided_test=True, lambda_val=0.1),
                 lambda s: [1.0 - v for v in errors_abrupt(s)], id="HDDM_W-2sided"),
    pytest.param(lambda m: m.EDDM(warm_start=10, alpha=0.8, beta=0.75), errors_gradual,
                 id="EDDM-tuned"),
    pytest.param(lambda m: m.DDM(warm_start=100, warning_threshold=1.5), errors_gradual,
                 id="DDM-tuned"),
]


class _River:
    """River's detectors under Vigil's names."""

    ADWIN, KSWIN, PageHinkley = river_drift.ADWIN, river_drift.KSWIN, river_drift.PageHinkley
    DDM, EDDM = river_binary.DDM, river_binary.EDDM
    HDDM_A, HDDM_W = river_binary.HDDMA, river_binary.HDDMW


@pytest.mark.parametrize(("make", "stream"), NON_DEFAULT)
def test_same_indices_as_river_with_other_parameters(make, stream) -> None:
    data = stream(6)
    ours = signals(make(vigil.checks.detectors), data)
    assert ours == signals(make(_River), data)
    assert ours[0]
