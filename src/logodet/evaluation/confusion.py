"""Detection confusion matrix at one confidence threshold, with a background row and column.

Only detections with ``score >= threshold`` take part. Matching runs per
image, detections visited by descending score (stable: equal scores keep their
input order), in three stages:

1. **Same class** — exactly the IoU matching of
   :func:`logodet.evaluation.matching.match_coco`: each detection takes the
   unmatched, non-crowd ground-truth box *of its class* with the highest
   IoU >= ``iou_threshold`` (ties go to the later box). These are the diagonal
   cells, so the diagonal equals the true positives of the PR curve at
   ``threshold``.
2. **Crowd** — a detection left unmatched that covers a crowd region of its
   class (``intersection / detection area >= iou_threshold``) is *ignored*,
   as in COCO: it is counted nowhere.
3. **Cross class** — the detections still unmatched, again by descending
   score, each take the still-unmatched non-crowd box of *any* class with the
   highest IoU >= ``iou_threshold`` (class-agnostic IoU; after stage 1 only
   boxes of other classes can qualify). Cell ``[true class, predicted class]``.

Every detection still unmatched is a false positive on background (row ``K``,
duplicates of an already-found object included); every non-crowd box still
unmatched is a miss (column ``K``). Crowd regions never count as objects.
Rows are the ground truth (classes, then background), columns the prediction.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from logodet.evaluation.matching import best_operating_point, box_iou_xywh, match_coco
from logodet.evaluation.predictions import normalize_ground_truth, validate_predictions
from logodet.io import atomic_write_bytes
from logodet.types import DetectionDataset

__all__ = [
    "BACKGROUND",
    "BELOW_THRESHOLD",
    "CONFUSED",
    "IGNORED",
    "MATCHED",
    "ConfusionMatrix",
    "ThresholdMatch",
    "confusion_from_match",
    "confusion_matrix",
    "match_at_threshold",
    "plot_confusion_matrix",
    "save_confusion_plots",
]

# outcome of each detection in a ThresholdMatch
BELOW_THRESHOLD = -2
IGNORED = -1
BACKGROUND = 0
MATCHED = 1
CONFUSED = 2


@dataclass(frozen=True)
class ThresholdMatch:
    """Per-detection and per-box outcome of the three-stage matching (see the module docstring).

    Indices refer to ``gt["annotations"]`` and to ``results`` as given.

    Attributes:
        threshold: the confidence threshold.
        iou_threshold: the IoU threshold.
        class_names: category names in ascending category id order (class index ``k``).
        category_ids: the COCO category id of each class index.
        det_class: ``int64 [D]`` class index of each detection.
        det_outcome: ``int8 [D]``: ``MATCHED``, ``CONFUSED``, ``BACKGROUND``, ``IGNORED`` or ``BELOW_THRESHOLD``.
        det_gt: ``int64 [D]`` matched annotation index, ``-1`` when none.
        gt_class: ``int64 [A]`` class index of each annotation.
        gt_crowd: ``bool [A]`` crowd flags.
        gt_det: ``int64 [A]`` index of the detection matched to each annotation, ``-1`` when none.
    """

    threshold: float
    iou_threshold: float
    class_names: list[str]
    category_ids: list[int]
    det_class: np.ndarray
    det_outcome: np.ndarray
    det_gt: np.ndarray
    gt_class: np.ndarray
    gt_crowd: np.ndarray
    gt_det: np.ndarray


def _greedy(order: list[int], ious: np.ndarray, allowed: np.ndarray, taken: np.ndarray, thr: float) -> dict[int, int]:
    """Greedy assignment: detection row -> box column, rows visited in ``order``; ties go to the later box."""
    out = {}
    for d in order:
        best, m = thr, -1
        for g in range(ious.shape[1]):
            if allowed[d, g] and not taken[g] and ious[d, g] >= best:
                best, m = ious[d, g], g
        if m >= 0:
            taken[m] = True
            out[d] = m
    return out


def match_at_threshold(
    gt: dict | DetectionDataset, results: list[dict], threshold: float | None = None, iou_threshold: float = 0.5, *, validate: bool = True
) -> ThresholdMatch:
    """Match detections scoring at least ``threshold`` to ground truth, class confusions included.

    Args:
        gt: COCO ground truth (or a dataset, converted with ``dataset_to_coco``).
        results: COCO results using ``gt``'s image and category ids.
        threshold: keep detections with ``score >= threshold``; by default the
            best-F1 threshold (:func:`~logodet.evaluation.matching.best_operating_point`
            of the same-class matching at ``iou_threshold``: at IoU 0.5 the
            ``best_f1_threshold`` of :class:`~logodet.evaluation.detection.DetectionMetrics`).
        iou_threshold: minimum IoU of a match, in ``(0, 1]``.
        validate: check and normalise ``gt`` and ``results`` first (skip only
            for data that already went through ``normalize_ground_truth`` and
            ``validate_predictions``).

    Returns:
        A :class:`ThresholdMatch`.

    Raises:
        ValueError: ``iou_threshold`` outside ``(0, 1]`` or a non-finite threshold.
        COCOFormatError, PredictionsFormatError: malformed inputs (with ``validate``).

    Example:
        >>> gt = {"images": [{"id": 1, "file_name": "a", "width": 64, "height": 64}],
        ...       "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]}]}
        >>> m = match_at_threshold(gt, [{"image_id": 1, "category_id": 2, "bbox": [0, 0, 10, 10], "score": 0.9}], 0.5)
        >>> m.det_outcome.tolist(), m.gt_det.tolist()
        ([2], [0])
    """
    if not 0.0 < float(iou_threshold) <= 1.0:
        raise ValueError(f"match_at_threshold: iou_threshold must be in (0, 1], got {iou_threshold!r}")
    if threshold is not None and not np.isfinite(threshold):
        raise ValueError(f"match_at_threshold: threshold must be finite, got {threshold!r}")
    if validate or not isinstance(gt, dict):
        gt = normalize_ground_truth(gt)
    if validate:
        results = validate_predictions(results, gt)
    if threshold is None:
        threshold = best_operating_point(match_coco(gt, results, iou_threshold)).threshold
    cats = sorted(gt["categories"], key=lambda c: c["id"])
    cat_index = {int(c["id"]): k for k, c in enumerate(cats)}
    anns = gt.get("annotations", [])
    gt_class = np.array([cat_index[int(a["category_id"])] for a in anns], np.int64)
    gt_crowd = np.array([bool(a.get("iscrowd", 0)) for a in anns], bool)
    det_class = np.array([cat_index[int(r["category_id"])] for r in results], np.int64)
    scores = np.array([float(r["score"]) for r in results], np.float64)
    det_outcome = np.full(len(results), BELOW_THRESHOLD, np.int8)
    det_gt = np.full(len(results), -1, np.int64)
    gt_det = np.full(len(anns), -1, np.int64)
    thr = min(float(iou_threshold), 1 - 1e-10)

    gt_by_image: dict[int, list[int]] = defaultdict(list)
    for i, a in enumerate(anns):
        gt_by_image[int(a["image_id"])].append(i)
    det_by_image: dict[int, list[int]] = defaultdict(list)
    for i in np.flatnonzero(scores >= threshold).tolist():
        det_by_image[int(results[i]["image_id"])].append(i)

    for image_id, dets in det_by_image.items():
        dets.sort(key=lambda i: -scores[i])  # stable
        det_outcome[dets] = BACKGROUND
        boxes = gt_by_image.get(image_id, [])
        if not boxes:
            continue
        dbox = np.array([results[i]["bbox"] for i in dets], np.float64)
        gbox = np.array([anns[g]["bbox"] for g in boxes], np.float64)
        crowd = gt_crowd[boxes]
        ious = box_iou_xywh(dbox, gbox, crowd)
        same = det_class[dets][:, None] == gt_class[boxes][None, :]
        taken = np.zeros(len(boxes), bool)
        order = list(range(len(dets)))
        first = _greedy(order, ious, same & ~crowd[None, :], taken, thr)
        rest = []
        for d in order:
            if d in first:
                det_outcome[dets[d]], det_gt[dets[d]] = MATCHED, boxes[first[d]]
                gt_det[boxes[first[d]]] = dets[d]
            elif np.any(same[d] & crowd & (ious[d] >= thr)):
                det_outcome[dets[d]] = IGNORED
            else:
                rest.append(d)
        for d, g in _greedy(rest, ious, np.broadcast_to(~crowd[None, :], ious.shape), taken, thr).items():
            det_outcome[dets[d]], det_gt[dets[d]] = CONFUSED, boxes[g]
            gt_det[boxes[g]] = dets[d]
    return ThresholdMatch(
        float(threshold),
        float(iou_threshold),
        [str(c["name"]) for c in cats],
        [int(c["id"]) for c in cats],
        det_class,
        det_outcome,
        det_gt,
        gt_class,
        gt_crowd,
        gt_det,
    )


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)


@dataclass(frozen=True)
class ConfusionMatrix:
    """A ``(K + 1) x (K + 1)`` count matrix: rows ground truth, columns prediction, index ``K`` = background.

    Cell ``[K, K]`` is always 0 (background predicted as background is not counted).
    """

    matrix: np.ndarray
    class_names: list[str]
    threshold: float
    iou_threshold: float = 0.5

    @property
    def labels(self) -> list[str]:
        """Row / column labels: the class names, then ``"background"``."""
        return [*self.class_names, "background"]

    def normalized(self) -> np.ndarray:
        """Row-normalised matrix (each ground-truth row sums to 1; an all-zero row stays 0)."""
        m = self.matrix.astype(np.float64)
        return _safe_div(m, m.sum(axis=1, keepdims=True))

    def per_class(self) -> dict[str, dict[str, float]]:
        """Box-level counts and rates per class at the threshold.

        ``tp`` is the diagonal, ``fp`` the rest of the class's column (other
        classes and background), ``fn`` the rest of its row; precision, recall and
        F1 are 0 when their denominator is 0.
        """
        m = self.matrix
        k = len(self.class_names)
        tp = np.diag(m)[:k].astype(np.float64)
        fp = m[:, :k].sum(axis=0) - tp
        fn = m[:k, :].sum(axis=1) - tp
        precision, recall, f1 = _safe_div(tp, tp + fp), _safe_div(tp, tp + fn), _safe_div(2 * tp, 2 * tp + fp + fn)
        return {
            name: {
                "tp": int(tp[i]),
                "fp": int(fp[i]),
                "fn": int(fn[i]),
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
            }
            for i, name in enumerate(self.class_names)
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: labels, counts, the row-normalised matrix and the thresholds."""
        return {
            "labels": self.labels,
            "matrix": self.matrix.astype(int).tolist(),
            "normalized": np.round(self.normalized(), 6).tolist(),
            "threshold": float(self.threshold),
            "iou_threshold": float(self.iou_threshold),
        }


def confusion_matrix(
    gt: dict | DetectionDataset, results: list[dict], threshold: float | None = None, iou_threshold: float = 0.5, *, validate: bool = True
) -> ConfusionMatrix:
    """The detection confusion matrix at ``threshold`` (rules in the module docstring).

    Without ``threshold``, the best-F1 threshold is used (as :func:`match_at_threshold`
    finds it; at IoU 0.5 it is ``DetectionMetrics.best_f1_threshold``).

    Example:
        >>> gt = {"images": [{"id": 1, "file_name": "a", "width": 64, "height": 64}], "categories": [{"id": 1, "name": "a"}],
        ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]}]}
        >>> confusion_matrix(gt, [{"image_id": 1, "category_id": 1, "bbox": [30, 30, 9, 9], "score": 0.8}], 0.5).matrix.tolist()
        [[0, 1], [1, 0]]
    """
    return confusion_from_match(match_at_threshold(gt, results, threshold, iou_threshold, validate=validate))


def confusion_from_match(match: ThresholdMatch) -> ConfusionMatrix:
    """Count the outcomes of a :class:`ThresholdMatch` into a :class:`ConfusionMatrix`."""
    k = len(match.class_names)
    m = np.zeros((k + 1, k + 1), np.int64)
    counted = np.isin(match.det_outcome, (MATCHED, CONFUSED))
    np.add.at(m, (match.gt_class[match.det_gt[counted]], match.det_class[counted]), 1)
    np.add.at(m, (np.full(int(np.sum(match.det_outcome == BACKGROUND)), k), match.det_class[match.det_outcome == BACKGROUND]), 1)
    missed = (match.gt_det < 0) & ~match.gt_crowd
    np.add.at(m, (match.gt_class[missed], np.full(int(missed.sum()), k)), 1)
    return ConfusionMatrix(m, list(match.class_names), match.threshold, match.iou_threshold)


def plot_confusion_matrix(cm: ConfusionMatrix, path: str | Path, normalize: bool = False) -> Path:
    """Plot counts (or row-normalised rates) as a heat map PNG, written atomically.

    Cells are annotated while there are at most 30 rows; zero cells stay blank.

    Example:
        >>> plot_confusion_matrix(cm, "out/confusion_matrix.png")  # doctest: +SKIP
    """
    from matplotlib.figure import Figure

    values = cm.normalized() if normalize else cm.matrix.astype(np.float64)
    n = len(cm.labels)
    side = min(4.0 + 0.42 * n, 30.0)
    fig = Figure(figsize=(side + 1.2, side))
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=1.0 if normalize else max(1.0, float(values.max())))
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), cm.labels, rotation=90, fontsize="small")
    ax.set_yticks(range(n), cm.labels, fontsize="small")
    ax.set(xlabel="predicted", ylabel="ground truth")
    kind = "row-normalised" if normalize else "counts"
    ax.set_title(f"Confusion matrix ({kind}; conf >= {cm.threshold:.3g}, IoU {cm.iou_threshold:g})")
    if n <= 30:
        top = float(values.max()) if values.size else 0.0
        for (r, c), v in np.ndenumerate(values):
            if v > 0:
                text = f"{v:.2f}" if normalize else str(int(v))
                ax.text(c, r, text, ha="center", va="center", fontsize=7, color="white" if v > 0.6 * top else "black")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue())
    return path


def save_confusion_plots(cm: ConfusionMatrix, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``confusion_matrix.png`` (counts) and ``confusion_matrix_normalized.png`` under ``out_dir``."""
    out_dir = Path(out_dir)
    return (
        plot_confusion_matrix(cm, out_dir / "confusion_matrix.png"),
        plot_confusion_matrix(cm, out_dir / "confusion_matrix_normalized.png", normalize=True),
    )
