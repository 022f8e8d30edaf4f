"""A run killed with SIGKILL in the middle of an epoch and resumed ends where an uninterrupted run ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from conftest import make_shapes_dataset

from logodet.engine.checkpoint import load_checkpoint
from logodet.engine.config import TrainConfig
from logodet.engine.trainer import train

KILL_SCRIPT = """
import os, signal, sys
from logodet.engine.config import TrainConfig
from logodet.engine.hooks import Hook
from logodet.engine.trainer import train

class Kill(Hook):
    priority = 99
    def after_step(self, trainer):
        if trainer.step == {kill_step}:
            os.kill(os.getpid(), signal.SIGKILL)

train(TrainConfig(**{cfg!r}), hooks=[Kill()], progress=False)
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    make_shapes_dataset(root / "train", n=12, size=64, seed=7)
    make_shapes_dataset(root / "val", n=6, size=64, seed=8)
    return root


def test_sigkill_mid_epoch_then_resume_matches(tmp_path, data):
    cfg = dict(
        data=str(data / "train"),
        val=str(data / "val"),
        epochs=2,
        imgsz=64,
        batch=2,
        warmup_iters=2,
        weights="imagenet",
        freeze=2,
        seed=4,
        checkpoint_every=2,
        deterministic=True,
        ema_tau=3.0,
    )
    straight = train(TrainConfig(**cfg, out=str(tmp_path / "straight")), progress=False)

    killed = dict(cfg, out=str(tmp_path / "killed"))
    script = tmp_path / "kill.py"
    script.write_text(textwrap.dedent(KILL_SCRIPT.format(cfg=killed, kill_step=9)))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    saved = load_checkpoint(tmp_path / "killed" / "last.pt")
    assert (saved["epoch"], saved["batch_in_epoch"], saved["step"]) == (1, 2, 8), "the last checkpoint is mid-epoch"

    resumed = train(TrainConfig(out=str(tmp_path / "killed")), resume=True, progress=False)
    assert resumed.epochs_done == straight.epochs_done == 2
    for a, b in zip(straight.history, resumed.history, strict=True):
        for key in ("AP", "AP50", "AP75", "train_loss", "train_classification"):
            assert a[key] == pytest.approx(b[key], abs=1e-4), key
    wa = load_checkpoint(tmp_path / "straight" / "last.pt")
    wb = load_checkpoint(tmp_path / "killed" / "last.pt")
    for key in wa["model"]:
        torch.testing.assert_close(wa["model"][key], wb["model"][key], rtol=0, atol=1e-5, msg=key)
    assert wa["ema"]["updates"] == wb["ema"]["updates"] == 12
