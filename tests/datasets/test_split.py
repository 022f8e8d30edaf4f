"""Splits: ratios, partitions, multi-label stratification, groups, k-fold, few-shot, and writing split folders."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logodet.datasets.formats.coco import load_coco, save_coco
from logodet.datasets.split import (
    class_counts,
    few_shot,
    few_shot_split,
    kfold,
    near_duplicate_groups_of,
    scarce_classes,
    split_dataset,
    subset,
    write_splits,
)
from logodet.types import Annotation, DetectionDataset, ImageRecord

FLICKR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "flickrlogos27-dev"
BOX = (1.0, 1.0, 5.0, 5.0)


def labelled(labels: list[list[int]], classes: list[str] | None = None) -> DetectionDataset:
    """A dataset without image files: image ``i`` holds one box per class in ``labels[i]``."""
    k = max((c for ls in labels for c in ls), default=-1) + 1
    names = classes or [f"c{j}" for j in range(k)]
    recs = [ImageRecord(f"im{i:03d}.jpg", 16, 16, [Annotation(BOX, c) for c in ls], id=i + 1) for i, ls in enumerate(labels)]
    return DetectionDataset(names, recs)


def multilabel(n: int = 80, seed: int = 0) -> DetectionDataset:
    """Multi-label fixture: four common classes with overlaps, a rare class (3 images, always with another), empties."""
    rng = np.random.default_rng(seed)
    labels = []
    for i in range(n):
        if i % 8 == 7:
            labels.append([])
            continue
        ls = sorted({int(c) for c in rng.choice(4, size=int(rng.integers(1, 4)), p=[0.55, 0.25, 0.15, 0.05])})
        labels.append(ls)
    for i in (i for i in (3, 20, 41) if i < n):  # class 4 is rare and only appears next to class 0
        labels[i] = sorted({0, 4, *labels[i]})
    return labelled(labels)


def assert_partition(parts: dict[str, list[int]], n: int) -> None:
    flat = [i for idx in parts.values() for i in idx]
    assert sorted(flat) == list(range(n)), "every image in exactly one split"
    assert all(idx == sorted(idx) for idx in parts.values())


@pytest.mark.parametrize(
    "ratios,n",
    [
        ({"train": 0.8, "val": 0.1, "test": 0.1}, 80),
        ({"train": 0.7, "val": 0.15, "test": 0.15}, 33),
        ({"train": 0.5, "val": 0.5}, 7),
        ({"a": 0.34, "b": 0.33, "c": 0.33}, 10),
        ({"train": 1.0, "test": 0.0}, 5),
    ],
)
def test_sizes_follow_ratios_and_partition(ratios, n):
    ds = subset(multilabel(80), range(n))
    parts = split_dataset(ds, ratios, seed=3)
    assert list(parts) == list(ratios)
    assert_partition(parts, n)
    for name, r in ratios.items():
        assert abs(len(parts[name]) - r * n) < 1.0 + 1e-9


def test_stratification_keeps_every_class_in_every_split():
    ds = multilabel()
    counts = class_counts(ds)
    assert counts[4] == 3 and min(counts) >= 3
    for seed in range(5):
        parts = split_dataset(ds, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=seed)
        assert_partition(parts, len(ds))
        for name, idx in parts.items():
            assert min(class_counts(ds, idx)) >= 1, (seed, name, class_counts(ds, idx))
        # images without boxes are spread too: each split gets about its share of the 10 empties
        empties = {name: sum(1 for i in idx if not ds.images[i].annotations) for name, idx in parts.items()}
        assert sum(empties.values()) == 10 and empties["train"] >= 6


def test_stratified_shares_track_ratios_for_common_classes():
    ds = multilabel(400, seed=1)
    parts = split_dataset(ds, {"train": 0.5, "val": 0.5}, seed=0)
    a, b = np.array(class_counts(ds, parts["train"])), np.array(class_counts(ds, parts["val"]))
    total = a + b
    assert np.all(np.abs(a - total / 2) <= np.maximum(2, 0.08 * total)), (a.tolist(), b.tolist())


def test_seed_decides_the_split():
    ds = multilabel()
    assert split_dataset(ds, seed=7) == split_dataset(ds, seed=7)
    assert split_dataset(ds, seed=7) != split_dataset(ds, seed=8)
    assert split_dataset(ds, seed=7, stratify=False) != split_dataset(ds, seed=8, stratify=False)


def test_unstratified_split_is_a_partition_of_exact_size():
    ds = multilabel(50)
    parts = split_dataset(ds, {"train": 0.6, "val": 0.4}, seed=0, stratify=False)
    assert_partition(parts, 50)
    assert (len(parts["train"]), len(parts["val"])) == (30, 20)


def test_groups_never_straddle_splits_or_folds():
    ds = multilabel(90)
    rng = np.random.default_rng(5)
    groups = [int(g) for g in np.repeat(np.arange(40), rng.integers(1, 5, 40))[:90]]
    parts = split_dataset(ds, seed=2, groups=groups)
    assert_partition(parts, 90)
    where = {}
    for name, idx in parts.items():
        for i in idx:
            assert where.setdefault(groups[i], name) == name, f"group {groups[i]} straddles splits"
    assert abs(len(parts["train"]) - 72) <= 4  # sizes stay close even with groups
    for _, val in kfold(ds, k=4, seed=1, groups=groups):
        val_groups = {groups[i] for i in val}
        assert all((groups[i] in val_groups) == (i in set(val)) for i in range(90))


@given(
    labels=st.lists(st.lists(st.integers(0, 4), max_size=3), min_size=0, max_size=40),
    train=st.integers(1, 9),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=60, deadline=None)
def test_any_dataset_partitions_with_exact_sizes(labels, train, seed):
    ds = labelled(labels, [f"c{j}" for j in range(5)])
    r = {"train": train / 10, "val": (10 - train) / 20, "test": (10 - train) / 20}
    parts = split_dataset(ds, r, seed=seed)
    assert_partition(parts, len(ds))
    assert all(abs(len(parts[k]) - v * len(ds)) < 1 + 1e-9 for k, v in r.items())


def test_kfold_covers_every_image_once_and_stratifies():
    ds = multilabel()
    folds = kfold(ds, k=3, seed=0)
    assert len(folds) == 3
    vals = [i for _, val in folds for i in val]
    assert sorted(vals) == list(range(len(ds)))
    for train, val in folds:
        assert sorted(train + val) == list(range(len(ds))) and not set(train) & set(val)
        assert min(class_counts(ds, val)) >= 1  # every class has >= 3 images
        assert abs(len(val) - len(ds) / 3) < 1
    assert kfold(ds, k=3, seed=0) == folds and kfold(ds, k=3, seed=1) != folds


@pytest.mark.parametrize("k,n,msg", [(1, 10, "k must be >= 2"), (5, 4, "4 images cannot fill 5 folds")])
def test_kfold_rejects_impossible_k(k, n, msg):
    with pytest.raises(ValueError, match=msg):
        kfold(labelled([[0]] * n), k=k)


def test_few_shot_prefers_images_that_serve_several_classes():
    # one image holds a+b+c; single-class images otherwise; 1 shot needs just that image
    ds = labelled([[0], [1], [2], [0, 1, 2], [0], [1], []])
    assert few_shot(ds, shots=1) == [3]
    picked = few_shot(ds, shots=2)
    assert min(class_counts(ds, picked)) >= 2 and len(picked) == 4 and 3 in picked


def test_few_shot_gives_k_per_class_with_few_images():
    ds = multilabel(200, seed=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        picked = few_shot(ds, shots=3, seed=0)
    assert [str(w.message) for w in caught] == []
    counts = class_counts(ds, picked)
    assert min(counts) >= 3
    assert len(picked) <= 3 * ds.num_classes and len(set(picked)) == len(picked)
    assert few_shot(ds, shots=3, seed=0) == picked


def test_few_shot_warns_and_takes_all_of_a_scarce_class():
    ds = labelled([[0]] * 6 + [[1]] * 2 + [[]] * 3, ["acme", "globex"])
    assert scarce_classes(ds, 3) == {"globex": 2}
    with pytest.warns(UserWarning, match=r"fewer than 3 images of globex \(2\)"):
        picked = few_shot(ds, shots=3)
    assert class_counts(ds, picked) == [3, 2] and len(picked) == 5


def test_few_shot_split_trains_on_k_shots_and_holds_out_the_rest():
    ds = multilabel(120, seed=4)
    parts = few_shot_split(ds, 2, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=1)
    assert_partition(parts, len(ds))
    assert min(class_counts(ds, parts["train"])) >= 2 and len(parts["train"]) <= 10
    assert abs(len(parts["val"]) - len(parts["test"])) <= 1
    only = few_shot_split(ds, 2, {"train": 1.0}, seed=1)
    assert set(only) == {"train", "rest"} and only["train"] == parts["train"]


def test_few_shot_split_drops_near_duplicates_of_training_images():
    ds = labelled([[0], [0], [1], [1], [0], []])
    groups = [0, 0, 1, 1, 2, 3]  # images 0/1 and 2/3 are copies of each other
    for seed in range(4):
        parts = few_shot_split(ds, 1, {"train": 0.5, "test": 0.5}, seed=seed, groups=groups)
        assert len(parts["train"]) == 2 and {groups[i] for i in parts["train"]} <= {0, 1, 2}
        train_groups = {groups[i] for i in parts["train"]}
        dropped = {i for i in range(6) if groups[i] in train_groups and i not in parts["train"]}
        assert sorted(parts["train"] + parts["test"]) == sorted(set(range(6)) - dropped)
        assert not any(groups[i] in train_groups for i in parts["test"])


def test_empty_and_boxless_datasets():
    assert split_dataset(DetectionDataset(["a"], []), seed=0) == {"train": [], "val": [], "test": []}
    with pytest.warns(UserWarning, match=r"a \(0\)"):
        assert few_shot(DetectionDataset(["a"], []), shots=2) == []
    boxless = labelled([[]] * 10, ["a"])
    parts = split_dataset(boxless, seed=0)
    assert [len(v) for v in parts.values()] == [8, 1, 1]


@pytest.mark.parametrize(
    "ratios,msg",
    [
        ({"train": 0.8, "val": 0.1}, "must sum to 1"),
        ({"train": 1.1, "val": -0.1}, r"ratios\['val'\]: expected a number >= 0"),
        ({"../up": 1.0}, "must be a non-empty relative name"),
        ({}, "at least one split"),
    ],
)
def test_bad_ratios(ratios, msg):
    with pytest.raises(ValueError, match=msg):
        split_dataset(multilabel(10), ratios)


def test_groups_must_match_images():
    with pytest.raises(ValueError, match=r"one group per image \(10\), got 3"):
        split_dataset(multilabel(10), groups=[0, 1, 2])


def test_subset_copies_records_in_order():
    ds = multilabel(10)
    sub = subset(ds, [4, 1])
    assert [r.file_name for r in sub.images] == ["im004.jpg", "im001.jpg"] and sub.class_names == ds.class_names
    sub.images[0].annotations.clear()
    assert ds.images[4].annotations, "the input is not modified"
    with pytest.raises(ValueError, match="index 10 is outside the 10 images"):
        subset(ds, [10])
    with pytest.raises(ValueError, match="index 1 appears more than once"):
        subset(ds, [1, 1])


def make_folder(root: Path, n: int = 12, dup_of: dict[int, int] | None = None) -> DetectionDataset:
    """A COCO folder of random-texture images in two sub-folders; ``dup_of[i] = j`` makes image i a resized copy of j."""
    rng = np.random.default_rng(0)
    recs, pixels = [], {}
    for i in range(n):
        name = f"{'a' if i % 2 else 'b'}/im{i:02d}.png"
        img = cv2.resize(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), (64, 64), interpolation=cv2.INTER_CUBIC)
        if dup_of and i in dup_of:
            img = cv2.resize(cv2.resize(pixels[dup_of[i]], (48, 48)), (64, 64))
        pixels[i] = img
        (root / "images" / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / "images" / name), img)
        recs.append(ImageRecord(name, 64, 64, [Annotation(BOX, i % 3)] if i % 4 else [], id=i + 10))
    ds = DetectionDataset(["acme", "globex", "initech"], recs, root / "images")
    save_coco(ds, root)
    return load_coco(root)


def test_near_duplicate_groups_keep_copies_together(tmp_path):
    ds = make_folder(tmp_path / "src", n=12, dup_of={5: 1, 9: 1, 10: 2})
    groups = near_duplicate_groups_of(ds)
    assert groups[1] == groups[5] == groups[9] and groups[2] == groups[10]
    assert len(set(groups)) == 9
    for seed in range(4):
        for idx in split_dataset(ds, {"train": 0.5, "val": 0.25, "test": 0.25}, seed=seed, groups=groups).values():
            assert ({1, 5, 9} <= set(idx)) or not ({1, 5, 9} & set(idx))


def test_write_splits_writes_folders_links_and_manifest(tmp_path):
    ds = make_folder(tmp_path / "src")
    parts = split_dataset(ds, {"train": 0.5, "val": 0.25, "test": 0.25}, seed=0)
    manifest = write_splits(ds, parts, tmp_path / "out", seed=0, ratios={"train": 0.5, "val": 0.25, "test": 0.25})
    info = json.loads(manifest.read_text())
    assert info["seed"] == 0 and info["ratios"]["train"] == 0.5 and info["counts"] == {k: len(v) for k, v in parts.items()}
    for name, idx in parts.items():
        back = load_coco(tmp_path / "out" / name)
        assert [r.file_name for r in back.images] == [ds.images[i].file_name for i in idx] == info["splits"][name]
        assert [r.id for r in back.images] == [ds.images[i].id for i in idx]
        assert [len(r.annotations) for r in back.images] == [len(ds.images[i].annotations) for i in idx]
        for rec in back.images:
            link = back.image_path(rec)
            assert link.is_symlink() and not os.path.isabs(os.readlink(link))
            assert link.resolve() == (tmp_path / "src" / "images" / rec.file_name).resolve()
    kfolds = {f"fold_{i}/{n}": v for i, f in enumerate(kfold(ds, k=2)) for n, v in zip(("train", "val"), f, strict=True)}
    write_splits(ds, kfolds, tmp_path / "folds", images="copy")
    copied = load_coco(tmp_path / "folds" / "fold_1" / "val")
    assert not copied.image_path(copied.images[0]).is_symlink() and copied.image_path(copied.images[0]).is_file()


@pytest.mark.parametrize("where", ["src/splits", "src", "."])
def test_write_splits_refuses_the_source_folder(tmp_path, where):
    ds = make_folder(tmp_path / "src", n=4)
    before = (tmp_path / "src" / "annotations.json").read_bytes()
    # "." with a split named "src" would overwrite the source dataset itself
    with pytest.raises(ValueError, match="overlaps the source dataset folder"):
        write_splits(ds, {"src": [0, 1], "val": [2, 3]}, tmp_path / where)
    assert (tmp_path / "src" / "annotations.json").read_bytes() == before


def test_write_splits_next_to_the_source_is_fine(tmp_path):
    ds = make_folder(tmp_path / "src", n=4)
    write_splits(ds, {"train": [0, 1], "val": [2, 3]}, tmp_path, images="none")
    assert len(load_coco(tmp_path / "train")) == 2 and not (tmp_path / "train" / "images").exists()


@pytest.fixture(scope="module")
def flickr() -> DetectionDataset:
    if not (FLICKR / "annotations.json").is_file():
        pytest.skip(f"{FLICKR} is absent")
    return load_coco(FLICKR)


def test_flickrlogos_split_keeps_every_class_everywhere(flickr):
    parts = split_dataset(flickr, seed=0)
    assert_partition(parts, len(flickr))
    assert [len(v) for v in parts.values()] == [259, 33, 32]
    total = class_counts(flickr)
    for idx in parts.values():
        counts = class_counts(flickr, idx)
        assert all(c >= 1 for c, t in zip(counts, total, strict=True) if t >= 3)


def test_flickrlogos_five_shots(flickr):
    with pytest.warns(UserWarning, match="adidas"):
        parts = few_shot_split(flickr, 5, seed=0)
    assert_partition(parts, len(flickr))
    total = class_counts(flickr)
    train = class_counts(flickr, parts["train"])
    assert all(c >= min(5, t) for c, t in zip(train, total, strict=True))
    assert len(parts["train"]) <= 5 * len(total)
    for name in ("val", "test"):
        counts = class_counts(flickr, parts[name])
        assert all(c >= 1 for c, t in zip(counts, total, strict=True) if t - min(5, t) >= 2), (name, counts)
