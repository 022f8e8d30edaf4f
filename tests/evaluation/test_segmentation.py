"""Segmentation metrics: golden values against scikit-learn, absent classes, ignore index, empty inputs, reset."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, jaccard_score, recall_score
from sklearn.metrics import confusion_matrix as sk_confusion

from logodet.evaluation.segmentation import SegmentationMetrics


def _data(seed: int, n: int = 3, c: int = 5, size: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    target = rng.integers(0, c - 1, (n, size, size))  # class c-1 never in the truth
    pred = np.where(rng.random(target.shape) < 0.7, target, rng.integers(0, c - 1, target.shape))
    pred[0, :2, :2] = c - 1  # ... but predicted on a few pixels
    return pred, target


@pytest.mark.parametrize("seed", [0, 1])
def test_golden_against_sklearn(seed):
    pred, target = _data(seed)
    m = SegmentationMetrics(5)
    for i in range(len(pred)):  # one image at a time
        m.update(pred[i], target[i])
    r = m.compute()
    t, p = target.ravel(), pred.ravel()
    labels = np.arange(5)
    np.testing.assert_array_equal(r.confusion, sk_confusion(t, p, labels=labels))
    np.testing.assert_allclose(r.iou, jaccard_score(t, p, labels=labels, average=None, zero_division=0))
    np.testing.assert_allclose(r.dice, f1_score(t, p, labels=labels, average=None, zero_division=0))
    assert r.pixel_accuracy == pytest.approx(accuracy_score(t, p))
    assert r.mean_iou == pytest.approx(np.mean(jaccard_score(t, p, labels=labels, average=None)))
    acc = recall_score(t, p, labels=labels, average=None, zero_division=0)
    np.testing.assert_allclose(r.class_accuracy[:4], acc[:4])
    assert math.isnan(r.class_accuracy[4]) and r.iou[4] == 0.0  # predicted, never true: IoU 0, accuracy undefined
    assert r.mean_class_accuracy == pytest.approx(np.mean(acc[:4]))


def test_hand_case_with_absent_class():
    m = SegmentationMetrics(3)
    m.update(np.array([[0, 1], [1, 1]]), np.array([[0, 1], [0, 1]]))
    r = m.compute()
    assert r.confusion.tolist() == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]
    assert r.iou[:2].tolist() == [0.5, 2 / 3] and math.isnan(r.iou[2])
    assert r.dice[:2].tolist() == pytest.approx([2 / 3, 0.8]) and math.isnan(r.dice[2])
    assert r.mean_iou == pytest.approx((0.5 + 2 / 3) / 2)  # class 2 is absent from both: excluded
    assert r.mean_dice == pytest.approx((2 / 3 + 0.8) / 2)
    assert r.class_accuracy[:2].tolist() == [0.5, 1.0] and r.pixel_accuracy == 0.75


def test_ignore_index_and_batched_scores():
    target = np.array([[[0, 1, 255], [2, 255, 1]]])
    scores = np.zeros((1, 3, 2, 3))
    labels = np.array([[[0, 2, 1], [2, 0, 1]]])
    np.put_along_axis(scores, labels[:, None], 1.0, axis=1)
    m = SegmentationMetrics(3, ignore_index=255)
    m.update(scores, target)  # [N, C, H, W] scores: argmax over the class axis
    r = m.compute()
    assert r.confusion.sum() == 4 and r.confusion.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    single = SegmentationMetrics(3, ignore_index=255)
    single.update(scores[0], target[0])  # [C, H, W] scores for one [H, W] map
    assert single.compute().confusion.tolist() == r.confusion.tolist()
    tied = SegmentationMetrics(2)
    tied.update(np.zeros((2, 1, 1)), np.array([[1]]))  # a tie goes to class 0
    assert tied.compute().confusion.tolist() == [[0, 0], [1, 0]]


def test_empty_and_reset():
    m = SegmentationMetrics(2)
    r = m.compute()
    assert r.confusion.tolist() == [[0, 0], [0, 0]]
    assert np.isnan(r.iou).all() and np.isnan(r.dice).all() and np.isnan(r.class_accuracy).all()
    assert all(math.isnan(v) for v in (r.mean_iou, r.mean_dice, r.mean_class_accuracy, r.pixel_accuracy))
    m.update(np.zeros((0, 4), np.int64), np.zeros((0, 4), np.int64))
    assert math.isnan(m.compute().pixel_accuracy)
    m.update(np.array([[1, 1]]), np.array([[1, 1]]))
    r = m.compute()
    assert r.pixel_accuracy == 1.0 and r.iou[1] == 1.0 and math.isnan(r.iou[0]) and r.mean_iou == 1.0
    m.reset()
    assert m.compute().confusion.sum() == 0 and math.isnan(m.compute().mean_iou)


def test_fully_ignored_image_counts_nothing():
    m = SegmentationMetrics(2, ignore_index=255)
    m.update(np.array([[7, 9]]), np.array([[255, 255]]))  # predictions under ignored pixels are not checked
    assert m.compute().confusion.sum() == 0


@pytest.mark.parametrize(
    ("pred", "target", "message"),
    [
        (np.array([[0, 1]]), np.array([[0, 3]]), r"target: label 3 outside \[0, 3\)"),
        (np.array([[0, -1]]), np.array([[0, 1]]), r"preds: label -1 outside \[0, 3\)"),
        (np.array([[0, 1, 1]]), np.array([[0, 1]]), "does not match target shape"),
        (np.array([[0.0, 1.0]]), np.array([[0, 1]]), "preds: expected an integer label map"),
        (np.array([[0, 1]]), np.array([[0.0, 1.0]]), "target: expected an integer label map"),
        (np.zeros((2, 1, 2)), np.array([[0, 1]]), "class axis 0 has 2 entries, expected 3"),
    ],
)
def test_bad_inputs(pred, target, message):
    with pytest.raises(ValueError, match=message):
        SegmentationMetrics(3).update(pred, target)


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        SegmentationMetrics(0)
    with pytest.raises(ValueError, match="ignore_index"):
        SegmentationMetrics(2, ignore_index=0.5)
