import json
from pathlib import Path

import numpy as np
import pytest

from logodet.datasets.formats.coco import COCOFormatError, dataset_to_coco, load_coco, load_coco_dict, save_coco
from logodet.types import Annotation, DetectionDataset, ImageRecord

FLICKR = Path(__file__).resolve().parents[3] / "shared" / "data" / "flickrlogos27-dev"


def _dataset() -> DetectionDataset:
    rle = {"size": [20, 30], "counts": "0e01"}
    images = [
        ImageRecord("sub dir/ünï code.jpg", 30, 20, [Annotation((1.5, 2, 11.5, 12), 1, segmentation=rle, extra={"visibility": 0.8})]),
        ImageRecord("empty.png", 64, 48),
        ImageRecord("crowd.jpg", 100, 80, [Annotation((0, 0, 50, 40), 0, segmentation=[[0, 0, 50, 0, 50, 40]], iscrowd=1)]),
    ]
    return DetectionDataset(["acme", "globex"], images)


def test_round_trip_keeps_everything(tmp_path):
    ds = _dataset()
    path = save_coco(ds, tmp_path)
    back = load_coco(tmp_path)
    assert back.class_names == ds.class_names
    assert [r.file_name for r in back.images] == [r.file_name for r in ds.images]
    assert back.images[1].annotations == []
    a = back.images[0].annotations[0]
    assert a.bbox == (1.5, 2.0, 11.5, 12.0) and a.category == 1 and a.extra["visibility"] == 0.8
    assert a.segmentation == {"size": [20, 30], "counts": "0e01"}
    assert back.images[2].annotations[0].iscrowd == 1
    assert json.loads(path.read_text())["categories"][1] == {"id": 2, "name": "globex", "supercategory": "logo"}


def test_categories_are_matched_by_id_not_position():
    data = dataset_to_coco(_dataset())
    data["categories"] = [{"id": 7, "name": "globex"}, {"id": 3, "name": "acme"}]
    for a in data["annotations"]:
        a["category_id"] = {1: 3, 2: 7}[a["category_id"]]
    ds = load_coco_dict(data)
    assert ds.class_names == ["acme", "globex"]
    assert ds.images[0].annotations[0].category == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("images"), "missing field 'images'"),
        (lambda d: d["images"][0].pop("width"), r"images\[0\]: missing field 'width'"),
        (lambda d: d["annotations"][0].update(bbox=[0, 0, -1, 2]), r"annotations\[0\].bbox: negative"),
        (lambda d: d["annotations"][0].update(category_id=99), r"annotations\[0\].category_id: unknown category id 99"),
        (lambda d: d["annotations"][0].update(image_id=99), "unknown image id 99"),
        (lambda d: d["images"].append(dict(d["images"][0])), "duplicate image id"),
        (lambda d: d["annotations"][0].update(bbox="1,2,3,4"), r"annotations\[0\].bbox: expected list"),
    ],
)
def test_malformed_files_name_the_field(mutate, message):
    data = dataset_to_coco(_dataset())
    mutate(data)
    with pytest.raises(COCOFormatError, match=message):
        load_coco_dict(data, "x.json")


def test_unreadable_json_names_the_file(tmp_path):
    (tmp_path / "annotations.json").write_text("{not json")
    with pytest.raises(COCOFormatError, match=r"annotations\.json: not valid JSON"):
        load_coco(tmp_path)
    with pytest.raises(FileNotFoundError, match="no COCO annotations"):
        load_coco(tmp_path / "nothing")


@pytest.mark.skipif(not FLICKR.is_dir(), reason="../shared/data/flickrlogos27-dev is absent")
def test_flickrlogos_dev_loads():
    ds = load_coco(FLICKR)
    assert len(ds) == 324 and ds.num_classes == 21
    assert sum(len(r.annotations) for r in ds.images) == 357
    assert sum(1 for r in ds.images if not r.annotations) == 110
    assert ds.image_path(ds.images[0]).is_file()


# --- segmentations, precision, images: the awkward cases -------------------------------------------------------------

RLE_LIST = {"size": [6, 5], "counts": [7, 4, 2, 4, 13]}  # uncompressed counts (crowd style), 7 + 4 + 2 + 4 + 13 = 30 pixels


def _awkward(tmp_path: Path) -> DetectionDataset:
    """Unicode and spaces in names, a sub-folder, several polygon parts, both RLE kinds, crowd, an image without boxes."""
    src = tmp_path / "src" / "images"
    (src / "sub dir").mkdir(parents=True)
    for name, data in (("sub dir/ä b.jpg", b"jpeg-1"), ("empty.png", b"png-2"), ("x y/ünï.jpg", b"jpeg-3")):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    recs = [
        ImageRecord(
            "sub dir/ä b.jpg",
            37,
            23,
            [
                Annotation((1 / 3, 2.2, 11.7, 12.25), 1, segmentation=[[1 / 3, 2.2, 11.7, 2.2, 11.7, 12.25], [20, 20, 30, 20, 30, 22]]),
                Annotation((0, 0, 5, 6), 0, segmentation={"size": [23, 37], "counts": "0e01"}, extra={"visibility": 0.8}),
            ],
            id=7,
        ),
        ImageRecord("empty.png", 64, 48, id=3),
        ImageRecord("x y/ünï.jpg", 5, 6, [Annotation((1, 1, 3, 5), 0, segmentation=RLE_LIST, iscrowd=1, area=8.0)], id=11),
    ]
    return DetectionDataset(["acme", "globex"], recs, src)


@pytest.mark.parametrize("mode", ["none", "copy", "symlink"])
def test_awkward_round_trip_with_images(tmp_path, mode):
    ds = _awkward(tmp_path)
    path = save_coco(ds, tmp_path / "out", None, images=mode)
    assert path == tmp_path / "out" / "annotations.json"
    back = load_coco(tmp_path / "out")
    assert back.class_names == ds.class_names
    assert [(r.file_name, r.width, r.height, r.id) for r in back.images] == [(r.file_name, r.width, r.height, r.id) for r in ds.images]
    for a_rec, b_rec in zip(ds.images, back.images, strict=True):
        for a, b in zip(a_rec.annotations, b_rec.annotations, strict=True):
            assert b.bbox == a.bbox  # exact: no rounding on save
            assert (b.segmentation, b.iscrowd, b.category) == (a.segmentation, a.iscrowd, a.category)
    assert back.images[0].annotations[1].extra == {"visibility": 0.8, "id": 2}
    assert back.images[2].annotations[0].area == 8.0
    for rec in ds.images:
        placed = tmp_path / "out" / "images" / rec.file_name
        assert placed.exists() == (mode != "none")
        if mode != "none":
            assert placed.read_bytes() == ds.image_path(rec).read_bytes()
            assert placed.is_symlink() == (mode == "symlink")
            assert back.image_path(back.images[ds.images.index(rec)]) == placed


def test_saved_boxes_keep_full_precision_and_integers_stay_integers(tmp_path):
    box = (0.1 + 0.2, 1e-7, 123.456789012345, 2 / 3 + 100)
    ds = DetectionDataset(["a"], [ImageRecord("a.jpg", 333, 201, [Annotation(box, 0), Annotation((1, 2, 4, 8), 0)])])
    data = json.loads(save_coco(ds, tmp_path / "a.json").read_text())
    assert data["annotations"][0]["bbox"] == [box[0], box[1], box[2] - box[0], box[3] - box[1]]
    assert data["annotations"][1]["bbox"] == [1, 2, 3, 6] and all(type(v) is int for v in data["annotations"][1]["bbox"])
    back = load_coco(tmp_path / "a.json").images[0].annotations[0].bbox
    assert np.allclose(back, box, rtol=1e-15, atol=0)


def test_save_normalises_segmentation_types_and_keeps_coco_fields(tmp_path):
    rle = {"size": np.array([23, 37]), "counts": b"0e01"}
    poly = [np.array([1.5, 2, 9, 2, 9, 7])]
    anns = [Annotation((0, 0, 5, 6), 0, segmentation=rle), Annotation((1.5, 2, 9, 7), 0, segmentation=poly, extra={"bbox": "x", "k": 1})]
    ds = DetectionDataset(["a"], [ImageRecord("a.jpg", 37, 23, anns)])
    data = json.loads(save_coco(ds, tmp_path).read_text())
    assert data["annotations"][0]["segmentation"] == {"size": [23, 37], "counts": "0e01"}
    assert data["annotations"][1]["segmentation"] == [[1.5, 2, 9, 2, 9, 7]]
    assert data["annotations"][1]["bbox"] == [1.5, 2, 7.5, 5] and data["annotations"][1]["k"] == 1  # extra cannot replace bbox


def test_json_path_places_images_beside_it_and_missing_image_writes_nothing(tmp_path):
    ds = _awkward(tmp_path)
    save_coco(ds, tmp_path / "o" / "val.json", images="copy")
    assert (tmp_path / "o" / "images" / "x y" / "ünï.jpg").read_bytes() == b"jpeg-3"
    assert load_coco(tmp_path / "o" / "val.json").image_dir == tmp_path / "o" / "images"
    (ds.image_dir / "empty.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"empty\.png"):
        save_coco(ds, tmp_path / "p", images="copy")
    assert not (tmp_path / "p" / "annotations.json").exists()


def test_image_paths_must_stay_inside_when_placing(tmp_path):
    ds = DetectionDataset(["a"], [ImageRecord("../x.jpg", 4, 4)], tmp_path)
    with pytest.raises(COCOFormatError, match=r"\.\./x\.jpg: an image path must stay inside"):
        save_coco(ds, tmp_path / "o", images="copy")
    assert load_coco(save_coco(ds, tmp_path / "o")).images[0].file_name == "../x.jpg"  # annotations only: kept as given
    with pytest.raises(ValueError, match="images"):
        save_coco(ds, tmp_path / "o", images="move")


def _one(ann_update: dict | None = None, image_update: dict | None = None) -> dict:
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 5, "height": 6, **(image_update or {})}],
        "categories": [{"id": 1, "name": "acme"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], **(ann_update or {})}],
    }
    return data


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"segmentation": "poly"}, r"annotations\[0\]\.segmentation: expected a list of polygons or an RLE object, got str"),
        ({"segmentation": [[0, 0, 1, 0, 1, 1], [0, 0, 1, 1]]}, r"segmentation\[1\]: a polygon needs an even count of at least 6"),
        ({"segmentation": [[0, 0, 1, 0, 1, 1, 2]]}, r"segmentation\[0\]: a polygon needs an even count"),
        ({"segmentation": [[0, 0, 1, 0, 1, "1"]]}, r"segmentation\[0\]: polygon coordinates must be finite numbers, got '1'"),
        ({"segmentation": [[0, 0, 1, 0, 1, True]]}, r"segmentation\[0\]: polygon coordinates must be finite"),
        ({"segmentation": [[0, 0, 1, 0, 1, float("nan")]]}, r"segmentation\[0\]: polygon coordinates must be finite"),
        ({"segmentation": [{"size": [6, 5]}]}, r"segmentation\[0\]: expected a polygon"),
        ({"segmentation": {"counts": "0e01"}}, r"segmentation: missing field 'size'"),
        ({"segmentation": {"size": [6, 5]}}, r"segmentation: missing field 'counts'"),
        ({"segmentation": {"size": "6x5", "counts": "3"}}, r"segmentation\.size: expected list"),
        ({"segmentation": {"size": [6.0, 5], "counts": "3"}}, r"segmentation\.size: expected \[height, width\] integers"),
        (
            {"segmentation": {"size": [5, 6], "counts": "3"}},
            r"segmentation\.size: \[5, 6\] does not match the image's \[height, width\] \[6, 5\]",
        ),
        ({"segmentation": {"size": [6, 5], "counts": "ab~"}}, r"segmentation\.counts: not a compressed RLE string"),
        ({"segmentation": {"size": [6, 5], "counts": [7, 4]}}, r"segmentation\.counts: run lengths add up to 11, not 6x5 = 30"),
        ({"segmentation": {"size": [6, 5], "counts": [31, -1]}}, r"segmentation\.counts: uncompressed RLE counts must be non-negative"),
        ({"segmentation": {"size": [6, 5], "counts": 30}}, r"segmentation\.counts: expected string or list"),
        ({"iscrowd": 2}, r"annotations\[0\]\.iscrowd: expected 0 or 1, got 2"),
        ({"iscrowd": "yes"}, r"annotations\[0\]\.iscrowd: expected 0 or 1"),
        ({"area": "big"}, r"annotations\[0\]\.area: expected a number, got str"),
        ({"bbox": [0, 0, float("inf"), 1]}, r"annotations\[0\]\.bbox: expected \[x, y, w, h\] finite numbers"),
        ({"bbox": [10**400, 0, 1, 1]}, r"annotations\[0\]\.bbox: expected \[x, y, w, h\] finite numbers"),
        ({"bbox": [1e308, 0, 1e308, 1]}, r"annotations\[0\]\.bbox: coordinates too large"),
        ({"bbox": [0, 0, 1, True]}, r"annotations\[0\]\.bbox: expected \[x, y, w, h\]"),
    ],
)
def test_malformed_annotation_fields_are_named(update, message):
    with pytest.raises(COCOFormatError, match=message):
        load_coco_dict(_one(update), "x.json")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["images"].__setitem__(0, "a.jpg"), r"x\.json: images\[0\]: expected an object, got str"),
        (lambda d: d["images"][0].update(file_name=""), r"images\[0\]\.file_name: must not be empty"),
        (lambda d: d["images"][0].update(width=0), r"images\[0\]: width/height must be positive"),
        (lambda d: d["categories"].append({"id": "2", "name": "b"}), r"categories\[1\]\.id: expected integer, got str"),
        (
            lambda d: d["categories"].insert(0, {"id": 1, "name": "b"}),
            r"categories\[1\]\.id: duplicate category id 1 \(also categories\[0\]\)",
        ),
        (lambda d: d["categories"].append({"id": 2, "name": "acme"}), r"categories\[1\]\.name: duplicate category name"),
        (lambda d: d.update(annotations={}), r"x\.json\.annotations: expected list, got dict"),
        (lambda d: d["annotations"].append(None), r"annotations\[1\]: expected an object, got NoneType"),
    ],
)
def test_malformed_structure_is_named(mutate, message):
    data = _one()
    mutate(data)
    with pytest.raises(COCOFormatError, match=message):
        load_coco_dict(data, "x.json")


def test_no_segmentation_values_and_crowd_flags():
    for seg in (None, []):
        assert load_coco_dict(_one({"segmentation": seg})).images[0].annotations[0].segmentation is None
    for flag, expected in ((None, 0), (0, 0), (1, 1), (True, 1)):
        assert load_coco_dict(_one({"iscrowd": flag})).images[0].annotations[0].iscrowd == expected
    ann = load_coco_dict(_one({"segmentation": RLE_LIST})).images[0].annotations[0]
    assert ann.segmentation == RLE_LIST


def test_encoding_problems_name_the_line(tmp_path):
    text = json.dumps(_one(), indent=1)
    (tmp_path / "annotations.json").write_bytes(b"\xef\xbb\xbf" + text.encode())  # a BOM is fine
    assert len(load_coco(tmp_path)) == 1
    (tmp_path / "annotations.json").write_bytes(text.replace("a.jpg", "\xe4.jpg").encode("latin-1"))
    line = text[: text.index("a.jpg")].count("\n") + 1
    with pytest.raises(COCOFormatError, match=rf"annotations\.json: not UTF-8 text at line {line} "):
        load_coco(tmp_path)
    (tmp_path / "annotations.json").write_text(text[:40])
    with pytest.raises(COCOFormatError, match=r"annotations\.json: not valid JSON at line \d+, column \d+"):
        load_coco(tmp_path)
