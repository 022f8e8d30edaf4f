"""``logodet data stats`` through a tiny typer app: tables, --out files, --compare, errors."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import typer
from typer.testing import CliRunner

from logodet.cli.data.stats import stats_cmd
from logodet.datasets.formats.coco import save_coco
from logodet.types import Annotation, DetectionDataset, ImageRecord

runner = CliRunner(env={"COLUMNS": "240"})


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("stats")(stats_cmd)
    app.command("noop")(lambda: None)
    return app


def make(root: Path, classes: list[str], shift: int = 0, brighten: int = 0) -> Path:
    (root / "images").mkdir(parents=True)
    recs = []
    for i in range(4):
        cv2.imwrite(str(root / "images" / f"im{i}.png"), np.full((100, 120, 3), 60 + 20 * i + brighten, np.uint8))
        anns = [Annotation((10 + shift, 10, 20 + shift, 20), 0), Annotation((0, 0, 100, 100), 1)] if i < 3 else []
        recs.append(ImageRecord(f"im{i}.png", 120, 100, anns, id=i + 1))
    save_coco(DetectionDataset(classes, recs, root / "images"), root)
    return root


def test_stats_tables_and_files(tmp_path):
    data = make(tmp_path / "d", ["acme", "globex"])
    out = tmp_path / "stats"
    result = runner.invoke(_app(), ["stats", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 images (1 without boxes), 6 boxes (0 crowd) of 2 classes; small 3, medium 0, large 3" in result.output
    assert "acme" in result.output and "aspect ratio w/h" in result.output and "120x100 (4)" in result.output
    stats = json.loads((out / "stats.json").read_text())
    assert [c["instances"] for c in stats["per_class"]] == [3, 3]
    assert sorted(p.name for p in out.glob("*.png")) == [
        "aspect_ratios.png",
        "box_sizes.png",
        "centre_heatmap.png",
        "class_counts.png",
        "image_sizes.png",
    ]
    assert not (out / "compare.json").exists()


def test_compare_prints_the_gap_and_class_sets(tmp_path):
    a = make(tmp_path / "synth", ["acme", "globex"])
    b = make(tmp_path / "real", ["acme", "initech"], shift=30, brighten=40)
    result = runner.invoke(_app(), ["stats", str(a), "--compare", str(b), "--sample", "4"])
    assert result.exit_code == 0, result.output
    assert "Distribution gap" in result.output and "image_mean_R" in result.output
    assert f"Classes only in {a}: globex" in result.output and f"Classes only in {b}: initech" in result.output
    line = next(row for row in result.output.splitlines() if "centre_x" in row)
    assert "0.125" in line  # 30 px in 120-wide images, for half of the boxes
    same = runner.invoke(_app(), ["stats", str(a), "--compare", str(a)])
    line = next(row for row in same.output.splitlines() if "image_mean_V" in row)
    assert [c.strip() for c in line.split("│")][1:4] == ["image_mean_V", "0", "0"]  # Wasserstein and KS of a dataset with itself


def test_missing_dataset_exits_2(tmp_path):
    result = runner.invoke(_app(), ["stats", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "error:" in result.output
