"""PR and F1 curves from the IoU-0.5 matching, and their PNG plots."""

from __future__ import annotations

import numpy as np
import pytest

from logodet.evaluation.curves import Curve, compute_curves, plot_f1_curve, plot_pr_curve, save_curve_plots
from logodet.evaluation.detection import evaluate_coco
from logodet.evaluation.matching import MatchResult

PNG = b"\x89PNG\r\n\x1a\n"


def _match() -> MatchResult:
    # class 1: TP, FP, TP with 3 GT; class 2: TP with 1 GT
    return MatchResult(
        scores=np.array([0.9, 0.8, 0.7, 0.5]),
        is_tp=np.array([True, False, True, True]),
        category_ids=np.array([1, 1, 2, 1]),
        num_gt={1: 3, 2: 1},
        category_names={1: "acme", 2: "globex"},
    )


def test_pooled_and_per_class_curves():
    curves = compute_curves(_match())
    assert list(curves) == ["all", "acme", "globex"]
    pooled = curves["all"]
    np.testing.assert_allclose(pooled.thresholds, [0.9, 0.8, 0.7, 0.5])
    np.testing.assert_allclose(pooled.precision, [1, 0.5, 2 / 3, 0.75])
    np.testing.assert_allclose(pooled.recall, [0.25, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(pooled.f1, 2 * pooled.precision * pooled.recall / (pooled.precision + pooled.recall))
    acme = curves["acme"]
    np.testing.assert_allclose(acme.thresholds, [0.9, 0.8, 0.5])
    np.testing.assert_allclose(acme.recall, [1 / 3, 1 / 3, 2 / 3])
    assert curves["globex"].precision.tolist() == [1.0]
    assert list(compute_curves(_match(), per_class=False)) == ["all"]


def test_recall_is_monotone_on_real_fixture(coco_fixture):
    m = evaluate_coco(*coco_fixture)
    curve = compute_curves(m.match)["all"]
    assert np.all(np.diff(curve.recall) >= 0) and np.all(np.diff(curve.thresholds) < 0)
    best = int(np.argmax(curve.f1))
    assert curve.f1[best] == pytest.approx(m.best_f1) and curve.thresholds[best] == pytest.approx(m.best_f1_threshold)


def test_plots_are_written_atomically(tmp_path):
    curves = compute_curves(_match())
    pr = plot_pr_curve(curves, tmp_path / "a" / "pr.png")
    f1 = plot_f1_curve(curves, tmp_path / "a" / "f1.png", _match())
    assert pr.read_bytes()[:8] == PNG and f1.read_bytes()[:8] == PNG
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["f1.png", "pr.png"]


def test_empty_match_still_plots(tmp_path):
    empty = MatchResult(np.zeros(0), np.zeros(0, bool), np.zeros(0, np.int64), {1: 2}, category_names={1: "acme"})
    curves = compute_curves(empty)
    assert all(isinstance(c, Curve) and len(c) == 0 for c in curves.values())
    paths = save_curve_plots(empty, tmp_path)
    assert [p.name for p in paths] == ["pr_curve.png", "f1_curve.png"] and all(p.read_bytes()[:8] == PNG for p in paths)
