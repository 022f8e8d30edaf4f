"""Planning a bench row from its CPU budget: one step-time probe per folder, epochs, the row's ``TrainConfig``."""

from __future__ import annotations

from pathlib import Path

import logodet.bench.budget as budget
from logodet.bench.budget import fit_epochs, step_seconds, train_config
from logodet.bench.realworld import RealWorldConfig


def test_step_time_is_measured_once_per_bench_folder(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(budget, "_probe_step_seconds", lambda cfg, ds, out: calls.append(out) or 1.25)
    cfg = RealWorldConfig(out=str(tmp_path))
    assert step_seconds(cfg, None, tmp_path) == 1.25 and step_seconds(cfg, None, tmp_path) == 1.25
    assert len(calls) == 1 and (tmp_path / "runs" / "step_seconds.json").is_file()
    assert step_seconds(RealWorldConfig(imgsz=416), None, tmp_path) == 1.25 and len(calls) == 2, "another input size is probed"
    assert step_seconds(RealWorldConfig(seconds_per_step=0.5), None, tmp_path) == 0.5 and len(calls) == 2
    assert step_seconds(RealWorldConfig(train_overrides=("freeze=4",)), None, tmp_path) == 1.25 and len(calls) == 3


def test_fit_epochs_rounds_to_the_nearest_epoch():
    cfg = RealWorldConfig(batch=8)
    assert [fit_epochs(cfg, 3000, 15.0, s) for s in (1.34, 1.1, 2.5, 100.0)] == [2, 2, 1, 1]
    assert fit_epochs(cfg, 3000, 60.0, 1.0) == 10


def test_train_overrides_win_over_the_bench_settings(tmp_path):
    plain = train_config(RealWorldConfig(), Path("d"), tmp_path, 8, 60.0, 3000)
    assert (plain.freeze, plain.unfreeze_epoch, plain.epochs, plain.budget_minutes, plain.imgsz) == (-1, 0, 8, 60.0, 320)
    assert plain.budget_fit and plain.warmup_iters == 150, "warm-up: a twentieth of the steps, at most 200"
    cfg = RealWorldConfig(train_overrides=("unfreeze_epoch=5", "backbone_lr_mult=0.1", "freeze=4"))
    tuned = train_config(cfg, Path("d"), tmp_path, 8, 60.0, 3000)
    assert (tuned.unfreeze_epoch, tuned.backbone_lr_mult, tuned.freeze) == (5, 0.1, 4)
