"""Top-k error and multi-label precision / recall / F1: golden values against scikit-learn, ties, empty inputs, reset."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support, top_k_accuracy_score

from logodet.evaluation.classification import MultiLabelPRF, TopKError


def _batches(n: int, size: int) -> list[slice]:
    return [slice(i, min(n, i + size)) for i in range(0, n, size)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_topk_golden_against_sklearn(seed):
    rng = np.random.default_rng(seed)
    n, c = 230, 12
    logits = rng.normal(size=(n, c))
    labels = rng.integers(0, c, n)
    m = TopKError(k=(1, 3, 5))
    for s in _batches(n, 64):  # accumulation over uneven batches
        m.update(logits[s], labels[s])
    r = m.compute()
    assert r.count == n and sorted(r.accuracy) == [1, 3, 5]
    for k in (1, 3, 5):
        expected = top_k_accuracy_score(labels, logits, k=k, labels=np.arange(c))
        assert r.accuracy[k] == pytest.approx(expected) and r.error[k] == pytest.approx(1 - expected)
    assert r.accuracy[1] == pytest.approx(np.mean(np.argmax(logits, axis=1) == labels))


def test_topk_hand_case_and_ties():
    m = TopKError(k=[2, 1])
    assert m.k == (1, 2)
    # sample 0: label 2 ranks 2nd; sample 1: tie 0.5 / 0.5 between classes 0 and 1, label 1 loses to the lower index;
    # sample 2: tie won by label 0 (lower index); sample 3: label 1 ranks 3rd
    m.update(np.array([[0.1, 0.7, 0.2], [0.5, 0.5, 0.0], [0.4, 0.4, 0.2], [0.5, 0.1, 0.4]]), np.array([2, 1, 0, 1]))
    r = m.compute()
    assert r.accuracy == {1: 0.25, 2: 0.75} and r.error == {1: 0.75, 2: 0.25}


def test_topk_k_at_least_classes_counts_every_sample():
    m = TopKError(k=(1, 5))
    m.update([[0.2, 0.8, 0.0], [1.0, 0.0, 0.5]], [0, 2])
    assert m.compute().accuracy == {1: 0.0, 5: 1.0}


def test_topk_empty_and_reset():
    m = TopKError()
    r = m.compute()
    assert r.count == 0 and all(math.isnan(v) for v in [*r.accuracy.values(), *r.error.values()])
    m.update(np.zeros((0, 2)), np.zeros(0, np.int64))  # an empty batch changes nothing
    assert m.compute().count == 0
    m.update([[0.0, 1.0]], [1])
    assert m.compute().accuracy[1] == 1.0
    m.reset()
    assert m.compute().count == 0 and math.isnan(m.compute().accuracy[1])
    m.update([[0.0, 1.0, 2.0]], [0])  # after reset another class count is fine
    assert m.compute().accuracy == {1: 0.0, 5: 1.0}


@pytest.mark.parametrize(
    ("logits", "labels", "message"),
    [
        ([0.1, 0.9], [1], r"expected shape \[N, C\]"),
        ([[0.1, 0.9]], [1, 0], r"labels: expected shape \[1\]"),
        ([[0.1, 0.9]], [2], r"labels: values must be in \[0, 2\)"),
        ([[0.1, 0.9]], [-1], r"labels: values must be in \[0, 2\)"),
        ([[0.1, 0.9]], [1.0], "labels: expected integers"),
        ([[0.1, float("nan")]], [1], "logits: values must be finite"),
    ],
)
def test_topk_bad_inputs(logits, labels, message):
    with pytest.raises(ValueError, match=message):
        TopKError().update(logits, labels)


def test_topk_bad_k_and_class_change():
    for k in (0, (), (1, -2), 1.5, True):
        with pytest.raises(ValueError, match="k must be positive integers"):
            TopKError(k=k)
    m = TopKError()
    m.update([[0.1, 0.9]], [1])
    with pytest.raises(ValueError, match="3 classes, earlier batches had 2"):
        m.update([[0.1, 0.9, 0.0]], [1])


def _multilabel_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, c = 150, 8
    scores = rng.random((n, c))
    targets = (rng.random((n, c)) < 0.3).astype(int)
    scores[:, 6] = 0.1  # class 6: predicted never, true sometimes
    targets[:, 7] = 0  # class 7: absent from both prediction and truth
    scores[:, 7] = rng.random(n) * 0.49
    targets[:, 5] = 0  # class 5: predicted sometimes, never true
    return scores, targets


@pytest.mark.parametrize("seed", [0, 3])
def test_multilabel_golden_against_sklearn(seed):
    scores, targets = _multilabel_data(seed)
    pred = (scores >= 0.5).astype(int)
    present = np.flatnonzero((pred | targets).any(axis=0))
    assert present.tolist() == [0, 1, 2, 3, 4, 5, 6]

    per_class = MultiLabelPRF(8, average=None)
    macro = MultiLabelPRF(8, average="macro")
    micro = MultiLabelPRF(8, average="micro")
    for m in (per_class, macro, micro):
        for s in _batches(len(scores), 40):
            m.update(scores[s], targets[s])

    r = per_class.compute()
    p, rc, f, sup = precision_recall_fscore_support(targets, pred, average=None, zero_division=0)
    np.testing.assert_allclose(r.precision[present], p[present])
    np.testing.assert_allclose(r.recall[present], rc[present])
    np.testing.assert_allclose(r.f1[present], f[present])
    assert np.isnan(r.precision[7]) and np.isnan(r.recall[7]) and np.isnan(r.f1[7])
    assert r.precision[6] == 0.0 and r.recall[5] == 0.0  # defined on one side: 0
    np.testing.assert_array_equal(r.support, sup)

    rm = macro.compute()
    p, rc, f, _ = precision_recall_fscore_support(targets, pred, average="macro", labels=present, zero_division=0)
    assert (rm.precision, rm.recall, rm.f1) == pytest.approx((p, rc, f)) and rm.support == targets.sum()

    ru = micro.compute()
    p, rc, f, _ = precision_recall_fscore_support(targets, pred, average="micro", zero_division=0)
    assert (ru.precision, ru.recall, ru.f1) == pytest.approx((p, rc, f)) and ru.average == "micro"


def test_multilabel_hand_case_threshold_and_booleans():
    m = MultiLabelPRF(2, threshold=0.5, average=None)
    m.update([[0.5, 0.49]], [[1, 1]])  # 0.5 >= 0.5 counts, 0.49 does not
    r = m.compute()
    assert r.precision.tolist() == [1.0, 0.0] and r.recall.tolist() == [1.0, 0.0] and r.f1.tolist() == [1.0, 0.0]
    b = MultiLabelPRF(2, average="micro")
    b.update(np.array([[True, False], [True, True]]), np.array([[True, False], [False, True]]))
    rb = b.compute()
    assert (rb.precision, rb.recall, rb.f1, rb.support) == (pytest.approx(2 / 3), 1.0, pytest.approx(0.8), 2)


def test_multilabel_empty_and_reset():
    for average in ("micro", "macro"):
        r = MultiLabelPRF(3, average=average).compute()
        assert math.isnan(r.precision) and math.isnan(r.recall) and math.isnan(r.f1) and r.support == 0
    r = MultiLabelPRF(3, average=None).compute()
    assert np.isnan(r.precision).all() and np.isnan(r.f1).all() and r.support.tolist() == [0, 0, 0]

    m = MultiLabelPRF(3, average="micro")
    m.update(np.zeros((4, 3)), np.zeros((4, 3)))  # nothing predicted, nothing true: still undefined
    assert math.isnan(m.compute().f1)
    m.update([[0.9, 0.0, 0.0]], [[1, 0, 0]])
    assert m.compute().f1 == 1.0
    m.reset()
    assert math.isnan(m.compute().f1)


@pytest.mark.parametrize(
    ("preds", "targets", "message"),
    [
        ([[0.1, 0.2]], [[0, 1, 0]], r"shape \[N, 3\]"),
        ([[0.1, 0.2, 0.3]], [[0, 2, 0]], "targets: values must be 0 or 1"),
        ([[0.1, float("inf"), 0.3]], [[0, 1, 0]], "preds: values must be finite"),
        ([0.1, 0.2, 0.3], [0, 1, 0], r"expected shape \[N, C\]"),
    ],
)
def test_multilabel_bad_inputs(preds, targets, message):
    with pytest.raises(ValueError, match=message):
        MultiLabelPRF(3).update(preds, targets)


def test_multilabel_bad_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        MultiLabelPRF(0)
    with pytest.raises(ValueError, match="average"):
        MultiLabelPRF(3, average="weighted")
    with pytest.raises(ValueError, match="threshold"):
        MultiLabelPRF(3, threshold=float("nan"))
