"""Semantic segmentation metrics as a stateful ``update / reset / compute`` object (pure numpy).

:class:`SegmentationMetrics` accumulates a ``C x C`` pixel confusion matrix
(rows: truth, columns: prediction) and derives, per class ``c`` with
``tp``, ``fp``, ``fn`` pixel counts:

* IoU ``tp / (tp + fp + fn)`` and Dice ``2 tp / (2 tp + fp + fn)``;
* class accuracy (recall) ``tp / (tp + fn)``;
* pixel accuracy ``trace / total`` over every counted pixel.

Undefined values are ``NaN``: IoU and Dice of a class absent from both
prediction and truth, class accuracy of a class absent from the truth, and
everything before the first counted pixel. Means (``mean_iou``,
``mean_dice``, ``mean_class_accuracy``) average the defined values only, so
absent classes are excluded; a mean with nothing to average is ``NaN``.
Pixels whose target equals ``ignore_index`` are not counted at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SegmentationMetrics", "SegmentationResult"]


@dataclass(frozen=True)
class SegmentationResult:
    """Per-class and mean segmentation metrics (``NaN`` marks undefined values; see the module docstring)."""

    confusion: np.ndarray
    iou: np.ndarray
    dice: np.ndarray
    class_accuracy: np.ndarray
    mean_iou: float
    mean_dice: float
    mean_class_accuracy: float
    pixel_accuracy: float


def _is_label_map(arr: np.ndarray) -> bool:
    return arr.size == 0 or np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_


def _nanmean(values: np.ndarray) -> float:
    valid = values[~np.isnan(values)]
    return float(valid.mean()) if valid.size else float("nan")


class SegmentationMetrics:
    """Pixel confusion matrix with IoU, Dice and accuracy.

    Args:
        num_classes: number of classes ``C`` (labels ``0..C-1``).
        ignore_index: a target value whose pixels are skipped (may lie outside ``0..C-1``, e.g. 255).

    Example:
        >>> m = SegmentationMetrics(2)
        >>> m.update([[0, 1], [1, 1]], [[0, 1], [0, 1]])
        >>> r = m.compute()
        >>> r.iou.tolist(), r.pixel_accuracy
        ([0.5, 0.6666666666666666], 0.75)
    """

    def __init__(self, num_classes: int, ignore_index: int | None = None) -> None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(f"SegmentationMetrics: num_classes must be a positive integer, got {num_classes!r}")
        if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer))):
            raise ValueError(f"SegmentationMetrics: ignore_index must be an integer or None, got {ignore_index!r}")
        self.num_classes = int(num_classes)
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self.reset()

    def reset(self) -> None:
        """Forget every pixel."""
        self._confusion = np.zeros((self.num_classes, self.num_classes), np.int64)

    def update(self, preds: Any, target: Any) -> None:
        """Add predictions and targets of any matching shape (one image, or a batch).

        Args:
            preds: integer label map of the same shape as ``target``, or scores
                with one more axis, the class axis third from last (``[N, C, H, W]``
                for ``[N, H, W]`` targets, ``[C, H, W]`` for ``[H, W]``), reduced
                with ``argmax`` (ties to the lower class).
            target: integer label map, values in ``[0, C)`` or ``ignore_index``.

        Raises:
            ValueError: mismatched shapes, non-integer label maps, or labels
                outside ``[0, C)``.
        """
        c = self.num_classes
        p, t = np.asarray(preds), np.asarray(target)
        if not _is_label_map(t):
            raise ValueError(f"SegmentationMetrics.update: target: expected an integer label map, got dtype {t.dtype}")
        if p.ndim == t.ndim + 1 and p.ndim >= 3:
            axis = p.ndim - 3
            if p.shape[axis] != c:
                raise ValueError(f"SegmentationMetrics.update: preds: class axis {axis} has {p.shape[axis]} entries, expected {c}")
            if not np.issubdtype(p.dtype, np.number) or not np.all(np.isfinite(p)):
                raise ValueError("SegmentationMetrics.update: preds: scores must be finite numbers")
            p = np.argmax(p, axis=axis)
        elif not _is_label_map(p):
            raise ValueError(f"SegmentationMetrics.update: preds: expected an integer label map or class scores, got dtype {p.dtype}")
        if p.shape != t.shape:
            raise ValueError(f"SegmentationMetrics.update: preds shape {list(p.shape)} does not match target shape {list(t.shape)}")
        p, t = p.reshape(-1).astype(np.int64), t.reshape(-1).astype(np.int64)
        if self.ignore_index is not None:
            keep = t != self.ignore_index
            p, t = p[keep], t[keep]
        for name, v in (("target", t), ("preds", p)):
            if v.size and (v.min() < 0 or v.max() >= c):
                bad = int(v[(v < 0) | (v >= c)][0])
                raise ValueError(f"SegmentationMetrics.update: {name}: label {bad} outside [0, {c})")
        self._confusion += np.bincount(t * c + p, minlength=c * c).reshape(c, c)

    def compute(self) -> SegmentationResult:
        """Metrics over every pixel since the last ``reset``."""
        m = self._confusion.astype(np.float64)
        tp = np.diag(m)
        fp, fn = m.sum(axis=0) - tp, m.sum(axis=1) - tp
        with np.errstate(divide="ignore", invalid="ignore"):
            union = tp + fp + fn
            iou = np.where(union > 0, tp / union, np.nan)
            dice = np.where(union > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
            acc = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        total = m.sum()
        return SegmentationResult(
            confusion=self._confusion.copy(),
            iou=iou,
            dice=dice,
            class_accuracy=acc,
            mean_iou=_nanmean(iou),
            mean_dice=_nanmean(dice),
            mean_class_accuracy=_nanmean(acc),
            pixel_accuracy=float(np.trace(m) / total) if total else float("nan"),
        )
