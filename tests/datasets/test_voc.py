"""Pascal VOC format: the 1-based pixel convention, golden files, round trips on awkward fixtures, errors naming file and field."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logodet.datasets.formats.coco import load_coco
from logodet.datasets.formats.voc import VOCFormatError, load_voc, save_voc
from logodet.types import Annotation, DetectionDataset, ImageRecord

REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "flickrlogos27-dev"


def _xml(filename: str | None, size: tuple | None, objects: list[str], root: str = "annotation") -> str:
    parts = [f"<{root}>", "<folder>VOC2007</folder>"]
    if filename is not None:
        parts.append(f"<filename>{filename}</filename>")
    if size is not None:
        parts.append(f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>")
    parts += objects
    parts.append(f"</{root}>")
    return "\n".join(parts)


def _obj(name: str, box: tuple, **fields: str) -> str:
    extra = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    coords = "".join(f"<{t}>{v}</{t}>" for t, v in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True))
    return f"<object><name>{name}</name>{extra}<bndbox>{coords}</bndbox></object>"


def _voc_folder(tmp_path: Path, files: dict[str, str], images: str = "JPEGImages") -> Path:
    root = tmp_path / "voc"
    (root / images).mkdir(parents=True)
    for rel, text in files.items():
        path = root / "Annotations" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("voc_box", "xyxy"),
    [
        ((1, 1, 640, 480), (0.0, 0.0, 640.0, 480.0)),  # the whole image: pixels 1..W
        ((5, 7, 5, 7), (4.0, 6.0, 5.0, 7.0)),  # one pixel: a 1 x 1 box
        ((10, 20, 19, 39), (9.0, 19.0, 19.0, 39.0)),  # 10 x 20 pixels
        ((2.5, 3.25, 10.75, 8.0), (1.5, 2.25, 10.75, 8.0)),  # floats are read as they are
    ],
)
def test_one_based_convention_on_load(tmp_path: Path, voc_box: tuple, xyxy: tuple) -> None:
    root = _voc_folder(tmp_path, {"a.xml": _xml("a.jpg", (640, 480), [_obj("acme", voc_box)])})
    ann = load_voc(root).images[0].annotations[0]
    assert ann.bbox == xyxy
    x1, y1, x2, y2 = ann.bbox
    vx1, vy1, vx2, vy2 = voc_box
    assert (x2 - x1, y2 - y1) == (vx2 - vx1 + 1, vy2 - vy1 + 1)


@pytest.mark.parametrize(
    ("xyxy", "voc_box"),
    [
        ((0, 0, 640, 480), (1, 1, 640, 480)),
        ((4, 6, 5, 7), (5, 7, 5, 7)),
        ((1.4, 2.6, 10.4, 20.6), (2, 4, 10, 21)),  # rounded: every edge moves by at most half a pixel
    ],
)
def test_one_based_convention_on_save(tmp_path: Path, xyxy: tuple, voc_box: tuple) -> None:
    ds = DetectionDataset(["acme"], [ImageRecord("a.jpg", 640, 480, [Annotation(xyxy, 0)])])
    save_voc(ds, tmp_path / "out", images="none")
    box = ET.parse(tmp_path / "out" / "Annotations" / "a.xml").getroot().find("object/bndbox")
    assert tuple(int(box.find(t).text) for t in ("xmin", "ymin", "xmax", "ymax")) == voc_box
    back = load_voc(tmp_path / "out").images[0].annotations[0].bbox
    assert np.abs(np.subtract(back, xyxy)).max() <= 0.5


def test_golden_file(tmp_path: Path) -> None:
    doc = _xml(
        "2007_000027.jpg",
        (486, 500),
        [
            _obj("person", (174, 101, 349, 351), pose="Frontal", truncated="1", difficult="0"),
            _obj("dog &amp; cat", (1, 2, 3, 4), difficult="1", occluded="1", pose="Unspecified"),
        ],
    )
    root = _voc_folder(tmp_path, {"2007_000027.xml": doc})
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "train.txt").write_text("2007_000027\n")
    ds = load_voc(root)
    assert ds.class_names == ["person", "dog & cat"]
    assert ds.image_dir == root / "JPEGImages"
    assert ds.images == [
        ImageRecord(
            "2007_000027.jpg",
            486,
            500,
            [
                Annotation((173, 100, 349, 351), 0, extra={"pose": "Frontal", "truncated": 1}),
                Annotation((0, 1, 3, 4), 1, extra={"difficult": 1, "occluded": 1}),
            ],
        )
    ]


def test_class_order_is_first_appearance_in_sorted_files(tmp_path: Path) -> None:
    files = {
        "b.xml": _xml("b.jpg", (10, 10), [_obj("zeta", (1, 1, 2, 2)), _obj("alpha", (1, 1, 2, 2))]),
        "a.xml": _xml("a.jpg", (10, 10), [_obj("mid", (1, 1, 2, 2))]),
    }
    ds = load_voc(_voc_folder(tmp_path, files, images="images"))
    assert ds.class_names == ["mid", "zeta", "alpha"]
    assert [r.file_name for r in ds.images] == ["a.jpg", "b.jpg"]
    assert ds.image_dir.name == "images"


def _awkward(tmp_path: Path) -> DetectionDataset:
    images = tmp_path / "src" / "images"
    (images / "sub dir" / "deeper").mkdir(parents=True)
    files = {"plain.jpg": (64, 48), "sub dir/ünïcode näme.png": (37, 53), "sub dir/deeper/empty one.jpg": (8, 9), "no boxes.png": (5, 5)}
    for name, (w, h) in files.items():
        Image.fromarray(np.full((h, w, 3), len(name), np.uint8)).save(images / name)
    recs = [
        ImageRecord(
            "plain.jpg",
            64,
            48,
            [
                Annotation((0, 0, 64, 48), 0),
                Annotation((4, 6, 5, 7), 2, extra={"difficult": 1, "truncated": 1, "occluded": 1, "pose": "Left"}),
            ],
        ),
        ImageRecord("sub dir/ünïcode näme.png", 37, 53, [Annotation((3, 4, 30, 50), 1), Annotation((3, 4, 30, 50), 1)]),
        ImageRecord("sub dir/deeper/empty one.jpg", 8, 9, []),
        ImageRecord("no boxes.png", 5, 5, []),
    ]
    return DetectionDataset(["acme", "bé ta", "with space", "unused"], recs, images)


@pytest.mark.parametrize("mode", ["copy", "symlink"])
def test_round_trip_awkward_names(tmp_path: Path, mode: str) -> None:
    ds = _awkward(tmp_path)
    out = save_voc(ds, tmp_path / "voc", images=mode)
    assert out == tmp_path / "voc"
    assert (out / "Annotations" / "sub dir" / "deeper" / "empty one.xml").is_file()
    assert ET.parse(out / "Annotations" / "no boxes.xml").getroot().find("object") is None
    assert (out / "labels.txt").read_text(encoding="utf-8") == "acme\nbé ta\nwith space\nunused\n"
    assert (out / "ImageSets" / "Main" / "default.txt").read_text(encoding="utf-8").splitlines()[1] == "sub dir/ünïcode näme"
    img = out / "JPEGImages" / "sub dir" / "ünïcode näme.png"
    assert img.is_symlink() == (mode == "symlink")
    assert img.read_bytes() == (ds.image_dir / "sub dir" / "ünïcode näme.png").read_bytes()
    back = load_voc(out)
    assert back.class_names == ds.class_names
    assert back.images == sorted(ds.images, key=lambda r: Path(r.file_name).with_suffix(""))  # files are read sorted by path
    assert back.image_dir == out / "JPEGImages"


def test_crowd_and_foreign_fields_are_not_written(tmp_path: Path) -> None:
    anns = [
        Annotation((1, 1, 5, 5), 0, iscrowd=1),
        Annotation((2, 2, 6, 6), 0, segmentation=[[2, 2, 6, 2, 6, 6]], extra={"visibility": 0.5}),
    ]
    save_voc(DetectionDataset(["acme"], [ImageRecord("a.jpg", 10, 10, anns)]), tmp_path / "v", images="none")
    assert not (tmp_path / "v" / "JPEGImages").exists()
    assert load_voc(tmp_path / "v").images[0].annotations == [Annotation((2, 2, 6, 6), 0)]


def test_labels_file_order_kept_and_new_names_appended(tmp_path: Path) -> None:
    root = _voc_folder(tmp_path, {"a.xml": _xml("a.jpg", (10, 10), [_obj("new", (1, 1, 2, 2)), _obj("b", (1, 1, 2, 2))])})
    (root / "labels.txt").write_text("b\na\n")
    ds = load_voc(root)
    assert ds.class_names == ["b", "a", "new"]
    assert [a.category for a in ds.images[0].annotations] == [2, 0]


def test_sub_folder_xml_and_missing_filename(tmp_path: Path) -> None:
    files = {
        "sub/b.xml": _xml("b.jpg", (10, 10), []),  # a bare name lives in the xml's sub-folder
        "other/c.xml": _xml("other/c.jpg", (10, 10), []),  # a name with a folder part is kept
        "d.xml": _xml(None, (10, 10), []),  # no filename: the one image named d.*
    }
    root = _voc_folder(tmp_path, files)
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(root / "JPEGImages" / "d.png")
    assert [r.file_name for r in load_voc(root).images] == ["d.png", "other/c.jpg", "sub/b.jpg"]
    (root / "JPEGImages" / "d.png").unlink()
    with pytest.raises(VOCFormatError, match=r"d\.xml: filename: missing"):
        load_voc(root)


@pytest.mark.parametrize(
    ("doc", "pattern"),
    [
        (_xml("a.jpg", None, []), r"a\.xml: size: missing"),
        (_xml("a.jpg", (0, 10), []), r"a\.xml: size/width: expected a positive integer, got '0'"),
        (_xml("a.jpg", (10, -2), []), r"a\.xml: size/height: expected a positive integer"),
        (_xml("a.jpg", (10, "ten"), []), r"a\.xml: size/height: expected a finite number, got 'ten'"),
        (
            _xml("a.jpg", (10, 10), [_obj("a", (1, 1, 2, 2)), _obj("b", ("one", 1, 2, 2))]),
            r"a\.xml: object\[2\]/bndbox/xmin: expected a finite",
        ),
        (_xml("a.jpg", (10, 10), [_obj("a", (1, 1, 2, "nan"))]), r"object\[1\]/bndbox/ymax: expected a finite number"),
        (_xml("a.jpg", (10, 10), [_obj("a", (5, 1, 3, 2))]), r"object\[1\]/bndbox: xmax/ymax \(3, 2\) lie before"),
        (_xml("a.jpg", (10, 10), [_obj("", (1, 1, 2, 2))]), r"object\[1\]/name: missing or empty"),
        (_xml("a.jpg", (10, 10), [_obj("a", (1, 1, 2, 2), difficult="maybe")]), r"object\[1\]/difficult: expected 0 or 1"),
        (_xml("a.jpg", (10, 10), ["<object><name>a</name></object>"]), r"object\[1\]/bndbox: missing"),
        (_xml("a.jpg", (10, 10), [], root="annotations"), r"root element is <annotations>"),
        ("<annotation><filename>a.jpg</filename>", r"a\.xml: not well-formed XML"),
        ('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><annotation>&x;</annotation>', r"a\.xml: DTD and entity"),
        ('<!DOCTYPE annotation SYSTEM "file:///etc/passwd"><annotation/>', r"DTD and entity declarations"),
        ("<annotation><filename>&xxe;</filename></annotation>", r"not well-formed XML \(undefined entity"),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, doc: str, pattern: str) -> None:
    root = _voc_folder(tmp_path, {"a.xml": doc})
    with pytest.raises(VOCFormatError, match=pattern) as info:
        load_voc(root)
    assert str(root / "Annotations" / "a.xml") in str(info.value)


def test_missing_folder_and_duplicate_images(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no VOC Annotations folder"):
        load_voc(tmp_path / "nothing")
    root = _voc_folder(tmp_path, {"a.xml": _xml("x.jpg", (4, 4), []), "b.xml": _xml("x.jpg", (4, 4), [])})
    with pytest.raises(VOCFormatError, match=r"b\.xml: filename: image 'x\.jpg' is already described by .*a\.xml"):
        load_voc(root)


def test_save_refuses_what_voc_cannot_hold(tmp_path: Path) -> None:
    clash = DetectionDataset(["a"], [ImageRecord("x.jpg", 4, 4), ImageRecord("x.png", 4, 4)])
    with pytest.raises(VOCFormatError, match=r"x\.png: shares Annotations/x\.xml with x\.jpg"):
        save_voc(clash, tmp_path / "v", images="none")
    with pytest.raises(VOCFormatError, match="must stay inside"):
        save_voc(DetectionDataset(["a"], [ImageRecord("../x.jpg", 4, 4)]), tmp_path / "v", images="none")
    with pytest.raises(VOCFormatError, match="class name ' a'"):
        save_voc(DetectionDataset([" a"], []), tmp_path / "v", images="none")
    with pytest.raises(ValueError, match="images"):
        save_voc(DetectionDataset(["a"], []), tmp_path / "v", images="move")
    assert not (tmp_path / "v").exists()


def test_real_dataset_round_trip(tmp_path: Path) -> None:
    if not (REAL_DATA / "annotations.json").is_file():
        pytest.skip("flickrlogos27-dev is not available")
    ds = load_coco(REAL_DATA)
    back = load_voc(save_voc(ds, tmp_path / "voc", images="none"))
    assert back.class_names == ds.class_names
    assert sorted((r.file_name, r.width, r.height) for r in back.images) == sorted((r.file_name, r.width, r.height) for r in ds.images)
    by_name = {r.file_name: r for r in ds.images}
    n = 0
    for rec in back.images:
        orig = by_name[rec.file_name]
        assert [a.category for a in rec.annotations] == [a.category for a in orig.annotations if not a.iscrowd]
        for a, b in zip(rec.annotations, [a for a in orig.annotations if not a.iscrowd], strict=True):
            assert np.abs(np.subtract(a.bbox, b.bbox)).max() <= 0.5
            n += 1
    assert n == 357
