import json
from pathlib import Path

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
