"""One model at several input sizes, detections merged."""

import numpy as np
import pytest
from PIL import Image

from logodet.datasets.formats.coco import load_coco
from logodet.inference.multisize import MultiSizePredictor, check_sizes, merge_detections, nms_keep
from logodet.inference.predictor import Predictor, predict_coco_results
from logodet.types import Detections


def _images(shapes_data, n=4):
    ds = load_coco(shapes_data[1])
    recs = [r for r in ds.images if r.annotations][:n]
    return [np.asarray(Image.open(ds.image_path(r)).convert("RGB")) for r in recs]


def test_merged_sizes_are_the_nms_of_every_size(trained_run, shapes_data):
    images = _images(shapes_data)
    best = trained_run / "best.pt"
    merged = Predictor.from_path(best, imgsz=[160, 96, 128], conf=0.2)
    assert isinstance(merged, MultiSizePredictor) and merged.sizes == (96, 128, 160)
    singles = [Predictor.from_path(best, imgsz=s, conf=0.2).predict(images) for s in (96, 128, 160)]
    out = merged.predict(images, batch_size=3)
    assert len(out) == len(images)
    for k, dets in enumerate(out):
        expected = merge_detections([s[k] for s in singles], iou=0.6, max_det=100)
        np.testing.assert_allclose(dets.xyxy, expected.xyxy, atol=1e-4)
        np.testing.assert_array_equal(dets.class_ids, expected.class_ids)
        # every merged box is one of the sizes' boxes, and no size's best box is lost
        pool = np.concatenate([s[k].xyxy for s in singles])
        assert all(np.abs(pool - b).max(axis=1).min() < 1e-4 for b in dets.xyxy)
        tops = [s[k].scores.max() for s in singles if len(s[k])]
        assert len(dets) and dets.scores.max() == pytest.approx(max(tops))


def test_merged_sizes_grow_boxes_after_merging(trained_run, shapes_data):
    images = _images(shapes_data, 2)
    best = trained_run / "best.pt"
    plain = Predictor.from_path(best, imgsz=[96, 128], conf=0.2).predict(images)
    grown = Predictor.from_path(best, imgsz=[96, 128], conf=0.2, box_scale=1.5).predict(images)
    for p, g in zip(plain, grown, strict=True):
        assert len(p) == len(g) and (g.xyxy[:, 2:] - g.xyxy[:, :2] >= p.xyxy[:, 2:] - p.xyxy[:, :2] - 1e-3).all()


def test_one_size_in_a_list_is_a_plain_predictor(trained_run, shapes_data):
    p = Predictor.from_path(trained_run / "best.pt", imgsz=[96, 96])
    assert type(p) is Predictor and p.imgsz == 96
    ds = load_coco(shapes_data[1])
    res = predict_coco_results(trained_run / "best.pt", ds, conf=0.2, imgsz=(96, 128), progress=False)
    assert res and {r["image_id"] for r in res} <= {r.id for r in ds.images}


def test_bad_sizes_and_onnx_are_refused(trained_run, tmp_path):
    with pytest.raises(ValueError, match="sizes"):
        Predictor.from_path(trained_run / "best.pt", imgsz=[])
    with pytest.raises(ValueError, match=">= 32"):
        Predictor.from_path(trained_run / "best.pt", imgsz=[16, 128])
    fake = tmp_path / "m.onnx"
    fake.write_bytes(b"not read")
    with pytest.raises(ValueError, match="export size"):
        Predictor.from_path(fake, imgsz=[96, 128])
    with pytest.raises(ValueError, match="two or more"):
        MultiSizePredictor([Predictor.from_path(trained_run / "best.pt", imgsz=96)])
    assert check_sizes([128, 96, 128]) == (96, 128)


def test_merge_detections_and_nms_keep():
    a = Detections([[0, 0, 10, 10], [30, 30, 40, 40]], [0, 1], [0.4, 0.9])
    b = Detections([[1, 1, 10, 10], [30, 30, 40, 40]], [0, 0], [0.8, 0.7])  # the second: same place, other class
    m = merge_detections([a, b, Detections(np.zeros((0, 4)), [], [])])
    assert sorted((c, round(float(s), 2)) for c, s in zip(m.class_ids.tolist(), m.scores, strict=True)) == [(0, 0.7), (0, 0.8), (1, 0.9)]
    assert len(merge_detections([a, b], max_det=1)) == 1 and len(merge_detections([])) == 0
    assert nms_keep(np.zeros((0, 4)), np.zeros(0), np.zeros(0), iou=0.5, max_det=5).tolist() == []
    with pytest.raises(ValueError, match="scores"):
        merge_detections([Detections([[0, 0, 1, 1]], [0])])
