import csv

import pytest
import torch
from conftest import make_shapes_dataset

from logodet.engine.checkpoint import CheckpointError, load_checkpoint
from logodet.engine.config import TrainConfig
from logodet.engine.trainer import train


def _cfg(tmp_path, data, out="run", **kw):
    base = dict(data=str(data), out=str(tmp_path / out), epochs=2, imgsz=64, batch=4, warmup_iters=2, weights="none", freeze=0, seed=3)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    make_shapes_dataset(root / "d", n=8, size=64, seed=5)
    return root / "d"


def test_stopped_and_resumed_run_matches_uninterrupted_run(tmp_path, small):
    straight = train(_cfg(tmp_path, small, "straight"), progress=False)
    first = train(_cfg(tmp_path, small, "resumed"), progress=False, stop_after_epoch=1)
    assert first.epochs_done == 1
    saved = load_checkpoint(tmp_path / "resumed" / "last.pt")
    assert saved["epoch"] == 1 and saved["optimizer"]["state"], "optimizer state must be in the checkpoint"
    resumed = train(TrainConfig(out=str(tmp_path / "resumed")), resume=True, progress=False)
    assert resumed.epochs_done == straight.epochs_done == 2
    a = load_checkpoint(tmp_path / "straight" / "last.pt")
    b = load_checkpoint(tmp_path / "resumed" / "last.pt")
    assert b["epoch"] == 2
    for key in a["model"]:
        torch.testing.assert_close(a["model"][key], b["model"][key], rtol=0, atol=1e-6, msg=key)
    step_a = [s["step"] for s in a["optimizer"]["state"].values()]
    step_b = [s["step"] for s in b["optimizer"]["state"].values()]
    assert step_a == step_b, "resumed optimizer must continue from the saved step count"
    assert a["history"][0]["train_classification"] == pytest.approx(b["history"][0]["train_classification"])


def test_run_folder_outputs(tmp_path, small):
    res = train(_cfg(tmp_path, small, val=str(small), epochs=1), progress=False)
    out = res.out
    for name in ("best.pt", "last.pt", "metrics.csv", "learning_curve.png", "train_config.yaml"):
        assert (out / name).is_file(), name
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1"]
    assert {"AP", "AP50", "train_classification", "lr"} <= set(rows[0])
    state = load_checkpoint(out / "best.pt")
    assert state["class_names"] == ["disc", "square", "triangle"]
    assert state["config"]["imgsz"] == 64 and "rng" in state and "optimizer" in state


def test_training_on_images_without_any_logo(tmp_path):
    make_shapes_dataset(tmp_path / "empty", n=4, size=64, empty_every=1)
    res = train(_cfg(tmp_path, tmp_path / "empty", val=str(tmp_path / "empty"), epochs=1), progress=False)
    assert res.epochs_done == 1
    assert res.history[0]["AP50"] in (0.0, -1.0)


def test_existing_run_needs_resume_and_missing_run_is_clear(tmp_path, small):
    train(_cfg(tmp_path, small, epochs=1), progress=False)
    with pytest.raises(FileExistsError, match="--resume"):
        train(_cfg(tmp_path, small, epochs=1), progress=False)
    with pytest.raises(CheckpointError, match="not found"):
        train(_cfg(tmp_path, small, "nothing-here"), resume=True, progress=False)


def test_freeze_keeps_early_stages_fixed(tmp_path, small):
    res = train(_cfg(tmp_path, small, epochs=1, freeze=2, weights="imagenet"), progress=False)
    from logodet.models.backbones import TimmFeatures

    fresh = TimmFeatures("efficientnet_lite0", weights="imagenet")
    trained = load_checkpoint(res.out / "last.pt")["model"]
    torch.testing.assert_close(trained["backbone.body.body.conv_stem.weight"], fresh.body.conv_stem.weight)
    assert not torch.equal(trained["backbone.body.body.blocks.5.0.conv_pw.weight"], fresh.body.blocks[5][0].conv_pw.weight)


def test_invalid_config_values():
    with pytest.raises(ValueError, match="multiple of 32"):
        TrainConfig(imgsz=100)
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
