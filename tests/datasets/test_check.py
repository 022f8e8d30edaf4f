"""Dataset validation: one crafted fixture per problem code, the clean case, splits, the fix, the real dev set."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logodet.datasets.check import PROBLEM_CODES, Problem, check_dataset, open_dataset, split_folders
from logodet.datasets.fix import fix_dataset
from logodet.datasets.formats.coco import load_coco
from logodet.datasets.formats.yolo import load_yolo
from logodet.datasets.phash import connected_groups, near_duplicate_edges, near_duplicate_groups
from logodet.types import Annotation, DetectionDataset, ImageRecord

FLICKR = Path(__file__).resolve().parents[3] / "shared" / "data" / "flickrlogos27-dev"
W, H = 64, 48


def _noise(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)  # coarse blocks: a distinctive, stable perceptual hash
    return np.asarray(Image.fromarray(small).resize((W, H), Image.NEAREST))


def make_coco(root: Path, n: int = 4, seed: int = 0) -> dict:
    """A clean COCO folder of ``n`` distinct PNG images, two boxes each, two categories; its dictionary."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for i in range(n):
        name = f"img{i}.png"
        Image.fromarray(_noise(seed * 1000 + i)).save(root / "images" / name)
        images.append({"id": i + 1, "file_name": name, "width": W, "height": H})
        for j, box in enumerate(([2, 3, 20, 10], [30, 20, 30, 25])):
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": j + 1, "bbox": box, "area": box[2] * box[3], "iscrowd": 0})
    data = {
        "info": {"description": "test"},
        "images": images,
        "annotations": anns,
        "categories": [{"id": 1, "name": "acme"}, {"id": 2, "name": "globex"}],
    }
    write(root, data)
    return data


def write(root: Path, data: dict) -> None:
    (root / "annotations.json").write_text(json.dumps(data))


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_clean_dataset_has_no_problems(tmp_path):
    make_coco(tmp_path / "d")
    report = check_dataset(tmp_path / "d")
    assert report.problems == [] and report.ok
    assert [(d.images, d.annotations, d.categories) for d in report.datasets] == [(4, 8, 2)]


def _bytes_copy(root: Path, d: dict) -> None:
    (root / "images" / "copy.png").write_bytes((root / "images" / "img1.png").read_bytes())
    d["images"].append({"id": 9, "file_name": "copy.png", "width": W, "height": H})


def _near_copy(root: Path, d: dict) -> None:
    Image.fromarray(_noise(2)).save(root / "images" / "near.jpg", quality=92)
    d["images"].append({"id": 9, "file_name": "near.jpg", "width": W, "height": H})


JSON, IMG1 = "annotations.json", "images/img1.png"
CASES: list[tuple[str, Callable[[Path, dict], None], str, str, str]] = [
    # (code, mutate(root, data), file relative to root, where, text in the message)
    ("malformed_field", lambda r, d: d["images"][2].update(width="64"), JSON, "images[2].width", "'64'"),
    ("malformed_field", lambda r, d: d["annotations"][5].update(bbox="1,2,3,4"), JSON, "annotations[5].bbox", "[x, y, w, h]"),
    ("malformed_field", lambda r, d: d.pop("categories"), JSON, "categories", "missing field 'categories'"),
    ("missing_image", lambda r, d: (r / IMG1).unlink(), JSON, "images[1].file_name", "img1.png: file not found"),
    ("corrupt_image", lambda r, d: (r / IMG1).write_bytes(b"\x89PNG\r\n\x1a\nnot really"), IMG1, "images[1]", "cannot read image"),
    ("size_mismatch", lambda r, d: d["images"][1].update(height=50), JSON, "images[1].height", "height is 50 but the file img1.png has 48"),
    ("empty_box", lambda r, d: d["annotations"][3].update(bbox=[5, 5, 0, 4]), JSON, "annotations[3].bbox", "zero or negative area"),
    ("empty_box", lambda r, d: d["annotations"][3].update(bbox=[5, 5, 4, -2]), JSON, "annotations[3].bbox", "zero or negative area"),
    ("box_outside", lambda r, d: d["annotations"][2].update(bbox=[70, 5, 10, 10]), JSON, "annotations[2].bbox", "outside the 64x48 image"),
    ("box_partly_outside", lambda r, d: d["annotations"][2].update(bbox=[50, 40, 20, 5]), JSON, "annotations[2].bbox", "extends past"),
    (
        "unknown_category",
        lambda r, d: d["annotations"][4].update(category_id=7),
        JSON,
        "annotations[4].category_id",
        "unknown category id 7",
    ),
    ("unknown_image", lambda r, d: d["annotations"][6].update(image_id=77), JSON, "annotations[6].image_id", "unknown image id 77"),
    ("duplicate_image_id", lambda r, d: d["images"].append({**d["images"][3], "id": 1}), JSON, "images[4].id", "already used by images[0]"),
    ("duplicate_annotation_id", lambda r, d: d["annotations"][7].update(id=2), JSON, "annotations[7].id", "already used by annotations[1]"),
    ("duplicate_category_id", lambda r, d: d["categories"].append({"id": 2, "name": "initech"}), JSON, "categories[2].id", "id 2"),
    ("duplicate_category_name", lambda r, d: d["categories"].append({"id": 3, "name": "acme"}), JSON, "categories[2].name", "by id 1"),
    ("duplicate_image", _bytes_copy, "images/copy.png", "images[4]", "the same bytes as img1.png (images[1])"),
    (
        "duplicate_image",
        lambda r, d: d["images"].append({**d["images"][0], "id": 9}),
        "images/img0.png",
        "images[4].file_name",
        "images[0]",
    ),
    ("near_duplicate_image", _near_copy, "images/near.jpg", "images[4]", "near duplicate (phash distance"),
]


@pytest.mark.parametrize(("code", "mutate", "file", "where", "text"), CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_each_problem_is_reported_with_file_and_field(tmp_path, code, mutate, file, where, text):
    root = tmp_path / "d"
    data = make_coco(root)
    mutate(root, data)
    write(root, data)
    report = check_dataset(root)
    assert [(p.code, p.file, p.where) for p in report.problems] == [(code, str(root / file), where)], report.problems
    assert text in report.problems[0].message
    assert report.problems[0].severity == PROBLEM_CODES[code][0]
    assert report.ok == (PROBLEM_CODES[code][0] == "warning")


def test_invalid_json_names_the_line(tmp_path):
    make_coco(tmp_path / "d")
    (tmp_path / "d" / "annotations.json").write_text('{\n "images": [\n  {"id": 1,,}\n ]\n}')
    report = check_dataset(tmp_path / "d")
    assert [(p.code, p.where) for p in report.problems] == [("invalid_json", "line 3")]
    with pytest.raises(ValueError, match="cannot be fixed automatically: line 3"):
        fix_dataset(report, tmp_path / "out")


def test_every_problem_at_once(tmp_path):
    root = tmp_path / "d"
    data = make_coco(root, n=6)
    for code, mutate, *_ in CASES:
        if code in ("empty_box", "box_partly_outside", "unknown_category", "unknown_image", "duplicate_annotation_id", "size_mismatch"):
            mutate(root, data)
    write(root, data)
    codes = sorted(p.code for p in check_dataset(root).problems)
    assert codes == sorted(
        ["size_mismatch", "empty_box", "box_partly_outside", "unknown_category", "unknown_image", "duplicate_annotation_id"]
    )


def test_truncated_jpeg_is_found_by_decoding_not_by_the_header(tmp_path):
    root = tmp_path / "d"
    data = make_coco(root, n=2)
    Image.fromarray(_noise(5)).save(root / "images" / "cut.jpg", quality=95)
    blob = (root / "images" / "cut.jpg").read_bytes()
    (root / "images" / "cut.jpg").write_bytes(blob[: len(blob) // 2])
    data["images"].append({"id": 3, "file_name": "cut.jpg", "width": W, "height": H})
    write(root, data)
    assert check_dataset(root, dup_distance=None).problems == []
    for options in ({"dup_distance": None, "decode": True}, {"dup_distance": 4}):
        report = check_dataset(root, **options)
        assert [(p.code, p.where) for p in report.problems] == [("corrupt_image", "images[2]")]
        assert "truncated" in report.problems[0].message


def _splits(tmp_path: Path) -> Path:
    base = tmp_path / "splits"
    make_coco(base / "train", n=4, seed=0)
    make_coco(base / "val", n=3, seed=1)
    test = make_coco(base / "test", n=3, seed=2)
    (base / "test" / "images" / "leak.png").write_bytes((base / "train" / "images" / "img2.png").read_bytes())
    Image.fromarray(_noise(1)).save(base / "test" / "images" / "near.jpg", quality=92)
    test["images"] += [
        {"id": 8, "file_name": "leak.png", "width": W, "height": H},
        {"id": 9, "file_name": "near.jpg", "width": W, "height": H},
    ]
    write(base / "test", test)
    return base


def test_leakage_across_split_folders(tmp_path):
    base = _splits(tmp_path)
    assert [p.name for p in split_folders(base)] == ["train", "val", "test"]
    report = check_dataset(base)
    assert [d.name for d in report.datasets] == ["train", "val", "test"]
    leaks = [(p.code, p.file, p.where) for p in report.problems]
    assert leaks == [
        ("split_leak", str(base / "test" / "images" / "leak.png"), "images[3]"),
        ("split_leak", str(base / "test" / "images" / "near.jpg"), "images[4]"),
    ]
    assert "the same bytes as" in report.problems[0].message and str(base / "train" / "images" / "img2.png") in report.problems[0].message
    assert "near duplicate" in report.problems[1].message and "img1.png (train, images[1])" in report.problems[1].message
    assert not report.ok


def test_leakage_with_split_of(tmp_path):
    base = _splits(tmp_path)
    report = check_dataset(base / "train", split_of=[base / "test", base / "val"])
    assert [d.primary for d in report.datasets] == [True, False, False]
    assert [p.code for p in report.problems] == ["split_leak", "split_leak"]
    assert check_dataset(base / "train", split_of=[base / "val"]).problems == []
    # same bytes only: the near-duplicate leak is not looked for
    assert [p.where for p in check_dataset(base / "train", split_of=[base / "test"], dup_distance=None).problems] == ["images[3]"]


def test_fix_writes_a_copy_that_passes_and_leaves_the_input(tmp_path):
    root = tmp_path / "d"
    data = make_coco(root, n=6)
    (root / "images" / "img5.png").write_bytes(b"garbage")  # corrupt: dropped with its 2 boxes
    data["images"][4]["file_name"] = "gone.png"  # missing: dropped with its 2 boxes
    data["images"][1]["width"] = 100  # size set from the file
    _bytes_copy(root, data)  # same bytes as img1: dropped (no boxes)
    data["annotations"][0]["bbox"] = [50, 40, 20, 20]  # clipped to [50, 40, 14, 8]
    data["annotations"][1]["bbox"] = [70, 5, 10, 10]  # outside: dropped
    data["annotations"][2]["bbox"] = [5, 5, 0, 4]  # empty: dropped
    data["annotations"][3]["category_id"] = 9  # unknown: dropped
    data["annotations"][5]["id"] = 1  # renumbered
    data["categories"].append({"id": 3, "name": "acme"})
    data["annotations"][6]["category_id"] = 3  # moved to category 1
    write(root, data)
    before = tree_digest(root)
    report = check_dataset(root)
    assert not report.ok
    fixed = fix_dataset(report, tmp_path / "out")
    assert tree_digest(root) == before
    assert fixed.outputs == [tmp_path / "out" / "annotations.json"]
    assert fixed.changes == {
        "category entries dropped (malformed or duplicate)": 1,
        "images dropped (corrupt file)": 1,
        "images dropped (missing file)": 1,
        "images dropped (same bytes as an earlier image)": 1,
        "image sizes set from the files": 1,
        "annotations dropped (malformed, unknown image or category)": 1,
        "annotations dropped with their image": 4,
        "annotations dropped (no area inside the image)": 2,
        "boxes clipped to the image": 1,
        "annotations moved to the first category of that name": 1,
        "annotation ids renumbered": 1,
    }
    again = check_dataset(tmp_path / "out")
    assert again.problems == []
    out = json.loads((tmp_path / "out" / "annotations.json").read_text())
    assert out["info"] == data["info"] and [c["id"] for c in out["categories"]] == [1, 2]
    assert [i["file_name"] for i in out["images"]] == ["img0.png", "img1.png", "img2.png", "img3.png"]
    assert out["images"][1]["width"] == W
    assert out["annotations"][0]["bbox"] == [50.0, 40.0, 14.0, 8.0] and out["annotations"][0]["area"] == 112.0
    assert len({a["id"] for a in out["annotations"]}) == len(out["annotations"]) == 12 - 4 - 2 - 1
    link = tmp_path / "out" / "images" / "img0.png"
    assert link.is_symlink() and link.resolve() == (root / "images" / "img0.png").resolve()
    assert len(load_coco(tmp_path / "out")) == 4


def test_fix_refuses_to_write_into_the_input(tmp_path):
    make_coco(tmp_path / "d")
    report = check_dataset(tmp_path / "d")
    for dst in (tmp_path / "d", tmp_path / "d" / "fixed"):
        with pytest.raises(ValueError, match="must not be written into the input"):
            fix_dataset(report, dst)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        fix_dataset(report, tmp_path / "full")


def test_fix_of_split_folders_writes_each_split(tmp_path):
    base = _splits(tmp_path)
    fixed = fix_dataset(base, tmp_path / "out")
    assert fixed.outputs == [tmp_path / "out" / n / "annotations.json" for n in ("train", "val", "test")]
    assert fixed.changes == {} and fixed.unfixed == {"split_leak": 2}


def test_loaded_dataset_problems_point_at_records(tmp_path):
    images = tmp_path / "imgs"
    images.mkdir()
    Image.fromarray(_noise(0)).save(images / "a.png")
    Image.fromarray(_noise(1)).save(images / "b.png")
    recs = [
        ImageRecord("a.png", W, H, [Annotation((1, 1, 10, 10), 0)]),
        ImageRecord("b.png", W, H, [Annotation((1, 1, 10, 10), 0), Annotation((60, 1, 70, 10), 1)]),
        ImageRecord("c.png", W, H),
    ]
    report = check_dataset(DetectionDataset(["acme", "globex"], recs, images))
    got = [(p.code, p.file, p.where) for p in report.problems]
    assert got == [
        ("missing_image", str(images / "c.png"), "images[2].file_name"),
        ("box_partly_outside", str(images / "b.png"), "images[1].annotations[1].bbox"),
    ]


def test_near_edges_group_like_pairwise():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2**63, 300, dtype=np.int64).astype(np.uint64)
    flips = np.uint64(1) << rng.integers(0, 64, (300, 3)).astype(np.uint64)
    near = base ^ flips[:, 0] ^ (flips[:, 1] * (rng.random(300) < 0.5))
    hashes = [int(v) for v in np.concatenate([base, near, base[:20]])]
    for d in (0, 2, 4):
        fast = near_duplicate_edges(hashes, d, pairwise_limit=0)
        roots = connected_groups(len(hashes), fast)
        labels: dict[int, int] = {}
        assert [labels.setdefault(r, len(labels)) for r in roots] == near_duplicate_groups(hashes, d)


def test_report_json_round_trip(tmp_path):
    root = tmp_path / "d"
    data = make_coco(root)
    data["annotations"][0]["category_id"] = 5
    write(root, data)
    d = check_dataset(root).to_dict()
    assert d["ok"] is False and d["errors"] == 1 and d["counts"] == {"unknown_category": 1}
    assert Problem(**d["problems"][0]).where == "annotations[0].category_id"
    json.dumps(d)


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such dataset"):
        check_dataset(tmp_path / "nope")


@pytest.mark.skipif(not FLICKR.is_dir(), reason="shared FlickrLogos-27 dev set not present")
def test_flickrlogos_dev_checks():
    report = check_dataset(FLICKR)
    assert [(d.images, d.annotations, d.categories) for d in report.datasets] == [(324, 357, 21)]
    assert {p.code for p in report.problems} <= set(PROBLEM_CODES)
    assert all(os.path.exists(p.file) for p in report.problems)


@pytest.fixture
def yolo_loader(monkeypatch):
    """``logodet.datasets.convert.load_dataset`` stand-in (the registry is another module's): YOLO folders only."""
    fake = types.ModuleType("logodet.datasets.convert")
    calls = []

    def load_dataset(path, fmt=None):
        calls.append(fmt)
        return load_yolo(path)

    fake.load_dataset = load_dataset
    monkeypatch.setitem(sys.modules, "logodet.datasets.convert", fake)
    return calls


def _yolo(root: Path, lines: list[str]) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "data.yaml").write_text("names: [acme, globex]\n")
    for i, text in enumerate(lines):
        Image.fromarray(_noise(i)).save(root / "images" / f"im{i}.png")
        (root / "labels" / f"im{i}.txt").write_text(text)
    return root


def test_other_formats_are_checked_and_fixed_through_the_loader(tmp_path, yolo_loader):
    root = _yolo(tmp_path / "y", ["0 0.5 0.5 0.25 0.25\n", "1 0.25 0.5 0.25 0.5\n1 0.95 0.5 0.2 0.5\n"])
    report = check_dataset(root, fmt="yolo")
    assert yolo_loader == ["yolo"]
    assert [(p.code, p.file, p.where) for p in report.problems] == [
        ("box_partly_outside", str(root / "images" / "im1.png"), "images[1].annotations[1].bbox")
    ]
    assert report.datasets[0].format == "yolo"
    fixed = fix_dataset(report, tmp_path / "out")
    assert fixed.changes == {"boxes clipped to the image": 1}
    out = load_coco(tmp_path / "out")
    assert out.images[1].annotations[1].bbox == pytest.approx((54.4, 12.0, 64.0, 36.0))
    assert check_dataset(tmp_path / "out").problems == []


def test_format_errors_are_problems_with_file_and_line(tmp_path, yolo_loader):
    root = _yolo(tmp_path / "y", ["0 0.5 0.5 0.25 0.25\n", "0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.1 0.1\n"])
    report = check_dataset(root)
    assert [(p.code, p.file, p.where) for p in report.problems] == [("format_error", str(root / "labels" / "im1.txt"), "line 2")]
    assert "class 7 is outside the 2 names" in report.problems[0].message


def test_without_a_format_registry_other_formats_are_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "logodet.datasets.convert", None)
    root = _yolo(tmp_path / "y", ["0 0.5 0.5 0.25 0.25\n"])
    with pytest.raises(ValueError, match="not a COCO dataset"):
        open_dataset(root)
    assert [p.code for p in check_dataset(root).problems] == ["format_error"]


def test_swapped_size_hints_at_exif_rotation(tmp_path):
    root = tmp_path / "d"
    data = make_coco(root, n=2)
    data["images"][0].update(width=H, height=W)
    data["annotations"] = []
    write(root, data)
    problems = check_dataset(root).problems
    assert [(p.code, p.where) for p in problems] == [("size_mismatch", "images[0].width"), ("size_mismatch", "images[0].height")]
    assert all("EXIF rotation" in p.message for p in problems)
