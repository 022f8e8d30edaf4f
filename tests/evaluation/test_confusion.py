"""Detection confusion matrix: hand-made cases, consistency with the PR-curve matching, plots."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from logodet.evaluation.confusion import (
    BACKGROUND,
    BELOW_THRESHOLD,
    CONFUSED,
    IGNORED,
    MATCHED,
    ConfusionMatrix,
    confusion_matrix,
    match_at_threshold,
    save_confusion_plots,
)
from logodet.evaluation.detection import evaluate_coco
from logodet.evaluation.predictions import PredictionsFormatError
from logodet.types import Annotation, DetectionDataset, ImageRecord

PNG = b"\x89PNG\r\n\x1a\n"
A, B, C, BG = 0, 1, 2, 3  # class indices of acme, globex, initech; background row / column
X = [10, 10, 40, 40]  # xywh
Y = [100, 100, 40, 40]


def _gt(boxes: list[tuple], n_images: int = 2) -> dict:
    """``boxes``: ``(image_id, class_index, xywh[, iscrowd])``; category ids are ``10 + index`` (not 1..K)."""
    return {
        "images": [{"id": i, "file_name": f"{i}.jpg", "width": 200, "height": 200} for i in range(1, n_images + 1)],
        "categories": [{"id": 10 + k, "name": n} for k, n in enumerate(["acme", "globex", "initech"])],
        "annotations": [
            {"id": j + 1, "image_id": b[0], "category_id": 10 + b[1], "bbox": list(b[2]), "iscrowd": b[3] if len(b) > 3 else 0}
            for j, b in enumerate(boxes)
        ],
    }


def _det(image_id: int, cls: int, box: list[float], score: float) -> dict:
    return {"image_id": image_id, "category_id": 10 + cls, "bbox": list(box), "score": score}


def _shift(box: list[float], dx: float) -> list[float]:
    return [box[0] + dx, *box[1:]]


def _cells(cm: ConfusionMatrix) -> dict[tuple[int, int], int]:
    return {(int(r), int(c)): int(cm.matrix[r, c]) for r, c in zip(*np.nonzero(cm.matrix), strict=True)}


CASES = [
    ("correct", [(1, A, X)], [_det(1, A, X, 0.9)], {(A, A): 1}),
    ("wrong class", [(1, A, X)], [_det(1, B, X, 0.9)], {(A, B): 1}),
    ("missed", [(1, A, X)], [], {(A, BG): 1}),
    ("spurious", [], [_det(1, A, X, 0.9)], {(BG, A): 1}),
    ("duplicate", [(1, A, X)], [_det(1, A, X, 0.9), _det(1, A, _shift(X, 2), 0.8)], {(A, A): 1, (BG, A): 1}),
    ("below threshold is missed", [(1, A, X)], [_det(1, A, X, 0.3)], {(A, BG): 1}),
    # IoU of a 40-px box shifted by 25 px: 15*40 / (2*1600 - 600) = 0.23 < 0.5
    ("poorly placed", [(1, A, X)], [_det(1, A, _shift(X, 25), 0.9)], {(A, BG): 1, (BG, A): 1}),
    ("same class first, even at a lower score", [(1, A, X)], [_det(1, B, X, 0.95), _det(1, A, X, 0.6)], {(A, A): 1, (BG, B): 1}),
    ("cross class greedy by score", [(1, A, X)], [_det(1, C, X, 0.7), _det(1, B, X, 0.9)], {(A, B): 1, (BG, C): 1}),
    # the detection overlaps the acme box with IoU 0.67 and the globex box with IoU 1: it takes globex
    (
        "cross class takes the highest IoU",
        [(1, A, [10, 10, 40, 40]), (1, B, [18, 10, 40, 40])],
        [_det(1, C, [18, 10, 40, 40], 0.9)],
        {(B, C): 1, (A, BG): 1},
    ),
    ("other image never matches", [(1, A, X)], [_det(2, A, X, 0.9)], {(A, BG): 1, (BG, A): 1}),
    ("crowd of the same class is ignored", [(1, A, [0, 0, 100, 100], 1)], [_det(1, A, X, 0.9)], {}),
    ("crowd of another class does not excuse", [(1, A, [0, 0, 100, 100], 1)], [_det(1, B, X, 0.9)], {(BG, B): 1}),
    (
        "mixed image",
        [(1, A, X), (1, B, Y), (2, C, X)],
        [_det(1, A, X, 0.9), _det(1, A, Y, 0.8), _det(1, B, [150, 150, 20, 20], 0.7), _det(2, C, X, 0.6), _det(2, C, X, 0.55)],
        {(A, A): 1, (B, A): 1, (BG, B): 1, (C, C): 1, (BG, C): 1},
    ),
]


@pytest.mark.parametrize(("name", "boxes", "dets", "expected"), CASES, ids=[c[0] for c in CASES])
def test_hand_made_cases(name, boxes, dets, expected):
    cm = confusion_matrix(_gt(boxes), dets, threshold=0.5)
    assert cm.labels == ["acme", "globex", "initech", "background"]
    assert _cells(cm) == expected
    assert cm.matrix[BG, BG] == 0


def test_outcomes_and_indices():
    gt = _gt([(1, A, X), (1, B, Y), (1, A, [0, 0, 200, 200], 1)])
    dets = [_det(1, A, X, 0.9), _det(1, C, Y, 0.8), _det(1, A, X, 0.7), _det(1, A, [150, 150, 10, 10], 0.6), _det(1, B, X, 0.1)]
    m = match_at_threshold(gt, dets, 0.5)
    # the duplicate and the small box lie inside acme's crowd region: ignored, not false positives
    assert m.det_outcome.tolist() == [MATCHED, CONFUSED, IGNORED, IGNORED, BELOW_THRESHOLD]
    assert m.det_gt.tolist() == [0, 1, -1, -1, -1]
    assert m.gt_det.tolist() == [0, 1, -1]
    assert m.class_names == ["acme", "globex", "initech"] and m.category_ids == [10, 11, 12]
    m2 = match_at_threshold(_gt([(1, A, X)]), [_det(1, A, Y, 0.9)], 0.5)
    assert m2.det_outcome.tolist() == [BACKGROUND]


def test_equal_scores_keep_input_order():
    gt = _gt([(1, A, X)])
    m = match_at_threshold(gt, [_det(1, A, _shift(X, 2), 0.8), _det(1, A, X, 0.8)], 0.5)
    assert m.det_outcome.tolist() == [MATCHED, BACKGROUND]  # the first of the tie wins, though the second fits better


def test_iou_threshold_changes_matches():
    gt = _gt([(1, A, X)])
    det = [_det(1, A, _shift(X, 10), 0.9)]  # IoU 30*40 / (3200 - 1200) = 0.6
    assert _cells(confusion_matrix(gt, det, 0.5, iou_threshold=0.5)) == {(A, A): 1}
    assert _cells(confusion_matrix(gt, det, 0.5, iou_threshold=0.7)) == {(A, BG): 1, (BG, A): 1}


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.77, 0.95, 2.0])
def test_consistent_with_curve_matching(coco_fixture, threshold):
    gt, preds = coco_fixture
    metrics = evaluate_coco(gt, preds)
    match = metrics.match
    cm = confusion_matrix(gt, preds, threshold)
    k = len(cm.class_names)
    kept = match.scores >= threshold
    tp = int(match.is_tp[kept].sum())
    assert int(np.trace(cm.matrix[:k, :k])) == tp
    assert int(cm.matrix[:, :k].sum()) - tp == int((~match.is_tp[kept]).sum())  # false positives, crowd-ignored excluded
    assert int(cm.matrix[:k, :].sum()) == match.total_gt  # every non-crowd box is in exactly one row cell
    for name, vals in cm.per_class().items():
        cid = next(c for c, n in match.category_names.items() if n == name)
        sub = match.for_category(cid)
        sel = sub.scores >= threshold
        assert vals["tp"] == int(sub.is_tp[sel].sum()) and vals["fp"] == int((~sub.is_tp[sel]).sum())
        assert vals["tp"] + vals["fn"] == sub.num_gt[cid]


def test_best_f1_threshold_is_the_default(coco_fixture):
    gt, preds = coco_fixture
    metrics = evaluate_coco(gt, preds)
    cm = confusion_matrix(gt, preds)
    assert cm.threshold == metrics.best_f1_threshold and 0 < cm.threshold < 1
    assert np.array_equal(cm.matrix, confusion_matrix(gt, preds, metrics.best_f1_threshold).matrix)
    k = len(cm.class_names)
    tp = np.trace(cm.matrix[:k, :k])
    precision = tp / cm.matrix[:, :k].sum()
    recall = tp / cm.matrix[:k, :].sum()
    assert precision == pytest.approx(metrics.precision) and recall == pytest.approx(metrics.recall)


def test_per_class_and_normalised():
    cm = ConfusionMatrix(np.array([[3, 1, 1], [0, 0, 0], [2, 0, 0]]), ["acme", "globex"], 0.5)
    pc = cm.per_class()
    assert pc["acme"] == {"tp": 3, "fp": 2, "fn": 2, "precision": 0.6, "recall": 0.6, "f1": pytest.approx(0.6)}
    assert pc["globex"] == {"tp": 0, "fp": 1, "fn": 0, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    np.testing.assert_allclose(cm.normalized(), [[0.6, 0.2, 0.2], [0, 0, 0], [1, 0, 0]])
    d = cm.to_dict()
    assert d["labels"] == ["acme", "globex", "background"] and d["matrix"][0] == [3, 1, 1] and d["threshold"] == 0.5


def test_empty_inputs():
    cm = confusion_matrix(_gt([]), [], 0.5)
    assert cm.matrix.shape == (4, 4) and cm.matrix.sum() == 0
    assert all(v["precision"] == 0 and v["recall"] == 0 for v in cm.per_class().values())
    no_images = {"images": [], "categories": [{"id": 1, "name": "acme"}], "annotations": []}
    assert confusion_matrix(no_images, [], 0.1).matrix.tolist() == [[0, 0], [0, 0]]


def test_dataset_input_and_inputs_untouched():
    ds = DetectionDataset(["acme", "globex"], [ImageRecord("a.jpg", 100, 100, [Annotation((10, 10, 50, 50), 0)], id=1)])
    dets = [{"image_id": 1, "category_id": 2, "bbox": [10, 10, 40, 40], "score": 0.9}]
    before = copy.deepcopy(dets)
    cm = confusion_matrix(ds, dets, 0.5)
    assert cm.matrix.tolist() == [[0, 1, 0], [0, 0, 0], [0, 0, 0]] and dets == before


def test_bad_inputs():
    gt = _gt([(1, A, X)])
    with pytest.raises(ValueError, match="iou_threshold"):
        confusion_matrix(gt, [], 0.5, iou_threshold=0)
    with pytest.raises(ValueError, match="threshold must be finite"):
        confusion_matrix(gt, [], float("nan"))
    with pytest.raises(PredictionsFormatError, match=r"\[1\]\.category_id"):
        confusion_matrix(gt, [_det(1, A, X, 0.9), {**_det(1, A, X, 0.9), "category_id": 99}], 0.5)


def test_plots(tmp_path):
    gt, dets = _gt(CASES[-1][1]), CASES[-1][2]
    counts, rates = save_confusion_plots(confusion_matrix(gt, dets, 0.5), tmp_path / "cm")
    assert counts.name == "confusion_matrix.png" and rates.name == "confusion_matrix_normalized.png"
    assert counts.read_bytes()[:8] == PNG and rates.read_bytes()[:8] == PNG
    assert sorted(p.name for p in (tmp_path / "cm").iterdir()) == ["confusion_matrix.png", "confusion_matrix_normalized.png"]
