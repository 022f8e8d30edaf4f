"""``logodet data review`` export and import through a tiny typer app wrapping the two commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from logodet.cli.data.review import review_export_cmd, review_import_cmd
from logodet.datasets.formats.coco import load_coco, save_coco
from logodet.types import Annotation, DetectionDataset, ImageRecord

runner = CliRunner(env={"COLUMNS": "200"})


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("review-export")(review_export_cmd)
    app.command("review-import")(review_import_cmd)
    return app


PREDS = [
    {"image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.92},
    {"image_id": 2, "category_id": 2, "bbox": [5, 5, 10, 10], "score": 0.45},
    {"image_id": 2, "category_id": 1, "bbox": [30, 30, 5, 5], "score": 0.3},
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    recs = []
    for i, name in enumerate(["one.jpg", "two.png", "three.png"], 1):
        Image.fromarray(np.full((48, 64, 3), 40 * i, np.uint8)).save(root / "images" / name)
        recs.append(ImageRecord(name, 64, 48, [Annotation((0, 0, 8, 8), 0)], id=i))
    save_coco(DetectionDataset(["acme", "globex"], recs, root / "images"), root)
    return root


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_export_edit_import(tmp_path: Path, data: Path) -> None:
    before = _snapshot(data)
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(PREDS))
    review = tmp_path / "review"
    args = ["review-export", "--data", str(data), "--predictions", str(preds), "--out", str(review), "--count", "1"]
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert "Wrote 1 review files with 2 pre-annotations" in result.output
    assert sorted(p.name for p in review.iterdir()) == ["labels.txt", "review_manifest.json", "two.json", "two.png"]

    doc = json.loads((review / "two.json").read_text())
    assert [s["label"] for s in doc["shapes"]] == ["globex", "acme"]
    doc["shapes"] = doc["shapes"][:1]  # the reviewer deletes the false positive
    doc["shapes"][0]["points"] = [[6, 6], [16, 15]]  # and tightens the box
    (review / "two.json").write_text(json.dumps(doc))

    out = tmp_path / "reviewed"
    result = runner.invoke(_app(), ["review-import", str(review), "--into", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Reviewed 1 of 3 images: 1 annotations before, 1 after" in result.output
    new = load_coco(out)
    assert [(r.id, r.file_name, [(a.bbox, a.category) for a in r.annotations]) for r in new.images] == [
        (1, "one.jpg", [((0, 0, 8, 8), 0)]),
        (2, "two.png", [((6, 6, 16, 15), 1)]),
        (3, "three.png", [((0, 0, 8, 8), 0)]),
    ]
    assert (out / "images" / "two.png").is_symlink()
    assert _snapshot(data) == before


def test_strategy_select_and_images(tmp_path: Path, data: Path) -> None:
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(PREDS))
    review = tmp_path / "review"
    args = ["review-export", "--data", str(data), "--predictions", str(preds), "--out", str(review)]
    result = runner.invoke(_app(), [*args, "--select", "3", "--select", "1", "--images", "symlink", "--conf", "0.95"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((review / "review_manifest.json").read_text())
    assert [(f["image_id"], f["shown_predictions"]) for f in manifest["files"]] == [(3, 0), (1, 0)]
    assert (review / "three.png").is_symlink()


def test_errors_exit_2_with_the_place(tmp_path: Path, data: Path) -> None:
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps([{**PREDS[0], "image_id": 42}]))
    args = ["review-export", "--data", str(data), "--predictions", str(preds), "--out", str(tmp_path / "r")]
    result = runner.invoke(_app(), args)
    assert result.exit_code == 2
    assert "preds.json" in result.output and "[0].image_id" in result.output

    preds.write_text(json.dumps(PREDS))
    result = runner.invoke(_app(), [*args[:-2], "--out", str(tmp_path / "r"), "--strategy", "best"])
    assert result.exit_code == 2 and "strategy: expected one of" in result.output

    assert runner.invoke(_app(), [*args, "--strategy", "all"]).exit_code == 0
    doc = json.loads((tmp_path / "r" / "one.json").read_text())
    doc["shapes"][0]["label"] = "initech"
    (tmp_path / "r" / "one.json").write_text(json.dumps(doc))
    result = runner.invoke(_app(), ["review-import", str(tmp_path / "r"), "--into", str(data), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "one.json" in result.output and "shapes[0].label" in result.output and "initech" in result.output
    assert not (tmp_path / "o").exists()

    doc["shapes"][0]["label"] = "acme"
    (tmp_path / "r" / "one.json").write_text(json.dumps(doc))
    result = runner.invoke(_app(), ["review-import", str(tmp_path / "r"), "--into", str(data), "--out", str(data)])
    assert result.exit_code == 2 and "not empty" in result.output
