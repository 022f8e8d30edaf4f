"""Training hooks: what happens around each step and epoch, in a documented order.

The trainer calls, for every hook sorted by ``priority`` (lower first, ties
in the order given)::

    before_train
    for each epoch:
        before_epoch
        for each optimizer step (``accumulate`` batches):
            before_step
            <forward, backward, optimizer step>
            after_step
        after_epoch
    after_train

The built-in hooks and their priorities:

====  ===================  ===================================================================
 10   UnfreezeHook         before_epoch: releases frozen backbone stages on schedule
 20   LRSchedulerHook      after_step: advances the learning-rate schedule
 30   EMAHook              after_step: folds the weights into the moving average
 40   EvalHook             after_epoch: validation metrics into ``trainer.row``; best so far
 45   EarlyStoppingHook    after_epoch: stops when the metric stalls for ``patience`` epochs
 46   BudgetHook           after_step: stops once ``budget_minutes`` of training are spent;
                           after_epoch: re-fits ``epochs`` to the budget (``budget_fit``)
 50   CheckpointHook       after_step every ``checkpoint_every`` steps, after_epoch: last.pt / best.pt
 60   CSVLogger            after_epoch: metrics.csv (always)
 61   TensorBoardLogger    after_step / after_epoch (``loggers: [tensorboard]``, when installed)
 62   MLflowLogger         after_step / after_epoch (``loggers: [mlflow]``, when installed)
 70   PlotHook             after_epoch: learning_curve.png
====  ===================  ===================================================================

Hooks that write files run on rank 0 only (``trainer.dist.is_main``). A user
hook (for example the pruning hook of ``logodet tune``) subclasses
:class:`Hook` and is passed to ``train(..., hooks=[...])``.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from typing import TYPE_CHECKING, Any

from logodet.io import atomic_write_bytes

if TYPE_CHECKING:
    from logodet.engine.trainer import Trainer

__all__ = [
    "BudgetHook",
    "CSVLogger",
    "CheckpointHook",
    "EMAHook",
    "EarlyStoppingHook",
    "EvalHook",
    "Hook",
    "LRSchedulerHook",
    "MLflowLogger",
    "PlotHook",
    "TensorBoardLogger",
    "UnfreezeHook",
    "default_hooks",
]


class Hook:
    """Base class: override the events you need; ``priority`` orders hooks (lower runs first)."""

    priority: int = 50

    def before_train(self, trainer: Trainer) -> None:
        """Once, after the model, optimizer and data are ready (and a resumed state is loaded)."""

    def before_epoch(self, trainer: Trainer) -> None:
        """At the start of each epoch (also of a partly done epoch after resuming)."""

    def before_step(self, trainer: Trainer) -> None:
        """Before each optimizer step's batches."""

    def after_step(self, trainer: Trainer) -> None:
        """After each optimizer step; ``trainer.last_losses`` holds its losses."""

    def after_epoch(self, trainer: Trainer) -> None:
        """At the end of each epoch; ``trainer.row`` holds the epoch's numbers."""

    def after_train(self, trainer: Trainer) -> None:
        """Once, when training ends (finished, stopped early or out of budget)."""


class UnfreezeHook(Hook):
    """Release frozen backbone stages from ``unfreeze_epoch`` on, all at once or one every ``unfreeze_every`` epochs."""

    priority = 10

    def before_epoch(self, trainer: Trainer) -> None:
        cfg = trainer.cfg
        if not cfg.unfreeze_epoch or trainer.initial_frozen == 0:
            return
        epoch = trainer.epoch + 1
        if epoch < cfg.unfreeze_epoch:
            target = trainer.initial_frozen
        elif cfg.unfreeze_every <= 0:
            target = 0
        else:
            target = max(0, trainer.initial_frozen - 1 - (epoch - cfg.unfreeze_epoch) // cfg.unfreeze_every)
        if target != trainer.frozen:
            trainer.set_frozen(target)


class LRSchedulerHook(Hook):
    """Advance the per-step learning-rate schedule."""

    priority = 20

    def after_step(self, trainer: Trainer) -> None:
        trainer.scheduler.step()


class EMAHook(Hook):
    """Update the weight average after each optimizer step (when ``ema`` is on)."""

    priority = 30

    def after_step(self, trainer: Trainer) -> None:
        if trainer.ema is not None:
            trainer.ema.update(trainer.net)


class EvalHook(Hook):
    """Validate the model (the EMA weights when kept) after each epoch; track the best ``metric``."""

    priority = 40

    def after_epoch(self, trainer: Trainer) -> None:
        row = trainer.row
        if trainer.val_dataset is not None and trainer.dist.is_main:
            metrics = trainer.evaluate()
            row.update({k: metrics[k] for k in ("AP", "AP50", "AP75", "AR100", "best_f1") if k in metrics})
        score = row.get(trainer.cfg.metric)
        if score is None:  # no validation: the lowest training loss is the best
            score = -row.get("train_loss", math.inf)
        trainer.is_best = score > trainer.best
        if trainer.is_best:
            trainer.best, trainer.best_epoch = float(score), int(row["epoch"])


class EarlyStoppingHook(Hook):
    """Stop when ``metric`` has not improved for ``patience`` epochs."""

    priority = 45

    def after_epoch(self, trainer: Trainer) -> None:
        patience = trainer.cfg.patience
        if patience and trainer.row["epoch"] - trainer.best_epoch >= patience:
            trainer.request_stop(f"no {trainer.cfg.metric} improvement for {patience} epochs (best at epoch {trainer.best_epoch})")


class BudgetHook(Hook):
    """Stop once the training time (validation excluded) exceeds ``budget_minutes``.

    With ``budget_fit``, after every epoch the optimizer steps still to run
    become what the remaining budget holds at the last epoch's pace, the
    learning-rate schedule is re-laid to end at that step (it may fall inside
    an epoch, which the budget then stops) and ``epochs`` becomes the epochs
    that hold it, so a machine slower or faster than planned still finishes
    its schedule inside the budget. Rank 0's estimate is used on every process.
    """

    priority = 46

    def before_epoch(self, trainer: Trainer) -> None:
        self.start, self.start_step = trainer.train_seconds(), trainer.step

    def after_epoch(self, trainer: Trainer) -> None:
        cfg = trainer.cfg
        if not (cfg.budget_minutes and cfg.budget_fit) or trainer.should_stop:
            return
        from logodet.engine import distributed as dist_utils

        now = trainer.train_seconds()
        pace = max((now - self.start) / max(1, trainer.step - self.start_step), 1e-9)  # seconds per step, last epoch
        total = trainer.step + max(0, int((cfg.budget_minutes * 60.0 - now) / pace))
        total = int(dist_utils.broadcast_object(trainer.dist, total))
        epochs = max(trainer.epoch, math.ceil(total / trainer.steps_per_epoch))
        if (epochs, total) != (cfg.epochs, trainer.total_steps):
            trainer.set_epochs(epochs, total)

    def after_step(self, trainer: Trainer) -> None:
        budget = trainer.cfg.budget_minutes
        if budget and trainer.train_seconds() >= budget * 60.0:
            trainer.request_stop(f"training budget of {budget:g} minutes spent")


class CheckpointHook(Hook):
    """``last.pt`` every ``checkpoint_every`` steps and after each epoch; ``best.pt`` when the epoch is the best."""

    priority = 50

    def after_step(self, trainer: Trainer) -> None:
        every = trainer.cfg.checkpoint_every
        if every and trainer.step % every == 0 and trainer.batch_in_epoch < trainer.batches_per_epoch and not trainer.should_stop:
            trainer.save("last.pt")

    def after_epoch(self, trainer: Trainer) -> None:
        trainer.save("last.pt")
        if trainer.is_best:
            trainer.save("best.pt")


class CSVLogger(Hook):
    """``metrics.csv``: one row per epoch (columns grow when later rows bring new keys)."""

    priority = 60

    def after_epoch(self, trainer: Trainer) -> None:
        if not trainer.dist.is_main:
            return
        keys: list[str] = []
        for row in trainer.history:
            keys += [k for k in row if k not in keys]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=keys)
        writer.writeheader()
        writer.writerows(trainer.history)
        atomic_write_bytes(trainer.out / "metrics.csv", buf.getvalue().encode())


class TensorBoardLogger(Hook):
    """Losses and learning rate (step 1, then every ``every`` steps), metrics per epoch, to ``out/tensorboard`` (needs tensorboard)."""

    priority = 61

    def __init__(self, every: int = 10) -> None:
        self.every, self.writer = every, None

    def before_train(self, trainer: Trainer) -> None:
        if trainer.dist.is_main:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(trainer.out / "tensorboard"), purge_step=trainer.step or None)

    def after_step(self, trainer: Trainer) -> None:
        if self.writer is not None and (trainer.step % self.every == 0 or trainer.step == 1):
            for k, v in trainer.last_losses.items():
                self.writer.add_scalar(f"train/{k}", v, trainer.step)
            self.writer.add_scalar("train/lr", trainer.current_lr(), trainer.step)

    def after_epoch(self, trainer: Trainer) -> None:
        if self.writer is not None:
            for k, v in trainer.row.items():
                if k != "epoch" and isinstance(v, (int, float)):
                    self.writer.add_scalar(f"epoch/{k}", v, int(trainer.row["epoch"]))
            self.writer.flush()

    def after_train(self, trainer: Trainer) -> None:
        if self.writer is not None:
            self.writer.close()


class MLflowLogger(Hook):
    """Parameters, per-step losses and per-epoch metrics to the active MLflow tracking URI (needs mlflow)."""

    priority = 62

    def __init__(self, every: int = 10) -> None:
        self.every, self.mlflow, self.own_run = every, None, False

    def before_train(self, trainer: Trainer) -> None:
        if not trainer.dist.is_main:
            return
        import mlflow

        self.mlflow = mlflow
        if mlflow.active_run() is None:
            mlflow.start_run(run_name=trainer.out.name)
            self.own_run = True
        from logodet.config import config_to_dict

        mlflow.log_params({k: str(v) for k, v in config_to_dict(trainer.cfg).items()})

    def after_step(self, trainer: Trainer) -> None:
        if self.mlflow is not None and (trainer.step % self.every == 0 or trainer.step == 1):
            values = {f"train_{k}": v for k, v in trainer.last_losses.items()} | {"lr": trainer.current_lr()}
            self.mlflow.log_metrics(values, step=trainer.step)

    def after_epoch(self, trainer: Trainer) -> None:
        if self.mlflow is not None:
            values = {k: float(v) for k, v in trainer.row.items() if k != "epoch" and isinstance(v, (int, float))}
            self.mlflow.log_metrics(values, step=int(trainer.row["epoch"]))

    def after_train(self, trainer: Trainer) -> None:
        if self.mlflow is not None:
            for name in ("best.pt", "metrics.csv", "learning_curve.png"):
                if (trainer.out / name).is_file():
                    self.mlflow.log_artifact(str(trainer.out / name))
            if self.own_run:
                self.mlflow.end_run()


class PlotHook(Hook):
    """``learning_curve.png`` after each epoch."""

    priority = 70

    def after_epoch(self, trainer: Trainer) -> None:
        if trainer.dist.is_main:
            from logodet.engine.plots import plot_learning_curve

            plot_learning_curve(trainer.history, trainer.out / "learning_curve.png")


def _optional_logger(name: str, factory: Any, module: str) -> Hook | None:
    try:
        __import__(module)
    except ImportError:
        warnings.warn(f"loggers: {name} is not installed (pip install {name}); logging to metrics.csv only", stacklevel=3)
        return None
    return factory()


def default_hooks(loggers: tuple[str, ...] = ()) -> list[Hook]:
    """The built-in hooks in their documented order; ``loggers`` adds TensorBoard / MLflow when installed."""
    hooks: list[Hook] = [
        UnfreezeHook(),
        LRSchedulerHook(),
        EMAHook(),
        EvalHook(),
        EarlyStoppingHook(),
        BudgetHook(),
        CheckpointHook(),
        CSVLogger(),
        PlotHook(),
    ]
    if "tensorboard" in loggers and (h := _optional_logger("tensorboard", TensorBoardLogger, "tensorboard")) is not None:
        hooks.append(h)
    if "mlflow" in loggers and (h := _optional_logger("mlflow", MLflowLogger, "mlflow")) is not None:
        hooks.append(h)
    return hooks
