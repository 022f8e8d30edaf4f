"""The YOLO11n baseline's plumbing, with a stand-in for the Ultralytics child process (no venv, no training)."""

from __future__ import annotations

import json
import sys

import pytest

import logodet.bench.yolo as yolo
from logodet.types import Annotation, DetectionDataset, ImageRecord

FAKE_CHILD = r"""
import json, os, sys
args = json.loads(sys.argv[1])
assert os.environ["YOLO_OFFLINE"] == "1"
out = {}
for split, ids in args["ids"].items():
    # one detection per image; its score says at which size it was predicted; 'other' is not a benchmark brand
    out[split] = {str(s): [{"image_id": i, "name": n, "bbox": [1, 2, 3, 4], "score": s / 1000} for i in ids for n in ("a", "other")]
                  for s in args["sizes"]}
json.dump(out, open(os.path.join(args["out"], "predictions.json"), "w"))
"""


@pytest.fixture
def split(tmp_path) -> DetectionDataset:
    images = [ImageRecord(f"{i}.jpg", 32, 32, [Annotation((1, 1, 9, 9), 0)], id=10 + i) for i in range(3)]
    return DetectionDataset(["b", "a"], images, image_dir=tmp_path)


def test_results_per_split_and_size_with_categories_by_name(tmp_path, monkeypatch, split):
    monkeypatch.setattr(yolo, "_CHILD", FAKE_CHILD)
    res = yolo.run_yolo_baseline(
        sys.executable, tmp_path / "data.yaml", tmp_path / "run", {"val": split}, minutes=1, imgsz=320, batch=8, sizes=[224, 320]
    )
    assert set(res) == {"val"} and set(res["val"]) == {224, 320}
    rows = res["val"][224]
    assert [r["image_id"] for r in rows] == [10, 11, 12] and {r["category_id"] for r in rows} == {2}, "'a' is category 2"
    assert rows[0]["score"] == pytest.approx(0.224) and res["val"][320][0]["score"] == pytest.approx(0.32)
    assert json.loads((tmp_path / "run" / "predictions.json").read_text())["val"].keys() == {"224", "320"}
    only = yolo.run_yolo_baseline(sys.executable, tmp_path / "data.yaml", tmp_path / "r2", {"val": split}, minutes=1, imgsz=320, batch=8)
    assert set(only["val"]) == {320}, "without sizes it predicts at imgsz"


def test_a_failing_child_is_an_error(tmp_path, monkeypatch, split):
    monkeypatch.setattr(yolo, "_CHILD", "import sys; sys.exit(3)")
    with pytest.raises(RuntimeError, match="exit 3"):
        yolo.run_yolo_baseline(sys.executable, tmp_path / "d.yaml", tmp_path / "run", {"val": split}, minutes=1, imgsz=320, batch=8)
