"""Greedy COCO-style matching of detections to ground truth at one IoU threshold.

This is the matching behind the operating-point metrics (best F1, precision and
recall at a confidence threshold) and the PR / F1 curves. It follows
pycocotools' ``evaluateImg`` for the ``all`` area range:

* detections and ground truth are matched per image and per category;
* detections are visited by descending score (stable sort, so equal scores
  keep their input order); each takes the unmatched, non-crowd ground-truth
  box with the highest IoU >= the threshold (ties go to the later box, as in
  pycocotools);
* a detection that matches no regular box but overlaps a crowd region by
  ``intersection / detection area`` >= the threshold is *ignored*: neither a
  true nor a false positive; crowd regions never count as missed objects;
* every other detection is a false positive.

Unlike COCO AP there is no ``maxDets`` cap: every detection a model emits
counts at an operating point.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

__all__ = ["MatchResult", "OperatingPoint", "best_operating_point", "box_iou_xywh", "match_coco", "sweep_thresholds"]


@dataclass(frozen=True)
class MatchResult:
    """Outcome of matching: one entry per counted (non-ignored) detection, by descending score.

    Attributes:
        scores: ``float64 [M]`` detection confidences, descending.
        is_tp: ``bool [M]`` whether each detection matched a ground-truth box.
        category_ids: ``int64 [M]`` COCO category id of each detection.
        num_gt: number of non-crowd ground-truth boxes per COCO category id
            (every category of the ground truth is present, possibly with 0).
        iou_threshold: the IoU threshold used.
        category_names: COCO category id -> name, from the ground truth.
    """

    scores: np.ndarray
    is_tp: np.ndarray
    category_ids: np.ndarray
    num_gt: dict[int, int]
    iou_threshold: float = 0.5
    category_names: dict[int, str] = field(default_factory=dict)

    @property
    def total_gt(self) -> int:
        """Non-crowd ground-truth boxes over all categories."""
        return int(sum(self.num_gt.values()))

    def for_category(self, category_id: int) -> MatchResult:
        """The subset of one COCO category."""
        keep = self.category_ids == category_id
        num_gt = {category_id: self.num_gt.get(category_id, 0)}
        names = {category_id: self.category_names[category_id]} if category_id in self.category_names else {}
        return MatchResult(self.scores[keep], self.is_tp[keep], self.category_ids[keep], num_gt, self.iou_threshold, names)


@dataclass(frozen=True)
class OperatingPoint:
    """Precision, recall and F1 when keeping detections with ``score >= threshold``."""

    threshold: float
    precision: float
    recall: float
    f1: float


def box_iou_xywh(dets: np.ndarray, gts: np.ndarray, iscrowd: np.ndarray) -> np.ndarray:
    """COCO box IoU between ``xywh`` boxes (``[D, 4]`` x ``[G, 4]`` -> ``[D, G]``).

    For crowd ground truth the union is the detection's area, as in pycocotools.

    Example:
        >>> box_iou_xywh(np.array([[0, 0, 10, 10.0]]), np.array([[5, 0, 10, 10.0]]), np.array([0])).round(3).tolist()
        [[0.333]]
    """
    dx1, dy1 = dets[:, 0:1], dets[:, 1:2]
    dx2, dy2 = dx1 + dets[:, 2:3], dy1 + dets[:, 3:4]
    gx1, gy1 = gts[None, :, 0], gts[None, :, 1]
    gx2, gy2 = gx1 + gts[None, :, 2], gy1 + gts[None, :, 3]
    iw = np.clip(np.minimum(dx2, gx2) - np.maximum(dx1, gx1), 0, None)
    ih = np.clip(np.minimum(dy2, gy2) - np.maximum(dy1, gy1), 0, None)
    inter = iw * ih
    d_area = dets[:, 2:3] * dets[:, 3:4]
    g_area = (gts[:, 2] * gts[:, 3])[None, :]
    union = np.where(np.asarray(iscrowd, bool)[None, :], d_area, d_area + g_area - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


_NUMPY_PAIRS = 256  # above this many detection x ground-truth pairs, IoUs come from numpy


def _iou_rows(dets: list[list[float]], gts: list[list[float]], crowd: list[int]) -> list[list[float]]:
    """IoU rows (one per detection); plain Python for the small groups that dominate real data."""
    if len(dets) * len(gts) > _NUMPY_PAIRS:
        return box_iou_xywh(np.asarray(dets, np.float64), np.asarray(gts, np.float64), np.asarray(crowd)).tolist()
    rows = []
    for dx, dy, dw, dh in dets:
        row = []
        for (gx, gy, gw, gh), c in zip(gts, crowd, strict=True):
            iw = min(dx + dw, gx + gw) - max(dx, gx)
            ih = min(dy + dh, gy + gh) - max(dy, gy)
            inter = iw * ih if iw > 0 and ih > 0 else 0.0
            union = dw * dh if c else dw * dh + gw * gh - inter
            row.append(inter / union if union > 0 else 0.0)
        rows.append(row)
    return rows


def _match_group(dets: list[list[float]], gts: list[tuple[list[float], int]], thr: float) -> list[int]:
    """Outcome per detection (already sorted by descending score) in one (image, category): 1 TP, 0 FP, -1 ignored."""
    gts = sorted(gts, key=lambda g: g[1])  # regular boxes first (stable), as pycocotools
    crowd = [c for _, c in gts]
    ious = _iou_rows(dets, [b for b, _ in gts], crowd)
    thr = min(thr, 1 - 1e-10)
    taken = [False] * len(gts)
    out = []
    for row in ious:
        best, m = thr, -1
        for g, iou in enumerate(row):
            if crowd[g]:
                break
            if not taken[g] and iou >= best:  # ">=": ties go to the later box, as in pycocotools
                best, m = iou, g
        if m >= 0:
            taken[m] = True
            out.append(1)
        elif any(c and iou >= thr for iou, c in zip(row, crowd, strict=True)):
            out.append(-1)
        else:
            out.append(0)
    return out


def match_coco(gt: dict, results: list[dict], iou_threshold: float = 0.5) -> MatchResult:
    """Match COCO results to COCO ground truth (see the module docstring for the rules).

    Args:
        gt: COCO ground-truth dictionary (``images``, ``annotations`` with
            ``bbox`` xywh and optional ``iscrowd``, ``categories``).
        results: COCO results (``image_id``, ``category_id``, ``bbox``, ``score``).
        iou_threshold: minimum IoU of a true positive.

    Returns:
        The counted detections sorted by descending score, and the ground-truth counts.

    Example:
        >>> gt = {"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
        ...       "annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10]}]}
        >>> res = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
        ...        {"image_id": 1, "category_id": 1, "bbox": [1, 0, 10, 10], "score": 0.8}]
        >>> match_coco(gt, res).is_tp.tolist()
        [True, False]
    """
    num_gt = {int(c["id"]): 0 for c in gt.get("categories", [])}
    gt_groups: dict[tuple[int, int], list[tuple[list[float], int]]] = defaultdict(list)
    for ann in gt.get("annotations", []):
        crowd = int(bool(ann.get("iscrowd", 0)))
        key = (int(ann["image_id"]), int(ann["category_id"]))
        gt_groups[key].append(([float(v) for v in ann["bbox"]], crowd))
        if not crowd:
            num_gt[key[1]] = num_gt.get(key[1], 0) + 1
    det_groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, r in enumerate(results):
        det_groups[int(r["image_id"]), int(r["category_id"])].append(i)

    scores = [float(r["score"]) for r in results]
    outcome = np.zeros(len(results), np.int8)  # detections in groups without ground truth stay false positives
    for key, idx in det_groups.items():
        gts = gt_groups.get(key)
        if not gts:
            continue
        idx.sort(key=lambda i: -scores[i])  # stable: equal scores keep their input order
        outcome[idx] = _match_group([[float(v) for v in results[i]["bbox"]] for i in idx], gts, iou_threshold)

    all_scores = np.asarray(scores, np.float64)
    keep = np.flatnonzero(outcome >= 0)
    keep = keep[np.argsort(-all_scores[keep], kind="mergesort")]
    cats = np.array([int(results[i]["category_id"]) for i in keep], np.int64)
    names = {int(c["id"]): str(c.get("name", c["id"])) for c in gt.get("categories", [])}
    return MatchResult(all_scores[keep], outcome[keep] == 1, cats, num_gt, float(iou_threshold), names)


def sweep_thresholds(match: MatchResult) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 at every distinct detection score, by descending threshold.

    Keeping detections with ``score >= thresholds[i]`` gives ``precision[i]``,
    ``recall[i]`` and ``f1[i]``. Recall is 0 when there is no ground truth.

    Returns:
        ``(thresholds, precision, recall, f1)``, four ``float64`` arrays of equal length.

    Example:
        >>> m = MatchResult(np.array([0.9, 0.5]), np.array([True, False]), np.array([1, 1]), {1: 2})
        >>> [a.round(3).tolist() for a in sweep_thresholds(m)]
        [[0.9, 0.5], [1.0, 0.5], [0.5, 0.5], [0.667, 0.5]]
    """
    if len(match.scores) == 0:
        empty = np.zeros(0, np.float64)
        return empty, empty.copy(), empty.copy(), empty.copy()
    tp = np.cumsum(match.is_tp, dtype=np.int64)
    n = np.arange(1, len(tp) + 1, dtype=np.int64)
    last = np.flatnonzero(np.r_[match.scores[1:] != match.scores[:-1], True])  # last index of each equal-score run
    tp, n = tp[last], n[last]
    n_gt = match.total_gt
    precision = tp / n
    recall = tp / n_gt if n_gt else np.zeros(len(tp))
    f1 = 2.0 * tp / (n + n_gt)  # = 2PR / (P + R), exact for equal ratios so ties compare equal
    return match.scores[last].astype(np.float64), precision.astype(np.float64), recall.astype(np.float64), f1.astype(np.float64)


def best_operating_point(match: MatchResult) -> OperatingPoint:
    """The confidence threshold with the highest F1 (ties go to the higher threshold).

    When no threshold yields a true positive (no detections, no ground truth,
    or nothing matches) the result is ``OperatingPoint(0.0, 0.0, 0.0, 0.0)``.

    Example:
        >>> m = MatchResult(np.array([0.9, 0.5]), np.array([True, False]), np.array([1, 1]), {1: 2})
        >>> best_operating_point(m).threshold
        0.9
    """
    thresholds, precision, recall, f1 = sweep_thresholds(match)
    if len(f1) == 0 or f1.max() <= 0:
        return OperatingPoint(0.0, 0.0, 0.0, 0.0)
    i = int(np.argmax(f1))  # first maximum = highest threshold
    return OperatingPoint(float(thresholds[i]), float(precision[i]), float(recall[i]), float(f1[i]))
