"""Items per second through each of Vigil's drift detectors, beside River 0.26's on the same stream.

Both sides see the same Python list of floats one item at a time (``update(x)`` then a read of
``drift_detected``), as a monitoring job feeds them. Real-valued detectors (ADWIN, KSWIN,
PageHinkley) get a normal stream whose mean shifts every 10,000 items; the error-rate detectors
(DDM, EDDM, HDDM_A, HDDM_W) get a 0/1 stream whose error rate alternates between 0.1 and 0.3
every 10,000 items. The detection indices of both sides are compared and reported. Time is the
best of R runs.

Reproduce: ``.venv/bin/python bench/bench_detectors.py`` (writes section "detectors" of
bench/RESULTS.md; ``--items N``, ``--repeat R``, ``--no-write``).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from river.drift import ADWIN as RiverADWIN  # noqa: E402
from river.drift import KSWIN as RiverKSWIN  # noqa: E402
from river.drift import PageHinkley as RiverPageHinkley  # noqa: E402
from river.drift.binary import DDM as RiverDDM  # noqa: E402
from river.drift.binary import EDDM as RiverEDDM  # noqa: E402
from river.drift.binary import HDDMA as RiverHDDMA  # noqa: E402
from river.drift.binary import HDDMW as RiverHDDMW  # noqa: E402

from results import write_section  # noqa: E402
from vigil.checks.detectors import ADWIN, DDM, EDDM, HDDM_A, HDDM_W, KSWIN, PageHinkley  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_detectors.py"
PERIOD = 10_000


def real_stream(n: int) -> list[float]:
    rng = np.random.default_rng(42)
    means = (np.arange(n) // PERIOD % 2) * 1.5
    return [float(v) for v in rng.normal(means, 1.0)]


def error_stream(n: int) -> list[float]:
    rng = np.random.default_rng(42)
    rate = np.where(np.arange(n) // PERIOD % 2 == 0, 0.1, 0.3)
    return [float(v) for v in rng.random(n) < rate]


DETECTORS: list[tuple[str, Callable, Callable, str]] = [
    ("ADWIN", ADWIN, RiverADWIN, "real"),
    ("KSWIN", lambda: KSWIN(seed=42), lambda: RiverKSWIN(seed=42), "real"),
    ("PageHinkley", PageHinkley, RiverPageHinkley, "real"),
    ("DDM", DDM, RiverDDM, "errors"),
    ("EDDM", EDDM, RiverEDDM, "errors"),
    ("HDDM_A", HDDM_A, RiverHDDMA, "errors"),
    ("HDDM_W", HDDM_W, RiverHDDMW, "errors"),
]


def run(factory: Callable, stream: list[float]) -> tuple[float, list[int]]:
    detector = factory()
    update = detector.update
    drifts = []
    start = time.perf_counter()
    for i, x in enumerate(stream):
        update(x)
        if detector.drift_detected:
            drifts.append(i)
    return time.perf_counter() - start, drifts


def best(factory: Callable, stream: list[float], repeat: int) -> tuple[float, list[int]]:
    runs = [run(factory, stream) for _ in range(repeat)]
    return min(t for t, _ in runs), runs[0][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    streams = {"real": real_stream(args.items), "errors": error_stream(args.items)}

    rows = []
    for name, ours, theirs, kind in DETECTORS:
        stream = streams[kind]
        repeat = 1 if name == "KSWIN" else args.repeat  # River's KSWIN takes ~0.3 ms an item
        t_ours, d_ours = best(ours, stream, repeat)
        t_river, d_river = best(theirs, stream, repeat)
        same = "yes" if d_ours == d_river else "NO"
        rows.append(
            f"| {name} | {kind} | {args.items / t_ours:,.0f} | {args.items / t_river:,.0f} "
            f"| {t_river / t_ours:.2f} | {len(d_ours)} | {same} |"
        )
        print(rows[-1], flush=True)

    text = "\n".join(
        [
            "## Concept-drift detectors: Vigil vs River",
            "",
            f"Items per second through `update(x)` on one {args.items:,}-item stream (best of "
            f"{args.repeat}, KSWIN once). Python {platform.python_version()}, River "
            f"{metadata.version('river')} (ADWIN and the EWMA in HDDM_W are Rust there; "
            f"Vigil's are pure Python), scipy {metadata.version('scipy')}, "
            f"{platform.machine()}.",
            "",
            "| detector | stream | Vigil items/s | River items/s | Vigil / River | drifts "
            "| same indices |",
            "|---|---|---:|---:|---:|---:|---|",
            *rows,
            "",
            f"Reproduce: `{COMMAND}`",
        ]
    )
    if not args.no_write:
        write_section("detectors", text)
    else:
        print(text)


if __name__ == "__main__":
    main()
