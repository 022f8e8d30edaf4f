"""COCO detection metrics (faster-coco-eval, identical to pycocotools) and the best-F1 operating point.

``evaluate_coco`` computes, from COCO ground truth and COCO results:

* the twelve COCO box metrics with pycocotools' definitions (IoU 0.50:0.05:0.95;
  annotation ``area`` ranges small [0, 32²], medium [32², 96²], large [96², 1e10],
  bounds inclusive; maxDets 1/10/100). A
  metric with nothing to average (no ground truth of that size, or none at
  all) is ``-1``, as pycocotools reports it; it is kept as ``-1`` in
  :class:`DetectionMetrics` and ``metrics.json`` and shown as ``n/a`` in tables;
* per-class AP and AP50, extracted from the accumulated precision array as
  ``mean(precision[precision > -1])`` over IoU thresholds and recall points
  (area ``all``, maxDets 100), ``-1`` for a class without ground truth;
* the best-F1 operating point: all classes pooled, detections matched per
  image and class at IoU 0.5 by :func:`logodet.evaluation.matching.match_coco`
  (greedy by descending score as COCO does; detections on crowd regions
  neither count as true nor false positives), then the score threshold with the
  highest F1 (ties to the higher threshold). With no true positive at any
  threshold, F1, precision, recall and the threshold are all 0.

:class:`DetectionEvaluator` is the stateful ``reset / update / compute`` form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from logodet.evaluation.matching import MatchResult, best_operating_point, match_coco
from logodet.evaluation.predictions import detections_to_coco_results, normalize_ground_truth, validate_predictions
from logodet.io import atomic_write_json
from logodet.types import DetectionDataset, Detections, ImageRecord

__all__ = [
    "COCO_METRIC_DESCRIPTIONS",
    "COCO_METRIC_NAMES",
    "DetectionEvaluator",
    "DetectionMetrics",
    "evaluate_coco",
    "format_metrics_table",
    "save_metrics",
]

COCO_METRIC_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
COCO_IOU_THRESHOLDS = tuple(np.linspace(0.5, 0.95, 10).tolist())
COCO_METRIC_DESCRIPTIONS = {
    "AP": "AP @ IoU=0.50:0.95, all areas, maxDets=100",
    "AP50": "AP @ IoU=0.50",
    "AP75": "AP @ IoU=0.75",
    "APs": "AP, small objects (area <= 32²)",
    "APm": "AP, medium objects (32² to 96²)",
    "APl": "AP, large objects (area >= 96²)",
    "AR1": "AR, maxDets=1",
    "AR10": "AR, maxDets=10",
    "AR100": "AR, maxDets=100",
    "ARs": "AR, small objects",
    "ARm": "AR, medium objects",
    "ARl": "AR, large objects",
}


@dataclass
class DetectionMetrics:
    """Result of a detection evaluation; ``-1`` marks a COCO metric with no ground truth to average.

    ``match`` keeps the IoU-0.5 matching for PR / F1 curves; it is not serialised.
    """

    AP: float
    AP50: float
    AP75: float
    APs: float
    APm: float
    APl: float
    AR1: float
    AR10: float
    AR100: float
    ARs: float
    ARm: float
    ARl: float
    per_class: dict[str, dict[str, float]]
    best_f1: float
    best_f1_threshold: float
    precision: float
    recall: float
    num_images: int
    num_predictions: int
    num_ground_truth: int
    match: MatchResult | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the twelve COCO metrics, ``per_class``, the best-F1 point and counts."""
        out: dict[str, Any] = {k: float(getattr(self, k)) for k in COCO_METRIC_NAMES}
        out["per_class"] = {name: {k: float(v) for k, v in vals.items()} for name, vals in self.per_class.items()}
        for k in ("best_f1", "best_f1_threshold", "precision", "recall"):
            out[k] = float(getattr(self, k))
        for k in ("num_images", "num_predictions", "num_ground_truth"):
            out[k] = int(getattr(self, k))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DetectionMetrics:
        """Inverse of :meth:`to_dict` (for reports reading ``metrics.json``)."""
        names = [*COCO_METRIC_NAMES, "per_class", "best_f1", "best_f1_threshold", "precision", "recall", "num_images", "num_predictions"]
        missing = [k for k in names if k not in data]
        if missing:
            raise KeyError(f"metrics: missing keys {missing}")
        return cls(**{k: data[k] for k in names}, num_ground_truth=int(data.get("num_ground_truth", 0)))


def _mean_valid(values: np.ndarray) -> float:
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else -1.0


def _summarize(ev: Any, ap: bool, iou: float | None = None, area: str = "all", max_dets: int = 100) -> float:
    """pycocotools' ``COCOeval._summarize`` without printing (IoU matched with ``isclose``)."""
    p = ev.params
    a, m = p.areaRngLbl.index(area), p.maxDets.index(max_dets)
    s = ev.eval["precision"] if ap else ev.eval["recall"]
    if iou is not None:
        hit = np.flatnonzero(np.isclose(p.iouThrs, iou))
        if hit.size == 0:
            return -1.0
        s = s[hit]
    s = s[:, :, :, a, m] if ap else s[:, :, a, m]
    return _mean_valid(s)


def _coco_eval(gt: dict, results: list[dict], iou_thresholds: Sequence[float]) -> tuple[list[float], dict[str, dict[str, float]]]:
    from faster_coco_eval import COCO, COCOeval_faster

    def quiet(*_: Any, **__: Any) -> None:
        return None

    names = {c["id"]: c["name"] for c in gt["categories"]}
    if not gt["images"] or not gt["categories"]:
        return [-1.0] * len(COCO_METRIC_NAMES), {n: {"AP": -1.0, "AP50": -1.0} for n in names.values()}
    coco_gt = COCO(gt, print_function=quiet)
    coco_dt = coco_gt.loadRes([dict(r) for r in results])
    ev = COCOeval_faster(coco_gt, coco_dt, "bbox", print_function=quiet)
    ev.params.iouThrs = np.asarray(iou_thresholds, np.float64)
    ev.evaluate()
    ev.accumulate()
    stats = [
        _summarize(ev, True),
        _summarize(ev, True, iou=0.5),
        _summarize(ev, True, iou=0.75),
        *(_summarize(ev, True, area=a) for a in ("small", "medium", "large")),
        *(_summarize(ev, False, max_dets=d) for d in (1, 10, 100)),
        *(_summarize(ev, False, area=a) for a in ("small", "medium", "large")),
    ]
    precision = ev.eval["precision"]  # [T, R, K, A, M]
    hit50 = np.flatnonzero(np.isclose(ev.params.iouThrs, 0.5))
    per_class = {}
    for k, cid in enumerate(ev.params.catIds):
        pk = precision[:, :, k, 0, -1]
        ap50 = _mean_valid(pk[hit50]) if hit50.size else -1.0
        per_class[names[cid]] = {"AP": _mean_valid(pk), "AP50": ap50}
    return stats, per_class


def evaluate_coco(
    gt: dict | DetectionDataset, predictions: list[dict], *, iou_thresholds: Sequence[float] | None = None
) -> DetectionMetrics:
    """COCO box metrics, per-class AP and the best-F1 operating point.

    Args:
        gt: COCO ground-truth dict, or a dataset (converted with ``dataset_to_coco``:
            category ids ``1..K`` in class order, image ids kept).
        predictions: COCO results referring to ``gt``'s image and category ids.
        iou_thresholds: IoU thresholds averaged by AP / AR; COCO's
            ``0.50:0.05:0.95`` by default. AP50 / AP75 are ``-1`` when 0.5 / 0.75
            are not among them. The best-F1 point always uses IoU 0.5.

    Returns:
        A :class:`DetectionMetrics`; see the module docstring for the definitions.

    Raises:
        COCOFormatError: malformed ground truth.
        PredictionsFormatError: a malformed prediction, an unknown image or category id.
        ValueError: IoU thresholds outside ``(0, 1]``.

    Example:
        >>> gt = {"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 64}],
        ...       "categories": [{"id": 1, "name": "acme"}],
        ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [8, 8, 40, 40]}]}
        >>> m = evaluate_coco(gt, [{"image_id": 1, "category_id": 1, "bbox": [8, 8, 40, 40], "score": 0.9}])
        >>> m.AP, m.APs, m.best_f1
        (1.0, -1.0, 1.0)
    """
    thresholds = COCO_IOU_THRESHOLDS if iou_thresholds is None else tuple(sorted({float(t) for t in iou_thresholds}))
    if not thresholds or not all(0.0 < t <= 1.0 for t in thresholds):
        raise ValueError(f"evaluate_coco: iou_thresholds must be non-empty values in (0, 1], got {iou_thresholds!r}")
    gt_dict = normalize_ground_truth(gt)
    results = validate_predictions(predictions, gt_dict)
    stats, per_class = _coco_eval(gt_dict, results, thresholds)
    match = match_coco(gt_dict, results, iou_threshold=0.5)
    op = best_operating_point(match)
    return DetectionMetrics(
        *stats,
        per_class=per_class,
        best_f1=op.f1,
        best_f1_threshold=op.threshold,
        precision=op.precision,
        recall=op.recall,
        num_images=len(gt_dict["images"]),
        num_predictions=len(results),
        num_ground_truth=match.total_gt,
        match=match,
    )


class DetectionEvaluator:
    """Stateful COCO evaluator: ``update`` image by image, then ``compute``.

    Category ids are ``1..K`` in the order of ``class_names``; images get the
    record's id, or the next free id. Ground truth given as an
    :class:`ImageRecord` keeps its crowd regions and areas; given as
    :class:`Detections`, every box is a regular object.

    Example:
        >>> ev = DetectionEvaluator(["acme"])
        >>> gt = Detections(xyxy=[[0, 0, 40, 40]], class_ids=[0])
        >>> ev.update(1, Detections(xyxy=[[0, 0, 40, 40]], class_ids=[0], scores=[0.8]), gt)
        >>> ev.compute().AP50
        1.0
    """

    def __init__(self, class_names: Sequence[str], *, iou_thresholds: Sequence[float] | None = None) -> None:
        self.class_names = list(class_names)
        self.iou_thresholds = iou_thresholds
        self.reset()

    def reset(self) -> None:
        """Forget every image added so far."""
        self._images: list[dict] = []
        self._annotations: list[dict] = []
        self._results: list[dict] = []
        self._ids: set[int] = set()

    def update(self, image: int | ImageRecord, predictions: Detections, ground_truth: Detections | ImageRecord | None = None) -> None:
        """Add one image's predictions and ground truth.

        Args:
            image: a COCO image id, or the image's record (its id, size, and by
                default its annotations as ground truth).
            predictions: detections with scores.
            ground_truth: boxes without scores, or a record; required when
                ``image`` is an id.

        Raises:
            ValueError: a repeated image id, missing ground truth, or a class
                index outside ``class_names``.
        """
        if isinstance(image, ImageRecord):
            image_id = image.id if image.id is not None else max(self._ids, default=0) + 1
            size = (image.width, image.height)
            ground_truth = image if ground_truth is None else ground_truth
        else:
            image_id, size = int(image), None
            if ground_truth is None:
                raise ValueError(f"DetectionEvaluator.update: image {image_id}: ground_truth is required with an image id")
        if image_id in self._ids:
            raise ValueError(f"DetectionEvaluator.update: image id {image_id} was already added")
        k = len(self.class_names)
        anns = _ground_truth_annotations(ground_truth)
        for cls in [a["category_id"] for a in anns] + predictions.class_ids.tolist():
            if not 0 <= cls < k:
                raise ValueError(f"DetectionEvaluator.update: image {image_id}: class index {cls} outside the {k} class names")
        if size is None:
            extent = [a["bbox"][0] + a["bbox"][2] for a in anns] + [a["bbox"][1] + a["bbox"][3] for a in anns]
            extent += predictions.xyxy[:, 2:].reshape(-1).tolist()
            side = max(1, int(np.ceil(max(extent, default=1))))
            size = (side, side)
        self._ids.add(image_id)
        self._images.append({"id": image_id, "file_name": f"{image_id}", "width": int(size[0]), "height": int(size[1])})
        for a in anns:
            self._annotations.append({**a, "id": len(self._annotations) + 1, "image_id": image_id, "category_id": a["category_id"] + 1})
        self._results.extend(detections_to_coco_results(image_id, predictions))

    def compute(self) -> DetectionMetrics:
        """Metrics over every image added since the last ``reset``."""
        cats = [{"id": i + 1, "name": n} for i, n in enumerate(self.class_names)]
        gt = {"images": self._images, "annotations": self._annotations, "categories": cats}
        return evaluate_coco(gt, self._results, iou_thresholds=self.iou_thresholds)


def _ground_truth_annotations(gt: Detections | ImageRecord) -> list[dict]:
    """COCO-like annotations (class index as ``category_id``) of a record or of boxes."""
    if isinstance(gt, ImageRecord):
        out = []
        for a in gt.annotations:
            x1, y1, x2, y2 = a.bbox
            area = a.area if a.area is not None else (x2 - x1) * (y2 - y1)
            out.append({"category_id": a.category, "bbox": [x1, y1, x2 - x1, y2 - y1], "area": float(area), "iscrowd": int(a.iscrowd)})
        return out
    return [
        {"category_id": int(c), "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0}
        for (x1, y1, x2, y2), c in zip(gt.xyxy.astype(np.float64).tolist(), gt.class_ids.tolist(), strict=True)
    ]


def save_metrics(metrics: DetectionMetrics, path: str | Path) -> Path:
    """Write ``metrics.to_dict()`` as indented JSON, atomically; returns the path."""
    path = Path(path)
    atomic_write_json(path, metrics.to_dict(), indent=2)
    return path


def _fmt(value: float) -> str:
    return "n/a" if value < 0 else f"{value:.3f}"


def format_metrics_table(metrics: DetectionMetrics, title: str = "COCO box metrics") -> Any:
    """The twelve COCO metrics as a ``rich.table.Table`` (``-1`` shown as ``n/a``).

    Example:
        >>> from rich.console import Console
        >>> Console().print(format_metrics_table(metrics))  # doctest: +SKIP
    """
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("definition")
    table.add_column("value", justify="right")
    for name in COCO_METRIC_NAMES:
        table.add_row(name, COCO_METRIC_DESCRIPTIONS[name], _fmt(getattr(metrics, name)))
    return table


def format_per_class_table(metrics: DetectionMetrics) -> Any:
    """Per-class AP and AP50 as a ``rich.table.Table``."""
    from rich.table import Table

    table = Table(title="Per-class AP")
    table.add_column("class")
    table.add_column("AP", justify="right")
    table.add_column("AP50", justify="right")
    for name, vals in metrics.per_class.items():
        table.add_row(name, _fmt(vals["AP"]), _fmt(vals["AP50"]))
    return table


def best_f1_line(metrics: DetectionMetrics) -> str:
    """One line describing the best-F1 operating point."""
    return (
        f"Best F1 {metrics.best_f1:.3f} at confidence >= {metrics.best_f1_threshold:.4g} "
        f"(precision {metrics.precision:.3f}, recall {metrics.recall:.3f}; IoU 0.5, all classes pooled)"
    )


def print_metrics(metrics: DetectionMetrics, console: Any | None = None, per_class: bool = True) -> None:
    """Print the COCO table, optionally the per-class table, and the best-F1 line."""
    from rich.console import Console

    console = console or Console()
    console.print(format_metrics_table(metrics))
    if per_class and metrics.per_class:
        console.print(format_per_class_table(metrics))
    console.print(best_f1_line(metrics))
