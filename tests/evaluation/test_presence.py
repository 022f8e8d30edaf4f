"""Image-level brand presence: golden values against scikit-learn, threshold selection and transfer, empty inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from logodet.evaluation.presence import PresenceTable, best_presence_threshold, presence_metrics, presence_table
from logodet.types import Annotation, DetectionDataset, ImageRecord


def _indicators(gt: dict, preds: list[dict], threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Truth and prediction indicator matrices built the plain way, for scikit-learn."""
    cats = sorted(c["id"] for c in gt["categories"])
    ids = [im["id"] for im in gt["images"]]
    y = np.zeros((len(ids), len(cats)), int)
    p = np.zeros_like(y)
    for a in gt["annotations"]:
        if not a.get("iscrowd", 0):
            y[ids.index(a["image_id"]), cats.index(a["category_id"])] = 1
    for r in preds:
        if r["score"] >= threshold:
            p[ids.index(r["image_id"]), cats.index(r["category_id"])] = 1
    return y, p


def _micro_f1(gt: dict, preds: list[dict], threshold: float) -> float:
    y, p = _indicators(gt, preds, threshold)
    return float(precision_recall_fscore_support(y, p, average="micro", zero_division=0)[2])


@pytest.mark.parametrize("threshold", [0.0, 0.2, 0.45, 0.7, 0.99])
def test_golden_against_sklearn(coco_fixture, threshold):
    gt, preds = coco_fixture
    m = presence_metrics(gt, preds, threshold=threshold)
    y, p = _indicators(gt, preds, threshold)
    prec, rec, f1, support = precision_recall_fscore_support(y, p, average=None, zero_division=0)
    names = [c["name"] for c in sorted(gt["categories"], key=lambda c: c["id"])]
    assert list(m.per_class) == names
    for k, name in enumerate(names):
        v = m.per_class[name]
        assert (v["precision"], v["recall"], v["f1"]) == pytest.approx((prec[k], rec[k], f1[k]))
        assert v["support"] == support[k] and v["predicted"] == p[:, k].sum() and v["tp"] == (p[:, k] & y[:, k]).sum()
    mp, mr, mf, _ = precision_recall_fscore_support(y, p, average="micro", zero_division=0)
    assert (m.micro["precision"], m.micro["recall"], m.micro["f1"]) == pytest.approx((mp, mr, mf))
    assert m.micro["tp"] + m.micro["fn"] == y.sum() and m.micro["tp"] + m.micro["fp"] == p.sum()
    neg = np.array([not any(a["image_id"] == im["id"] for a in gt["annotations"]) for im in gt["images"]])
    assert m.num_images == len(gt["images"]) and m.num_negative_images == int(neg.sum()) == 6
    assert m.negative_brands_per_image == pytest.approx(p[neg].sum() / neg.sum())
    assert m.negative_images_flagged == pytest.approx(p[neg].any(axis=1).mean())


def test_hand_case_crowd_and_negatives():
    gt = {
        "images": [{"id": i, "file_name": f"{i}.jpg", "width": 99, "height": 99} for i in (1, 2, 3, 4)],
        "categories": [{"id": 1, "name": "acme"}, {"id": 2, "name": "globex"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 9, 9]},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [20, 0, 9, 9]},  # two boxes, one image-level positive
            {"id": 3, "image_id": 2, "category_id": 2, "bbox": [0, 0, 50, 50], "iscrowd": 1},  # crowd only: not a positive
        ],
    }
    box = [0, 0, 5, 5]
    preds = [
        {"image_id": 1, "category_id": 1, "bbox": box, "score": 0.9},
        {"image_id": 1, "category_id": 1, "bbox": box, "score": 0.95},  # max score per (image, class)
        {"image_id": 2, "category_id": 2, "bbox": box, "score": 0.8},
        {"image_id": 3, "category_id": 1, "bbox": box, "score": 0.6},
        {"image_id": 3, "category_id": 2, "bbox": box, "score": 0.7},
        {"image_id": 4, "category_id": 2, "bbox": box, "score": 0.4},
    ]
    table = presence_table(gt, preds)
    assert table.truth.tolist() == [[True, False], [False, False], [False, False], [False, False]]
    assert table.negative.tolist() == [False, False, True, True]
    assert table.scores[0].tolist() == [0.95, -np.inf]
    m = presence_metrics(table, threshold=0.5)
    assert m.per_class["acme"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1, "predicted": 2, "tp": 1}
    assert m.per_class["globex"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "predicted": 2, "tp": 0}
    assert m.micro == {"precision": 0.25, "recall": 1.0, "f1": 0.4, "tp": 1, "fp": 3, "fn": 0}
    assert m.num_negative_images == 2 and m.negative_brands_per_image == 1.0 and m.negative_images_flagged == 0.5
    assert presence_metrics(table, threshold=0.4).negative_images_flagged == 1.0  # ">=": 0.4 counts at 0.4
    assert best_presence_threshold(table) == 0.95
    assert m.to_dict()["micro"]["fp"] == 3 and m.to_dict()["threshold"] == 0.5


def test_best_threshold_is_the_argmax(coco_fixture):
    gt, preds = coco_fixture
    best = best_presence_threshold(gt, preds)
    candidates = sorted({r["score"] for r in preds}, reverse=True)
    f1s = [_micro_f1(gt, preds, t) for t in candidates]
    assert _micro_f1(gt, preds, best) == pytest.approx(max(f1s))
    assert best == candidates[int(np.argmax(f1s))]  # the first maximum from the top: ties go to the higher threshold
    assert presence_metrics(gt, preds, threshold=best).micro["f1"] == pytest.approx(max(f1s))


def test_ties_go_to_the_higher_threshold():
    gt = {
        "images": [{"id": i, "file_name": f"{i}.jpg", "width": 9, "height": 9} for i in (1, 2, 3, 4)],
        "categories": [{"id": 1, "name": "acme"}],
        "annotations": [{"id": i, "image_id": i, "category_id": 1, "bbox": [0, 0, 4, 4]} for i in (1, 2)],
    }
    # at 0.9: tp 1, F1 2/3; at 0.5: tp 1 + fp 1, F1 1/2; at 0.4: tp 2 + fp 1, F1 0.8; at 0.3 nothing new
    preds = [{"image_id": i, "category_id": 1, "bbox": [0, 0, 4, 4], "score": s} for i, s in ((1, 0.9), (3, 0.5), (2, 0.4))]
    assert best_presence_threshold(gt, preds) == 0.4
    # a tie: 0.9 gives tp 1 of 1 claim (F1 2/3), 0.6 gives tp 2 of 4 claims (F1 2/3 again): the higher threshold wins
    tie = [{"image_id": i, "category_id": 1, "bbox": [0, 0, 4, 4], "score": s} for i, s in ((1, 0.9), (3, 0.8), (4, 0.7), (2, 0.6))]
    assert presence_metrics(gt, tie, threshold=0.6).micro["f1"] == pytest.approx(presence_metrics(gt, tie, threshold=0.9).micro["f1"])
    assert best_presence_threshold(gt, tie) == 0.9


def test_threshold_chosen_on_one_split_applied_to_another(coco_fixture):
    gt, preds = coco_fixture

    def split(keep) -> tuple[dict, list[dict]]:
        ids = {im["id"] for im in gt["images"] if keep(im["id"])}
        sub = {
            "images": [im for im in gt["images"] if im["id"] in ids],
            "categories": gt["categories"],
            "annotations": [a for a in gt["annotations"] if a["image_id"] in ids],
        }
        return sub, [r for r in preds if r["image_id"] in ids]

    val, test = split(lambda i: i % 2 == 0), split(lambda i: i % 2 == 1)
    t_val = best_presence_threshold(*val)
    on_test = presence_metrics(*test, threshold=t_val)
    assert on_test.threshold == t_val
    assert on_test.micro["f1"] == pytest.approx(_micro_f1(*test, t_val))
    t_test = best_presence_threshold(*test)
    assert t_val != t_test  # the fixture's splits disagree, so the transfer is a real test
    assert presence_metrics(*test, threshold=t_test).micro["f1"] >= on_test.micro["f1"]


def test_empty_inputs():
    gt = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}, {"id": 2, "file_name": "b.jpg", "width": 9, "height": 9}],
        "categories": [{"id": 1, "name": "acme"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4]}],
    }
    no_preds = presence_metrics(gt, [], threshold=0.5)
    assert no_preds.micro == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 0, "fn": 1}
    assert no_preds.negative_brands_per_image == 0.0 and no_preds.num_negative_images == 1
    assert best_presence_threshold(gt, []) == 0.0

    no_gt = {**gt, "annotations": []}
    m = presence_metrics(no_gt, [{"image_id": 2, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.7}], threshold=0.5)
    assert m.micro == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 1, "fn": 0}
    assert m.num_negative_images == 2 and m.negative_brands_per_image == 0.5 and m.negative_images_flagged == 0.5
    assert best_presence_threshold(no_gt, [{"image_id": 2, "category_id": 1, "bbox": [0, 0, 4, 4], "score": 0.7}]) == 0.0

    nothing = presence_metrics({"images": [], "categories": [{"id": 1, "name": "acme"}], "annotations": []}, [], threshold=0.5)
    assert nothing.num_images == 0 and nothing.num_negative_images == 0 and nothing.negative_images_flagged == 0.0
    assert nothing.per_class["acme"]["f1"] == 0.0 and nothing.micro["f1"] == 0.0


def test_dataset_input_and_table_equivalence():
    ds = DetectionDataset(
        ["acme", "globex"],
        [ImageRecord("a.jpg", 50, 50, [Annotation((1, 1, 9, 9), 1)], id=5), ImageRecord("b.jpg", 50, 50, id=6)],
    )
    preds = [{"image_id": 5, "category_id": 2, "bbox": [1, 1, 8, 8], "score": 0.8}]
    table = presence_table(ds, preds)
    assert isinstance(table, PresenceTable) and table.image_ids == [5, 6] and table.class_names == ["acme", "globex"]
    assert presence_metrics(ds, preds, threshold=0.5) == presence_metrics(table, threshold=0.5)
    assert presence_metrics(table, threshold=0.5).per_class["globex"]["f1"] == 1.0


def test_bad_inputs():
    gt = {"images": [{"id": 1, "file_name": "a.jpg", "width": 9, "height": 9}], "categories": [{"id": 1, "name": "a"}], "annotations": []}
    with pytest.raises(ValueError, match="threshold must be finite"):
        presence_metrics(gt, [], threshold=float("inf"))
    with pytest.raises(ValueError, match="results are required"):
        presence_metrics(gt, threshold=0.5)
    with pytest.raises(ValueError, match="results are required"):
        best_presence_threshold(gt)
    with pytest.raises(ValueError, match=r"\[0\]\.image_id"):
        presence_metrics(gt, [{"image_id": 7, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}], threshold=0.5)
