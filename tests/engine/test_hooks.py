"""Hooks: the documented call order, early stopping, unfreezing, accumulation, budget, optional loggers."""

from __future__ import annotations

import sys
import types

import pytest
import torch
from conftest import make_shapes_dataset

from logodet.engine.checkpoint import load_checkpoint
from logodet.engine.config import TrainConfig
from logodet.engine.hooks import Hook, default_hooks
from logodet.engine.trainer import train


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    make_shapes_dataset(root / "d", n=8, size=64, seed=5)
    return root / "d"


def _cfg(tmp_path, data, name="run", **kw):
    base = dict(data=str(data), out=str(tmp_path / name), epochs=2, imgsz=64, batch=4, warmup_iters=1, weights="none", freeze=0, seed=0)
    return TrainConfig(**(base | kw))


class Recorder(Hook):
    priority = 99

    def __init__(self):
        self.events = []

    def __getattribute__(self, name):
        if name in ("before_train", "before_epoch", "before_step", "after_step", "after_epoch", "after_train"):
            events = object.__getattribute__(self, "events")
            return lambda trainer: events.append(name)
        return object.__getattribute__(self, name)


def test_events_come_in_the_documented_order(tmp_path, tiny):
    rec = Recorder()
    train(_cfg(tmp_path, tiny), hooks=[rec], progress=False)
    epoch = ["before_epoch", *["before_step", "after_step"] * 2, "after_epoch"]
    assert rec.events == ["before_train", *epoch, *epoch, "after_train"]


def test_builtin_hooks_are_sorted_by_priority():
    names = [type(h).__name__ for h in default_hooks()]
    assert names[:5] == ["UnfreezeHook", "LRSchedulerHook", "EMAHook", "EvalHook", "EarlyStoppingHook"]
    assert names.index("EvalHook") < names.index("CheckpointHook") < names.index("CSVLogger")
    prios = [h.priority for h in default_hooks()]
    assert prios == sorted(prios)


class FlatMetric(Hook):
    """Writes a metric that never improves, before EvalHook reads it."""

    priority = 35

    def after_epoch(self, trainer):
        trainer.row["AP50"] = 0.5


def test_early_stopping_after_patience(tmp_path, tiny):
    res = train(_cfg(tmp_path, tiny, epochs=6, patience=2), hooks=[FlatMetric()], progress=False)
    assert res.epochs_done == 3 and "no AP50 improvement for 2 epochs" in res.stop_reason
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    assert state["stopped"] and state["best_epoch"] == 1
    again = train(TrainConfig(out=str(tmp_path / "run")), resume=True, progress=False)
    assert again.epochs_done == 3, "a stopped run stays stopped when resumed"


def test_stages_unfreeze_one_per_epoch(tmp_path, tiny):
    res = train(_cfg(tmp_path, tiny, epochs=3, freeze=-1, unfreeze_epoch=2, unfreeze_every=1, weights="imagenet"), progress=False)
    frozen = [row["frozen_stages"] for row in res.history]
    assert frozen[0] == frozen[1] + 1 == frozen[2] + 2 and frozen[0] >= 6


def test_whole_backbone_frozen_never_changes(tmp_path, tiny):
    from logodet.models.backbones import TimmFeatures

    res = train(_cfg(tmp_path, tiny, epochs=1, freeze=-1, weights="imagenet", ema=False), progress=False)
    trained = load_checkpoint(res.out / "last.pt")["model"]
    fresh = TimmFeatures("efficientnet_lite0", weights="imagenet")
    torch.testing.assert_close(trained["backbone.body.body.blocks.5.0.conv_pw.weight"], fresh.body.blocks[5][0].conv_pw.weight)


def test_gradient_accumulation_counts_optimizer_steps(tmp_path, tiny):
    res = train(_cfg(tmp_path, tiny, batch=2, accumulate=2, optimizer="sgd", schedule="step"), progress=False)
    state = load_checkpoint(res.out / "last.pt")
    assert state["step"] == 4  # 4 batches per epoch, 2 per step, 2 epochs
    assert all(s["momentum_buffer"] is not None for s in state["optimizer"]["state"].values())
    assert state["scheduler"]["last_epoch"] == 4


def test_budget_stops_after_the_first_step(tmp_path, tiny):
    res = train(_cfg(tmp_path, tiny, epochs=5, budget_minutes=1e-6), progress=False)
    assert res.epochs_done == 1 and "budget" in res.stop_reason
    assert load_checkpoint(res.out / "last.pt")["step"] == 1


def test_missing_tensorboard_warns_and_trains(tmp_path, tiny, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import fails as if not installed
    with pytest.warns(UserWarning, match="tensorboard is not installed"):
        res = train(_cfg(tmp_path, tiny, epochs=1, loggers=("tensorboard",)), progress=False)
    assert (res.out / "metrics.csv").is_file()


def test_mlflow_logger_records_params_metrics_and_artifacts(tmp_path, tiny, monkeypatch):
    calls = {"params": {}, "metrics": [], "artifacts": [], "runs": 0}
    fake = types.SimpleNamespace(
        active_run=lambda: None,
        start_run=lambda run_name=None: calls.__setitem__("runs", calls["runs"] + 1),
        end_run=lambda: None,
        log_params=lambda p: calls["params"].update(p),
        log_metrics=lambda m, step=None: calls["metrics"].append((step, m)),
        log_artifact=lambda path: calls["artifacts"].append(path),
    )
    monkeypatch.setitem(sys.modules, "mlflow", fake)
    train(_cfg(tmp_path, tiny, epochs=2, loggers=("mlflow",), val=str(tiny)), progress=False)
    assert calls["runs"] == 1 and calls["params"]["epochs"] == "2"
    epoch_logs = [m for step, m in calls["metrics"] if "AP50" in m]
    assert len(epoch_logs) == 2 and all("train_loss" in m for m in epoch_logs)
    assert any(a.endswith("best.pt") for a in calls["artifacts"])


def test_tensorboard_logger_writes_scalars(tmp_path, tiny):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    res = train(_cfg(tmp_path, tiny, epochs=2, loggers=("tensorboard",), val=str(tiny)), progress=False)
    events = EventAccumulator(str(res.out / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"epoch/AP50", "epoch/train_loss", "train/lr", "train/loss"} <= tags
    assert [e.step for e in events.Scalars("epoch/AP50")] == [1, 2]
    assert [e.step for e in events.Scalars("train/loss")] == [1]


def _fake_clock(monkeypatch, seconds_per_step):
    """Training time as ``seconds_per_step`` per optimizer step, whatever the machine's speed."""
    from logodet.engine.trainer import Trainer

    monkeypatch.setattr(Trainer, "train_seconds", lambda self: seconds_per_step * self.step)


@pytest.mark.parametrize("planned", [2, 8])
def test_budget_fit_refits_epochs_and_ends_the_schedule(tmp_path, tiny, monkeypatch, planned):
    _fake_clock(monkeypatch, 6.0)  # 8 images / batch 4 = 2 steps: 12 s an epoch, so a 1-minute budget holds 5
    cfg = _cfg(tmp_path, tiny, epochs=planned, budget_minutes=1.0, budget_fit=True, warmup_iters=0, checkpoint_every=0)
    res = train(cfg, progress=False)
    assert res.epochs_done == 5, f"planned {planned}, the budget holds 5"
    assert res.history[-1]["lr"] == pytest.approx(cfg.lr * cfg.min_lr_ratio, rel=1e-3), "the schedule ends with the budget"
    state = load_checkpoint(res.out / "last.pt")
    assert state["config"]["epochs"] == 5 and state["total_steps"] == 10, "a resumed run keeps the re-fitted plan"


def test_budget_fit_ends_the_schedule_inside_an_epoch(tmp_path, tiny, monkeypatch):
    _fake_clock(monkeypatch, 6.0)  # 54 s hold 9 steps: 4 epochs and one step of the 5th
    cfg = _cfg(tmp_path, tiny, epochs=2, budget_minutes=0.9, budget_fit=True, warmup_iters=0, checkpoint_every=0)
    res = train(cfg, progress=False)
    assert res.epochs_done == 5 and "budget" in res.stop_reason
    assert res.history[-1]["lr"] == pytest.approx(cfg.lr * cfg.min_lr_ratio, rel=1e-3), "the schedule ends where the budget does"
    assert load_checkpoint(res.out / "last.pt")["step"] == 9


def test_without_budget_fit_the_plan_stands(tmp_path, tiny, monkeypatch):
    _fake_clock(monkeypatch, 6.0)
    res = train(_cfg(tmp_path, tiny, epochs=2, budget_minutes=1.0, warmup_iters=0), progress=False)
    assert res.epochs_done == 2
    res = train(_cfg(tmp_path, tiny, name="nobudget", epochs=2, budget_fit=True, warmup_iters=0), progress=False)
    assert res.epochs_done == 2, "budget_fit without a budget changes nothing"
    res = train(_cfg(tmp_path, tiny, name="cut", epochs=8, budget_minutes=1.0, warmup_iters=0), progress=False)
    assert res.epochs_done == 5 and "budget" in res.stop_reason and res.history[-1]["lr"] > 2 * 2e-3 * 0.05, "cut mid-schedule"


def test_budget_fit_survives_a_resume(tmp_path, tiny, monkeypatch):
    _fake_clock(monkeypatch, 6.0)
    kw = dict(epochs=2, budget_minutes=0.9, budget_fit=True, warmup_iters=0, checkpoint_every=0)
    whole = train(_cfg(tmp_path, tiny, name="whole", **kw), progress=False)
    train(_cfg(tmp_path, tiny, name="split", **kw), progress=False, stop_after_epoch=3)
    resumed = train(_cfg(tmp_path, tiny, name="split", **kw), resume=True, progress=False)
    assert [r["lr"] for r in resumed.history] == pytest.approx([r["lr"] for r in whole.history])
    assert resumed.epochs_done == whole.epochs_done == 5
