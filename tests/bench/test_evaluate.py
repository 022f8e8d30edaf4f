"""Choosing the prediction input size on the validation split; measuring how labelled and predicted box sizes differ."""

from __future__ import annotations

import pytest

from logodet.bench.evaluate import (
    box_ratio_note,
    box_size_ratio,
    choose_and_score,
    choose_prediction,
    input_sizes,
    merge_results,
    scale_results,
)
from logodet.evaluation.predictions import normalize_ground_truth
from logodet.types import Annotation, DetectionDataset, ImageRecord


def _val() -> DetectionDataset:
    images = [ImageRecord(f"{i}.jpg", 100, 100, [Annotation((10.0, 10.0, 50.0, 50.0), i % 2)], id=i + 1) for i in range(4)]
    return DetectionDataset(["a", "b"], images)


def _results(val: DetectionDataset, bbox: list[float]) -> list[dict]:
    return [{"image_id": r.id, "category_id": r.annotations[0].category + 1, "bbox": bbox, "score": 0.9} for r in val.images]


def _hits(val: DetectionDataset) -> list[dict]:
    return _results(val, [10.0, 10.0, 40.0, 40.0])


def _misses(val: DetectionDataset) -> list[dict]:
    return _results(val, [60.0, 60.0, 30.0, 30.0])


def test_input_sizes_round_to_the_stride_and_reject_nonsense():
    assert input_sizes(320, (0.7, 0.8, 1.0)) == [224, 256, 320]
    assert input_sizes(320, (1.0, 1.0)) == [320] and input_sizes(96, (0.1,)) == [64]
    with pytest.raises(ValueError, match="test_scales"):
        input_sizes(320, ())
    with pytest.raises(ValueError, match="test_scales"):
        input_sizes(320, (0.0, 1.0))


def test_the_validation_split_picks_the_size():
    val = _val()
    size, scale, table = choose_prediction(val, {224: _hits(val), 320: _misses(val)}, preferred=320)
    # merged, the misses at 320 px cost precision: AP50 below the 224 px predictions alone
    assert (size, scale) == ((224,), 1.0) and table["AP50"]["224"] == pytest.approx(1.0) and table["AP50"]["320"] == 0.0
    assert table["AP50"]["224+320"] < 1.0
    size, _, _ = choose_prediction(val, {224: _misses(val), 320: _hits(val)}, preferred=320)
    assert size == (320,)
    size, _, table = choose_prediction(val, {224: _hits(val), 256: _hits(val), 320: _hits(val)}, preferred=256)
    assert size == (256,), "a tie goes to the training size"
    assert table["AP50"]["224+256+320"] == pytest.approx(1.0), "a tie with the merge goes to one size"


def test_sizes_are_compared_with_their_boxes_grown():
    val = _val()  # labels: 40 x 40 at (10, 10)
    tight = _results(val, [16.0, 16.0, 28.0, 28.0])  # every logo found, boxes too small: AP50 0 at x1, 1 at x1.3
    three = [r for r in _hits(val) if r["image_id"] != 4]  # exact boxes on three of four photos
    size, scale, table = choose_prediction(val, {224: tight, 320: three}, preferred=320, box_scales=(1.0, 1.3), merge=False)
    assert (size, scale) == ((224,), 1.3), "judged at x1 the 320 px boxes would win (0.75 against 0)"
    assert table["scale"] == {"224": 1.3, "320": 1.0} and table["AP50"]["224"] == pytest.approx(1.0)
    assert table["AP50"]["320"] < 1.0 and set(table["AP"]) == {1.0, 1.3}


def _half(val: DetectionDataset, first: bool) -> list[dict]:
    return [r for r in _hits(val) if (r["image_id"] <= 2) == first]


def test_merging_sizes_wins_when_each_size_finds_different_logos():
    val = _val()
    size, _, table = choose_prediction(val, {224: _half(val, True), 320: _half(val, False)}, preferred=320)
    assert size == (224, 320) and table["AP50"]["224+320"] == pytest.approx(1.0) and table["AP50"]["224"] < 0.6
    size, _, _ = choose_prediction(val, {224: _half(val, True), 320: _half(val, False)}, preferred=320, merge=False)
    assert len(size) == 1
    calls = []

    def test_at(s: int) -> list[dict]:
        calls.append(s)
        return {224: _half(val, True), 320: _half(val, False)}[s]

    row, notes = choose_and_score(val, val, {224: _half(val, True), 320: _half(val, False)}, test_at, 320, (1.0,))
    assert sorted(calls) == [224, 320] and row["input_size"] == "224+320" and row["input_sizes"] == [224, 320]
    assert row["AP50"] == pytest.approx(1.0) and "224+320 px" in notes[0]


def test_merge_results_keeps_the_best_of_overlapping_boxes_per_image_and_class():
    a = [
        {"image_id": 1, "category_id": 1, "bbox": [10.0, 10.0, 40.0, 40.0], "score": 0.6},
        {"image_id": 2, "category_id": 1, "bbox": [0.0, 0.0, 5.0, 5.0], "score": 0.3},
    ]
    b = [
        {"image_id": 1, "category_id": 1, "bbox": [12.0, 12.0, 38.0, 38.0], "score": 0.8},  # same logo, better score
        {"image_id": 1, "category_id": 2, "bbox": [10.0, 10.0, 40.0, 40.0], "score": 0.5},  # same place, other brand
    ]
    merged = sorted(merge_results([a, b]), key=lambda r: (r["image_id"], -r["score"]))
    assert [(r["image_id"], r["category_id"], r["score"]) for r in merged] == [(1, 1, 0.8), (1, 2, 0.5), (2, 1, 0.3)]
    assert merged[0]["bbox"] == pytest.approx([12.0, 12.0, 38.0, 38.0])
    many = [{"image_id": 1, "category_id": 1, "bbox": [float(20 * k), 0.0, 10.0, 10.0], "score": 0.5} for k in range(8)]
    assert len(merge_results([many], max_det=5)) == 5 and merge_results([]) == []


def test_the_validation_split_picks_the_box_scale():
    val = _val()  # labels: 40 x 40 at (10, 10)
    tight = _results(val, [16.0, 16.0, 28.0, 28.0])  # IoU 0.49 with the label; grown x1.3: 36.4 px, IoU 0.83
    size, scale, table = choose_prediction(val, {320: tight}, preferred=320, box_scales=(1.0, 1.3, 3.0))
    assert (size, scale) == ((320,), 1.3)
    assert table["AP"][1.0] == pytest.approx(0.0) and table["AP"][1.3] > 0.5 and table["AP"][3.0] == pytest.approx(0.0)
    # judged by AP over IoU 0.5-0.95: a growth that keeps AP50 but loosens every box loses to exact boxes
    loose = choose_prediction(val, {320: _hits(val)}, preferred=320, box_scales=(1.0, 1.2))
    assert loose[1] == 1.0 and loose[2]["AP"][1.0] > loose[2]["AP"][1.2]
    _, scale, _ = choose_prediction(val, {320: _hits(val)}, preferred=320, box_scales=(1.3, 1.0, 1.1))
    assert scale == 1.0, "a tie goes to the unscaled boxes"
    with pytest.raises(ValueError, match="box_scales"):
        choose_prediction(val, {320: tight}, preferred=320, box_scales=())
    with pytest.raises(ValueError, match="box_scales"):
        choose_prediction(val, {320: tight}, preferred=320, box_scales=(0.0,))


def test_scale_results_grows_about_the_centre_and_clips_to_the_image():
    val = _val()  # 100 x 100 images
    res = [{"image_id": 1, "category_id": 1, "bbox": [10.0, 20.0, 20.0, 10.0], "score": 0.7}]
    assert scale_results(res, 1.0, val) is res
    (grown,) = scale_results(res, 3.0, val)  # xyxy (10, 20, 30, 30) -> (-10, 10, 50, 40), clipped at x = 0
    assert grown["bbox"] == pytest.approx([0.0, 10.0, 50.0, 30.0]) and grown["score"] == 0.7
    assert res[0]["bbox"] == [10.0, 20.0, 20.0, 10.0], "the input is left alone"


def test_box_size_ratio_measures_labels_against_predictions():
    val = _val()  # labels are 40 x 40 boxes at (10, 10)
    gt = normalize_ground_truth(val)
    small = _results(val, [15.0, 15.0, 32.0, 25.0])  # inside the label: 40/32 wide, 40/25 tall
    ratio = box_size_ratio(gt, small)
    assert ratio == {"width": 1.25, "height": 1.6, "matches": 4}
    note = box_ratio_note(ratio)
    assert note is not None and "1.25x as wide and 1.60x as tall" in note and "4 matches" in note
    same = box_size_ratio(gt, _hits(val))
    assert same == {"width": 1.0, "height": 1.0, "matches": 4} and box_ratio_note(same) is None
    big = box_size_ratio(gt, _results(val, [0.0, 0.0, 60.0, 60.0]))
    assert big is not None and big["width"] == pytest.approx(40 / 60, abs=1e-3)
    big_note = box_ratio_note(big)
    assert big_note is not None and "0.67x as wide" in big_note


def test_box_size_ratio_ignores_misses_low_scores_and_other_classes():
    val = _val()
    gt = normalize_ground_truth(val)
    assert box_size_ratio(gt, _misses(val)) is None  # no overlap
    low = [{**r, "score": 0.1} for r in _hits(val)]
    assert box_size_ratio(gt, low) is None
    wrong = [{**r, "category_id": 3 - r["category_id"]} for r in _hits(val)]
    assert box_size_ratio(gt, wrong) is None
    assert box_size_ratio(gt, []) is None and box_ratio_note(None) is None
