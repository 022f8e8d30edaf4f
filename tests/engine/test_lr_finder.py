"""Learning-rate range test: the suggestion lies on the descending part of the loss curve."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import make_shapes_dataset

from logodet.engine.config import TrainConfig
from logodet.engine.lr_finder import find_lr, suggest_lr


def test_suggestion_on_a_synthetic_curve():
    lrs = list(np.logspace(-6, 0, 60))
    loss = [2.0 / (1 + math.exp(3 * (math.log10(lr) + 3))) + 0.2 + (5.0 if lr > 0.1 else 0.0) for lr in lrs]
    s = suggest_lr(lrs, loss)
    assert 3e-4 < s < 3e-3
    assert suggest_lr(lrs[:4], loss[:4]) is None
    assert suggest_lr(lrs, sorted(loss)) is None  # a loss that only rises has no descending part


def test_range_test_on_shapes(tmp_path):
    make_shapes_dataset(tmp_path / "d", n=16, size=64, seed=5)
    cfg = TrainConfig(data=str(tmp_path / "d"), out=str(tmp_path / "run"), imgsz=64, batch=4, weights="imagenet", freeze=2, seed=0)
    res = find_lr(cfg, start_lr=1e-5, end_lr=1.0, steps=36, progress=False)
    assert res.suggestion is not None and len(res.lrs) == len(res.smoothed) >= 20
    lrs, smooth = np.array(res.lrs), np.array(res.smoothed)
    at = int(np.argmin(np.abs(lrs - res.suggestion)))
    low = int(np.argmin(smooth))
    assert 0 < at < low, "the suggestion comes before the loss minimum"
    assert smooth[at] < smooth[0] and smooth[at + 1] < smooth[at - 1], "and the loss is falling there"
    saved = json.loads((tmp_path / "run" / "lr_find.json").read_text())
    assert saved["suggestion"] == pytest.approx(res.suggestion)
    assert (tmp_path / "run" / "lr_find.png").stat().st_size > 1000
    assert not (tmp_path / "run" / ".lr_find").exists() and not (tmp_path / "run" / "last.pt").exists()


def test_bad_ranges_are_rejected(tmp_path):
    cfg = TrainConfig(data=str(tmp_path), out=str(tmp_path / "run"))
    with pytest.raises(ValueError, match="start_lr < end_lr"):
        find_lr(cfg, start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="steps"):
        find_lr(cfg, steps=2)
