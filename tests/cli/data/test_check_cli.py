"""``logodet data check`` through a tiny typer app: exit status, tables, --json, --fix, splits, bad options."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import typer
from PIL import Image
from typer.testing import CliRunner

from logodet.cli.data.check import check_cmd

runner = CliRunner(env={"COLUMNS": "240"})


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("check")(check_cmd)
    app.command("noop")(lambda: None)  # a second command keeps "check" a subcommand, as in the real app
    return app


def make(root: Path, n: int = 3, seed: int = 0) -> dict:
    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(seed)
    images, anns = [], []
    for i in range(n):
        blocks = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        Image.fromarray(blocks).resize((64, 48), Image.NEAREST).save(root / "images" / f"im{i}.png")
        images.append({"id": i + 1, "file_name": f"im{i}.png", "width": 64, "height": 48})
        anns.append({"id": i + 1, "image_id": i + 1, "category_id": 1, "bbox": [4, 4, 20, 20], "area": 400, "iscrowd": 0})
    data = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "acme"}]}
    (root / "annotations.json").write_text(json.dumps(data))
    return data


def save(root: Path, data: dict) -> None:
    (root / "annotations.json").write_text(json.dumps(data))


def test_clean_dataset_exits_0(tmp_path):
    make(tmp_path / "d")
    result = runner.invoke(_app(), ["check", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "3 images, 3 annotations, 1 categories" in result.output and "No problems found" in result.output


def test_errors_exit_1_with_table_and_json(tmp_path):
    root = tmp_path / "d"
    data = make(root)
    data["annotations"][1]["category_id"] = 4
    data["annotations"][2]["bbox"] = [50, 40, 30, 30]
    save(root, data)
    report = tmp_path / "r" / "report.json"
    result = runner.invoke(_app(), ["check", str(root), "--json", str(report), "--first", "1"])
    assert result.exit_code == 1, result.output
    assert "unknown_category" in result.output and "box_partly_outside" in result.output
    assert "First 1 of 2 problems" in result.output and "annotations[1].category_id" in result.output
    assert "1 errors, 1 warnings" in result.output
    written = json.loads(report.read_text())
    assert written["counts"] == {"box_partly_outside": 1, "unknown_category": 1}
    assert [p["where"] for p in written["problems"]] == ["annotations[1].category_id", "annotations[2].bbox"]


def test_warnings_only_exit_0(tmp_path):
    root = tmp_path / "d"
    data = make(root)
    data["annotations"][2]["bbox"] = [50, 40, 30, 30]
    save(root, data)
    result = runner.invoke(_app(), ["check", str(root)])
    assert result.exit_code == 0 and "No errors, 1 warnings" in result.output


def test_fix_writes_a_clean_copy(tmp_path):
    root = tmp_path / "d"
    data = make(root)
    data["images"][0]["height"] = 99
    data["annotations"][2]["bbox"] = [50, 40, 30, 30]
    save(root, data)
    before = hashlib.sha1((root / "annotations.json").read_bytes()).hexdigest()
    out = tmp_path / "fixed"
    result = runner.invoke(_app(), ["check", str(root), "--fix", "--out", str(out)])
    assert result.exit_code == 1, result.output  # the status describes the input
    assert "image sizes set from the files" in result.output and "boxes clipped to the image" in result.output
    assert hashlib.sha1((root / "annotations.json").read_bytes()).hexdigest() == before
    again = runner.invoke(_app(), ["check", str(out)])
    assert again.exit_code == 0 and "No problems found" in again.output
    assert json.loads((out / "annotations.json").read_text())["annotations"][2]["bbox"] == [50.0, 40.0, 14.0, 8.0]


def test_fix_option_errors(tmp_path):
    make(tmp_path / "d")
    result = runner.invoke(_app(), ["check", str(tmp_path / "d"), "--fix"])
    assert result.exit_code == 2 and "--fix needs --out" in result.output
    result = runner.invoke(_app(), ["check", str(tmp_path / "d"), "--fix", "--out", str(tmp_path / "d" / "x")])
    assert result.exit_code == 2 and "must not be written into the input" in result.output
    assert not (tmp_path / "d" / "x").exists()


def test_split_leak_names_both_files(tmp_path):
    make(tmp_path / "train", seed=0)
    test = make(tmp_path / "test", seed=1)
    (tmp_path / "test" / "images" / "copy.png").write_bytes((tmp_path / "train" / "images" / "im1.png").read_bytes())
    test["images"].append({"id": 9, "file_name": "copy.png", "width": 64, "height": 48})
    save(tmp_path / "test", test)
    result = runner.invoke(_app(), ["check", str(tmp_path / "train"), "--split-of", str(tmp_path / "test")])
    assert result.exit_code == 1, result.output
    assert "split_leak" in result.output and "copy.png" in result.output and "im1.png" in result.output
    assert "test (split to compare)" in result.output
    assert runner.invoke(_app(), ["check", str(tmp_path)]).exit_code == 1  # the same, as split sub-folders


def test_missing_folder_exits_2(tmp_path):
    result = runner.invoke(_app(), ["check", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "no such dataset" in result.output
