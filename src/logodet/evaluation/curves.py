"""Precision-recall and F1-vs-confidence curves, and their plots.

The curves come from the IoU-0.5 matching of
:func:`logodet.evaluation.matching.match_coco` (the one behind the best-F1
point of :class:`~logodet.evaluation.detection.DetectionMetrics`), one point per
distinct detection score. Plots use matplotlib's object API with the Agg
renderer (no global backend switch) and are written atomically as PNG.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from logodet.evaluation.matching import MatchResult, best_operating_point, sweep_thresholds
from logodet.io import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Curve", "compute_curves", "plot_f1_curve", "plot_pr_curve", "save_curve_plots"]

MAX_CLASS_LINES = 10


@dataclass(frozen=True)
class Curve:
    """Operating points by descending confidence threshold (all arrays the same length)."""

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray

    def __len__(self) -> int:
        return len(self.thresholds)


def compute_curves(match: MatchResult, per_class: bool = True) -> dict[str, Curve]:
    """The pooled curve (key ``"all"``) and, if ``per_class``, one curve per category name.

    Example:
        >>> m = MatchResult(np.array([0.9, 0.4]), np.array([True, False]), np.array([1, 1]), {1: 1}, category_names={1: "acme"})
        >>> {k: c.precision.tolist() for k, c in compute_curves(m).items()}
        {'all': [1.0, 0.5], 'acme': [1.0, 0.5]}
    """
    curves = {"all": Curve(*sweep_thresholds(match))}
    if per_class:
        for cid, name in match.category_names.items():
            curves[name] = Curve(*sweep_thresholds(match.for_category(cid)))
    return curves


def _new_axes(title: str, xlabel: str, ylabel: str) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 5))
    ax = fig.add_subplot()
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    return fig, ax


def _draw(ax: Axes, curves: Mapping[str, Curve], xy: Callable[[Curve], tuple[np.ndarray, np.ndarray]]) -> None:
    per_class = {name: c for name, c in curves.items() if name != "all" and len(c)}
    if len(per_class) <= MAX_CLASS_LINES:  # beyond that, class lines are clutter: the pooled curve only
        for name, curve in per_class.items():
            ax.plot(*xy(curve), linewidth=0.8, alpha=0.6, label=name)
    pooled = curves.get("all")
    if pooled is not None and len(pooled):
        ax.plot(*xy(pooled), linewidth=2.2, color="black", label="all classes")
        ax.legend(loc="best", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no predictions", ha="center", va="center")


def _save_figure(fig: Figure, path: str | Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue())
    return path


def plot_pr_curve(curves: Mapping[str, Curve], path: str | Path) -> Path:
    """Plot precision against recall to a PNG: the pooled curve bold, class curves thin when there are at most 10.

    Example:
        >>> plot_pr_curve(compute_curves(metrics.match), "out/pr_curve.png")  # doctest: +SKIP
    """
    fig, ax = _new_axes("Precision-recall (IoU 0.5)", "recall", "precision")
    _draw(ax, curves, lambda c: (c.recall, c.precision))
    return _save_figure(fig, path)


def plot_f1_curve(curves: Mapping[str, Curve], path: str | Path, match: MatchResult | None = None) -> Path:
    """Plot F1 against the confidence threshold to a PNG, marking the best-F1 point of ``match``.

    Example:
        >>> plot_f1_curve(compute_curves(metrics.match), "out/f1_curve.png", metrics.match)  # doctest: +SKIP
    """
    fig, ax = _new_axes("F1 vs confidence (IoU 0.5)", "confidence threshold", "F1")
    _draw(ax, curves, lambda c: (c.thresholds, c.f1))
    if match is not None:
        op = best_operating_point(match)
        if op.f1 > 0:
            ax.plot([op.threshold], [op.f1], "o", color="black")
            ax.annotate(f"F1 {op.f1:.3f} @ {op.threshold:.3g}", (op.threshold, op.f1), textcoords="offset points", xytext=(6, 6))
    return _save_figure(fig, path)


def save_curve_plots(match: MatchResult, out_dir: str | Path, per_class: bool = True) -> tuple[Path, Path]:
    """Write ``pr_curve.png`` and ``f1_curve.png`` under ``out_dir``; returns both paths.

    Example:
        >>> save_curve_plots(evaluate_coco(gt, preds).match, "runs/eval")  # doctest: +SKIP
    """
    curves = compute_curves(match, per_class)
    out_dir = Path(out_dir)
    return plot_pr_curve(curves, out_dir / "pr_curve.png"), plot_f1_curve(curves, out_dir / "f1_curve.png", match)
