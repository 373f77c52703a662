"""``vigil demo``: a baseline from real data, a shifted window, the analysis and its report.

The data is scikit-learn's bundled breast-cancer set (569 real tumour measurements, 30
features; no download). Rows are split at random into a training half and a serving half. The
serving half gets a controlled shift: ``mean radius`` scaled by 1.25, ``mean texture`` shifted
by +4, and three malformed CSV rows, which the analysis skips and reports.
"""

from __future__ import annotations

from pathlib import Path

SHIFTS = {"mean radius": ("scaled by", 1.25), "mean texture": ("shifted by", 4.0)}


def write_demo_data(directory: Path, seed: int = 7) -> tuple[Path, Path]:
    """Write train.csv and window.csv (shifted, with three malformed rows)."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.drop(columns=["target"])
    frame["diagnosis"] = np.where(data.target == 1, "benign", "malignant")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    train = frame.iloc[order[: len(frame) // 2]]
    window = frame.iloc[order[len(frame) // 2 :]].copy()
    window["mean radius"] = window["mean radius"] * SHIFTS["mean radius"][1]
    window["mean texture"] = window["mean texture"] + SHIFTS["mean texture"][1]
    directory.mkdir(parents=True, exist_ok=True)
    train_path, window_path = directory / "train.csv", directory / "window.csv"
    train.to_csv(train_path, index=False)
    text = window.to_csv(index=False).splitlines()
    text[10:10] = ["1.0,2.0,truncated row", "not,a,valid,row", ",".join(["9"] * 40)]
    window_path.write_text("\n".join(text) + "\n")
    return train_path, window_path


def run_demo(output: Path) -> int:
    """Run the demo through the CLI's own commands; returns the analysis exit status."""
    from typer.testing import CliRunner

    from vigil.cli import app

    data_dir, base_dir, report_dir = output / "data", output / "baseline", output / "analysis"
    train, window = write_demo_data(data_dir)
    print(
        f"data: {train} (training half), {window} (serving half, shifted: "
        + ", ".join(f"{k} {how} {v}" for k, (how, v) in SHIFTS.items())
        + ")"
    )
    runner = CliRunner()
    step = runner.invoke(app, ["baseline", str(train), "--output", str(base_dir)])
    print("$ vigil baseline", train, "--output", base_dir)
    print(step.output, end="")
    if step.exit_code != 0:
        return step.exit_code
    step = runner.invoke(
        app, ["analyze", str(window), "--baseline", str(base_dir), "--output", str(report_dir)]
    )
    print("$ vigil analyze", window, "--baseline", base_dir, "--output", report_dir)
    print(step.output, end="")
    print(f"\nopen the report: {(report_dir / 'report.html').resolve()}")
    return step.exit_code
