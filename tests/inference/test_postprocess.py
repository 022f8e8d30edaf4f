import numpy as np
import pytest

from logodet.inference.postprocess import grow_boxes, postprocess
from logodet.inference.preprocess import letterbox


def test_class_wise_nms_keeps_overlapping_boxes_of_other_classes():
    boxes = np.array([[[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]]], np.float32)
    scores = np.zeros((1, 3, 2), np.float32)
    scores[0, 0, 0] = 0.9
    scores[0, 1, 0] = 0.8  # same class, same box: suppressed
    scores[0, 1, 1] = 0.7  # other class, same box: kept
    scores[0, 2, 1] = 0.2  # below conf
    (d,) = postprocess(boxes, scores, conf=0.25)
    assert sorted(zip(d.class_ids.tolist(), [round(float(s), 2) for s in d.scores], strict=True)) == [(0, 0.9), (1, 0.7)]


@pytest.mark.parametrize("batch", [0, 2])
def test_empty_inputs(batch):
    out = postprocess(np.zeros((batch, 5, 4), np.float32), np.zeros((batch, 5, 3), np.float32), conf=0.1)
    assert len(out) == batch and all(len(d) == 0 for d in out)


def test_max_det_and_degenerate_boxes():
    boxes = np.tile(np.array([[0, 0, 4, 4]], np.float32), (1, 300, 1)) + np.arange(300, dtype=np.float32)[None, :, None] * 10
    boxes[0, 0] = [5, 5, 5, 9]  # zero width: dropped
    scores = np.full((1, 300, 1), 0.5, np.float32)
    (d,) = postprocess(boxes, scores, conf=0.1, max_det=100)
    assert len(d) == 100
    assert np.all(d.xyxy[:, 2] > d.xyxy[:, 0])


def test_letterbox_round_trip():
    img = np.zeros((200, 400, 3), np.uint8)
    out, lb = letterbox(img, 320)
    assert out.shape == (320, 320, 3) and lb.scale == pytest.approx(0.8)
    assert (out[170:, :, :] == 114).all(), "padding goes to the bottom"
    back = lb.boxes_to_original(np.array([[8, 8, 80, 400]], np.float32))
    np.testing.assert_allclose(back, [[10, 10, 100, 200]])


def test_grow_boxes_scales_about_the_centre_and_clips():
    boxes = np.array([[10.0, 10.0, 30.0, 20.0], [0.0, 90.0, 20.0, 100.0]], np.float32)
    grown = grow_boxes(boxes, 1.5, 100, 100)
    assert grown.dtype == np.float32
    np.testing.assert_allclose(grown, [[5.0, 7.5, 35.0, 22.5], [0.0, 87.5, 25.0, 100.0]])
    np.testing.assert_array_equal(grow_boxes(boxes, 1.0, 100, 100), boxes)
    np.testing.assert_allclose(grow_boxes(boxes, 0.5, 100, 100)[0], [15.0, 12.5, 25.0, 17.5])
    assert grow_boxes(np.zeros((0, 4)), 2.0, 10, 10).shape == (0, 4)
    with pytest.raises(ValueError, match="box scale"):
        grow_boxes(boxes, -1.0, 100, 100)
