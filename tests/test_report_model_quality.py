"""The model-quality report against scikit-learn: the ROC and PR curves it draws map back onto
``roc_curve`` and ``precision_recall_curve``, its confusion matrix is ``confusion_matrix``,
every metric stands against its constraint, and the header names what the report covers
(also the data-quality report's)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve

from vigil.analysis.baseline import suggest_baseline
from vigil.analysis.data_quality import analyze
from vigil.analysis.model_quality import analyze_model_quality, suggest_model_quality_baseline
from vigil.report.context import ReportContext
from vigil.report.model_quality import CURVE

CONTEXT = ReportContext(
    endpoint="churn <prod>",
    schedule="hourly-mq",
    window_start=datetime(2024, 5, 1, 3, tzinfo=timezone.utc),
    window_end=datetime(2024, 5, 1, 4, tzinfo=timezone.utc),
    execution_id="0b5c-exec",
    monitor_type="ModelQuality",
)


def scores(n: int, seed: int, signal: float) -> tuple[np.ndarray, np.ndarray]:
    """Labels 0/1 and scores that separate them by ``signal``."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = np.clip(signal * y + rng.normal(0.5 - signal / 2, 0.2, n), 0, 1).round(3)
    return y, s


def drawn(html: str, svg_id: str, css: str = "window") -> np.ndarray:
    """The data points of the polyline ``css`` in the SVG ``svg_id``, mapped back from pixels."""
    svg = re.search(rf'<svg class="curve" id="{svg_id}".*?</svg>', html, re.S)
    assert svg, f"no SVG {svg_id}"
    line = re.search(rf'<polyline class="{css}" points="([^"]*)"', svg.group(0))
    assert line, f"no {css} curve in {svg_id}"
    pairs = [p.split(",") for p in line.group(1).split()]
    return np.array([CURVE.data_of(float(x), float(y)) for x, y in pairs])


def confusion_cells(html: str) -> dict[tuple[str, str], int]:
    table = re.search(r'<table class="confusion".*?</table>', html, re.S)
    assert table
    return {
        (a, p): int(n)
        for a, p, n in re.findall(
            r'<td data-actual="([^"]*)" data-predicted="([^"]*)"[^>]*>(\d+)</td>', table.group(0)
        )
    }


@pytest.fixture(scope="module")
def binary() -> dict:
    y0, s0 = scores(400, 1, 0.6)
    base = suggest_model_quality_baseline(
        pa.table({"y": y0, "p": s0}), "BinaryClassification",
        ground_truth_attribute="y", probability_attribute="p",
    )
    y, s = scores(300, 2, 0.25)  # a weaker model in the window: violations
    run = analyze_model_quality(pa.table({"y": y, "p": s}), base, ground_truth_attribute="y",
                                probability_attribute="p")
    html = run.to_html(CONTEXT, base.statistics)
    return {"y": y, "s": s, "y0": y0, "s0": s0, "base": base, "run": run, "html": html}


def test_roc_curve_is_scikit_learns(binary: dict) -> None:
    fpr, tpr, _ = roc_curve(binary["y"], binary["s"])
    got = drawn(binary["html"], "roc-curve")
    assert len(got) == len(fpr)
    np.testing.assert_allclose(got[:, 0], fpr, atol=1e-4)
    np.testing.assert_allclose(got[:, 1], tpr, atol=1e-4)
    # the baseline's curve is drawn too, from the baseline's own data
    fpr0, tpr0, _ = roc_curve(binary["y0"], binary["s0"])
    base = drawn(binary["html"], "roc-curve", "baseline")
    np.testing.assert_allclose(base, np.column_stack([fpr0, tpr0]), atol=1e-4)


def test_precision_recall_curve_is_scikit_learns(binary: dict) -> None:
    # the statistics keep the curve's corners only, as scikit-learn's drop_intermediate does
    precision, recall, _ = precision_recall_curve(binary["y"], binary["s"],
                                                  drop_intermediate=True)
    got = drawn(binary["html"], "pr-curve")  # x recall (ascending), y precision
    np.testing.assert_allclose(got[:, 0], recall[::-1], atol=1e-4)
    np.testing.assert_allclose(got[:, 1], precision[::-1], atol=1e-4)


def test_confusion_matrix_is_scikit_learns(binary: dict) -> None:
    predicted = (binary["s"] >= 0.5).astype(int)
    cm = confusion_matrix(binary["y"], predicted, labels=[0, 1])
    cells = confusion_cells(binary["html"])
    assert cells == {(str(a), str(p)): int(cm[a, p]) for a in (0, 1) for p in (0, 1)}


def test_every_metric_against_its_threshold(binary: dict) -> None:
    html, run = binary["html"], binary["run"]
    fired = {v.metric_name for v in run.violations}
    assert fired, "the weaker model violates its constraints"
    for name, c in run.constraints.constraints.items():
        row = re.search(rf'<tr data-metric="{name}"( class=violated)?>(.*?)</tr>', html, re.S)
        assert row, name
        assert (row.group(1) is not None) == (name in fired), name
        cells = re.findall(r"<td>(.*?)</td>", row.group(2))
        assert float(cells[1]) == pytest.approx(run.metrics[name], rel=1e-3), name
        assert f"{float(c.threshold):.4g}" in cells[3] and c.comparison_operator in cells[3]
        assert ("violated" in cells[4]) == (name in fired)


def test_the_header_names_what_the_report_covers(binary: dict, tmp_path: Path) -> None:
    html = binary["html"]
    assert 'data-field="endpoint">churn &lt;prod&gt;</dd>' in html  # escaped
    assert 'data-field="schedule">hourly-mq (ModelQuality)</dd>' in html
    assert "2024-05-01 03:00:00Z to 2024-05-01 04:00:00Z (UTC)" in html
    assert 'data-field="execution">0b5c-exec</dd>' in html
    # save writes it, and no report leaves a script in it (the dashboard's CSP)
    out = binary["run"].save(tmp_path / "mq", CONTEXT)
    written = (out / "report.html").read_text()
    assert "report-covers" in written and "<script" not in written.lower()
    # a report of no execution (vigil analyze) has no header
    assert "report-covers" not in binary["run"].to_html()


def test_long_curves_are_thinned_onto_scikit_learns_points() -> None:
    y, s = scores(20_000, 3, 0.3)
    s = s + np.random.default_rng(4).uniform(0, 1e-3, len(s))  # thousands of thresholds
    base = suggest_model_quality_baseline(pa.table({"y": y, "p": s}), "BinaryClassification",
                                          ground_truth_attribute="y", probability_attribute="p")
    html = analyze_model_quality(
        pa.table({"y": y, "p": s}), base, ground_truth_attribute="y", probability_attribute="p"
    ).to_html()
    fpr, tpr, _ = roc_curve(y, s)
    assert len(fpr) > 1000
    got = drawn(html, "roc-curve")
    assert 2 < len(got) <= 1000
    full = np.column_stack([fpr, tpr])
    # every drawn point lies on scikit-learn's curve; both end points are kept
    nearest = np.abs(full[None, :, :] - got[:, None, :]).max(axis=2).min(axis=1)
    assert nearest.max() < 1e-4
    np.testing.assert_allclose(got[[0, -1]], full[[0, -1]], atol=1e-4)


def test_multiclass_confusion_matrix_and_no_curves() -> None:
    rng = np.random.default_rng(5)
    truth = rng.choice(["cat", "dog", "emu"], 240)
    pred = np.where(rng.uniform(size=240) < 0.7, truth, rng.choice(["cat", "dog", "emu"], 240))
    table = pa.table({"y": truth, "yhat": pred})
    base = suggest_model_quality_baseline(table, "MulticlassClassification",
                                          inference_attribute="yhat", ground_truth_attribute="y")
    html = analyze_model_quality(table, base, inference_attribute="yhat",
                                 ground_truth_attribute="y").to_html(CONTEXT)
    labels = ["cat", "dog", "emu"]
    cm = confusion_matrix(truth, pred, labels=labels)
    assert confusion_cells(html) == {
        (a, p): int(cm[i, j]) for i, a in enumerate(labels) for j, p in enumerate(labels)
    }
    assert 'class="curve"' not in html  # ROC and PR are a binary classifier's


def test_data_quality_report_names_what_it_covers(tmp_path: Path) -> None:
    base = suggest_baseline(pa.table({"x": [float(i) for i in range(300)]}))
    result = analyze(pa.table({"x": [float(i) + 100 for i in range(300)]}), base)
    ctx = ReportContext("churn", "hourly", CONTEXT.window_start, CONTEXT.window_end, "e-7")
    html = (result.save(tmp_path / "dq", ctx) / "report.html").read_text()
    assert 'data-field="endpoint">churn</dd>' in html
    assert 'data-field="schedule">hourly (DataQuality)</dd>' in html
    assert 'data-field="window">2024-05-01 03:00:00Z to 2024-05-01 04:00:00Z (UTC)</dd>' in html
    assert 'data-field="execution">e-7</dd>' in html
    assert "report-covers" not in result.to_html()
