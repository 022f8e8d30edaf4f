"""Scoring a detector on real photos: COCO metrics, per-brand AP50, image-level presence, false positives per image.

The presence threshold (best micro F1) and the prediction input size (best
AP50, among a few fractions of the training size) are chosen on the
validation split and only then applied to the test split; the test split
never picks anything.
"""

from __future__ import annotations

from typing import Any

from logodet.evaluation.detection import evaluate_coco
from logodet.evaluation.predictions import normalize_ground_truth, validate_predictions
from logodet.evaluation.presence import best_presence_threshold, presence_metrics
from logodet.types import DetectionDataset

__all__ = ["choose_input_size", "false_positives_per_negative_image", "input_sizes", "score_run"]


def false_positives_per_negative_image(gt: dict, results: list[dict], threshold: float) -> tuple[float, int]:
    """Detections scoring ``>= threshold`` per test image that holds none of the brands, and the number of such images.

    Example:
        >>> gt = {"images": [{"id": 1}, {"id": 2}], "annotations": [{"image_id": 1}]}
        >>> false_positives_per_negative_image(gt, [{"image_id": 2, "score": 0.9}, {"image_id": 2, "score": 0.1}], 0.5)
        (1.0, 1)
    """
    positives = {a["image_id"] for a in gt["annotations"]}
    negatives = {im["id"] for im in gt["images"]} - positives
    if not negatives:
        return 0.0, 0
    count = sum(1 for r in results if r["image_id"] in negatives and r["score"] >= threshold)
    return count / len(negatives), len(negatives)


def score_run(val: DetectionDataset, val_results: list[dict], test: DetectionDataset, test_results: list[dict]) -> dict[str, Any]:
    """Every number of one benchmark row (see the module docstring)."""
    val_gt = normalize_ground_truth(val, "validation split")
    test_gt = normalize_ground_truth(test, "test split")
    val_results = validate_predictions(val_results, val_gt, "validation predictions")
    test_results = validate_predictions(test_results, test_gt, "test predictions")
    metrics = evaluate_coco(test_gt, test_results).to_dict()
    threshold = best_presence_threshold(val_gt, val_results)
    presence = presence_metrics(test_gt, test_results, threshold=threshold)
    fp_per_image, negatives = false_positives_per_negative_image(test_gt, test_results, threshold)
    per_class = metrics.get("per_class", {})
    return {
        **{k: metrics[k] for k in ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR100")},
        "per_brand_AP50": {name: v.get("AP50") for name, v in per_class.items()} if isinstance(per_class, dict) else {},
        "presence_threshold": threshold,
        "presence_precision": presence.micro["precision"],
        "presence_recall": presence.micro["recall"],
        "presence_f1": presence.micro["f1"],
        "presence_per_brand": {k: v["f1"] for k, v in presence.per_class.items()},
        "fp_per_negative_image": fp_per_image,
        "negative_images": negatives,
        "test_images": len(test),
        "val_images": len(val),
    }


def input_sizes(imgsz: int, scales: tuple[float, ...] | list[float]) -> list[int]:
    """Prediction input sizes to try: ``imgsz`` times each scale, rounded to a multiple of 32 (at least 64), ascending.

    Example:
        >>> input_sizes(320, (0.7, 0.8, 1.0))
        [224, 256, 320]
    """
    if not scales or any(not 0 < f <= 4 for f in scales):
        raise ValueError(f"test_scales: need fractions of imgsz in (0, 4], got {list(scales)}")
    return sorted({max(64, round(imgsz * f / 32) * 32) for f in scales})


def choose_input_size(val: DetectionDataset, results_by_size: dict[int, list[dict]], preferred: int) -> tuple[int, dict[int, float]]:
    """The input size whose validation predictions have the best AP50 (ties go to ``preferred``, then the larger), and every size's AP50.

    A detector trained on synthetic logos may find real ones better at another
    input size than it was trained at (on flickrlogos27-dev a smaller one:
    benchmarks/RESULTS.md); the validation split decides, like the threshold.
    """
    gt = normalize_ground_truth(val, "validation split")
    ap50 = {
        size: float(evaluate_coco(gt, validate_predictions(res, gt, "validation predictions")).AP50)
        for size, res in results_by_size.items()
    }
    best = max(ap50, key=lambda s: (round(ap50[s], 6), s == preferred, s))
    return best, ap50
