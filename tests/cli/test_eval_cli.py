"""``logodet eval`` through a tiny typer app wrapping ``eval_cmd``."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from logodet.cli.eval import eval_cmd
from logodet.evaluation.detection import COCO_METRIC_NAMES, evaluate_coco

runner = CliRunner(env={"COLUMNS": "200"})


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("eval")(eval_cmd)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps "eval" a subcommand, as in the real app
        pass

    return app


GT = {
    "images": [
        {"id": 1, "file_name": "a.jpg", "width": 200, "height": 200},
        {"id": 2, "file_name": "b.jpg", "width": 200, "height": 200},
    ],
    "categories": [{"id": 1, "name": "acme"}, {"id": 2, "name": "globex"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 50], "area": 2500, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [100, 100, 80, 60], "area": 4800, "iscrowd": 0},
    ],
}
PREDS = [
    {"image_id": 1, "category_id": 1, "bbox": [11, 10, 50, 50], "score": 0.9},
    {"image_id": 1, "category_id": 2, "bbox": [100, 100, 80, 60], "score": 0.6},
    {"image_id": 2, "category_id": 1, "bbox": [0, 0, 20, 20], "score": 0.3},
]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "annotations.json").write_text(json.dumps(GT))
    return root


def test_eval_with_predictions_file(tmp_path, dataset):
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(PREDS))
    out = tmp_path / "out"
    result = runner.invoke(_app(), ["eval", "--data", str(dataset), "--predictions", str(preds), "--out", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics == evaluate_coco(GT, PREDS).to_dict()
    assert set(COCO_METRIC_NAMES) <= metrics.keys() and metrics["best_f1"] == 1.0 and metrics["best_f1_threshold"] == 0.6
    assert (out / "pr_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "f1_curve.png").stat().st_size > 0
    assert not (out / "predictions.json").exists()
    assert "AR100" in result.output and "Best F1 1.000" in result.output


@pytest.mark.parametrize("which", [[], ["--model", "m.pt", "--predictions", "p.json"]])
def test_needs_exactly_one_source(tmp_path, dataset, which):
    result = runner.invoke(_app(), ["eval", "--data", str(dataset), "--out", str(tmp_path / "o"), *which])
    assert result.exit_code == 2
    assert "exactly one of --model and --predictions" in result.output


def test_malformed_predictions_name_file_and_field(tmp_path, dataset):
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps([PREDS[0], {**PREDS[1], "category_id": 7}]))
    result = runner.invoke(_app(), ["eval", "--data", str(dataset), "--predictions", str(preds), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "preds.json" in result.output and "[1].category_id" in result.output
    assert not (tmp_path / "o" / "metrics.json").exists()


def test_missing_dataset(tmp_path):
    preds = tmp_path / "preds.json"
    preds.write_text("[]")
    result = runner.invoke(_app(), ["eval", "--data", str(tmp_path / "nope"), "--predictions", str(preds), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "no COCO annotations file" in result.output


def test_model_branch_wiring(tmp_path, dataset, monkeypatch):
    """The real predictor is the lead's; a stand-in checks the call and the files written."""
    calls = {}

    def predict_coco_results(model_path, ds, *, conf=0.001, imgsz=None, box_scale=1.0, progress=True):
        calls.update(model=model_path, n=len(ds), conf=conf, imgsz=imgsz, box_scale=box_scale)
        return PREDS

    fake = types.ModuleType("logodet.inference.predictor")
    fake.predict_coco_results = predict_coco_results
    monkeypatch.setitem(sys.modules, "logodet.inference.predictor", fake)
    out = tmp_path / "out"
    args = ["eval", "--data", str(dataset), "--model", "m.pt", "--out", str(out), "--conf", "0.05", "--imgsz", "320", "--box-scale", "1.2"]
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert calls == {"model": Path("m.pt"), "n": 2, "conf": 0.05, "imgsz": 320, "box_scale": 1.2}
    assert json.loads((out / "predictions.json").read_text()) == [
        {**p, "bbox": [float(v) for v in p["bbox"]], "score": float(p["score"])} for p in PREDS
    ]
    assert json.loads((out / "metrics.json").read_text())["AP50"] == evaluate_coco(GT, PREDS).AP50
    result = runner.invoke(_app(), [*args, "--imgsz", "256"])  # repeated: several sizes, merged
    assert result.exit_code == 0, result.output
    assert calls["imgsz"] == (320, 256)


REPORT_GT = {
    "images": [
        {"id": 1, "file_name": "shop & street.jpg", "width": 120, "height": 90},
        {"id": 2, "file_name": "plain.png", "width": 120, "height": 90},
    ],
    "categories": [{"id": 1, "name": "acme"}, {"id": 2, "name": "<i>globex</i>"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 30], "area": 1200, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [70, 40, 40, 40], "area": 1600, "iscrowd": 0},
    ],
}
REPORT_PREDS = [
    {"image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 30], "score": 0.9},
    {"image_id": 1, "category_id": 1, "bbox": [70, 40, 40, 40], "score": 0.7},
    {"image_id": 2, "category_id": 2, "bbox": [5, 5, 30, 30], "score": 0.4},
]


@pytest.fixture
def dataset_with_images(tmp_path: Path) -> tuple[Path, Path]:
    import numpy as np
    from PIL import Image

    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(1)
    for im in REPORT_GT["images"]:
        Image.fromarray(rng.integers(0, 255, (im["height"], im["width"], 3), dtype=np.uint8)).save(root / "images" / im["file_name"])
    (root / "annotations.json").write_text(json.dumps(REPORT_GT))
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(REPORT_PREDS))
    return root, preds


def test_report_through_cli(tmp_path, dataset_with_images):
    import html
    import re

    root, preds = dataset_with_images
    out = tmp_path / "out"
    result = runner.invoke(_app(), ["eval", "--data", str(root), "--predictions", str(preds), "--out", str(out), "--report"])
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output
    assert json.loads((out / "metrics.json").read_text()) == evaluate_coco(REPORT_GT, REPORT_PREDS).to_dict()  # unchanged
    text = (out / "report.html").read_text(encoding="utf-8")
    for name in COCO_METRIC_NAMES:
        assert f">{name}<" in text
    assert "&lt;i&gt;globex&lt;/i&gt;" in text and "<i>globex</i>" not in text
    assert "shop &amp; street.jpg" in text
    sources = [html.unescape(s) for s in re.findall(r'src="([^"]+)"', text)]
    assert {"pr_curve.png", "f1_curve.png", "confusion_matrix.png", "galleries/false_negatives.jpg"} <= set(sources)
    assert all((out / s).is_file() and (out / s).stat().st_size > 0 for s in sources)
    report = json.loads((out / "report.json").read_text())
    assert report["threshold"] == evaluate_coco(REPORT_GT, REPORT_PREDS).best_f1_threshold == 0.9
    assert report["confusion"]["matrix"] == [[1, 0, 0], [0, 0, 1], [0, 0, 0]]  # at 0.9 only the acme hit counts


def test_report_threshold_option(tmp_path, dataset_with_images):
    root, preds = dataset_with_images
    out = tmp_path / "out"
    args = ["eval", "--data", str(root), "--predictions", str(preds), "--out", str(out), "--report", "--threshold", "0.3"]
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["threshold"] == 0.3 and report["threshold_source"] == "given"
    assert report["confusion"]["matrix"] == [[1, 0, 0], [1, 0, 0], [0, 1, 0]]
    assert [i["reason"] for i in report["galleries"]["false_positives"]["items"]] == ["other class: <i>globex</i>", "background"]


def test_threshold_needs_report(tmp_path, dataset_with_images):
    root, preds = dataset_with_images
    out = tmp_path / "out"
    result = runner.invoke(_app(), ["eval", "--data", str(root), "--predictions", str(preds), "--out", str(out), "--threshold", "0.3"])
    assert result.exit_code == 2 and "--threshold only applies with --report" in result.output
    assert not out.exists()


def test_report_without_images_is_noted(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    (root / "annotations.json").write_text(json.dumps(REPORT_GT))
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(REPORT_PREDS))
    out = tmp_path / "out"
    result = runner.invoke(_app(), ["eval", "--data", str(root), "--predictions", str(preds), "--out", str(out), "--report"])
    assert result.exit_code == 0, result.output
    assert "gallery skipped" in result.output and "file not found" in result.output
    assert (out / "report.html").is_file() and not (out / "galleries" / "false_positives.jpg").exists()
