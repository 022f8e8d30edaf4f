import numpy as np
import pytest

from logodet.types import Annotation, DetectionDataset, Detections, ImageRecord


def test_detections_validate_shapes_and_boxes():
    d = Detections([[0, 0, 10, 10], [5, 5, 6, 9]], [0, 1], [0.9, 0.2])
    assert d.xyxy.dtype == np.float32 and d.class_ids.dtype == np.int64
    assert len(d[d.scores > 0.5]) == 1 and d[1].class_ids.tolist() == [1]
    np.testing.assert_allclose(d.area, [100, 4])
    with pytest.raises(ValueError, match="class_ids"):
        Detections([[0, 0, 1, 1]], [0, 1])
    with pytest.raises(ValueError, match="x2 < x1"):
        Detections([[5, 0, 1, 1]], [0])
    with pytest.raises(ValueError, match="finite"):
        Detections([[0, 0, np.nan, 1]], [0])
    with pytest.raises(ValueError, match="masks"):
        Detections([[0, 0, 1, 1]], [0], masks=np.zeros((2, 4, 4), bool))


def test_empty_detections():
    d = Detections.empty()
    assert len(d) == 0 and d.xyxy.shape == (0, 4) and d.scores.shape == (0,)
    assert len(Detections([], [])) == 0


def test_records_and_dataset_checks():
    rec = ImageRecord("a.jpg", 10, 10, [Annotation((1, 1, 5, 5), 0), Annotation((0, 0, 9, 9), 1, iscrowd=1)])
    assert rec.to_detections().class_ids.tolist() == [0]
    assert len(rec.to_detections(include_crowd=True)) == 2
    with pytest.raises(ValueError, match="width/height"):
        ImageRecord("a.jpg", 0, 10)
    with pytest.raises(ValueError, match="bbox"):
        Annotation((5, 5, 1, 1), 0)
    with pytest.raises(ValueError, match="outside the 1 class"):
        DetectionDataset(["x"], [rec])
    with pytest.raises(ValueError, match="duplicate"):
        DetectionDataset(["x", "x"], [])
