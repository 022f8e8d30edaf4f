"""Annotation quality: kappa golden values, box agreement, scores against gold, empty inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from logodet.datasets.quality import annotator_agreement, cohen_kappa, fleiss_kappa, match_boxes, score_against_gold
from logodet.types import Annotation, DetectionDataset, ImageRecord

# Fleiss (1971) as worked on Wikipedia ("Fleiss' kappa"): 10 subjects, 14 raters, 5 categories -> 0.210
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def ds(classes: list[str], images: dict[str, list[tuple[int, tuple[float, float, float, float]]]]) -> DetectionDataset:
    """Dataset from ``{file: [(class index, xyxy), ...]}``."""
    recs = [ImageRecord(f, 100, 100, [Annotation(b, c) for c, b in anns], id=i + 1) for i, (f, anns) in enumerate(images.items())]
    return DetectionDataset(classes, recs)


def test_fleiss_kappa_textbook_example():
    assert fleiss_kappa(FLEISS_TABLE) == pytest.approx(0.2099, abs=1e-4)
    assert round(fleiss_kappa(FLEISS_TABLE), 3) == 0.210


@pytest.mark.parametrize(
    "table,expected",
    [
        ([[0, 3], [3, 0], [1, 2], [2, 1]], 1 / 3),  # by hand: P = 2/3, Pe = 1/2
        ([[3, 0], [0, 3]], 1.0),
        ([[3, 0], [3, 0]], None),  # one category throughout: chance agreement 1
        (np.zeros((0, 2)), None),
    ],
)
def test_fleiss_kappa_small_cases(table, expected):
    assert fleiss_kappa(table) == (pytest.approx(expected) if expected is not None else None)


def test_fleiss_kappa_needs_equal_raters():
    with pytest.raises(ValueError, match="same number of raters"):
        fleiss_kappa([[1, 2], [1, 1]])


def test_cohen_kappa_textbook_2x2():
    # 50 items: both yes 20, A yes / B no 5, A no / B yes 10, both no 15 -> po 0.70, pe 0.50, kappa 0.40
    a = [1] * 25 + [0] * 25
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == 1.0 and cohen_kappa([0, 0], [0, 0]) is None and cohen_kappa([], []) is None
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa([1], [1, 0])


@pytest.mark.parametrize("seed", range(4))
def test_cohen_kappa_matches_scikit_learn(seed):
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3 + seed % 2, 60)
    b = np.where(rng.random(60) < 0.5, a, rng.integers(0, 3, 60))
    assert cohen_kappa(a.tolist(), b.tolist()) == pytest.approx(sk.cohen_kappa_score(a, b), abs=1e-9)


def test_match_boxes_greedy_one_to_one_by_class():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]], float)
    b = np.array([[0, 0, 10, 9], [0, 0, 10, 10], [50, 50, 60, 60]], float)
    # a0 and a1 both fit b1 best; greedy gives b1 (IoU 1) to a0, b0 (IoU 0.9) to a1; a2/b2 differ in class
    assert match_boxes(a, [0, 0, 1], b, [0, 0, 2]) == [(0, 1, 1.0), (1, 0, pytest.approx(0.9))]
    assert match_boxes(a[:1], [0], np.array([[5, 0, 15, 10]], float), [0], iou=1 / 3) == [(0, 0, pytest.approx(1 / 3))]
    assert match_boxes(a[:1], [0], np.array([[5, 0, 15, 10]], float), [0], iou=0.34) == []
    assert match_boxes(np.zeros((0, 4)), [], b, [0, 0, 2]) == []


ACME, GLOBEX = 0, 1
GOLD = {
    "1.jpg": [(ACME, (0, 0, 10, 10)), (GLOBEX, (20, 20, 40, 40))],
    "2.jpg": [(ACME, (0, 0, 10, 10)), (ACME, (50, 50, 60, 60))],
    "3.jpg": [],
}
PERTURBED = {
    "1.jpg": [(ACME, (1, 0, 11, 10)), (ACME, (20, 20, 40, 40))],  # IoU 90/110 match; globex box labelled acme
    "2.jpg": [(ACME, (0, 0, 10, 10)), (ACME, (55, 50, 65, 60))],  # exact match; a box shifted to IoU 1/3
    "3.jpg": [(GLOBEX, (0, 0, 5, 5))],  # a box where gold has none
}


def test_score_against_gold_hand_computed():
    s = score_against_gold(ds(["acme", "globex"], PERTURBED), ds(["acme", "globex"], GOLD))
    assert s["images"] == 3 and s["missing"] == [] and s["extra"] == []
    o = s["overall"]
    assert (o["tp"], o["fp"], o["fn"]) == (2, 3, 2)
    assert o["precision"] == pytest.approx(2 / 5) and o["recall"] == pytest.approx(2 / 4) and o["f1"] == pytest.approx(4 / 9)
    assert o["mean_iou"] == pytest.approx((90 / 110 + 1) / 2)
    acme, globex = s["per_class"]["acme"], s["per_class"]["globex"]
    assert (acme["tp"], acme["fp"], acme["fn"]) == (2, 2, 1) and acme["f1"] == pytest.approx(4 / 7)
    assert acme["precision"] == pytest.approx(0.5) and acme["recall"] == pytest.approx(2 / 3)
    assert globex == {"tp": 0, "fp": 1, "fn": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0, "mean_iou": None}
    loose = score_against_gold(ds(["acme", "globex"], PERTURBED), ds(["acme", "globex"], GOLD), iou=0.3)["overall"]
    assert (loose["tp"], loose["fp"], loose["fn"]) == (3, 2, 1)
    json.dumps(s)


def test_score_against_gold_matches_classes_by_name_and_reports_missing():
    gold = ds(["acme", "globex"], GOLD)
    ann = ds(["globex", "acme"], {"1.jpg": [(1, (0, 0, 10, 10)), (0, (20, 20, 40, 40))], "9.jpg": []})
    s = score_against_gold(ann, gold)
    assert s["missing"] == ["2.jpg", "3.jpg"] and s["extra"] == ["9.jpg"] and s["images"] == 1
    assert s["overall"]["f1"] == 1.0 and s["overall"]["mean_iou"] == 1.0


def test_agreement_with_itself_is_perfect():
    rng = np.random.default_rng(0)
    images = {f"{i}.jpg": [(int(rng.integers(0, 3)), (x, x, x + 20.0, x + 15.0)) for x in rng.integers(0, 70, 3)] for i in range(8)}
    a = ds(["acme", "globex", "initech"], images)
    r = annotator_agreement({"ann": a, "bob": a, "cho": a})
    assert [(p.a, p.b) for p in r.pairs] == [("ann", "bob"), ("ann", "cho"), ("bob", "cho")]
    for p in r.pairs:
        assert p.agreement == 1.0 and p.mean_iou == pytest.approx(1.0) and p.kappa == 1.0 and p.only_a == p.only_b == 0
        assert all(row["agreement"] == 1.0 for row in p.per_class.values())
    assert r.fleiss_kappa == 1.0 and r.images == 8 and all(not m for m in r.missing.values())


def test_agreement_and_kappa_hand_computed():
    c = ["acme", "globex"]
    ann = ds(c, {"1.jpg": [(ACME, (0, 0, 10, 10))], "2.jpg": [(ACME, (0, 0, 10, 10))]})
    bob = ds(c, {"1.jpg": [(ACME, (1, 0, 11, 10))], "2.jpg": [(ACME, (0, 0, 10, 10)), (GLOBEX, (50, 50, 60, 60))]})
    cho = ds(c, {"1.jpg": [(ACME, (0, 0, 10, 10)), (ACME, (60, 60, 70, 70))], "2.jpg": []})
    r = annotator_agreement({"ann": ann, "bob": bob, "cho": cho})
    ab, ac, bc = r.pairs
    assert (ab.matched, ab.only_a, ab.only_b) == (2, 0, 1) and ab.agreement == pytest.approx(4 / 5)
    assert ab.mean_iou == pytest.approx((90 / 110 + 1) / 2)
    # presence items (1,acme) (1,globex) (2,acme) (2,globex): ann 1010, bob 1011 -> po 3/4, pe 1/2
    assert ab.kappa == pytest.approx(0.5)
    assert ab.per_class["acme"]["agreement"] == 1.0 and ab.per_class["globex"] == {
        "matched": 0,
        "only_a": 0,
        "only_b": 1,
        "agreement": 0.0,
        "mean_iou": None,
    }
    assert (ac.matched, ac.only_a, ac.only_b) == (1, 1, 1) and ac.agreement == pytest.approx(0.5)
    assert (bc.matched, bc.only_a, bc.only_b) == (1, 2, 1)
    # present counts per item: 3, 0, 2, 1 -> the hand-computed table of test_fleiss_kappa_small_cases
    assert r.fleiss_kappa == pytest.approx(1 / 3)
    sk = pytest.importorskip("sklearn.metrics")
    assert ab.kappa == pytest.approx(sk.cohen_kappa_score([1, 0, 1, 0], [1, 0, 1, 1]))


def test_missing_images_are_reported_and_left_out():
    c = ["acme"]
    a = ds(c, {"1.jpg": [(0, (0, 0, 10, 10))], "2.jpg": [(0, (0, 0, 10, 10))]})
    b = ds(c, {"1.jpg": [(0, (0, 0, 10, 10))], "3.jpg": []})
    r = annotator_agreement({"a": a, "b": b})
    assert r.missing == {"a": ["3.jpg"], "b": ["2.jpg"]} and r.images == 1
    assert r.pairs[0].images == 1 and r.pairs[0].agreement == 1.0
    assert r.fleiss_kappa is None


def test_empty_inputs():
    none = ds(["acme"], {"1.jpg": [], "2.jpg": []})
    r = annotator_agreement({"a": none, "b": none, "c": none})
    p = r.pairs[0]
    assert (p.matched, p.agreement, p.mean_iou, p.kappa, p.per_class) == (0, None, None, None, {})
    assert r.fleiss_kappa is None
    empty = DetectionDataset([], [])
    r = annotator_agreement({"a": empty, "b": empty})
    assert r.images == 0 and r.pairs[0].agreement is None and r.pairs[0].kappa is None and r.classes == []
    assert json.loads(json.dumps(r.to_dict()))["pairs"][0]["images"] == 0
    s = score_against_gold(empty, empty)
    assert s["overall"] == {"tp": 0, "fp": 0, "fn": 0, "precision": None, "recall": None, "f1": None, "mean_iou": None}


@pytest.mark.parametrize(
    "call,msg",
    [
        (lambda d: annotator_agreement({"only": d}), "at least two annotators"),
        (lambda d: annotator_agreement({"a": d, "b": d}, iou=0), r"iou: expected a threshold in \(0, 1\]"),
        (lambda d: score_against_gold(d, d, iou=1.5), "iou: expected a threshold"),
        (
            lambda d: annotator_agreement({"a": d, "dup": DetectionDataset([], [ImageRecord("x.jpg", 4, 4)] * 2)}),
            "dup: file name 'x.jpg' appears more than once",
        ),
    ],
)
def test_bad_input_is_named(call, msg):
    with pytest.raises(ValueError, match=msg):
        call(ds(["acme"], {"1.jpg": []}))
