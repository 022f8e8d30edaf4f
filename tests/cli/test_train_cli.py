"""``logodet train`` / ``logodet tune`` options: YAML config, command-line precedence, --set, clear errors."""

from __future__ import annotations

import yaml
from conftest import make_shapes_dataset
from typer.testing import CliRunner

from logodet.cli.main import app
from logodet.config import load_config
from logodet.engine.config import TrainConfig

runner = CliRunner(env={"COLUMNS": "200"})


def test_config_values_survive_unless_an_option_is_given(tmp_path):
    make_shapes_dataset(tmp_path / "d", n=4, size=64, seed=1)
    cfg = {"data": str(tmp_path / "d"), "epochs": 1, "imgsz": 64, "batch": 4, "weights": "none", "freeze": 0, "warmup_iters": 1}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg | {"lr": 0.003}))
    out = tmp_path / "run"
    res = runner.invoke(app, ["train", "--config", str(tmp_path / "c.yaml"), "--out", str(out), "--no-progress", "--set", "ema=false"])
    assert res.exit_code == 0, res.output
    saved = load_config(TrainConfig, out / "train_config.yaml")
    assert saved.lr == 0.003 and saved.epochs == 1 and saved.ema is False and saved.out == str(out)
    assert "done: 1 epochs" in res.output


def test_errors_are_one_line(tmp_path):
    res = runner.invoke(app, ["train", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "--data is required" in res.output
    res = runner.invoke(app, ["train", "--data", str(tmp_path), "--set", "nonsense=1"])
    assert res.exit_code == 2 and "nonsense" in res.output
    res = runner.invoke(app, ["train", "--data", str(tmp_path), "--schedule", "linear"])
    assert res.exit_code == 2 and "schedule" in res.output


def test_tune_command(tmp_path):
    make_shapes_dataset(tmp_path / "d", n=4, size=64, seed=1)
    (tmp_path / "space.yaml").write_text(yaml.safe_dump({"lr": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True}}))
    base = {"data": str(tmp_path / "d"), "val": str(tmp_path / "d"), "imgsz": 64, "batch": 4, "weights": "none", "freeze": 0}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base | {"warmup_iters": 1}))
    args = ["tune", "--config", str(tmp_path / "base.yaml"), "--space", str(tmp_path / "space.yaml"), "--trials", "1"]
    res = runner.invoke(app, [*args, "--epochs", "1", "--out", str(tmp_path / "t")])
    assert res.exit_code == 0, res.output
    assert "best AP50" in res.output and (tmp_path / "t" / "best_config.yaml").is_file()
