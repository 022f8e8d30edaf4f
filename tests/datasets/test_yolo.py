"""YOLO format: golden lines, round trip against COCO boxes, the empty case, errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logodet.datasets.formats.yolo import YOLOFormatError, load_yolo, save_yolo, yolo_line
from logodet.types import Annotation, DetectionDataset, ImageRecord


@pytest.mark.parametrize(
    ("cat", "box", "size", "expected"),
    [
        (0, (0, 0, 100, 50), (100, 50), "0 0.5 0.5 1 1"),
        (2, (10, 20, 30, 60), (100, 200), "2 0.2 0.2 0.2 0.2"),
        (1, (5, 5, 5, 5), (10, 10), "1 0.5 0.5 0 0"),
        (3, (1, 2, 4, 7), (3, 9), "3 0.8333333333 0.5 1 0.5555555556"),
    ],
)
def test_yolo_line_golden(cat: int, box: tuple, size: tuple[int, int], expected: str) -> None:
    assert yolo_line(cat, box, *size) == expected


def _dataset(tmp_path: Path) -> DetectionDataset:
    images = tmp_path / "src" / "images"
    (images / "sub").mkdir(parents=True)
    Image.fromarray(np.zeros((480, 640, 3), np.uint8)).save(images / "a.jpg")
    Image.fromarray(np.zeros((37, 53, 3), np.uint8)).save(images / "sub" / "b.png")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(images / "empty.jpg")
    recs = [
        ImageRecord("a.jpg", 640, 480, [Annotation((13, 7, 331, 209), 1), Annotation((0, 0, 640, 480), 0)]),
        ImageRecord("sub/b.png", 53, 37, [Annotation((1.5, 2.25, 50.75, 36.5), 2)]),
        ImageRecord("empty.jpg", 8, 8, []),
    ]
    return DetectionDataset(["acme", "beta", "gamma"], recs, images)


@pytest.mark.parametrize("mode", ["symlink", "copy"])
def test_round_trip_matches_boxes(tmp_path: Path, mode: str) -> None:
    ds = _dataset(tmp_path)
    data = save_yolo(ds, tmp_path / "yolo", images=mode)
    assert data.name == "data.yaml"
    assert (tmp_path / "yolo" / "labels" / "empty.txt").read_text() == ""
    assert (tmp_path / "yolo" / "images" / "sub" / "b.png").is_symlink() == (mode == "symlink")
    back = load_yolo(tmp_path / "yolo")
    assert back.class_names == ds.class_names
    by_name = {r.file_name: r for r in back.images}
    assert set(by_name) == {"a.jpg", "sub/b.png", "empty.jpg"}
    for rec in ds.images:
        got = by_name[rec.file_name]
        assert (got.width, got.height) == (rec.width, rec.height)
        assert [a.category for a in got.annotations] == [a.category for a in rec.annotations]
        for a, b in zip(rec.annotations, got.annotations, strict=True):
            scale = max(rec.width, rec.height)
            assert np.allclose(a.bbox, b.bbox, rtol=0, atol=1e-6 * scale)


def test_labels_only_and_bad_mode(tmp_path: Path) -> None:
    ds = _dataset(tmp_path)
    save_yolo(ds, tmp_path / "yolo", images="none")
    assert not (tmp_path / "yolo" / "images").exists()
    assert (tmp_path / "yolo" / "labels" / "a.txt").read_text().count("\n") == 2
    with pytest.raises(ValueError, match="images"):
        save_yolo(ds, tmp_path / "y2", images="move")


def _folder(tmp_path: Path, data: str, label: str) -> Path:
    root = tmp_path / "y"
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    Image.fromarray(np.zeros((10, 20, 3), np.uint8)).save(root / "images" / "x.jpg")
    (root / "data.yaml").write_text(data)
    (root / "labels" / "x.txt").write_text(label)
    return root


def test_names_as_mapping_and_missing_labels(tmp_path: Path) -> None:
    root = _folder(tmp_path, "names: {0: a, 1: b}\n", "1 0.5 0.5 0.5 1\n\n")
    ds = load_yolo(root / "data.yaml")
    assert ds.class_names == ["a", "b"] and ds.images[0].annotations[0].bbox == (5.0, 0.0, 15.0, 10.0)
    (root / "labels" / "x.txt").unlink()
    assert load_yolo(root).images[0].annotations == []


@pytest.mark.parametrize(
    ("data", "label", "message"),
    [
        ("names: [a]\n", "0 0.5 0.5 0.5\n", r"x.txt:1: expected 'class cx cy w h'"),
        ("names: [a]\n", "0 0.5 0.5 0.5 0.5\n3 0.5 0.5 0.5 0.5\n", r"x.txt:2: class 3 is outside"),
        ("names: [a]\n", "a 0.5 0.5 0.5 0.5\n", r"x.txt:1: expected an integer class"),
        ("names: [a]\n", "0 0.5 0.5 -1 0.5\n", r"x.txt:1: negative box size"),
        ("nc: 1\n", "", r"data.yaml: missing field 'names'"),
        ("names: {0: a, 2: b}\n", "", r"data.yaml: names: indices must be"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, data: str, label: str, message: str) -> None:
    with pytest.raises(YOLOFormatError, match=message):
        load_yolo(_folder(tmp_path, data, label))


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"data\.yaml"):
        load_yolo(tmp_path)
