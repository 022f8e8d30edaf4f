"""LabelMe format: golden files, groups of polygons, round trips, embedded images, errors naming file and shape."""

from __future__ import annotations

import base64
import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logodet.datasets.formats.coco import load_coco, save_coco
from logodet.datasets.formats.labelme import LabelMeFormatError, load_labelme, read_labelme_file, save_labelme
from logodet.io import read_rgb
from logodet.masks import rle_encode
from logodet.types import Annotation, DetectionDataset, ImageRecord


def _shape(label: str, points: list, kind: str | None = "polygon", group: int | None = None, **more: object) -> dict:
    shape = {"label": label, "points": points, "group_id": group, "description": "", "flags": {}, **more}
    if kind is not None:
        shape["shape_type"] = kind
    return shape


def _doc(image_path: str, shapes: list, size: tuple[int, int] = (64, 48), data: str | None = None) -> dict:
    return {
        "version": "5.5.0",
        "flags": {},
        "shapes": shapes,
        "imagePath": image_path,
        "imageData": data,
        "imageWidth": size[0],
        "imageHeight": size[1],
    }


def _write(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _png(w: int, h: int, value: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((h, w, 3), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_golden_file(tmp_path: Path) -> None:
    shapes = [
        _shape("acme", [[30, 40], [10, 20]], "rectangle", flags={"occluded": True}, description="half hidden"),
        _shape("beta", [[0, 0], [10, 0], [10, 5]], None),  # no shape_type: a polygon
        _shape("beta", [[20, 20], [30, 20], [25, 30]], "polygon", group=4),
        _shape("beta", [[40, 2], [44, 2], [44, 9]], "polygon", group=4),  # same group and label: one object
        _shape("acme", [[1, 1], [2, 2]], "rectangle", group=4, visibility=0.5, iscrowd=1),  # same group, other label
    ]
    path = _write(tmp_path / "lm" / "a.json", _doc("a.jpg", shapes))
    f = read_labelme_file(path)
    assert (f.image_path, f.width, f.height, f.image_data) == ("a.jpg", 64, 48, None)
    assert [o.where for o in f.objects] == ["shapes[0]", "shapes[1]", "shapes[2]", "shapes[4]"]
    ds = load_labelme(tmp_path / "lm")
    assert ds.class_names == ["acme", "beta"]
    assert ds.image_dir == tmp_path / "lm"
    assert ds.images == [
        ImageRecord(
            "a.jpg",
            64,
            48,
            [
                Annotation((10, 20, 30, 40), 0, extra={"flags": {"occluded": True}, "description": "half hidden"}),
                Annotation((0, 0, 10, 5), 1, segmentation=[[0, 0, 10, 0, 10, 5]]),
                Annotation((20, 2, 44, 30), 1, segmentation=[[20, 20, 30, 20, 25, 30], [40, 2, 44, 2, 44, 9]]),
                Annotation((1, 1, 2, 2), 0, iscrowd=1, extra={"visibility": 0.5, "group_id": 4}),
            ],
        )
    ]


def test_rectangle_joins_a_polygon_group_as_its_corners(tmp_path: Path) -> None:
    shapes = [_shape("a", [[0, 0], [4, 0], [4, 4]], group=1), _shape("a", [[9, 8], [6, 5]], "rectangle", group=1)]
    ann = load_labelme(_write(tmp_path / "x.json", _doc("x.png", shapes))).images[0].annotations[0]
    assert ann.bbox == (0, 0, 9, 8)
    assert ann.segmentation == [[0, 0, 4, 0, 4, 4], [6, 5, 9, 5, 9, 8, 6, 8]]


def _awkward(tmp_path: Path) -> DetectionDataset:
    images = tmp_path / "src" / "images"
    (images / "sub dir").mkdir(parents=True)
    sizes = {"plain.jpg": (64, 48), "sub dir/ünïcode näme.png": (37, 53), "no shapes.png": (5, 5)}
    for name, (w, h) in sizes.items():
        (images / name).write_bytes(_png(w, h, len(name)))
    recs = [
        ImageRecord(
            "plain.jpg",
            64,
            48,
            [
                Annotation((1.5, 2.25, 60.75, 40.0), 0),
                Annotation((0, 0, 20, 10), 2, segmentation=[[0, 0, 20, 0, 10, 10]], extra={"description": "ñ", "flags": {"x": True}}),
                Annotation((5, 5, 30, 30), 2, segmentation=[[5, 5, 10, 5, 10, 10], [20, 20, 30, 20, 30, 30, 20, 30]]),
                Annotation((5, 5, 9, 9), 2, segmentation=[[5, 5, 9, 5, 9, 9]], extra={"group_id": 7}),
                Annotation((2, 2, 3, 3), 0, iscrowd=1, extra={"visibility": 0.25, "source": {"tool": "synth"}}),
            ],
        ),
        ImageRecord("sub dir/ünïcode näme.png", 37, 53, [Annotation((3, 4, 30, 50), 1, extra={"group_id": 7})]),
        ImageRecord("no shapes.png", 5, 5, []),
    ]
    return DetectionDataset(["acme", "bé ta", "with space", "unused"], recs, images)


@pytest.mark.parametrize("mode", ["copy", "symlink"])
def test_round_trip_awkward_fixture(tmp_path: Path, mode: str) -> None:
    ds = _awkward(tmp_path)
    out = save_labelme(ds, tmp_path / "lm", images=mode)
    assert out == tmp_path / "lm"
    doc = json.loads((out / "sub dir" / "ünïcode näme.json").read_text(encoding="utf-8"))
    assert (doc["imagePath"], doc["imageData"], doc["imageWidth"], doc["imageHeight"]) == ("ünïcode näme.png", None, 37, 53)
    assert json.loads((out / "no shapes.json").read_text(encoding="utf-8"))["shapes"] == []
    plain = json.loads((out / "plain.json").read_text(encoding="utf-8"))["shapes"]
    assert [(s["shape_type"], s["group_id"]) for s in plain] == [
        ("rectangle", None),
        ("polygon", None),
        ("polygon", 8),  # a fresh id for the two parts, above the 7 already used
        ("polygon", 8),
        ("polygon", 7),
        ("rectangle", None),
    ]
    assert plain[0]["points"] == [[1.5, 2.25], [60.75, 40.0]]
    assert (out / "sub dir" / "ünïcode näme.png").is_symlink() == (mode == "symlink")
    back = load_labelme(out)
    assert back.class_names == ds.class_names
    assert back.image_dir == out
    assert back.images == sorted(ds.images, key=lambda r: Path(r.file_name).with_suffix(".json"))


def test_rle_becomes_outer_contours(tmp_path: Path) -> None:
    mask = np.zeros((40, 50), bool)
    mask[5:15, 4:20] = True
    mask[8:11, 8:12] = False  # a hole: not representable, dropped
    mask[25:35, 30:45] = True
    ds = DetectionDataset(["a"], [ImageRecord("m.png", 50, 40, [Annotation((4, 5, 45, 35), 0, segmentation=rle_encode(mask))])])
    save_labelme(ds, tmp_path / "lm", images="none")
    back = load_labelme(tmp_path / "lm").images[0].annotations[0]
    assert len(back.segmentation) == 2
    assert np.abs(np.subtract(back.bbox, (4, 5, 45, 35))).max() <= 1.0
    assert back.bbox == (4, 5, 44, 34)  # contours pass through pixel centres


def test_images_none_points_at_the_source(tmp_path: Path) -> None:
    ds = _awkward(tmp_path)
    out = save_labelme(ds, tmp_path / "labels only", images="none")
    assert not (out / "plain.jpg").exists()
    doc = json.loads((out / "sub dir" / "ünïcode näme.json").read_text(encoding="utf-8"))
    assert doc["imagePath"] == "../../src/images/sub dir/ünïcode näme.png"
    back = load_labelme(out)
    assert back.image_dir == tmp_path  # the deepest folder holding the labels and the images
    for rec in back.images:
        assert back.image_path(rec).read_bytes() == (ds.image_dir / Path(rec.file_name).relative_to("src/images")).read_bytes()


def test_embedded_images_are_extracted_outside_the_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = _awkward(tmp_path)
    src = save_labelme(ds, tmp_path / "lm", images="copy", embed_images=True)
    doc = json.loads((src / "plain.json").read_text(encoding="utf-8"))
    assert base64.b64decode(doc["imageData"]) == (ds.image_dir / "plain.jpg").read_bytes()
    (src / "sub dir" / "ünïcode näme.png").unlink()  # only the json's imageData is left
    before = _snapshot(src)
    extract = tmp_path / "extracted"
    loaded = load_labelme(src, extract_dir=extract)
    assert _snapshot(src) == before  # nothing written into the input
    assert loaded.image_dir == extract
    assert (extract / "sub dir" / "ünïcode näme.png").read_bytes() == (ds.image_dir / "sub dir" / "ünïcode näme.png").read_bytes()
    assert (extract / "plain.jpg").is_symlink()  # files that exist are linked, not copied
    for rec in loaded.images:
        assert read_rgb(loaded.image_path(rec)).shape == (rec.height, rec.width, 3)
    # the loaded dataset saves like any other
    again = save_labelme(loaded, tmp_path / "again", images="copy")
    assert (again / "sub dir" / "ünïcode näme.png").read_bytes() == (extract / "sub dir" / "ünïcode näme.png").read_bytes()
    save_coco(loaded, tmp_path / "coco")
    coco = load_coco(tmp_path / "coco")
    assert [a.bbox for r in coco.images for a in r.annotations] == [a.bbox for r in loaded.images for a in r.annotations]
    # without extract_dir: a new temporary folder (made under tmp_path here, so the test leaves nothing behind)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    default = load_labelme(src)
    assert default.image_dir.parent == tmp_path / "tmp" and default.image_dir.name.startswith("logodet-labelme-")
    assert default.image_dir not in (src, extract) and not default.image_dir.is_relative_to(src)
    assert (default.image_dir / "sub dir" / "ünïcode näme.png").is_file()


def test_single_file_and_class_names(tmp_path: Path) -> None:
    path = _write(tmp_path / "one.json", _doc("one.png", [_shape("b", [[0, 0], [2, 2]], "rectangle")]))
    assert load_labelme(path, class_names=["a", "b"]).images[0].annotations[0].category == 1
    with pytest.raises(LabelMeFormatError, match=r"one\.json: shapes\[0\]\.label: 'b' is not a known class name \(known: a\)"):
        load_labelme(path, class_names=["a"])
    (tmp_path / "labels.txt").write_text("__ignore__\n_background_\nz\nb\n")
    assert load_labelme(tmp_path).class_names == ["z", "b"]


def test_other_json_files_are_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "manifest.json", {"files": []})
    _write(tmp_path / "list.json", [1, 2])
    with pytest.raises(FileNotFoundError, match="no LabelMe json files"):
        load_labelme(tmp_path)
    _write(tmp_path / "a.json", _doc("a.png", []))
    assert [r.file_name for r in load_labelme(tmp_path).images] == ["a.png"]
    with pytest.raises(FileNotFoundError, match="no such LabelMe"):
        load_labelme(tmp_path / "missing")


@pytest.mark.parametrize(
    ("doc", "pattern"),
    [
        (
            _doc("a.png", [_shape("a", [[0, 0], [1, 1]], "rectangle"), _shape("a", [[0, 0], [5, 5]], "circle")]),
            r"shapes\[1\]\.shape_type: 'circle'",
        ),
        (_doc("a.png", [_shape("a", [[0, 0], [1, "x"], [2, 2]])]), r"shapes\[0\]\.points\[1\]: expected \[x, y\] finite numbers"),
        (_doc("a.png", [_shape("a", [[0, 0], [1, 1]])]), r"shapes\[0\]\.points: a polygon needs at least 3 points, got 2"),
        (_doc("a.png", [_shape("a", "0,0,1,1", "rectangle")]), r"shapes\[0\]\.points: expected a list"),
        (_doc("a.png", [_shape("", [[0, 0], [1, 1]], "rectangle")]), r"shapes\[0\]\.label: expected a non-empty string"),
        (_doc("a.png", [_shape("a", [[0, 0], [1, 1]], "rectangle", group="1")]), r"shapes\[0\]\.group_id: expected an integer"),
        (_doc("a.png", [_shape("a", [[0, 0], [1, 1]], "rectangle", flags=[1])]), r"shapes\[0\]\.flags: expected dict"),
        (_doc("a.png", [_shape("a", [[0, 0], [1, 1]], "rectangle", iscrowd=2)]), r"shapes\[0\]\.iscrowd: expected 0 or 1"),
        ({**_doc("a.png", []), "imageHeight": "48"}, r"a\.json: imageHeight: expected int, got str"),
        ({k: v for k, v in _doc("a.png", []).items() if k != "shapes"}, r"a\.json: shapes: missing"),
        (_doc("a.png", [], size=(0, 5)), r"imageWidth/imageHeight: must be positive"),
        (_doc("", []), r"imagePath: must name the image file"),
        (_doc("a.png", [], data=7), r"imageData: expected a base64 string or null"),
        (_doc("a.png", [], data="@@not base64@@"), r"a\.json: imageData: not a base64-encoded image"),
        (_doc("a.png", [], data=base64.b64encode(b"not an image").decode()), r"imageData: not a base64-encoded image"),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, doc: dict, pattern: str) -> None:
    path = _write(tmp_path / "in" / "a.json", doc)
    with pytest.raises(LabelMeFormatError, match=pattern) as info:
        load_labelme(tmp_path / "in", extract_dir=tmp_path / "x")
    assert str(path) in str(info.value)


def test_file_level_errors(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.json").write_text("{not json")
    with pytest.raises(LabelMeFormatError, match=r"bad\.json: not valid JSON"):
        load_labelme(tmp_path / "in")
    (tmp_path / "in" / "bad.json").unlink()
    _write(tmp_path / "in" / "a.json", _doc("img.png", []))
    _write(tmp_path / "in" / "b.json", _doc("./img.png", []))
    with pytest.raises(LabelMeFormatError, match=r"b\.json: imagePath: image .*img\.png is already described by .*a\.json"):
        load_labelme(tmp_path / "in")
    with pytest.raises(FileNotFoundError, match="LabelMe file not found"):
        read_labelme_file(tmp_path / "in" / "nope.json")


def test_windows_image_paths_and_bare_embedded_image(tmp_path: Path) -> None:
    data = base64.b64encode(_png(6, 4, 200)).decode()
    _write(tmp_path / "in" / "ann" / "a.json", _doc("..\\imgs\\a.png", [], size=(6, 4), data=data))
    ds = load_labelme(tmp_path / "in", extract_dir=tmp_path / "x")
    assert ds.images[0].file_name == "imgs/a.png" and ds.image_dir == tmp_path / "x"
    assert read_rgb(ds.image_path(ds.images[0]))[0, 0].tolist() == [200, 200, 200]
    assert not (tmp_path / "in" / "imgs").exists()


def test_save_refuses_what_labelme_cannot_hold(tmp_path: Path) -> None:
    clash = DetectionDataset(["a"], [ImageRecord("x.jpg", 4, 4), ImageRecord("x.png", 4, 4)])
    with pytest.raises(LabelMeFormatError, match=r"x\.png: shares x\.json with x\.jpg"):
        save_labelme(clash, tmp_path / "l", images="none")
    with pytest.raises(LabelMeFormatError, match="must stay inside"):
        save_labelme(DetectionDataset(["a"], [ImageRecord("/abs/x.jpg", 4, 4)]), tmp_path / "l", images="none")
    bad_rle = [Annotation((0, 0, 1, 1), 0, segmentation={"size": [4, 4], "counts": [3]})]
    with pytest.raises(LabelMeFormatError, match=r"x\.jpg: annotation of 'a': cannot convert its segmentation"):
        save_labelme(DetectionDataset(["a"], [ImageRecord("x.jpg", 4, 4, bad_rle)]), tmp_path / "l", images="none")
    with pytest.raises(FileNotFoundError, match="needed to embed it"):
        save_labelme(DetectionDataset(["a"], [ImageRecord("x.jpg", 4, 4)], tmp_path), tmp_path / "l", images="none", embed_images=True)


def test_real_dataset_round_trip(tmp_path: Path) -> None:
    real = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "flickrlogos27-dev"
    if not (real / "annotations.json").is_file():
        pytest.skip("flickrlogos27-dev is not available")
    ds = load_coco(real)
    back = load_labelme(save_labelme(ds, tmp_path / "lm", images="none"))
    assert back.class_names == ds.class_names
    got = {back.image_path(r).resolve(): r for r in back.images}
    assert len(got) == len(ds.images) == 324
    for rec in ds.images:
        b = got[ds.image_path(rec).resolve()]
        assert (b.width, b.height) == (rec.width, rec.height)
        assert [(a.bbox, a.category) for a in b.annotations] == [(a.bbox, a.category) for a in rec.annotations]
