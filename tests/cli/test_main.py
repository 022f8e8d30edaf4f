"""The real ``logodet`` app: help texts and the train → eval → export → predict chain."""

from __future__ import annotations

import json

import pytest
from conftest import make_shapes_dataset
from typer.testing import CliRunner

from logodet.cli.main import app

runner = CliRunner(env={"COLUMNS": "200"})
COMMANDS = ["synth", "train", "eval", "export", "predict", "quickstart"]


def test_top_level_help_lists_every_command():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for name in COMMANDS:
        assert name in res.output


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_help_has_an_example(name):
    res = runner.invoke(app, [name, "--help"])
    assert res.exit_code == 0, res.output
    assert "Example:" in res.output and f"logodet {name}" in res.output


def test_train_resume_eval_export_predict_chain(tmp_path, shapes_data):
    train_dir, val_dir = shapes_data
    run = tmp_path / "run"
    args = ["train", "--data", str(train_dir), "--val", str(val_dir), "--out", str(run), "--epochs", "2", "--imgsz", "64"]
    args += ["--batch", "8", "--weights", "none", "--freeze", "0", "--no-progress"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "2 epochs" in res.output
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--resume" in again.output

    res = runner.invoke(app, ["eval", "--model", str(run / "best.pt"), "--data", str(val_dir), "--out", str(tmp_path / "ev")])
    assert res.exit_code == 0, res.output
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    for key in ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl", "per_class", "best_f1"):
        assert key in metrics
    assert set(metrics["per_class"]) == {"disc", "square", "triangle"}
    assert (tmp_path / "ev" / "predictions.json").is_file()

    onnx_path = tmp_path / "m.onnx"
    res = runner.invoke(app, ["export", "--model", str(run / "best.pt"), "--format", "onnx", "--out", str(onnx_path)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["export", "--model", str(run / "best.pt"), "--format", "tflite", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "not supported" in res.output

    res = runner.invoke(app, ["predict", "--model", str(onnx_path), "--source", str(val_dir / "images"), "--out", str(tmp_path / "p")])
    assert res.exit_code == 0, res.output
    lines = (tmp_path / "p" / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 12
    low = ["predict", "--model", str(onnx_path), "--source", str(val_dir / "images"), "--conf", "0.01", "--no-save-images", "--no-progress"]
    dets = {}
    for name, scale in (("plain", "1"), ("grown", "1.5")):
        res = runner.invoke(app, [*low, "--out", str(tmp_path / name), "--box-scale", scale])
        assert res.exit_code == 0, res.output
        dets[name] = [d for x in (tmp_path / name / "predictions.jsonl").read_text().splitlines() for d in json.loads(x)["detections"]]
    assert len(dets["grown"]) == len(dets["plain"]) > 0
    area = lambda b: (b[2] - b[0]) * (b[3] - b[1])  # noqa: E731
    assert sum(area(d["box_xyxy"]) for d in dets["grown"]) > 1.2 * sum(area(d["box_xyxy"]) for d in dets["plain"])
    grown_args = low
    res = runner.invoke(app, [*grown_args, "--box-scale", "0"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["predict", "--model", str(onnx_path), "--source", str(val_dir / "images"), "--imgsz", "96"])
    assert res.exit_code == 2 and "cannot run at 96" in res.output
    sized = ["predict", "--model", str(run / "best.pt"), "--source", str(val_dir / "images"), "--out", str(tmp_path / "p96")]
    res = runner.invoke(app, [*sized, "--imgsz", "96", "--no-save-images", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert len((tmp_path / "p96" / "predictions.jsonl").read_text().splitlines()) == 12
    res = runner.invoke(app, ["predict", "--model", str(onnx_path), "--source", str(val_dir / "images"), "--imgsz", "96", "--imgsz", "128"])
    assert res.exit_code == 2 and "export size" in res.output
    merged = [*sized[:-1], str(tmp_path / "pm"), "--imgsz", "96", "--imgsz", "128", "--conf", "0.01", "--no-save-images", "--no-progress"]
    res = runner.invoke(app, merged)
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (tmp_path / "pm" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and sum(len(r["detections"]) for r in rows) > 0


def test_empty_dataset_through_eval_and_predict(tmp_path, trained_run):
    empty = tmp_path / "empty"
    make_shapes_dataset(empty, n=3, size=96, empty_every=1)
    res = runner.invoke(app, ["eval", "--model", str(trained_run / "best.pt"), "--data", str(empty), "--out", str(tmp_path / "ev")])
    assert res.exit_code == 0, res.output
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["AP"] == -1.0 and metrics["best_f1"] == 0.0
    model = str(trained_run / "best.pt")
    res = runner.invoke(app, ["predict", "--model", model, "--source", str(empty / "images"), "--out", str(tmp_path / "p")])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (tmp_path / "p" / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 3


def test_errors_are_one_line_not_tracebacks(tmp_path):
    res = runner.invoke(app, ["train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "r"), "--no-progress"])
    assert res.exit_code == 2
    assert "no COCO annotations file" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["predict", "--model", str(tmp_path / "x.pt"), "--source", str(tmp_path)])
    assert res.exit_code == 2 and "model file not found" in res.output
