"""Image-level brand presence: does the image show brand X, and did the detector say so?

Definitions, for a confidence threshold ``t``:

* an image is *predicted* to show class ``k`` when at least one detection of
  ``k`` in it has ``score >= t`` (the same ``>=`` rule as every operating
  point in logodet); its *presence score* for ``k`` is the highest such score;
* an image *shows* class ``k`` when it holds at least one non-crowd
  ground-truth box of ``k`` (crowd regions alone neither make a positive nor
  a negative: such an image simply has no regular box of ``k``);
* per class, precision / recall / F1 count images; micro-averaged values pool
  every (image, class) pair, exactly as ``precision_recall_fscore_support``
  does on multi-label indicator matrices. A ratio whose denominator is 0 is 0
  (no predictions: precision 0; no positives: recall 0);
* *negative images* hold no ground-truth annotation of any class (crowd
  included). On them ``negative_brands_per_image`` is the number of brands
  claimed per negative image and ``negative_images_flagged`` the share of
  negative images with at least one brand claimed; both are 0 when there is no
  negative image.

Choose the threshold on one split with :func:`best_presence_threshold`, then
measure another split with :func:`presence_metrics` at that threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from logodet.evaluation.predictions import normalize_ground_truth, validate_predictions
from logodet.types import DetectionDataset

__all__ = ["PresenceMetrics", "PresenceTable", "best_presence_threshold", "presence_metrics", "presence_table"]


@dataclass(frozen=True)
class PresenceTable:
    """Image x class indicator of the ground truth and presence scores.

    Attributes:
        class_names: category names in ascending category id order.
        image_ids: COCO image ids, in ground-truth order.
        truth: ``bool [N, K]`` image holds a non-crowd box of the class.
        scores: ``float64 [N, K]`` highest detection score of the class in the image, ``-inf`` when none.
        negative: ``bool [N]`` image has no annotation at all.
    """

    class_names: list[str]
    image_ids: list[int]
    truth: np.ndarray
    scores: np.ndarray
    negative: np.ndarray

    def predicted(self, threshold: float) -> np.ndarray:
        """``bool [N, K]``: the class is claimed in the image at ``threshold``."""
        return self.scores >= threshold


def presence_table(gt: dict | DetectionDataset, results: list[dict], *, validate: bool = True) -> PresenceTable:
    """Build the image-level truth and score matrices from COCO ground truth and results.

    Args:
        gt: COCO ground truth, or a dataset (converted with ``dataset_to_coco``).
        results: COCO results using ``gt``'s image and category ids.
        validate: check and normalise ``gt`` and ``results`` first.

    Raises:
        COCOFormatError, PredictionsFormatError: malformed inputs.

    Example:
        >>> gt = {"images": [{"id": 1, "file_name": "a", "width": 9, "height": 9}],
        ...       "categories": [{"id": 1, "name": "acme"}], "annotations": []}
        >>> presence_table(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.7}]).scores.tolist()
        [[0.7]]
    """
    if validate or not isinstance(gt, dict):
        gt = normalize_ground_truth(gt)
    if validate:
        results = validate_predictions(results, gt)
    cats = sorted(gt["categories"], key=lambda c: c["id"])
    cat_index = {int(c["id"]): k for k, c in enumerate(cats)}
    image_ids = [int(im["id"]) for im in gt["images"]]
    row = {iid: i for i, iid in enumerate(image_ids)}
    truth = np.zeros((len(image_ids), len(cats)), bool)
    negative = np.ones(len(image_ids), bool)
    for a in gt.get("annotations", []):
        i = row[int(a["image_id"])]
        negative[i] = False
        if not a.get("iscrowd", 0):
            truth[i, cat_index[int(a["category_id"])]] = True
    scores = np.full(truth.shape, -np.inf)
    if results:
        rows = np.array([row[int(r["image_id"])] for r in results], np.int64)
        cols = np.array([cat_index[int(r["category_id"])] for r in results], np.int64)
        np.maximum.at(scores, (rows, cols), np.array([float(r["score"]) for r in results], np.float64))
    return PresenceTable([str(c["name"]) for c in cats], image_ids, truth, scores, negative)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else 0.0


@dataclass(frozen=True)
class PresenceMetrics:
    """Image-level brand presence at one threshold (definitions in the module docstring).

    Attributes:
        threshold: the confidence threshold applied.
        per_class: name -> ``precision``, ``recall``, ``f1``, ``support`` (images
            showing the class), ``predicted`` (images where it is claimed), ``tp``.
        micro: pooled ``precision``, ``recall``, ``f1``, ``tp``, ``fp``, ``fn``.
        num_images: images evaluated.
        num_negative_images: images without any annotation.
        negative_brands_per_image: brands claimed per negative image.
        negative_images_flagged: share of negative images with a brand claimed.
    """

    threshold: float
    per_class: dict[str, dict[str, float]]
    micro: dict[str, float]
    num_images: int
    num_negative_images: int
    negative_brands_per_image: float
    negative_images_flagged: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field."""
        return {
            "threshold": float(self.threshold),
            "per_class": {k: dict(v) for k, v in self.per_class.items()},
            "micro": dict(self.micro),
            "num_images": self.num_images,
            "num_negative_images": self.num_negative_images,
            "negative_brands_per_image": self.negative_brands_per_image,
            "negative_images_flagged": self.negative_images_flagged,
        }


def presence_metrics(
    gt: dict | DetectionDataset | PresenceTable, results: list[dict] | None = None, *, threshold: float
) -> PresenceMetrics:
    """Per-class and micro-averaged image-level precision, recall and F1 at ``threshold``.

    Args:
        gt: COCO ground truth or a dataset (with ``results``), or a ready
            :class:`PresenceTable` (``results`` then omitted).
        results: COCO results using ``gt``'s image and category ids.
        threshold: a class is claimed in an image when one of its detections has ``score >= threshold``.

    Raises:
        ValueError: a non-finite threshold, or ``results`` missing for ground truth.

    Example:
        >>> gt = {"images": [{"id": 1, "file_name": "a", "width": 9, "height": 9}, {"id": 2, "file_name": "b", "width": 9, "height": 9}],
        ...       "categories": [{"id": 1, "name": "acme"}],
        ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4]}]}
        >>> res = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.9},
        ...        {"image_id": 2, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.6}]
        >>> m = presence_metrics(gt, res, threshold=0.5)
        >>> m.micro["precision"], m.micro["recall"], m.negative_brands_per_image
        (0.5, 1.0, 1.0)
    """
    if not np.isfinite(threshold):
        raise ValueError(f"presence_metrics: threshold must be finite, got {threshold!r}")
    if isinstance(gt, PresenceTable):
        table = gt
    elif results is None:
        raise ValueError("presence_metrics: results are required with ground truth (or pass a PresenceTable)")
    else:
        table = presence_table(gt, results)
    pred, truth = table.predicted(threshold), table.truth
    tp = (pred & truth).sum(axis=0)
    n_pred, n_true = pred.sum(axis=0), truth.sum(axis=0)
    per_class = {
        name: {
            "precision": _ratio(tp[k], n_pred[k]),
            "recall": _ratio(tp[k], n_true[k]),
            "f1": _ratio(2 * tp[k], n_pred[k] + n_true[k]),
            "support": int(n_true[k]),
            "predicted": int(n_pred[k]),
            "tp": int(tp[k]),
        }
        for k, name in enumerate(table.class_names)
    }
    t, p, g = int(tp.sum()), int(n_pred.sum()), int(n_true.sum())
    micro = {"precision": _ratio(t, p), "recall": _ratio(t, g), "f1": _ratio(2 * t, p + g), "tp": t, "fp": p - t, "fn": g - t}
    n_neg = int(table.negative.sum())
    neg_pred = pred[table.negative]
    return PresenceMetrics(
        threshold=float(threshold),
        per_class=per_class,
        micro=micro,
        num_images=len(table.image_ids),
        num_negative_images=n_neg,
        negative_brands_per_image=_ratio(int(neg_pred.sum()), n_neg),
        negative_images_flagged=_ratio(int(neg_pred.any(axis=1).sum()), n_neg),
    )


def best_presence_threshold(gt: dict | DetectionDataset | PresenceTable, results: list[dict] | None = None) -> float:
    """The threshold with the highest micro-averaged image-level F1.

    Candidates are the distinct presence scores; ties go to the higher
    threshold (fewer claims). When no threshold gives a single correct claim (no
    detections, no ground truth, or only wrong brands) the result is ``0.0``,
    as for the box-level best-F1 point.

    Example:
        >>> gt = {"images": [{"id": 1, "file_name": "a", "width": 9, "height": 9}, {"id": 2, "file_name": "b", "width": 9, "height": 9}],
        ...       "categories": [{"id": 1, "name": "acme"}],
        ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4]}]}
        >>> best_presence_threshold(gt, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.9},
        ...                              {"image_id": 2, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.6}])
        0.9
    """
    if isinstance(gt, PresenceTable):
        table = gt
    elif results is None:
        raise ValueError("best_presence_threshold: results are required with ground truth (or pass a PresenceTable)")
    else:
        table = presence_table(gt, results)
    finite = np.isfinite(table.scores)
    s, y = table.scores[finite], table.truth[finite]
    if s.size == 0:
        return 0.0
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    tp = np.cumsum(y, dtype=np.int64)
    n = np.arange(1, len(s) + 1)
    last = np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    f1 = 2.0 * tp[last] / (n[last] + int(table.truth.sum()))
    if f1.max() <= 0:
        return 0.0
    return float(s[last][int(np.argmax(f1))])
