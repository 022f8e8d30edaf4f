"""Merging datasets: categories by name, file-name collisions, rename map, writing images from several folders."""

from __future__ import annotations

import copy
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from logodet.cli.data.merge import merge_cmd
from logodet.datasets.formats.coco import load_coco, save_coco
from logodet.datasets.merge import MergedDataset, dataset_name, merge_datasets, write_merged
from logodet.datasets.split import subset, write_splits
from logodet.types import Annotation, DetectionDataset, ImageRecord

runner = CliRunner(env={"COLUMNS": "200"})


def folder(root: Path, classes: list[str], files: dict[str, list[int]], shade: int) -> DetectionDataset:
    """A COCO folder: ``files`` maps file name -> class indices of its boxes; every image is filled with ``shade``."""
    (root / "images").mkdir(parents=True)
    recs = []
    for i, (name, cats) in enumerate(files.items()):
        cv2.imwrite(str(root / "images" / name), np.full((20, 30, 3), shade, np.uint8))
        anns = [Annotation((k, k, k + 5.0, k + 6.0), c, extra={"visibility": 0.5} if c == 0 else {}) for k, c in enumerate(cats)]
        recs.append(ImageRecord(name, 30, 20, anns, id=100 + i))
    save_coco(DetectionDataset(classes, recs, root / "images"), root)
    return load_coco(root)


@pytest.fixture
def two(tmp_path) -> tuple[DetectionDataset, DetectionDataset]:
    real = folder(tmp_path / "real", ["Coca-Cola", "nike"], {"a.png": [0, 1], "b.png": [1], "c.png": []}, 50)
    synth = folder(tmp_path / "synth", ["adidas", "nike", "cocacola"], {"a.png": [2], "s1.png": [0, 1]}, 200)
    return real, synth


def test_categories_by_name_in_order_of_first_appearance(two):
    real, synth = two
    m = merge_datasets([real, synth])
    assert m.class_names == ["Coca-Cola", "nike", "adidas", "cocacola"]
    assert m.source_names == ["real", "synth"]
    cats = {(r.file_name, m.class_names[a.category]) for r in m.images for a in r.annotations}
    assert ("s1.png", "adidas") in cats and ("s1.png", "nike") in cats and ("real/a.png", "nike") in cats
    assert [r.id for r in m.images] == [1, 2, 3, 4, 5]


def test_only_colliding_names_get_a_prefix_unless_asked(two):
    real, synth = two
    m = merge_datasets([real, synth])
    assert [r.file_name for r in m.images] == ["real/a.png", "b.png", "c.png", "synth/a.png", "s1.png"]
    assert [r.file_name for r in merge_datasets([real, synth], prefix=True).images] == [
        "real/a.png",
        "real/b.png",
        "real/c.png",
        "synth/a.png",
        "synth/s1.png",
    ]
    assert m.image_path(m.images[0]).read_bytes() == real.image_path(real.images[0]).read_bytes()
    assert m.image_path(m.images[3]) == synth.image_path(synth.images[0])


def test_rename_map_merges_classes_and_keeps_sources(two):
    real, synth = two
    before = copy.deepcopy((real, synth))
    m = merge_datasets([real, synth], names=["photos", "render"], category_map={"Coca-Cola": "cocacola"})
    assert m.class_names == ["cocacola", "nike", "adidas"]
    coke = [(r.file_name, a.extra["source"]) for r in m.images for a in r.annotations if a.category == 0]
    assert coke == [("photos/a.png", "photos"), ("render/a.png", "render")]
    first = m.images[0].annotations[0]
    assert first.extra == {"visibility": 0.5, "source": "photos"} and first.bbox == (0.0, 0.0, 5.0, 6.0)
    assert (real, synth) == before, "inputs are not modified"


def test_bad_merges_are_named():
    one = DetectionDataset(["a"], [ImageRecord("x.jpg", 4, 4), ImageRecord("x.jpg", 4, 4)])
    with pytest.raises(ValueError, match=r"dup: file name 'x.jpg' appears more than once"):
        merge_datasets([one], names=["dup"])
    with pytest.raises(ValueError, match="no dataset has a class named 'Pepsi'"):
        merge_datasets([DetectionDataset(["a"], [])], category_map={"Pepsi": "pepsi"})
    with pytest.raises(ValueError, match="at least one dataset"):
        merge_datasets([])
    with pytest.raises(ValueError, match="expected 2 names"):
        merge_datasets([DetectionDataset([], []), DetectionDataset([], [])], names=["a"])


def test_default_names_are_folder_names_made_unique(tmp_path):
    a = DetectionDataset([], [ImageRecord("x.jpg", 4, 4)], tmp_path / "d" / "images")
    b = DetectionDataset([], [ImageRecord("x.jpg", 4, 4)], tmp_path / "d" / "images")
    assert dataset_name(a) == "d" and dataset_name(DetectionDataset([], [])) == "dataset"
    assert [r.file_name for r in merge_datasets([a, b]).images] == ["d/x.jpg", "d_2/x.jpg"]


def test_empty_datasets_merge_to_empty():
    m = merge_datasets([DetectionDataset([], []), DetectionDataset(["a"], [])], names=["p", "q"])
    assert isinstance(m, MergedDataset) and len(m) == 0 and m.class_names == ["a"]


def test_write_merged_gathers_images_from_both_folders(two, tmp_path):
    real, synth = two
    m = merge_datasets([real, synth], category_map={"Coca-Cola": "cocacola"})
    write_merged(m, tmp_path / "out")
    back = load_coco(tmp_path / "out")
    assert back.class_names == ["cocacola", "nike", "adidas"] and len(back) == 5
    shades = [int(cv2.imread(str(back.image_path(r)))[0, 0, 0]) for r in back.images]
    assert shades == [50, 50, 50, 200, 200]
    assert back.images[3].annotations[0].extra["source"] == "synth"
    # a subset of a merged dataset still knows where its images are
    write_splits(m, {"train": [0, 3], "val": [1, 2, 4]}, tmp_path / "splits")
    assert int(cv2.imread(str(tmp_path / "splits" / "train" / "images" / "synth" / "a.png"))[0, 0, 0]) == 200
    assert subset(m, [4]).image_path(m.images[4]) == synth.image_path(synth.images[1])


def test_write_merged_refuses_a_source_folder(two, tmp_path):
    with pytest.raises(ValueError, match="overlaps the source dataset folder"):
        write_merged(merge_datasets(list(two)), tmp_path / "synth" / "merged")


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("merge")(merge_cmd)
    app.command("noop")(lambda: None)
    return app


def test_merge_cli(two, tmp_path):
    args = ["merge", str(tmp_path / "real"), str(tmp_path / "synth" / "annotations.json"), "--out", str(tmp_path / "m")]
    result = runner.invoke(_app(), [*args, "--rename", "Coca-Cola=cocacola", "--images", "copy"])
    assert result.exit_code == 0, result.output
    back = load_coco(tmp_path / "m")
    assert back.class_names == ["cocacola", "nike", "adidas"] and [r.file_name for r in back.images][:2] == ["real/a.png", "b.png"]
    assert not back.image_path(back.images[0]).is_symlink()
    assert "Merged 2 datasets: 5 images, 3 classes" in result.output
    row = next(line for line in result.output.splitlines() if "cocacola" in line)
    assert [c.strip() for c in row.split("│") if c.strip()] == ["cocacola", "1", "1", "2"]


@pytest.mark.parametrize(
    "extra,msg",
    [(["--rename", "nope"], "expected OLD=NEW"), (["--rename", "Pepsi=pepsi"], "no dataset has a class named 'Pepsi'")],
)
def test_merge_cli_errors(two, tmp_path, extra, msg):
    result = runner.invoke(_app(), ["merge", str(tmp_path / "real"), str(tmp_path / "synth"), "--out", str(tmp_path / "m"), *extra])
    assert result.exit_code == 2 and msg in result.output
    assert not (tmp_path / "m" / "annotations.json").exists()
