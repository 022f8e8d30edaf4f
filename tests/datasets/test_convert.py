"""The format registry: detection, conversions between every pair we write, what is reported lost, destination rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logodet.datasets.convert import FORMATS, convert, detect_format, load_dataset, plan_conversion, save_dataset
from logodet.datasets.formats.coco import load_coco, save_coco
from logodet.masks import rle_encode
from logodet.types import Annotation, DetectionDataset, ImageRecord

FLICKR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "flickrlogos27-dev"
MULTI = [[4.5, 2.25, 20.75, 2.25, 20.75, 18.5], [40, 10, 60.125, 10, 60.125, 30.5, 40, 30.5]]


def _mask(width: int, height: int, box: tuple[int, int, int, int]) -> dict:
    m = np.zeros((height, width), bool)
    m[box[1] : box[3], box[0] : box[2]] = True
    return rle_encode(m)


def make_coco(root: Path) -> DetectionDataset:
    """A COCO folder: unicode and spaces in names, a sub-folder, odd sizes, non-integer boxes, polygons of two parts,
    an RLE mask, a crowd region, an extra field, an image without boxes, and ids that are not 1..N in file order."""
    images = root / "images"
    sizes = {"sub dir/ä b.png": (77, 41), "empty.jpg": (13, 9), "x/ünï c.png": (31, 17)}
    for name, (w, h) in sizes.items():
        (images / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((h, w, 3), 90, np.uint8)).save(images / name)
    recs = [
        ImageRecord(
            "sub dir/ä b.png",
            77,
            41,
            [
                Annotation((1.37, 2.718, 33.3333, 40.1), 0, extra={"visibility": 0.75}),
                Annotation((4.5, 2.25, 60.125, 30.5), 1, segmentation=MULTI),
                Annotation((8, 4, 16, 10), 1, segmentation=_mask(77, 41, (8, 4, 16, 10))),
            ],
            id=9,
        ),
        ImageRecord("empty.jpg", 13, 9, id=5),
        ImageRecord(
            "x/ünï c.png",
            31,
            17,
            [
                Annotation((0.5, 0.25, 30.9, 16.6), 2),
                Annotation((0, 0, 31, 17), 0, segmentation={"size": [17, 31], "counts": [0, 527]}, iscrowd=1),
            ],
            id=2,
        ),
    ]
    ds = DetectionDataset(["acme", "globex", "ünï corp"], recs, images)
    save_coco(ds, root)
    return load_coco(root)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _by_name(ds: DetectionDataset) -> dict[str, ImageRecord]:
    return {r.file_name: r for r in ds.images}


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def coco(tmp_path: Path) -> Path:
    make_coco(tmp_path / "coco")
    return tmp_path / "coco"


def test_detect_format_of_every_format(tmp_path: Path, coco: Path) -> None:
    ds = load_coco(coco)
    for fmt in FORMATS:
        out = save_dataset(ds, tmp_path / fmt, fmt, images="none")
        assert detect_format(tmp_path / fmt) == fmt
        if fmt in ("coco", "yolo"):
            assert detect_format(out) == fmt  # annotations.json / data.yaml given directly
    assert detect_format(tmp_path / "labelme" / "empty.json") == "labelme"
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "notes.json").write_text('{"hello": 1}')
    (tmp_path / "odd" / "Annotations").mkdir()
    with pytest.raises(
        ValueError, match=r"odd: cannot tell the dataset format; looked for annotations\.json .*data\.yaml.*Annotations/\*\.xml.*'shapes'"
    ):
        detect_format(tmp_path / "odd")
    with pytest.raises(ValueError, match="cannot tell"):
        detect_format(tmp_path / "odd" / "notes.json")
    with pytest.raises(FileNotFoundError, match="nope"):
        detect_format(tmp_path / "nope")
    with pytest.raises(ValueError, match=r"format: expected one of \('coco', 'yolo', 'voc', 'labelme'\), got 'xml'"):
        load_dataset(coco, "xml")


def test_coco_yolo_coco_keeps_boxes_and_reports_what_yolo_cannot_hold(tmp_path: Path, coco: Path) -> None:
    src = load_coco(coco)
    before = _snapshot(coco)
    report = convert(coco, tmp_path / "yolo", to_fmt="yolo")
    assert (report.from_fmt, report.to_fmt, report.images, report.annotations, report.masks, report.classes) == ("coco", "yolo", 3, 4, 0, 3)
    assert report.dropped_counts() == {
        "annotation: crowd regions have no YOLO form": 1,
        "extra 'visibility': YOLO has no field for it": 1,
        "image ids: YOLO files have no image ids; images are numbered 1..N in file order on load": 1,
        "mask: YOLO detect labels hold boxes only (use the segment task)": 2,
    }
    assert report.changed == []
    crowd = next(i for i in report.dropped if i.what == "annotation")
    assert (crowd.file_name, crowd.index) == ("x/ünï c.png", 1)
    assert (tmp_path / "yolo" / "labels" / "empty.txt").read_text() == ""
    assert (tmp_path / "yolo" / "images" / "sub dir" / "ä b.png").is_file()
    assert not (tmp_path / "yolo" / "images" / "sub dir" / "ä b.png").is_symlink()

    back_report = convert(tmp_path / "yolo", tmp_path / "back", to_fmt="coco")
    assert (back_report.from_fmt, back_report.dropped, back_report.changed) == ("yolo", [], [])
    back = load_coco(tmp_path / "back")
    assert back.class_names == src.class_names
    assert sum(len(r.annotations) for r in back.images) == report.annotations
    got = _by_name(back)
    assert set(got) == set(_by_name(src))
    for rec in src.images:
        kept = [a for a in rec.annotations if not a.iscrowd]
        assert (got[rec.file_name].width, got[rec.file_name].height) == (rec.width, rec.height)
        assert [a.category for a in got[rec.file_name].annotations] == [a.category for a in kept]
        for a, b in zip(kept, got[rec.file_name].annotations, strict=True):
            np.testing.assert_allclose(b.bbox, a.bbox, rtol=1e-6, atol=1e-6)
            assert b.segmentation is None
    assert _snapshot(coco) == before  # the source is never modified


def test_yolo_segment_keeps_polygons(tmp_path: Path, coco: Path) -> None:
    report = convert(coco, tmp_path / "yolo", to_fmt="yolo", images="symlink", yolo_task="segment")
    assert (report.annotations, report.masks) == (4, 2)
    assert report.changed_counts() == {
        "box: the box becomes the polygon's bounds": 1,
        "mask: RLE written as its outer contour polygons (holes lost)": 1,
        "mask: a YOLO line holds one polygon: parts joined in order": 1,
    }
    moved = next(i for i in report.changed if i.what == "box")
    assert (moved.file_name, moved.index) == ("sub dir/ä b.png", 2)  # the RLE's contour runs through pixel centres
    assert (tmp_path / "yolo" / "images" / "sub dir" / "ä b.png").is_symlink()
    convert(tmp_path / "yolo", tmp_path / "back")
    anns = _by_name(load_coco(tmp_path / "back"))["sub dir/ä b.png"].annotations
    np.testing.assert_allclose(anns[1].segmentation[0], MULTI[0] + MULTI[1], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(anns[1].bbox, (4.5, 2.25, 60.125, 30.5), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(anns[2].bbox, (8, 4, 15, 9), rtol=1e-6, atol=1e-6)


def test_coco_voc_coco_rounds_boxes_and_reports_it(tmp_path: Path, coco: Path) -> None:
    report = convert(coco, tmp_path / "voc", to_fmt="voc")
    assert report.dropped_counts() == {
        "annotation: crowd regions have no VOC form": 1,
        "image ids: VOC files have no image ids; images are numbered 1..N in file order on load": 1,
        "extra 'visibility': VOC has no field for it": 1,
        "mask: VOC holds boxes only": 2,
    }
    assert report.changed_counts() == {"box: VOC boxes are whole pixels: edges rounded": 3}
    convert(tmp_path / "voc", tmp_path / "back", images="none")
    got = _by_name(load_coco(tmp_path / "back"))
    assert [a.bbox for a in got["sub dir/ä b.png"].annotations] == [(1, 3, 33, 40), (4, 2, 60, 30), (8, 4, 16, 10)]
    assert [a.bbox for a in got["x/ünï c.png"].annotations] == [(0, 0, 31, 17)]
    assert got["empty.jpg"].annotations == []
    assert not (tmp_path / "back" / "images").exists()


def test_coco_labelme_coco_keeps_polygon_parts(tmp_path: Path, coco: Path) -> None:
    report = convert(coco, tmp_path / "lm", to_fmt="labelme")
    assert report.dropped_counts() == {"image ids: LabelMe files have no image ids; images are numbered 1..N in file order on load": 1}
    assert set(report.changed_counts()) == {
        "mask: RLE written as its outer contour polygons (holes lost)",
        "box: the box becomes the polygon's bounds",
    }
    assert (report.annotations, report.masks) == (5, 3)
    back = load_dataset(tmp_path / "lm")
    got = _by_name(back)
    anns = got["sub dir/ä b.png"].annotations
    assert anns[0].bbox == pytest.approx((1.37, 2.718, 33.3333, 40.1)) and anns[0].extra["visibility"] == 0.75
    assert anns[1].segmentation == MULTI and anns[1].bbox == (4.5, 2.25, 60.125, 30.5)
    assert [a.iscrowd for a in got["x/ünï c.png"].annotations] == [0, 1]
    assert got["empty.jpg"].annotations == []


def test_yolo_folder_with_polygon_lines_to_coco(tmp_path: Path) -> None:
    root = tmp_path / "y"
    (root / "images" / "a b").mkdir(parents=True)
    (root / "labels" / "a b").mkdir(parents=True)
    Image.fromarray(np.zeros((20, 40, 3), np.uint8)).save(root / "images" / "a b" / "ç.jpg")
    Image.fromarray(np.zeros((20, 40, 3), np.uint8)).save(root / "images" / "unlabelled.jpg")
    (root / "data.yaml").write_text("names: {0: acme, 1: globex}\nnc: 2\n")
    (root / "labels" / "a b" / "ç.txt").write_text("1 0.1 0.2 0.5 0.2 0.5 0.8\n0 0.5 0.5 0.25 0.5\n")
    (root / "labels" / "gone.txt").write_text("0 0.5 0.5 0.5 0.5\n")  # its image was deleted
    report = convert(root / "data.yaml", tmp_path / "c")
    assert (report.from_fmt, report.images, report.annotations, report.masks) == ("yolo", 2, 2, 1)
    assert (
        report.dropped_counts() == {"label file: no image of that name in images/": 1} and report.dropped[0].file_name == "labels/gone.txt"
    )
    assert oct((tmp_path / "c").stat().st_mode & 0o777) == oct(0o777 & ~_umask())
    data = json.loads((tmp_path / "c" / "annotations.json").read_text())
    assert [i["file_name"] for i in data["images"]] == ["a b/ç.jpg", "unlabelled.jpg"]
    poly, box = data["annotations"]
    np.testing.assert_allclose(poly["segmentation"][0], [4, 4, 20, 4, 20, 16])
    np.testing.assert_allclose(poly["bbox"], [4, 4, 16, 12])
    assert poly["area"] == pytest.approx(96) and "segmentation" not in box


def test_destination_rules(tmp_path: Path, coco: Path) -> None:
    with pytest.raises(ValueError, match="must not be the source dataset folder"):
        convert(coco, coco, to_fmt="yolo")
    with pytest.raises(ValueError, match="must not be the source dataset folder"):
        convert(coco, coco / "images" / "yolo", to_fmt="yolo")
    with pytest.raises(ValueError, match="must not be the source dataset folder"):
        convert(coco / "annotations.json", coco / "out", to_fmt="yolo")
    with pytest.raises(ValueError, match="holds the source dataset"):
        convert(coco, tmp_path, to_fmt="yolo", overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="not a folder"):
        convert(coco, tmp_path / "file", to_fmt="yolo")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "stale.txt").write_text("old")
    with pytest.raises(FileExistsError, match="not empty; pass overwrite"):
        convert(coco, tmp_path / "full", to_fmt="yolo")
    assert (tmp_path / "full" / "stale.txt").read_text() == "old"
    convert(coco, tmp_path / "full", to_fmt="yolo", overwrite=True)
    assert not (tmp_path / "full" / "stale.txt").exists() and (tmp_path / "full" / "data.yaml").is_file()
    (tmp_path / "empty").mkdir()
    convert(coco, tmp_path / "empty", to_fmt="coco")
    assert len(load_coco(tmp_path / "empty")) == 3
    with pytest.raises(ValueError, match="to_fmt"):
        convert(coco, tmp_path / "x", to_fmt="xml")
    with pytest.raises(ValueError, match="from_fmt"):
        convert(coco, tmp_path / "x", from_fmt="json")
    with pytest.raises(ValueError, match="yolo_task"):
        convert(coco, tmp_path / "x", to_fmt="yolo", yolo_task="pose")
    with pytest.raises(FileNotFoundError, match="nope"):
        convert(tmp_path / "nope", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_failure_leaves_no_partial_folder(tmp_path: Path, coco: Path) -> None:
    convert(coco, tmp_path / "out", to_fmt="yolo")
    before = _snapshot(tmp_path / "out")
    (coco / "images" / "x" / "ünï c.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"ünï c\.png"):
        convert(coco, tmp_path / "out", to_fmt="coco", overwrite=True)
    assert _snapshot(tmp_path / "out") == before  # the old result is still there, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coco", "out"]  # no temporary folders left


def test_plan_coco_keeps_everything_and_bad_rle_is_named(coco: Path) -> None:
    ds = load_coco(coco)
    plan = plan_conversion(ds, "coco")
    assert (plan.annotations, plan.masks, plan.dropped, plan.changed) == (5, 3, [], [])
    ds.images[0].annotations[2].segmentation = {"size": [41, 77], "counts": [5]}
    with pytest.raises(ValueError, match=r"sub dir/ä b\.png: annotations\[2\]\.segmentation: cannot convert"):
        plan_conversion(ds, "yolo", yolo_task="segment")
    assert plan_conversion(ds, "yolo").masks == 0  # detect labels never decode the mask


@pytest.mark.skipif(not FLICKR.is_dir(), reason="../shared/data/flickrlogos27-dev is absent")
def test_flickrlogos_coco_yolo_coco_identical_boxes(tmp_path: Path) -> None:
    src = load_coco(FLICKR)
    report = convert(FLICKR, tmp_path / "yolo", to_fmt="yolo", images="symlink")
    assert (report.images, report.annotations, report.classes, report.dropped) == (324, 357, 21, [])
    convert(tmp_path / "yolo", tmp_path / "coco", images="none")
    back = _by_name(load_coco(tmp_path / "coco"))
    assert back.keys() == _by_name(src).keys()
    for rec in src.images:
        got = back[rec.file_name]
        assert (got.width, got.height) == (rec.width, rec.height)
        assert [a.category for a in got.annotations] == [a.category for a in rec.annotations]
        assert [tuple(round(v, 6) for v in a.bbox) for a in got.annotations] == [a.bbox for a in rec.annotations]
