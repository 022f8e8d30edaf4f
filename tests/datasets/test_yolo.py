"""YOLO format: golden lines, round trip against COCO boxes, the empty case, errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logodet.datasets.formats.yolo import YOLOFormatError, annotation_polygon, load_yolo, save_yolo, yolo_line, yolo_polygon_line
from logodet.masks import rle_encode
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


# --- polygons, segment mode, data.yaml checks, awkward names ---------------------------------------------------------


def test_polygon_lines_become_bounds_and_pixel_polygons(tmp_path: Path) -> None:
    label = "0 0.5 0.5 0.5 1\n1 0.1 0.2 0.5 0.2 0.5 0.8 0.25 0.9\n"
    ds = load_yolo(_folder(tmp_path, "names: [a, b]\nnc: 2\n", label))
    box, poly = ds.images[0].annotations
    assert box.bbox == (5.0, 0.0, 15.0, 10.0) and box.segmentation is None
    assert poly.category == 1
    assert np.allclose(poly.bbox, (2.0, 2.0, 10.0, 9.0))
    assert np.allclose(poly.segmentation, [[2, 2, 10, 2, 10, 8, 5, 9]])
    assert poly.area == pytest.approx(0.5 * abs(2 * 2 - 10 * 2 + 10 * 8 - 10 * 2 + 10 * 9 - 5 * 8 + 5 * 2 - 2 * 9))


@pytest.mark.parametrize(
    ("data", "label", "message"),
    [
        ("names: [a]\n", "0 0.1 0.1 0.2 0.1 0.2\n", r"x\.txt:1: expected 'class cx cy w h' \(5 fields\) or .* got 6 fields"),
        ("names: [a]\n", "\n0 0.1 0.1 0.2 0.1 0.2 0.2 0.3\n", r"x\.txt:2: expected .* got 8 fields"),
        ("names: [a]\n", "0 nan 0.5 0.5 0.5\n", r"x\.txt:1: coordinates must be finite"),
        ("names: [a]\n", "0 0.5 0.5 1e999 0.5\n", r"x\.txt:1: coordinates must be finite"),
        ("names: [a]\n", "0 0.1 0.1 0.2 x 0.2 0.2\n", r"x\.txt:1: expected an integer class and 6 numbers"),
        ("names: [a]\n", "1.0 0.5 0.5 0.5 0.5\n", r"x\.txt:1: expected an integer class"),
        ("names: [a, b]\nnc: 3\n", "", r"data\.yaml: nc: 3 does not match the 2 class names"),
        ("names: [a, b]\nnc: two\n", "", r"data\.yaml: nc: 'two' does not match"),
        ("names: [a, b, a]\n", "", r"data\.yaml: names\[2\]: duplicate class name 'a' \(also names\[0\]\)"),
        ("names: [a, null]\n", "", r"data\.yaml: names\[1\]: expected a class name, got None"),
        ("names: [a, [b]]\n", "", r"data\.yaml: names\[1\]: expected a class name"),
        ("names: {0: a, x: b}\n", "", r"data\.yaml: names: keys must be class indices"),
        ("names: {0: a, '0': b}\n", "", r"data\.yaml: names: index 0 given twice"),
        ("names: []\n", "", r"data\.yaml: missing field 'names'"),
        ("- a\n- b\n", "", r"data\.yaml: top level must be a mapping"),
        ("names: [a\nnc: 1\n", "", r"data\.yaml:\d+: not valid YAML"),
        ("names: [a]\nwhen: 2001-02-30\n", "", r"data\.yaml:2: not valid YAML \(cannot read the value"),
    ],
)
def test_more_errors_name_file_and_place(tmp_path: Path, data: str, label: str, message: str) -> None:
    with pytest.raises(YOLOFormatError, match=message):
        load_yolo(_folder(tmp_path, data, label))


def test_names_with_string_indices_and_non_utf8_files(tmp_path: Path) -> None:
    root = _folder(tmp_path, "names: {'1': b, '0': a}\nnc: 2\n", "\ufeff1 0.5 0.5 0.5 0.5\n")  # a BOM is fine
    ds = load_yolo(root)
    assert ds.class_names == ["a", "b"] and ds.images[0].annotations[0].category == 1
    (root / "labels" / "x.txt").write_bytes(b"0 0.5 0.5 0.5 0.5\n1 0.5 0.5 \xff 0.5\n")
    with pytest.raises(YOLOFormatError, match=r"x\.txt:2: not UTF-8 text"):
        load_yolo(root)
    (root / "data.yaml").write_bytes(b"nc: 1\nnames: [\xe9]\n")
    with pytest.raises(YOLOFormatError, match=r"data\.yaml:2: not UTF-8 text"):
        load_yolo(root)


def _square_rle(width: int, height: int, box: tuple[int, int, int, int]) -> dict:
    mask = np.zeros((height, width), bool)
    x1, y1, x2, y2 = box
    mask[y1:y2, x1:x2] = True
    return rle_encode(mask)


def test_segment_mode_lines(tmp_path: Path) -> None:
    one_pixel = np.zeros((20, 40), bool)
    one_pixel[3, 3] = True
    anns = [
        Annotation((4, 2, 30, 12), 0, segmentation=[[4, 2, 10, 2, 10, 8], [20, 6, 30, 6, 30, 12, 20, 12]]),
        Annotation((8, 4, 16, 10), 1, segmentation=_square_rle(40, 20, (8, 4, 16, 10))),
        Annotation((1, 1, 3, 3), 1),
        Annotation((0, 0, 40, 20), 0, segmentation=[[0, 0, 40, 0, 40, 20]], iscrowd=1),
        Annotation((3, 3, 4, 4), 0, segmentation=rle_encode(one_pixel)),
    ]
    ds = DetectionDataset(["a", "b"], [ImageRecord("s.png", 40, 20, anns)])
    save_yolo(ds, tmp_path / "y", images="none", task="segment")
    lines = (tmp_path / "y" / "labels" / "s.txt").read_text().splitlines()
    assert lines[0] == "0 0.1 0.1 0.25 0.1 0.25 0.4 0.5 0.3 0.75 0.3 0.75 0.6 0.5 0.6"  # parts joined in order
    assert lines[1] == "1 0.2 0.2 0.2 0.45 0.375 0.45 0.375 0.2"  # outer contour through pixel centres: x 8..15, y 4..9
    assert lines[2] == yolo_line(1, (1, 1, 3, 3), 40, 20)
    assert lines[3] == yolo_line(0, (3, 3, 4, 4), 40, 20)  # no contour of 3 points: a box line
    assert len(lines) == 4  # the crowd region is not written
    save_yolo(ds, tmp_path / "d", images="none")
    assert (tmp_path / "d" / "labels" / "s.txt").read_text().splitlines()[:2] == [
        yolo_line(0, (4, 2, 30, 12), 40, 20),
        yolo_line(1, (8, 4, 16, 10), 40, 20),
    ]
    with pytest.raises(ValueError, match="task"):
        save_yolo(ds, tmp_path / "z", images="none", task="pose")
    ds.images.insert(0, ImageRecord("first.png", 40, 20, [Annotation((0, 0, 1, 1), 0)]))
    ds.images[1].annotations[1].segmentation = {"size": [20, 40], "counts": [5]}
    with pytest.raises(YOLOFormatError, match=r"s\.png: annotations\[1\]\.segmentation: cannot convert to a polygon"):
        save_yolo(ds, tmp_path / "bad", images="none", task="segment")
    assert not (tmp_path / "bad").exists()


def test_segment_round_trip_keeps_polygons(tmp_path: Path) -> None:
    images = tmp_path / "src"
    (images / "d ä").mkdir(parents=True)
    Image.fromarray(np.zeros((41, 77, 3), np.uint8)).save(images / "d ä" / "ü x.png")
    Image.fromarray(np.zeros((9, 13, 3), np.uint8)).save(images / "none.png")
    poly = [1.25, 2.5, 70.125, 3.75, 60.5, 39.875, 2.0, 30.333333333]
    recs = [
        ImageRecord(
            "d ä/ü x.png", 77, 41, [Annotation((1.25, 2.5, 70.125, 39.875), 2, segmentation=[poly]), Annotation((3, 4, 5.5, 6), 0)]
        ),
        ImageRecord("none.png", 13, 9),
    ]
    ds = DetectionDataset(["a", "b", "ç d"], recs, images)
    save_yolo(ds, tmp_path / "y", images="copy", task="segment")
    assert (tmp_path / "y" / "labels" / "none.txt").read_text() == ""
    back = {r.file_name: r for r in load_yolo(tmp_path / "y").images}
    assert back["none.png"].annotations == [] and back["d ä/ü x.png"].width == 77
    a, b = back["d ä/ü x.png"].annotations
    np.testing.assert_allclose(a.segmentation[0], poly, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(a.bbox, recs[0].annotations[0].bbox, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b.bbox, (3, 4, 5.5, 6), rtol=1e-6, atol=1e-6)
    assert b.segmentation is None and load_yolo(tmp_path / "y").class_names == ["a", "b", "ç d"]


def test_label_file_collisions_and_escaping_paths(tmp_path: Path) -> None:
    clash = DetectionDataset(["a"], [ImageRecord("p/a.jpg", 4, 4), ImageRecord("p/a.png", 4, 4)])
    with pytest.raises(YOLOFormatError, match=r"p/a\.png: shares labels/p/a\.txt with p/a\.jpg"):
        save_yolo(clash, tmp_path / "y", images="none")
    with pytest.raises(YOLOFormatError, match=r"\.\./a\.jpg: an image path must stay inside"):
        save_yolo(DetectionDataset(["a"], [ImageRecord("../a.jpg", 4, 4)]), tmp_path / "y", images="none")
    assert not (tmp_path / "y").exists()


def test_annotation_polygon_and_polygon_line() -> None:
    assert annotation_polygon(Annotation((0, 0, 1, 1), 0)) is None
    assert annotation_polygon(Annotation((0, 0, 9, 9), 0, segmentation=[[0, 0, 9, 0, 9, 9], [1, 1, 2, 2, 3, 1, 5]])) == [
        0.0, 0.0, 9.0, 0.0, 9.0, 9.0, 1.0, 1.0, 2.0, 2.0, 3.0, 1.0,
    ]  # fmt: skip
    with pytest.raises(ValueError, match="RLE"):
        annotation_polygon(Annotation((0, 0, 1, 1), 0, segmentation={"size": [2, 2], "counts": [1]}))
    assert yolo_polygon_line(3, [0, 0, 10, 0, 10, 5], 10, 10) == "3 0 0 1 0 1 0.5"
    with pytest.raises(ValueError, match="at least 6"):
        yolo_polygon_line(0, [0, 0, 1, 1], 10, 10)
