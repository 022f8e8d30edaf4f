import json

import numpy as np
import pytest
from PIL import Image

from logodet.datasets.formats.coco import load_coco
from logodet.inference.predictor import Predictor, predict_coco_results
from logodet.inference.run import predict_source


def test_predictor_finds_shapes_in_original_coordinates(trained_run, shapes_data):
    ds = load_coco(shapes_data[1])
    predictor = Predictor.from_path(trained_run / "best.pt", conf=0.3)
    rec = next(r for r in ds.images if r.annotations)
    img = np.asarray(Image.open(ds.image_path(rec)).convert("RGB"))
    big = np.asarray(Image.fromarray(img).resize((img.shape[1] * 2, img.shape[0] * 2)))
    small_dets, big_dets = predictor.predict([img, big])
    assert len(small_dets) and len(big_dets)
    np.testing.assert_allclose(big_dets.xyxy[0] / 2, small_dets.xyxy[0], atol=4)


def test_coco_results_map_classes_by_name(trained_run, shapes_data):
    ds = load_coco(shapes_data[1])
    ds.class_names.reverse()
    for rec in ds.images:
        for a in rec.annotations:
            a.category = 2 - a.category
    results = predict_coco_results(trained_run / "best.pt", ds, conf=0.3, progress=False)
    assert results
    ids = {r.id for r in ds.images}
    assert {r["image_id"] for r in results} <= ids
    assert {r["category_id"] for r in results} <= {1, 2, 3}


def test_predict_source_writes_jsonl_coco_and_images(trained_run, shapes_data, tmp_path):
    src = tmp_path / "photos"
    (src / "sub dir").mkdir(parents=True)
    for i, p in enumerate(sorted((shapes_data[1] / "images").glob("*.png"))[:3]):
        Image.open(p).save(src / "sub dir" / f"ph ö{i}.jpg")
    Image.new("RGB", (90, 70), (128, 128, 128)).save(src / "blank.png")  # no logo at all
    (src / "broken.jpg").write_bytes(b"not an image")
    summary = predict_source(Predictor.from_path(trained_run / "best.pt", conf=0.3), src, tmp_path / "out", progress=False)
    assert summary.images == 4 and len(summary.failed) == 1 and "broken.jpg" in summary.failed[0]
    lines = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert [line["file"] for line in lines] == ["blank.png", "sub dir/ph ö0.jpg", "sub dir/ph ö1.jpg", "sub dir/ph ö2.jpg"]
    blank = lines[0]
    assert (blank["width"], blank["height"]) == (90, 70) and blank["detections"] == []
    assert any(line["detections"] for line in lines[1:])
    det = next(d for line in lines for d in line["detections"])
    assert set(det) == {"box_xyxy", "score", "class_name"} and det["class_name"] in {"disc", "square", "triangle"}
    coco = json.loads((tmp_path / "out" / "predictions_coco.json").read_text())
    assert len(coco) == summary.detections
    assert (tmp_path / "out" / "images" / "sub dir" / "ph ö0.jpg").is_file()


def test_missing_model_and_source(tmp_path, trained_run):
    with pytest.raises(FileNotFoundError, match="model file not found"):
        Predictor.from_path(tmp_path / "nope.pt")
    with pytest.raises(FileNotFoundError, match="no such file"):
        predict_source(Predictor.from_path(trained_run / "best.pt"), tmp_path / "nope", tmp_path / "o", progress=False)


def test_box_scale_grows_boxes_about_their_centres(trained_run, shapes_data):
    ds = load_coco(shapes_data[1])
    rec = next(r for r in ds.images if r.annotations)
    img = np.asarray(Image.open(ds.image_path(rec)).convert("RGB"))
    plain = Predictor.from_path(trained_run / "best.pt", conf=0.3).predict([img])[0]
    grown = Predictor.from_path(trained_run / "best.pt", conf=0.3, box_scale=1.2).predict([img])[0]
    assert len(plain) and len(grown) == len(plain)
    np.testing.assert_array_equal(grown.scores, plain.scores)
    h, w = img.shape[:2]
    for p, g in zip(plain.xyxy, grown.xyxy, strict=True):
        np.testing.assert_allclose((g[:2] + g[2:]) / 2, (p[:2] + p[2:]) / 2, atol=0.2 * (p[2:] - p[:2]).max())  # clipping moves it a bit
        assert (g[2:] - g[:2] >= p[2:] - p[:2] - 1e-3).all() and g.min() >= 0 and g[2] <= w and g[3] <= h
    inner = [(p, g) for p, g in zip(plain.xyxy, grown.xyxy, strict=True) if (p[:2] > 0.1 * w).all() and (p[2:] < 0.9 * min(w, h)).all()]
    for p, g in inner:
        np.testing.assert_allclose(g[2:] - g[:2], 1.2 * (p[2:] - p[:2]), rtol=1e-4)
    with pytest.raises(ValueError, match="box_scale"):
        Predictor.from_path(trained_run / "best.pt", box_scale=0.0)
