"""How many epochs a CPU budget buys: step-time probes and the ``TrainConfig`` of a bench row.

Every logodet row of a ``bench realworld`` folder is planned from one
step-time measurement (or ``seconds_per_step``), so equal budgets get equal
numbers of optimizer steps; the trainer's budget fitting then re-lays the
schedule if the machine turns out slower or faster than the probe.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logodet.io import atomic_write_json
from logodet.types import DetectionDataset

if TYPE_CHECKING:
    from logodet.bench.realworld import RealWorldConfig

__all__ = ["fit_epochs", "step_seconds", "train_config"]


def fit_epochs(cfg: RealWorldConfig, images: int, minutes: float, seconds_per_step: float) -> int:
    """Epochs of ``images`` that ``minutes`` of training hold, rounded to the nearest (at least 1).

    Rounded rather than floored: flooring threw away up to an epoch (1.8 epochs
    of data became 1); a last epoch that does not fit is cut by the budget,
    and the trainer still validates what it trained.

    Example:
        >>> from logodet.bench.realworld import RealWorldConfig
        >>> fit_epochs(RealWorldConfig(batch=8), 3000, 15.0, 1.34)
        2
    """
    steps = minutes * 60.0 / max(seconds_per_step, 1e-6)
    return max(1, round(steps * cfg.batch / max(images, 1)))


def step_seconds(cfg: RealWorldConfig, train_set: DetectionDataset, out: Path) -> float:
    """Seconds per optimizer step for planning: ``cfg.seconds_per_step``, else one probe per bench folder.

    Every logodet row of a bench folder (same model, input size, batch and
    freezing) is planned from the same measurement, so equal budgets get
    equal numbers of steps; probing each row separately let a probe slowed by
    other work on the machine cost a row an epoch.
    """
    if cfg.seconds_per_step > 0:
        return cfg.seconds_per_step
    cache = out / "runs" / "step_seconds.json"
    key = f"{cfg.model} imgsz={cfg.imgsz} batch={cfg.batch} freeze={cfg.freeze}" + "".join(f" {o}" for o in cfg.train_overrides)
    known = json.loads(cache.read_text()) if cache.is_file() else {}
    if key not in known:
        known[key] = _probe_step_seconds(cfg, train_set, out / "runs")
        atomic_write_json(cache, known, indent=2)
    return float(known[key])


def _probe_step_seconds(cfg: RealWorldConfig, train_set: DetectionDataset, out: Path) -> float:
    """Median seconds per optimizer step over a few steps after warm-up (the run itself is thrown away)."""
    import shutil
    import statistics

    from logodet.engine.hooks import Hook
    from logodet.engine.trainer import Trainer

    class Timer(Hook):
        priority = 0

        def __init__(self) -> None:
            self.times: list[float] = []

        def before_step(self, trainer: Any) -> None:
            self.t0 = time.perf_counter()

        def after_step(self, trainer: Any) -> None:
            self.times.append(time.perf_counter() - self.t0)
            if len(self.times) >= 12:
                trainer.request_stop("probe done")

    timer = Timer()
    scratch = out / ".probe"
    shutil.rmtree(scratch, ignore_errors=True)
    epochs = max(1, math.ceil(12 * cfg.batch / max(len(train_set), 1)))
    tcfg = dataclasses.replace(train_config(cfg, Path("probe"), scratch, epochs, 0.0, len(train_set)), ema=False)
    Trainer(tcfg, hooks=[timer], train_dataset=train_set).fit(progress=False)
    shutil.rmtree(scratch, ignore_errors=True)
    return statistics.median(timer.times[min(3, len(timer.times) - 1) :])


def train_config(cfg: RealWorldConfig, data_dir: Path, out: Path, epochs: int, minutes: float, images: int) -> Any:
    """The ``TrainConfig`` of one logodet row: the bench settings, then ``cfg.train_overrides``.

    Raises:
        ConfigError: an override names no ``TrainConfig`` field or has a bad value.

    Example:
        >>> from logodet.bench.realworld import RealWorldConfig
        >>> tcfg = train_config(RealWorldConfig(train_overrides=("unfreeze_epoch=5",)), Path("d"), Path("o"), 8, 60.0, 3000)
        >>> tcfg.freeze, tcfg.unfreeze_epoch, tcfg.epochs
        (-1, 5, 8)
    """
    from logodet.config import load_config
    from logodet.engine.config import TrainConfig

    base = {
        "data": str(data_dir),
        "out": str(out),
        "model": cfg.model,
        "epochs": epochs,
        "imgsz": cfg.imgsz,
        "batch": cfg.batch,
        "lr": cfg.lr,
        "freeze": cfg.freeze,
        "seed": cfg.seed,
        "budget_minutes": minutes,
        "budget_fit": True,  # a probe slower or faster than the run itself does not cut or waste the schedule
        "warmup_iters": min(200, max(10, epochs * images // cfg.batch // 20)),
    }
    overrides = [f"{k}={json.dumps(v)}" for k, v in base.items()] + list(cfg.train_overrides)
    return load_config(TrainConfig, overrides=overrides)
