"""Dataset statistics: golden numbers on a hand-made dataset, the empty case, plots, and the gap between datasets."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from logodet.datasets.formats.coco import load_coco
from logodet.datasets.stats import (
    COLOUR_CHANNELS,
    GEOMETRY_FEATURES,
    box_features,
    colour_features,
    compare_stats,
    compute_stats,
    ks_statistic,
    wasserstein,
    write_comparison,
    write_stats,
)
from logodet.types import Annotation, DetectionDataset, ImageRecord

FLICKR = Path(__file__).resolve().parents[3] / "shared" / "data" / "flickrlogos27-dev"
PNG = b"\x89PNG\r\n\x1a\n"


def tiny(image_dir: Path | None = None, shift: float = 0.0, classes: tuple[str, ...] = ("acme", "globex", "initech")) -> DetectionDataset:
    """Three images: 100x100 with 3 boxes (small 31x33, medium, large 96x96), 200x100 with 2 (medium, 32x32), 50x50 empty."""
    a = [Annotation((0 + shift, 0, 31 + shift, 33), 0), Annotation((10 + shift, 10, 60 + shift, 60), 0), Annotation((2, 2, 98, 98), 1)]
    b = [Annotation((50 + shift, 25, 150 + shift, 75), 1), Annotation((0 + shift, 0, 32 + shift, 32), 2)]
    recs = [ImageRecord("a.png", 100, 100, a), ImageRecord("b.png", 200, 100, b), ImageRecord("c.png", 50, 50)]
    return DetectionDataset(list(classes), recs, image_dir)


def write_images(folder: Path, brighten: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, (w, h) in {"a.png": (100, 100), "b.png": (200, 100), "c.png": (50, 50)}.items():
        img = cv2.add(rng.integers(0, 200, (h, w, 3), dtype=np.uint8), brighten)
        cv2.imwrite(str(folder / name), img)
    return folder


def test_golden_counts_and_buckets():
    s = compute_stats(tiny())
    assert (s["images"], s["annotations"], s["classes"], s["empty_images"], s["crowd"]) == (3, 5, 3, 1, 0)
    assert s["per_class"] == [
        {"name": "acme", "instances": 2, "images": 1},
        {"name": "globex", "instances": 2, "images": 2},
        {"name": "initech", "instances": 1, "images": 1},
    ]
    assert s["boxes_per_image"]["histogram"] == [1, 0, 1, 1] and s["boxes_per_image"]["mean"] == pytest.approx(5 / 3)
    # areas 1023 (< 32²) | 2500, 5000, 1024 (= 32², medium) | 9216 (= 96², large)
    assert s["box_sizes"] == {"small": 1, "medium": 3, "large": 1}
    rel = s["relative_size"]
    assert (rel["min"], rel["median"], rel["max"], rel["count"]) == (0.226274, 0.5, 0.96, 5)
    assert rel["mean"] == pytest.approx((np.sqrt(0.1023) + 0.5 + 0.96 + 0.5 + np.sqrt(1024 / 20000)) / 5, abs=1e-6)
    assert s["aspect_ratio"]["mean"] == pytest.approx((31 / 33 + 5) / 5) and s["aspect_ratio"]["max"] == 2.0
    assert s["centre_x"]["min"] == 0.08 and s["centre_y"]["max"] == 0.5
    grid = np.array(s["centre_grid"])
    assert grid.sum() == 5 and grid[5, 5] == 2 and grid[1, 1] == 1 and grid[3, 3] == 1 and grid[1, 0] == 1
    assert s["image_sizes"] == [{"width": w, "height": h, "images": 1} for w, h in ((50, 50), (100, 100), (200, 100))]
    assert s["image_width"]["median"] == 100
    json.dumps(s)


def test_empty_dataset_and_no_boxes():
    s = compute_stats(DetectionDataset(["acme"], [ImageRecord("a.png", 10, 10)]))
    assert s["annotations"] == 0 and s["empty_images"] == 1 and s["per_class"] == [{"name": "acme", "instances": 0, "images": 0}]
    assert s["box_sizes"] == {"small": 0, "medium": 0, "large": 0} and s["relative_size"]["mean"] is None
    assert s["boxes_per_image"]["histogram"] == [1]
    empty = compute_stats(DetectionDataset([], []))
    assert empty["images"] == 0 and empty["boxes_per_image"]["histogram"] == [] and empty["image_sizes"] == []


def test_zero_height_box_has_no_aspect_ratio():
    ds = DetectionDataset(["acme"], [ImageRecord("a.png", 10, 10, [Annotation((1, 1, 5, 1), 0), Annotation((0, 0, 4, 2), 0)])])
    f = box_features(ds)
    assert np.isnan(f["aspect_ratio"][0]) and f["aspect_ratio"][1] == 2.0
    assert compute_stats(ds)["aspect_ratio"]["count"] == 1


def test_distances_golden():
    assert wasserstein(np.array([0.0, 1.0]), np.array([0.0, 1.0])) == 0.0
    assert wasserstein(np.array([0.0, 0.0]), np.array([3.0, 3.0])) == 3.0
    assert ks_statistic(np.array([0.0, 1.0, 2.0, 3.0]), np.array([2.0, 3.0, 4.0, 5.0])) == 0.5


def test_compare_with_itself_is_zero_and_with_a_shifted_copy_is_not(tmp_path):
    a = tiny(write_images(tmp_path / "a"))
    same = compare_stats(a, tiny(write_images(tmp_path / "a2")), sample=10, seed=3)
    names = [*GEOMETRY_FEATURES, *(f"{p}_{s}_{c}" for p in ("image", "box") for s in ("mean", "std") for c in COLOUR_CHANNELS)]
    assert list(same["features"]) == names
    assert all(g["wasserstein"] == 0 and g["ks"] == 0 for g in same["features"].values())
    assert same["features"]["relative_size"]["n_a"] == 5 and same["features"]["image_mean_R"]["n_a"] == 3
    assert same["classes"] == {"common": ["acme", "globex", "initech"], "only_a": [], "only_b": []}
    assert same["sample"]["a"] == {"sampled": 3, "read": 3, "unreadable": 0, "boxes": 5}

    b = tiny(write_images(tmp_path / "b", brighten=40), shift=8.0, classes=("acme", "globex", "hooli"))
    gap = compare_stats(a, b, sample=10)
    f = gap["features"]
    assert f["centre_x"]["wasserstein"] == pytest.approx(
        np.mean([0.08, 0.08, 0.04, 0.04, 0.0]), abs=1e-6
    )  # 8 px in 100- and 200-wide images
    assert f["relative_size"]["wasserstein"] == 0 and f["aspect_ratio"]["ks"] == 0
    assert f["image_mean_R"]["wasserstein"] == pytest.approx(40 / 255, abs=0.01) and f["image_mean_R"]["ks"] == 1.0
    assert f["box_mean_V"]["wasserstein"] > 0.05
    assert gap["classes"] == {"common": ["acme", "globex"], "only_a": ["initech"], "only_b": ["hooli"]}


def test_colour_sample_is_seeded_and_counts_unreadable(tmp_path):
    folder = write_images(tmp_path / "a")
    (folder / "b.png").write_bytes(b"broken")
    feats, info = colour_features(tiny(folder), sample=3, seed=0)
    assert info == {"sampled": 3, "read": 2, "unreadable": 1, "boxes": 3}
    assert len(feats["image_std_H"]) == 2 and len(feats["box_mean_G"]) == 3
    a1, _ = colour_features(tiny(folder), sample=2, seed=5)
    a2, _ = colour_features(tiny(folder), sample=2, seed=5)
    assert all(np.array_equal(a1[k], a2[k]) for k in a1)


def test_write_stats_and_comparison(tmp_path):
    a = tiny(write_images(tmp_path / "a"))
    stats = write_stats(a, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "stats.json").read_text()) == stats == compute_stats(a)
    for name in ("class_counts", "box_sizes", "aspect_ratios", "centre_heatmap", "image_sizes"):
        assert (tmp_path / "out" / f"{name}.png").read_bytes()[:8] == PNG
    gap = write_comparison(a, tiny(write_images(tmp_path / "b", brighten=30), shift=5), tmp_path / "out", names=("synth", "real"), sample=3)
    assert json.loads((tmp_path / "out" / "compare.json").read_text()) == gap and gap["names"] == ["synth", "real"]
    plots = sorted(p.name for p in (tmp_path / "out").glob("compare_*.png"))
    assert plots == sorted(f"compare_{n}.png" for n in gap["features"]) and len(plots) == 29


@pytest.mark.skipif(not FLICKR.is_dir(), reason="shared FlickrLogos-27 dev set not present")
def test_flickrlogos_dev_stats():
    s = compute_stats(load_coco(FLICKR))
    assert sum(c["instances"] for c in s["per_class"]) == 357 == s["annotations"]
    assert sum(s["box_sizes"].values()) == 357 and s["images"] == 324 and len(s["per_class"]) == 21
    assert sum(i * n for i, n in enumerate(s["boxes_per_image"]["histogram"])) == 357
