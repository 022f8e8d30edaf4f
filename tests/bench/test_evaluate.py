"""Choosing the prediction input size on the validation split."""

from __future__ import annotations

import pytest

from logodet.bench.evaluate import choose_input_size, input_sizes
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
    size, ap50 = choose_input_size(val, {224: _hits(val), 320: _misses(val)}, preferred=320)
    assert size == 224 and ap50[224] == pytest.approx(1.0) and ap50[320] == pytest.approx(0.0)
    size, _ = choose_input_size(val, {224: _misses(val), 320: _hits(val)}, preferred=320)
    assert size == 320
    size, _ = choose_input_size(val, {224: _hits(val), 256: _hits(val), 320: _hits(val)}, preferred=256)
    assert size == 256, "a tie goes to the training size"
