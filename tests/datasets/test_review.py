"""Human review round trip: selection strategies, export, edits in the LabelMe files, import and apply."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logodet.datasets.formats.coco import load_coco
from logodet.datasets.formats.labelme import LabelMeFormatError
from logodet.datasets.review import (
    MANIFEST_FILE,
    apply_review,
    export_for_review,
    image_ids,
    import_reviewed,
    save_reviewed_dataset,
    select_for_review,
)
from logodet.types import Annotation, DetectionDataset, ImageRecord

NAMES = ["acme", "bé ta"]


def _dataset(tmp_path: Path) -> DetectionDataset:
    images = tmp_path / "data" / "images"
    (images / "sub").mkdir(parents=True, exist_ok=True)
    names = ["a.jpg", "sub/b é.png", "c.png", "d.png"]
    for k, name in enumerate(names):
        Image.fromarray(np.full((40, 60, 3), 50 * k, np.uint8)).save(images / name)
    recs = [
        ImageRecord("a.jpg", 60, 40, [Annotation((1, 1, 10, 10), 0)], id=10),
        ImageRecord("sub/b é.png", 60, 40, [Annotation((5, 5, 20, 20), 1)]),  # gets id 11
        ImageRecord("c.png", 60, 40, [], id=3),
        ImageRecord("d.png", 60, 40, [Annotation((0, 0, 60, 40), 1, extra={"note": "keep"})]),  # gets id 12
    ]
    return DetectionDataset(list(NAMES), recs, images)


PREDS = [
    {"image_id": 10, "category_id": 1, "bbox": [2, 2, 8, 8], "score": 0.97},
    {"image_id": 11, "category_id": 2, "bbox": [4, 4, 16, 16], "score": 0.9},
    {"image_id": 11, "category_id": 1, "bbox": [30, 10, 10, 10], "score": 0.4},  # a false positive
    {"image_id": 11, "category_id": 1, "bbox": [50, 30, 20, 20], "score": 0.1},  # below conf, clipped if shown
    {"image_id": 3, "category_id": 2, "bbox": [-5, 1, 20, 10], "score": 0.55},
]


def test_image_ids_follow_dataset_to_coco(tmp_path: Path) -> None:
    assert image_ids(_dataset(tmp_path)) == [10, 11, 3, 12]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, [3, 11, 10, 12]),  # 0.55 is nearest 0.5, then 0.4, then 0.97; no predictions counts as 0.5 away
        ({"count": 2}, [3, 11]),
        ({"strategy": "all"}, [10, 11, 3, 12]),
        ({"select": [12, 10, 12], "strategy": "random"}, [12, 10]),
        ({"select": [12, 10], "count": 1}, [12]),
        ({"count": 0}, []),
    ],
)
def test_selection(tmp_path: Path, kwargs: dict, expected: list[int]) -> None:
    assert select_for_review(_dataset(tmp_path), PREDS, **kwargs) == expected


def test_random_selection_is_seeded(tmp_path: Path) -> None:
    ds = DetectionDataset(["a"], [ImageRecord(f"{i}.jpg", 4, 4, id=i + 1) for i in range(30)])
    first = select_for_review(ds, [], strategy="random", seed=3)
    assert first == select_for_review(ds, [], strategy="random", seed=3)
    assert sorted(first) == list(range(1, 31)) and first != list(range(1, 31))
    assert first != select_for_review(ds, [], strategy="random", seed=4)
    assert select_for_review(ds, [], strategy="random", seed=3, count=5) == first[:5]


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [({"strategy": "hardest"}, "strategy: expected one of"), ({"count": -1}, "count: must be >= 0"), ({"select": [99]}, r"ids \[99\]")],
)
def test_selection_errors(tmp_path: Path, kwargs: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        select_for_review(_dataset(tmp_path), PREDS, **kwargs)


def test_export_writes_predictions_and_manifest(tmp_path: Path) -> None:
    ds = _dataset(tmp_path)
    out = export_for_review(ds, PREDS, tmp_path / "review", strategy="all", count=3, conf=0.3)
    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["class_names"] == NAMES
    assert [(f["review_file"], f["image_id"], f["file_name"], f["shown_predictions"], f["max_score"]) for f in manifest["files"]] == [
        ("a.json", 10, "a.jpg", 1, 0.97),
        ("sub/b é.json", 11, "sub/b é.png", 2, 0.9),
        ("c.json", 3, "c.png", 1, 0.55),
    ]
    b = json.loads((out / "sub" / "b é.json").read_text(encoding="utf-8"))
    assert [(s["label"], s["shape_type"], s["points"], s["description"]) for s in b["shapes"]] == [
        ("bé ta", "rectangle", [[4.0, 4.0], [20.0, 20.0]], "score 0.900"),
        ("acme", "rectangle", [[30.0, 10.0], [40.0, 20.0]], "score 0.400"),
    ]
    c = json.loads((out / "c.json").read_text(encoding="utf-8"))
    assert c["shapes"][0]["points"] == [[0.0, 1.0], [15.0, 11.0]]  # clipped to the image
    assert (out / "sub" / "b é.png").read_bytes() == (ds.image_dir / "sub" / "b é.png").read_bytes()
    assert not (out / "d.json").exists()
    assert (out / "labels.txt").read_text(encoding="utf-8") == "acme\nbé ta\n"
    with pytest.raises(FileExistsError, match="not empty"):
        export_for_review(ds, PREDS, out)


def test_export_validates_predictions(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"predictions: \[1\]\.category_id: unknown category id 3"):
        export_for_review(_dataset(tmp_path), [PREDS[0], {**PREDS[1], "category_id": 3}], tmp_path / "r")
    with pytest.raises(ValueError, match="conf"):
        export_for_review(_dataset(tmp_path), PREDS, tmp_path / "r", conf=1.5)
    assert not (tmp_path / "r").exists()


def _edit(path: Path, change) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc["shapes"])
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_round_trip_applies_exactly_the_edits(tmp_path: Path) -> None:
    ds = _dataset(tmp_path)
    original = copy.deepcopy(ds)
    review = export_for_review(ds, PREDS, tmp_path / "review", select=[11, 3], conf=0.3)

    def fix_b(shapes: list) -> None:
        shapes[0]["points"] = [[5.0, 5.0], [21.0, 19.5]]  # move the box
        del shapes[1]  # delete the false positive
        shapes.append({"label": "acme", "points": [[40, 20], [55, 20], [50, 35]], "shape_type": "polygon", "group_id": None})

    _edit(review / "sub" / "b é.json", fix_b)
    reviewed = import_reviewed(review)
    assert reviewed.class_names == NAMES
    assert [(r.id, r.file_name) for r in reviewed.images] == [(11, "sub/b é.png"), (3, "c.png")]
    result = apply_review(ds, reviewed)
    assert ds == original  # the input is not changed
    expected_b = [Annotation((5, 5, 21, 19.5), 1), Annotation((40, 20, 55, 35), 0, segmentation=[[40, 20, 55, 20, 50, 35]])]
    expected_c = [Annotation((0, 1, 15, 11), 1)]  # accepted as proposed; the score note is dropped
    assert result.images == [
        ImageRecord("a.jpg", 60, 40, original.images[0].annotations, id=10),
        ImageRecord("sub/b é.png", 60, 40, expected_b, id=11),
        ImageRecord("c.png", 60, 40, expected_c, id=3),
        ImageRecord("d.png", 60, 40, original.images[3].annotations, id=12),
    ]
    assert result.class_names == NAMES and result.image_dir == ds.image_dir

    saved = save_reviewed_dataset(result, tmp_path / "new")
    assert (tmp_path / "new" / "images" / "sub" / "b é.png").is_symlink()
    back = load_coco(saved.parent)
    assert [(r.id, [a.bbox for a in r.annotations]) for r in back.images] == [
        (r.id, [a.bbox for a in r.annotations]) for r in result.images
    ]
    with pytest.raises(FileExistsError, match="not empty"):
        save_reviewed_dataset(result, tmp_path / "new")


def test_unknown_label_names_file_and_shape(tmp_path: Path) -> None:
    review = export_for_review(_dataset(tmp_path), PREDS, tmp_path / "review", select=[11], conf=0.3)
    _edit(review / "sub" / "b é.json", lambda shapes: shapes[1].update(label="acmee"))
    with pytest.raises(LabelMeFormatError, match=r"b é\.json: shapes\[1\]\.label: 'acmee' is not a class name of the dataset"):
        import_reviewed(review)


def test_import_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no review manifest"):
        import_reviewed(tmp_path)
    review = export_for_review(_dataset(tmp_path), PREDS, tmp_path / "review", select=[10, 3])
    (review / "c.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"c\.json: LabelMe file not found"):
        import_reviewed(review)
    manifest = json.loads((review / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["files"][0]["image_id"] = "10"
    (review / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"files\[0\]\.image_id: expected int, got str"):
        import_reviewed(review)


def test_apply_review_checks_the_dataset(tmp_path: Path) -> None:
    ds = _dataset(tmp_path)
    stranger = DetectionDataset(NAMES, [ImageRecord("zz.png", 60, 40, [], id=99)])
    with pytest.raises(ValueError, match=r"image id 99 \(zz\.png\) is not in the dataset"):
        apply_review(ds, stranger)
    moved = DetectionDataset(NAMES, [ImageRecord("c.png", 61, 40, [], id=10)])
    with pytest.raises(ValueError, match=r"image id 10 is c\.png \(61x40\) in the review but a\.jpg \(60x40\)"):
        apply_review(ds, moved)
    twice = DetectionDataset(NAMES, [ImageRecord("c.png", 60, 40, [], id=3)] * 2)
    with pytest.raises(ValueError, match=r"image id 3 \(c\.png\) is reviewed twice"):
        apply_review(ds, twice)
    with pytest.raises(ValueError, match=r"class names \['other'\]"):
        apply_review(ds, DetectionDataset(["other"], []))
    # classes are matched by name, not index
    swapped = DetectionDataset(["bé ta", "acme"], [ImageRecord("c.png", 60, 40, [Annotation((1, 1, 2, 2), 0)], id=3)])
    assert apply_review(ds, swapped).images[2].annotations == [Annotation((1, 1, 2, 2), 1)]
