"""``torchrun --nproc_per_node 2`` on the CPU (gloo): only rank 0 writes, and the model matches single-process training."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys

import pytest
from conftest import make_shapes_dataset


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(run):
    return list(csv.DictReader((run / "metrics.csv").open()))


@pytest.mark.slow
def test_two_processes_match_one(tmp_path):
    make_shapes_dataset(tmp_path / "d", n=16, size=64, seed=5)
    make_shapes_dataset(tmp_path / "v", n=8, size=64, seed=6)
    common = ["--data", str(tmp_path / "d"), "--val", str(tmp_path / "v"), "--epochs", "4", "--imgsz", "64", "--weights", "imagenet"]
    common += ["--freeze", "2", "--no-progress", "--set", "warmup_iters=2", "--seed", "1"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(_free_port())]
    two = subprocess.run(
        [*torchrun, "-m", "logodet.cli.main", "train", *common, "--out", str(tmp_path / "two"), "--batch", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stdout.count("done: 4 epochs") == 1, "only rank 0 reports"
    one = subprocess.run(
        [sys.executable, "-m", "logodet.cli.main", "train", *common, "--out", str(tmp_path / "one"), "--batch", "4"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert one.returncode == 0, one.stderr[-3000:]
    a, b = _rows(tmp_path / "one"), _rows(tmp_path / "two")
    assert len(a) == len(b) == 4
    # same global batch (2 x 2 vs 4), same images per step; FCOS normalises its loss per process, so not bit-equal
    assert abs(float(a[-1]["AP50"]) - float(b[-1]["AP50"])) < 0.1
    assert float(b[-1]["AP50"]) > float(b[0]["AP50"])
    assert abs(float(a[-1]["train_loss"]) - float(b[-1]["train_loss"])) < 0.15 * float(a[-1]["train_loss"])
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
