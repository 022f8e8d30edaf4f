"""``logodet data split`` through a tiny typer app: ratios, k-fold, few-shot, duplicate groups, errors."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from logodet.cli.data.split import split_cmd
from logodet.datasets.formats.coco import load_coco, save_coco
from logodet.types import Annotation, DetectionDataset, ImageRecord

runner = CliRunner(env={"COLUMNS": "240"})
FLICKR = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "flickrlogos27-dev"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("split")(split_cmd)
    app.command("noop")(lambda: None)
    return app


@pytest.fixture
def data(tmp_path) -> Path:
    """20 images: classes acme/globex/initech on 18 (a few with two), 2 without boxes; image 7 is a copy of image 3."""
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    recs, pixels = [], []
    for i in range(20):
        img = cv2.resize(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), (64, 64), interpolation=cv2.INTER_CUBIC)
        if i == 7:
            img = cv2.resize(cv2.resize(pixels[3], (40, 40)), (64, 64))
        pixels.append(img)
        cv2.imwrite(str(root / "images" / f"im{i:02d}.png"), img)
        cats = [] if i in (5, 15) else [i % 3] + ([2] if i % 5 == 0 else [])
        recs.append(ImageRecord(f"im{i:02d}.png", 64, 64, [Annotation((2, 2, 20, 20), c) for c in cats], id=i + 1))
    save_coco(DetectionDataset(["acme", "globex", "initech"], recs, root / "images"), root)
    return root


def _row(output: str, name: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith("│ " + name))
    return [c.strip() for c in line.split("│") if c.strip()]


def test_default_split_writes_three_folders_and_a_table(data, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(_app(), ["split", str(data), "--out", str(out), "--seed", "1"])
    assert result.exit_code == 0, result.output
    info = json.loads((out / "splits.json").read_text())
    assert info["method"] == "stratified" and info["seed"] == 1 and info["counts"] == {"train": 16, "val": 2, "test": 2}
    names = [f for files in info["splits"].values() for f in files]
    assert sorted(names) == [f"im{i:02d}.png" for i in range(20)]
    for split, files in info["splits"].items():
        back = load_coco(out / split)
        assert [r.file_name for r in back.images] == files and all(back.image_path(r).is_file() for r in back.images)
    assert _row(result.output, "all images") == ["all images", "16", "2", "2"]
    assert _row(result.output, "acme")[0] == "acme" and "0" not in _row(result.output, "acme")[1:]


def test_same_seed_same_split_and_custom_ratios(data, tmp_path):
    args = ["split", str(data), "--ratios", "train=0.5,test=0.5", "--images", "none"]
    a = runner.invoke(_app(), [*args, "--out", str(tmp_path / "a")])
    b = runner.invoke(_app(), [*args, "--out", str(tmp_path / "b")])
    c = runner.invoke(_app(), [*args, "--out", str(tmp_path / "c"), "--seed", "5", "--no-stratify"])
    assert a.exit_code == b.exit_code == c.exit_code == 0, a.output + c.output
    sa, sb, sc = (json.loads((tmp_path / x / "splits.json").read_text()) for x in "abc")
    assert sa["splits"] == sb["splits"] and sa["counts"] == {"train": 10, "test": 10}
    assert sc["method"] == "random" and sc["splits"] != sa["splits"] and sc["counts"] == sa["counts"]
    assert not (tmp_path / "a" / "train" / "images").exists()


def test_kfold_writes_train_and_val_per_fold(data, tmp_path):
    out = tmp_path / "folds"
    result = runner.invoke(_app(), ["split", str(data), "--out", str(out), "--kfold", "4"])
    assert result.exit_code == 0, result.output
    info = json.loads((out / "splits.json").read_text())
    assert info["method"] == "kfold-4" and info["ratios"] is None
    vals = [f for i in range(4) for f in info["splits"][f"fold_{i}/val"]]
    assert sorted(vals) == [f"im{i:02d}.png" for i in range(20)]
    for i in range(4):
        train = load_coco(out / f"fold_{i}" / "train")
        assert len(train) == 15 and not {r.file_name for r in train.images} & set(info["splits"][f"fold_{i}/val"])
    assert _row(result.output, "all images") == ["all images", "5", "5", "5", "5"]


def test_shots_and_duplicate_groups(data, tmp_path):
    out = tmp_path / "few"
    result = runner.invoke(_app(), ["split", str(data), "--out", str(out), "--shots", "2", "--group-duplicates", "--seed", "3"])
    assert result.exit_code == 0, result.output
    info = json.loads((out / "splits.json").read_text())
    assert info["method"] == "few-shot-2" and "19 near-duplicate groups" in result.output
    train = load_coco(out / "train")
    counts = [sum(any(a.category == k for a in r.annotations) for r in train.images) for k in range(3)]
    assert min(counts) >= 2 and len(train) <= 6
    everywhere = [f for files in info["splits"].values() for f in files]
    assert len(everywhere) == len(set(everywhere))
    pair = {"im03.png", "im07.png"}
    assert len([name for name, files in info["splits"].items() if pair & set(files)]) <= 1, "the copies never straddle splits"


@pytest.mark.parametrize(
    "extra,msg",
    [
        (["--ratios", "train=0.8,val"], "expected NAME=FRACTION"),
        (["--ratios", "train=0.5,val=0.2"], "must sum to 1"),
        (["--kfold", "3", "--shots", "2"], "cannot be combined"),
        (["--kfold", "30"], "20 images cannot fill 30 folds"),
        (["--images", "hardlink"], "images: expected one of"),
    ],
)
def test_errors_are_one_line(data, tmp_path, extra, msg):
    result = runner.invoke(_app(), ["split", str(data), "--out", str(tmp_path / "o"), *extra])
    assert result.exit_code == 2, result.output
    assert msg in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o" / "splits.json").exists()


def test_refuses_output_inside_the_dataset(data):
    result = runner.invoke(_app(), ["split", str(data), "--out", str(data / "splits")])
    assert result.exit_code == 2 and "overlaps the source dataset folder" in result.output
    assert not (data / "splits").exists()


def test_missing_dataset(tmp_path):
    result = runner.invoke(_app(), ["split", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no COCO annotations file" in result.output


@pytest.mark.parametrize("extra", [[], ["--shots", "5"]])
def test_flickrlogos(tmp_path, extra):
    if not (FLICKR / "annotations.json").is_file():
        pytest.skip(f"{FLICKR} is absent")
    out = tmp_path / "flickr"
    result = runner.invoke(_app(), ["split", str(FLICKR), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    info = json.loads((out / "splits.json").read_text())
    assert sum(info["counts"].values()) == 324
    total = load_coco(FLICKR)
    per_class = {n: sum(any(a.category == k for a in r.annotations) for r in total.images) for k, n in enumerate(total.class_names)}
    for split in ("train", "val", "test"):
        back = load_coco(out / split)
        present = {back.class_names[a.category] for r in back.images for a in r.annotations}
        need = 3 if not extra else (5 + 2 if split != "train" else 1)
        assert {n for n, c in per_class.items() if c >= need} <= present, (split, sorted(set(per_class) - present))
    if extra:
        assert "only 4 images of adidas" in result.output
