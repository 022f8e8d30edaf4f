"""COCO evaluation: equality with pycocotools, best F1, empty cases, evaluator, predictions files."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from collections import Counter

import numpy as np
import pytest
from rich.console import Console

from logodet.datasets.formats.coco import COCOFormatError, load_coco_dict
from logodet.evaluation.detection import (
    COCO_METRIC_NAMES,
    DetectionEvaluator,
    DetectionMetrics,
    evaluate_coco,
    format_metrics_table,
    print_metrics,
    save_metrics,
)
from logodet.evaluation.matching import MatchResult, best_operating_point, match_coco, sweep_thresholds
from logodet.evaluation.predictions import (
    PredictionsFormatError,
    detections_to_coco_results,
    load_ground_truth,
    load_predictions,
    validate_predictions,
)
from logodet.types import Detections

from .conftest import make_coco_fixture, make_dense_fixture

TOL = 1e-6


def _stats(m: DetectionMetrics) -> np.ndarray:
    return np.array([getattr(m, k) for k in COCO_METRIC_NAMES])


def _assert_same_as_pycocotools(metrics: DetectionMetrics, ref_stats: np.ndarray, ref_per_class: dict) -> None:
    np.testing.assert_allclose(_stats(metrics), ref_stats, atol=TOL, rtol=0)
    assert metrics.per_class.keys() == ref_per_class.keys()
    for name, ref in ref_per_class.items():
        assert metrics.per_class[name]["AP"] == pytest.approx(ref["AP"], abs=TOL), name
        assert metrics.per_class[name]["AP50"] == pytest.approx(ref["AP50"], abs=TOL), name


def test_fixture_covers_the_special_cases(coco_fixture):
    gt, preds = coco_fixture
    assert len(gt["images"]) >= 60 and len(gt["categories"]) >= 4
    with_gt = {a["image_id"] for a in gt["annotations"]}
    with_pred = {p["image_id"] for p in preds}
    ids = {im["id"] for im in gt["images"]}
    assert ids - with_gt, "images without ground truth"
    assert ids - with_pred, "images without predictions"
    assert (ids - with_gt) & with_pred, "false positives on images without ground truth"
    assert any(a["iscrowd"] for a in gt["annotations"])
    areas = [a["area"] for a in gt["annotations"] if not a["iscrowd"]]
    assert min(areas) < 32**2 and max(areas) > 96**2 and any(32**2 < a < 96**2 for a in areas)
    gt_pairs = {(a["image_id"], a["category_id"]) for a in gt["annotations"]}
    assert any((p["image_id"], p["category_id"]) not in gt_pairs for p in preds), "predicted classes absent from the image"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_pycocotools(seed, pycoco):
    gt, preds = make_coco_fixture(seed)
    metrics = evaluate_coco(gt, preds)
    _assert_same_as_pycocotools(metrics, *pycoco(gt, preds))
    assert metrics.per_class["hooli"] == {"AP": -1.0, "AP50": -1.0}  # predictions but no ground truth
    assert metrics.num_images == len(gt["images"]) and metrics.num_predictions == len(preds)


def test_dataset_input_equals_dict_input(coco_fixture, pycoco):
    gt, preds = coco_fixture
    metrics = evaluate_coco(load_coco_dict(copy.deepcopy(gt)), preds)
    _assert_same_as_pycocotools(metrics, *pycoco(gt, preds))


def test_inputs_are_not_modified(coco_fixture):
    gt, preds = coco_fixture
    gt_before, preds_before = copy.deepcopy(gt), copy.deepcopy(preds)
    evaluate_coco(gt, preds)
    assert gt == gt_before and preds == preds_before


def test_custom_iou_thresholds_equal_pycocotools(coco_fixture):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt, preds = coco_fixture
    metrics = evaluate_coco(gt, preds, iou_thresholds=[0.5, 0.6])
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        ev = COCOeval(coco_gt, coco_gt.loadRes(copy.deepcopy(preds)), "bbox")
        ev.params.iouThrs = np.array([0.5, 0.6])
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    np.testing.assert_allclose(_stats(metrics), ev.stats, atol=TOL, rtol=0)
    assert metrics.AP75 == -1.0
    with pytest.raises(ValueError, match="iou_thresholds"):
        evaluate_coco(gt, preds, iou_thresholds=[0.0, 0.5])


def test_dense_images_equal_pycocotools(pycoco):
    gt, preds = make_dense_fixture()
    assert len(preds) > 50
    _assert_same_as_pycocotools(evaluate_coco(gt, preds), *pycoco(gt, preds))


@pytest.mark.parametrize("make", [make_coco_fixture, make_dense_fixture])
def test_matching_equals_pycocotools_at_iou_50(make):
    """Our IoU-0.5 matching (behind best F1) classifies each detection as pycocotools' evaluateImg does.

    The dense fixture's groups exceed the plain-Python size limit, so the numpy IoU path is covered too.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt, preds = make()
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        ev = COCOeval(coco_gt, coco_gt.loadRes(copy.deepcopy(preds)), "bbox")
        ev.evaluate()
    ref: Counter = Counter()
    for e in ev.evalImgs:
        if e is None or e["aRng"] != ev.params.areaRng[0]:
            continue
        for j, score in enumerate(e["dtScores"]):
            if not e["dtIgnore"][0, j]:
                ref[e["category_id"], round(score, 6), bool(e["dtMatches"][0, j] > 0)] += 1
    match = match_coco(gt, preds)
    ours = Counter(zip(match.category_ids.tolist(), np.round(match.scores, 6).tolist(), match.is_tp.tolist(), strict=True))
    assert ours == ref
    assert match.total_gt == sum(1 for a in gt["annotations"] if not a["iscrowd"])


def _golden_case() -> tuple[dict, list[dict]]:
    gt = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 400, "height": 300}],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 50], "area": 2500, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [100, 10, 50, 50], "area": 2500, "iscrowd": 0},
            {"id": 3, "image_id": 1, "category_id": 1, "bbox": [200, 10, 50, 50], "area": 2500, "iscrowd": 0},
            {"id": 4, "image_id": 1, "category_id": 1, "bbox": [0, 150, 200, 140], "area": 28000, "iscrowd": 1},
            {"id": 5, "image_id": 1, "category_id": 2, "bbox": [300, 10, 60, 60], "area": 3600, "iscrowd": 0},
        ],
    }
    p = [
        (1, [10, 10, 50, 50], 0.95),  # TP a1
        (1, [20, 160, 40, 40], 0.90),  # on the crowd region: ignored
        (2, [100, 100, 40, 40], 0.85),  # FP
        (1, [102, 12, 50, 50], 0.80),  # TP a2 (IoU 0.855)
        (1, [12, 10, 50, 50], 0.70),  # duplicate of a1: FP
        (2, [300, 10, 60, 60], 0.60),  # TP b1
        (1, [200, 10, 50, 50], 0.40),  # TP a3
        (1, [300, 200, 30, 30], 0.30),  # FP
    ]
    return gt, [{"image_id": 1, "category_id": c, "bbox": b, "score": s} for c, b, s in p]


def test_best_f1_golden():
    # counted detections by score: TP, FP, TP, FP, TP, TP, FP with 4 ground-truth boxes;
    # F1 = 2TP / (n + 4): .4, .333, .571, .5, .667, .8, .727 -> best at 0.40 with P = 4/6, R = 1
    gt, preds = _golden_case()
    m = evaluate_coco(gt, preds)
    assert m.best_f1 == pytest.approx(0.8)
    assert m.best_f1_threshold == pytest.approx(0.40)
    assert m.precision == pytest.approx(4 / 6)
    assert m.recall == pytest.approx(1.0)
    assert m.num_ground_truth == 4
    _, precision, recall, f1 = sweep_thresholds(m.match)
    np.testing.assert_allclose(f1, [0.4, 2 / 6, 4 / 7, 0.5, 6 / 9, 0.8, 8 / 11])
    np.testing.assert_allclose(recall, [0.25, 0.25, 0.5, 0.5, 0.75, 1.0, 1.0])
    np.testing.assert_allclose(precision, [1, 0.5, 2 / 3, 0.5, 0.6, 4 / 6, 4 / 7])


def test_best_f1_ties_go_to_higher_threshold():
    m = MatchResult(np.array([0.9, 0.8, 0.7, 0.6]), np.array([True, False, False, True]), np.array([1, 1, 1, 1]), {1: 2})
    op = best_operating_point(m)
    assert (op.threshold, op.f1) == (0.9, pytest.approx(2 / 3))


def test_python_and_numpy_iou_agree():
    from logodet.evaluation.matching import _iou_rows, box_iou_xywh

    rng = np.random.default_rng(3)
    dets, gts = rng.uniform(0, 50, (6, 4)), rng.uniform(0, 50, (5, 4))
    crowd = [0, 1, 0, 0, 1]
    np.testing.assert_allclose(_iou_rows(dets.tolist(), gts.tolist(), crowd), box_iou_xywh(dets, gts, np.array(crowd)), atol=1e-12)


def test_numpy_scalars_are_accepted():
    gt, preds = _golden_case()
    as_numpy = [
        {**p, "image_id": np.int64(p["image_id"]), "score": np.float32(p["score"]), "bbox": np.array(p["bbox"], np.float32).tolist()}
        for p in preds
    ]
    out = validate_predictions(as_numpy, gt)
    assert type(out[0]["image_id"]) is int and type(out[0]["score"]) is float
    assert evaluate_coco(gt, as_numpy).best_f1 == pytest.approx(0.8)


def test_equal_scores_form_one_threshold():
    m = MatchResult(np.array([0.9, 0.5, 0.5]), np.array([True, True, False]), np.array([1, 1, 1]), {1: 2})
    thresholds, precision, _, _ = sweep_thresholds(m)
    assert thresholds.tolist() == [0.9, 0.5] and precision.tolist() == [1.0, 2 / 3]


def test_no_predictions(coco_fixture, pycoco):
    gt, _ = coco_fixture
    m = evaluate_coco(gt, [])
    _assert_same_as_pycocotools(m, *pycoco(gt, []))
    assert set(_stats(m)) <= {0.0, -1.0}
    assert (m.best_f1, m.best_f1_threshold, m.precision, m.recall, m.num_predictions) == (0.0, 0.0, 0.0, 0.0, 0)


def test_no_ground_truth(coco_fixture, pycoco):
    gt, preds = coco_fixture
    gt = {**gt, "annotations": []}
    m = evaluate_coco(gt, preds)
    _assert_same_as_pycocotools(m, *pycoco(gt, preds))
    assert np.all(_stats(m) == -1.0)
    assert (m.best_f1, m.precision, m.recall, m.num_ground_truth) == (0.0, 0.0, 0.0, 0)


def test_no_images():
    m = evaluate_coco({"images": [], "categories": [{"id": 1, "name": "a"}]}, [])
    assert np.all(_stats(m) == -1.0) and m.per_class == {"a": {"AP": -1.0, "AP50": -1.0}} and m.best_f1 == 0.0


def test_evaluator_equals_evaluate_coco(coco_fixture):
    gt, preds = coco_fixture
    ds = load_coco_dict(copy.deepcopy(gt))
    ev = DetectionEvaluator(ds.class_names)
    ev.update(ds.images[0], Detections.empty())  # discarded by reset
    ev.reset()
    for rec in ds.images:
        mine = [p for p in preds if p["image_id"] == rec.id]
        xyxy = [[x, y, x + w, y + h] for x, y, w, h in (p["bbox"] for p in mine)]
        dets = Detections(xyxy, [p["category_id"] - 1 for p in mine], [p["score"] for p in mine])
        ev.update(rec, dets)
    got, want = ev.compute(), evaluate_coco(gt, preds)
    np.testing.assert_allclose(_stats(got), _stats(want), atol=TOL, rtol=0)
    for name, vals in want.per_class.items():
        assert got.per_class[name] == pytest.approx(vals), name
    assert got.best_f1 == pytest.approx(want.best_f1) and got.best_f1_threshold == pytest.approx(want.best_f1_threshold)


def test_evaluator_with_ids_and_boxes():
    ev = DetectionEvaluator(["a", "b"])
    gt = Detections(xyxy=[[0, 0, 40, 40], [50, 50, 150, 150]], class_ids=[0, 1])
    ev.update(3, Detections(xyxy=[[0, 0, 40, 40]], class_ids=[0], scores=[0.9]), gt)
    ev.update(4, Detections.empty(), Detections.empty(with_scores=False))
    m = ev.compute()
    assert m.num_images == 2 and m.per_class["a"]["AP"] == pytest.approx(1.0) and m.per_class["b"]["AP"] == 0.0
    assert m.recall == 0.5 and m.precision == 1.0
    with pytest.raises(ValueError, match="already added"):
        ev.update(3, Detections.empty(), gt)
    with pytest.raises(ValueError, match="ground_truth is required"):
        ev.update(5, Detections.empty())
    with pytest.raises(ValueError, match="class index 2"):
        ev.update(6, Detections(xyxy=[[0, 0, 1, 1]], class_ids=[2], scores=[0.5]), Detections.empty(with_scores=False))


def test_detections_to_coco_results():
    d = Detections(xyxy=[[10.5, 20, 30, 60], [0, 0, 5, 5]], class_ids=[1, 0], scores=[0.5, 0.25])
    assert detections_to_coco_results(3, d) == [
        {"image_id": 3, "category_id": 2, "bbox": [10.5, 20.0, 19.5, 40.0], "score": 0.5},
        {"image_id": 3, "category_id": 1, "bbox": [0.0, 0.0, 5.0, 5.0], "score": 0.25},
    ]
    assert [r["category_id"] for r in detections_to_coco_results(3, d, category_ids=[7, 9])] == [9, 7]
    assert detections_to_coco_results(1, Detections.empty()) == []
    with pytest.raises(ValueError, match="scores"):
        detections_to_coco_results(1, Detections(xyxy=[[0, 0, 1, 1]], class_ids=[0]))
    with pytest.raises(ValueError, match="class index 1"):
        detections_to_coco_results(1, d, category_ids=[4])


def test_metrics_dict_and_save(tmp_path, coco_fixture):
    m = evaluate_coco(*coco_fixture)
    d = m.to_dict()
    expected = {*COCO_METRIC_NAMES, "per_class", "best_f1", "best_f1_threshold", "precision", "recall"}
    assert expected <= d.keys() and d.keys() - expected == {"num_images", "num_predictions", "num_ground_truth"}
    assert all(type(d[k]) is float for k in (*COCO_METRIC_NAMES, "best_f1", "best_f1_threshold", "precision", "recall"))
    assert set(d["per_class"]) == {"acme", "globex", "initech", "umbrella", "hooli"}
    path = save_metrics(m, tmp_path / "sub" / "metrics.json")
    assert json.loads(path.read_text()) == d
    assert DetectionMetrics.from_dict(d).to_dict() == d
    assert not list(path.parent.glob("*.tmp"))


def test_metrics_table_shows_na_for_missing():
    gt, preds = _golden_case()
    m = evaluate_coco(gt, preds)
    console = Console(record=True, width=120)
    console.print(format_metrics_table(m))
    print_metrics(m, console=console)
    text = console.export_text()
    assert "APs" in text and "n/a" in text and "Best F1 0.800" in text and "0.4" in text


BAD_PREDICTIONS = [
    ({"not": "a list"}, "expected a JSON list"),
    ([5], r"\[0\]: expected an object"),
    ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}], r"\[0\]: missing field 'score'"),
    ([{"image_id": "1", "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}], r"\[0\]\.image_id: expected int"),
    ([{"image_id": True, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}], r"\[0\]\.image_id: expected int"),
    ([{"image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}], r"\[0\]\.image_id: image id 99 is not"),
    ([{"image_id": 1, "category_id": 9, "bbox": [0, 0, 1, 1], "score": 1}], r"\[0\]\.category_id: unknown category id 9"),
    ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 1}], r"\[0\]\.bbox: expected \[x, y, w, h\]"),
    ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, "1", 1], "score": 1}], r"\[0\]\.bbox"),
    (
        [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}] * 2
        + [{"image_id": 1, "category_id": 1, "bbox": [0, 0, -1, 1], "score": 1}],
        r"\[2\]\.bbox: negative",
    ),
    ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": None}], r"\[0\]\.score: expected a finite number"),
    ([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": float("nan")}], r"\[0\]\.score"),
]


@pytest.mark.parametrize(("data", "message"), BAD_PREDICTIONS)
def test_malformed_predictions_file(tmp_path, data, message):
    gt, _ = _golden_case()
    path = tmp_path / "preds.json"
    path.write_text(json.dumps(data))
    with pytest.raises(PredictionsFormatError, match=message) as info:
        load_predictions(path, gt)
    assert str(path) in str(info.value)
    with pytest.raises(PredictionsFormatError, match=message):
        evaluate_coco(gt, data)


def test_predictions_file_errors(tmp_path):
    gt, preds = _golden_case()
    with pytest.raises(FileNotFoundError, match=r"missing\.json"):
        load_predictions(tmp_path / "missing.json", gt)
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    with pytest.raises(PredictionsFormatError, match=r"bad\.json: not valid JSON"):
        load_predictions(bad, gt)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(preds))
    assert load_predictions(good, gt) == validate_predictions(preds, gt)


def test_load_ground_truth_keeps_ids(tmp_path):
    gt, _ = _golden_case()
    gt["categories"] = [{"id": 10, "name": "a"}, {"id": 20, "name": "b"}]
    for a in gt["annotations"]:
        a["category_id"] *= 10
        del a["area"]
    (tmp_path / "annotations.json").write_text(json.dumps(gt))
    loaded = load_ground_truth(tmp_path)
    assert [c["id"] for c in loaded["categories"]] == [10, 20]
    assert loaded["annotations"][0]["area"] == 2500.0
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"images": [{"id": 1}], "categories": []}))
    with pytest.raises(COCOFormatError, match=r"broken\.json: images\[0\]"):
        load_ground_truth(broken)
