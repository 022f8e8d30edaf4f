"""Classification metrics as stateful ``update / reset / compute`` objects (pure numpy).

* :class:`TopKError` — single-label top-k accuracy and error from logits (or
  any scores). The true class is within the top ``k`` when fewer than ``k``
  classes rank before it; ranking is by descending score, **ties broken in
  favour of the lower class index** (a stable sort). ``k`` at least the number
  of classes counts every sample as correct.
* :class:`MultiLabelPRF` — multi-label precision, recall and F1: a class is
  predicted for a sample when its score is ``>= threshold``.

Undefined values, the rule for both objects:

* before any sample (or after ``reset``) every metric is ``NaN``;
* for :class:`MultiLabelPRF`, a class *absent from both prediction and truth*
  gets ``NaN`` precision / recall / F1 and is excluded from the macro mean;
  a class present on one side only gets 0 for a ratio whose denominator is 0
  (never predicted: precision 0; never true: recall 0); the micro average is
  ``NaN`` only when no class is present anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MultiLabelPRF", "PRFResult", "TopKError", "TopKResult"]


def _as_2d(values: Any, name: str, owner: str) -> np.ndarray:
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}.update: {name}: not an array ({exc})") from exc
    if arr.ndim != 2:
        raise ValueError(f"{owner}.update: {name}: expected shape [N, C], got {list(arr.shape)}")
    return arr


@dataclass(frozen=True)
class TopKResult:
    """Top-k accuracy and error (``1 - accuracy``) per ``k``, over ``count`` samples (``NaN`` when 0)."""

    accuracy: dict[int, float]
    error: dict[int, float]
    count: int


class TopKError:
    """Single-label top-k error.

    Args:
        k: one ``k`` or several (each a positive integer).

    Example:
        >>> m = TopKError(k=(1, 2))
        >>> m.update([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]], [2, 0])
        >>> m.compute().error
        {1: 0.5, 2: 0.0}
    """

    def __init__(self, k: int | Sequence[int] = (1, 5)) -> None:
        ks = list(k) if isinstance(k, (list, tuple, set, range, np.ndarray)) else [k]
        if not ks or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in ks):
            raise ValueError(f"TopKError: k must be positive integers, got {k!r}")
        self.k = tuple(sorted({int(v) for v in ks}))
        self.reset()

    def reset(self) -> None:
        """Forget every sample."""
        self._hits = dict.fromkeys(self.k, 0)
        self._count = 0
        self._num_classes: int | None = None

    def update(self, logits: Any, labels: Any) -> None:
        """Add a batch.

        Args:
            logits: ``[N, C]`` finite scores (logits or probabilities; only their order matters).
            labels: ``[N]`` integer class indices in ``[0, C)``.

        Raises:
            ValueError: bad shapes, non-finite scores, labels out of range, or ``C``
                differing from earlier batches.
        """
        scores = _as_2d(logits, "logits", "TopKError").astype(np.float64)
        y = np.asarray(labels)
        n, c = scores.shape
        if y.shape != (n,):
            raise ValueError(f"TopKError.update: labels: expected shape [{n}], got {list(y.shape)}")
        if y.size and not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"TopKError.update: labels: expected integers, got dtype {y.dtype}")
        if self._num_classes is not None and c != self._num_classes:
            raise ValueError(f"TopKError.update: logits: {c} classes, earlier batches had {self._num_classes}")
        if not np.all(np.isfinite(scores)):
            raise ValueError("TopKError.update: logits: values must be finite")
        if y.size and (y.min() < 0 or y.max() >= c):
            raise ValueError(f"TopKError.update: labels: values must be in [0, {c}), got {int(y.min())}..{int(y.max())}")
        self._num_classes = c
        if n == 0:
            return
        true = scores[np.arange(n), y][:, None]
        idx = np.arange(c)[None, :]
        rank = np.sum((scores > true) | ((scores == true) & (idx < y[:, None])), axis=1)
        for k in self.k:
            self._hits[k] += int(np.sum(rank < k))
        self._count += n

    def compute(self) -> TopKResult:
        """Accuracy and error per ``k`` over every sample since the last ``reset``."""
        acc = {k: (self._hits[k] / self._count if self._count else float("nan")) for k in self.k}
        return TopKResult(acc, {k: 1.0 - v for k, v in acc.items()}, self._count)


@dataclass(frozen=True)
class PRFResult:
    """Precision, recall, F1 and support: floats for ``micro`` / ``macro``, ``[C]`` arrays for ``average=None``.

    ``support`` counts true labels (per class, or in total).
    """

    precision: float | np.ndarray
    recall: float | np.ndarray
    f1: float | np.ndarray
    support: int | np.ndarray
    average: str | None


class MultiLabelPRF:
    """Multi-label precision / recall / F1 (rules for undefined values in the module docstring).

    Args:
        num_classes: number of labels ``C``.
        threshold: a label is predicted when its score is ``>= threshold``
            (boolean predictions count as 0 / 1).
        average: ``"micro"`` (pool every sample and label), ``"macro"`` (mean
            over classes present in prediction or truth) or ``None`` (per class).

    Example:
        >>> m = MultiLabelPRF(3, average=None)
        >>> m.update([[0.9, 0.2, 0.0], [0.8, 0.6, 0.1]], [[1, 0, 0], [0, 1, 0]])
        >>> r = m.compute()
        >>> r.precision.tolist(), r.recall.tolist()
        ([0.5, 1.0, nan], [1.0, 1.0, nan])
    """

    def __init__(self, num_classes: int, threshold: float = 0.5, average: str | None = "micro") -> None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
            raise ValueError(f"MultiLabelPRF: num_classes must be a positive integer, got {num_classes!r}")
        if average not in ("micro", "macro", None):
            raise ValueError(f"MultiLabelPRF: average must be 'micro', 'macro' or None, got {average!r}")
        if not np.isfinite(threshold):
            raise ValueError(f"MultiLabelPRF: threshold must be finite, got {threshold!r}")
        self.num_classes = int(num_classes)
        self.threshold = float(threshold)
        self.average = average
        self.reset()

    def reset(self) -> None:
        """Forget every sample."""
        self._tp = np.zeros(self.num_classes, np.int64)
        self._fp = np.zeros(self.num_classes, np.int64)
        self._fn = np.zeros(self.num_classes, np.int64)
        self._count = 0

    def update(self, preds: Any, targets: Any) -> None:
        """Add a batch.

        Args:
            preds: ``[N, C]`` scores or booleans.
            targets: ``[N, C]`` 0 / 1 (or boolean) indicators.

        Raises:
            ValueError: shapes that do not match ``[N, num_classes]``, non-finite
                scores, or targets other than 0 and 1.
        """
        c = self.num_classes
        p = _as_2d(preds, "preds", "MultiLabelPRF")
        t = _as_2d(targets, "targets", "MultiLabelPRF")
        if p.shape[1] != c or t.shape != p.shape:
            raise ValueError(f"MultiLabelPRF.update: expected preds and targets of shape [N, {c}], got {list(p.shape)} and {list(t.shape)}")
        try:
            p = p.astype(np.float64)
            t_num = t.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"MultiLabelPRF.update: preds / targets must be numeric ({exc})") from exc
        if not np.all(np.isfinite(p)):
            raise ValueError("MultiLabelPRF.update: preds: values must be finite")
        if not np.all((t_num == 0) | (t_num == 1)):
            raise ValueError("MultiLabelPRF.update: targets: values must be 0 or 1")
        pred, true = p >= self.threshold, t_num == 1
        self._tp += np.sum(pred & true, axis=0)
        self._fp += np.sum(pred & ~true, axis=0)
        self._fn += np.sum(~pred & true, axis=0)
        self._count += len(p)

    def compute(self) -> PRFResult:
        """Metrics over every sample since the last ``reset``."""
        tp, fp, fn = (x.astype(np.float64) for x in (self._tp, self._fp, self._fn))
        support = self._tp + self._fn
        if self.average == "micro":
            t, f_p, f_n = tp.sum(), fp.sum(), fn.sum()
            if t + f_p + f_n == 0:
                nan = float("nan")
                return PRFResult(nan, nan, nan, int(support.sum()), "micro")
            p = t / (t + f_p) if t + f_p else 0.0
            r = t / (t + f_n) if t + f_n else 0.0
            return PRFResult(float(p), float(r), float(2 * t / (2 * t + f_p + f_n)), int(support.sum()), "micro")
        present = (tp + fp + fn) > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
            r = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
            f1 = np.where(present, 2 * tp / (2 * tp + fp + fn), 0.0)
        p, r, f1 = (np.where(present, v, np.nan) for v in (p, r, f1))
        if self.average is None:
            return PRFResult(p, r, f1, support, None)
        if not present.any():
            nan = float("nan")
            return PRFResult(nan, nan, nan, int(support.sum()), "macro")
        return PRFResult(float(p[present].mean()), float(r[present].mean()), float(f1[present].mean()), int(support.sum()), "macro")
