"""The training loop: transfer learning with hooks, exact resume, gradient accumulation, EMA and torchrun.

:class:`Trainer` holds the state of a run (model, optimizer, schedule, EMA,
position in the data); what happens around each step and epoch lives in
:mod:`logodet.engine.hooks`. Everything random is a function of the seed and
the position: image order per epoch (:mod:`logodet.engine.sampler`),
augmentations per image (:mod:`logodet.engine.data`) and the global RNG per
optimizer step. So a run killed at any point and resumed from ``last.pt``
ends where an uninterrupted run ends.

Example:
    >>> from logodet.engine.config import TrainConfig
    >>> result = train(TrainConfig(data="runs/synth", val="runs/synth-val", out="runs/exp", epochs=5))  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from logodet.config import config_from_dict, config_to_dict, save_config
from logodet.datasets.formats.coco import load_coco
from logodet.engine import distributed as dist_utils
from logodet.engine.checkpoint import get_rng_state, load_checkpoint, save_checkpoint
from logodet.engine.config import TrainConfig
from logodet.engine.data import DetectionTrainData, collate
from logodet.engine.ema import ModelEMA
from logodet.engine.hooks import Hook, default_hooks
from logodet.engine.precision import autocast_modules, cpu_has_bf16
from logodet.engine.sampler import EpochSampler
from logodet.engine.schedules import lr_multiplier
from logodet.engine.setup import apply_freeze, build_optimizer, num_stages, seed_all, select_device, set_train_mode
from logodet.models.zoo import build_model
from logodet.progress import make_progress
from logodet.types import DetectionDataset

__all__ = ["TrainResult", "Trainer", "evaluate_model", "train"]


@dataclass
class TrainResult:
    """What a finished (or stopped) run produced."""

    out: Path
    epochs_done: int
    best_metric: float
    history: list[dict] = field(default_factory=list)
    stop_reason: str = ""


def evaluate_model(model: nn.Module, dataset: DetectionDataset, class_names: list[str], imgsz: int, conf: float = 0.01) -> dict:
    """COCO metrics (``metrics.json`` keys) of an in-memory model on ``dataset``."""
    from logodet.evaluation.detection import evaluate_coco
    from logodet.inference.predictor import Predictor, predict_coco_results

    was_training = model.training
    model.eval()
    predictor = Predictor.from_model(model, class_names, imgsz, conf=conf)
    results = predict_coco_results(predictor, dataset, conf=conf, progress=False)
    if was_training:
        set_train_mode(model)
    return evaluate_coco(dataset, results).to_dict()


class Trainer:
    """One training run; see :mod:`logodet.engine.hooks` for the order of events.

    Attributes hooks may read: ``cfg``, ``out``, ``dist``, ``net`` (the model),
    ``ema``, ``optimizer``, ``scheduler``, ``epoch`` (0-based, current),
    ``batch_in_epoch``, ``batches_per_epoch``, ``step`` (optimizer steps
    done), ``last_losses``, ``row`` (the current epoch's numbers),
    ``history``, ``best``, ``best_epoch``, ``is_best``, ``should_stop``.
    """

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        resume: bool = False,
        hooks: list[Hook] | None = None,
        train_dataset: DetectionDataset | None = None,
        val_dataset: DetectionDataset | None = None,
    ) -> None:
        self.out = Path(cfg.out)
        state = None
        if resume:
            state = load_checkpoint(self.out / "last.pt")
            cfg = config_from_dict(TrainConfig, {**state["config"], "out": str(self.out)})
        self.cfg, self.state = cfg, state
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        if cfg.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        self.device = select_device(cfg)
        self.dist = dist_utils.setup(self.device)
        if self.device.type == "cuda" and self.dist.enabled:
            self.device = torch.device("cuda", self.dist.local_rank)
        self.train_dataset = train_dataset if train_dataset is not None else load_coco(cfg.data)
        self.val_dataset = val_dataset if val_dataset is not None else (load_coco(cfg.val) if cfg.val else None)
        self.class_names = list(self.train_dataset.class_names) if state is None else list(state["class_names"])
        if self.val_dataset is not None and set(self.val_dataset.class_names) - set(self.class_names):
            extra = sorted(set(self.val_dataset.class_names) - set(self.class_names))
            raise ValueError(f"{cfg.val or 'validation data'}: classes {extra} are not in the training data")
        if state is None and (self.out / "last.pt").exists():
            raise FileExistsError(f"{self.out}: already holds a run; pass --resume to continue it or choose another --out")
        if self.dist.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            save_config(cfg, self.out / "train_config.yaml")

        seed_all(cfg.seed)
        kwargs: dict[str, Any] = {"head_dropout": cfg.head_dropout} if cfg.head_dropout > 0 else {}
        weights = "none" if state is not None else cfg.weights
        self.net = build_model(cfg.model, num_classes=len(self.class_names), weights=weights, imgsz=cfg.imgsz, **kwargs).to(self.device)
        if cfg.channels_last and self.device.type == "cpu":
            self.net = self.net.to(memory_format=torch.channels_last)  # the EMA copy below inherits the layout
        self.initial_frozen = num_stages(self.net) if cfg.freeze == -1 else min(cfg.freeze, num_stages(self.net))
        self.frozen = self.initial_frozen
        apply_freeze(self.net, self.frozen)
        self.data = DetectionTrainData(self.train_dataset, cfg.imgsz, augment=cfg.augment, seed=cfg.seed)
        per_rank = -(-len(self.data) // self.dist.world)
        self.batches_per_epoch = math.ceil(per_rank / cfg.batch)
        self.steps_per_epoch = math.ceil(self.batches_per_epoch / cfg.accumulate)
        self.total_steps = self.steps_per_epoch * cfg.epochs
        self.optimizer = build_optimizer(self.net, cfg)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_multiplier(cfg, self.total_steps))
        self.ema = ModelEMA(self.net, cfg.ema_decay, cfg.ema_tau) if cfg.ema else None
        self.hooks = sorted([*default_hooks(tuple(cfg.loggers)), *(hooks or [])], key=lambda h: h.priority)

        self.epoch, self.batch_in_epoch, self.step = 0, 0, 0
        self.history: list[dict] = []
        self.row: dict[str, Any] = {}
        self.sums: dict[str, float] = {}
        self.seen, self.epoch_seconds, self.elapsed = 0, 0.0, 0.0
        self.best, self.best_epoch, self.is_best = -math.inf, 0, False
        self.should_stop, self.stop_reason = False, ""
        self.last_losses: dict[str, float] = {}
        self._clock = time.perf_counter()
        if state is not None:
            self._load_state(state)
        self.model: nn.Module = self.net
        self._wrap()

    # --- state ------------------------------------------------------------------------------------

    def _load_state(self, state: dict) -> None:
        self.net.load_state_dict(state.get("train_model", state["model"]))
        self.set_frozen(int(state.get("frozen", self.frozen)), wrap=False)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if "total_steps" in state:  # a schedule re-laid by budget fitting
            self.set_epochs(self.cfg.epochs, int(state["total_steps"]))
        if self.ema is not None and "ema" in state:
            self.ema.load_state_dict(state["ema"])
        self.epoch, self.batch_in_epoch = int(state["epoch"]), int(state.get("batch_in_epoch", 0))
        self.step = int(state.get("step", self.epoch * self.steps_per_epoch))
        self.history, self.best = list(state["history"]), float(state["best_metric"])
        self.best_epoch = int(state.get("best_epoch", 0))
        self.sums, self.seen = dict(state.get("sums", {})), int(state.get("seen", 0))
        self.epoch_seconds, self.elapsed = float(state.get("epoch_seconds", 0.0)), float(state.get("elapsed", 0.0))
        self.should_stop, self.stop_reason = bool(state.get("stopped", False)), str(state.get("stop_reason", ""))

    def checkpoint(self) -> dict:
        """Everything needed to run the model (``model``: the EMA weights when kept) and to resume the run."""
        weights = (self.ema.module if self.ema is not None else self.net).state_dict()
        state = {
            "model": weights,
            "model_name": self.cfg.model,
            "class_names": self.class_names,
            "imgsz": self.cfg.imgsz,
            "config": config_to_dict(self.cfg),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "step": self.step,
            "total_steps": self.total_steps,
            "frozen": self.frozen,
            "history": self.history,
            "best_metric": self.best,
            "best_epoch": self.best_epoch,
            "sums": self.sums,
            "seen": self.seen,
            "epoch_seconds": self.epoch_seconds,
            "elapsed": self.train_seconds(),
            "stopped": self.should_stop,
            "stop_reason": self.stop_reason,
            "rng": get_rng_state(),
        }
        if self.ema is not None:
            state["train_model"] = self.net.state_dict()
            state["ema"] = self.ema.state_dict()
        return state

    def save(self, name: str) -> None:
        """Write the checkpoint to ``out/name`` (rank 0 only)."""
        if self.dist.is_main:
            save_checkpoint(self.checkpoint(), self.out / name)

    # --- helpers for hooks --------------------------------------------------------------------------

    def set_frozen(self, stages: int, wrap: bool = True) -> None:
        """Freeze the first ``stages`` backbone stages (the rest train)."""
        self.frozen = int(stages)
        apply_freeze(self.net, self.frozen)
        if wrap:
            self._wrap()

    def _wrap(self) -> None:
        """(Re)wrap the model for multi-process training; needed again when the set of trainable parameters changes."""
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = nn.parallel.DistributedDataParallel(self.net, device_ids=ids)
        else:
            self.model = self.net

    def request_stop(self, reason: str) -> None:
        """End training after the current epoch's end-of-epoch work."""
        if not self.should_stop:
            self.should_stop, self.stop_reason = True, reason

    def set_epochs(self, epochs: int, total_steps: int | None = None) -> None:
        """Plan ``epochs``; re-lay the LR schedule over ``total_steps`` (default: whole epochs; may end mid-epoch)."""
        self.cfg = dataclasses.replace(self.cfg, epochs=max(1, int(epochs)))
        self.total_steps = int(total_steps) if total_steps is not None else self.steps_per_epoch * self.cfg.epochs
        fn = lr_multiplier(self.cfg, self.total_steps)
        self.scheduler.lr_lambdas = [fn] * len(self.optimizer.param_groups)

    def current_lr(self) -> float:
        """Learning rate of the head's weights now."""
        groups = self.optimizer.param_groups
        return float(next((g["lr"] for g in groups if g.get("name") == "head"), groups[-1]["lr"]))

    def train_seconds(self) -> float:
        """Training time so far (validation excluded), across resumes."""
        return self.elapsed + (time.perf_counter() - self._clock if self._running else 0.0)

    def evaluate(self) -> dict:
        """COCO metrics of the validated weights (EMA when kept) on the validation data."""
        model = self.ema.module if self.ema is not None else self.net
        return evaluate_model(model, self.val_dataset, self.class_names, self.cfg.imgsz, self.cfg.val_conf)

    def _call(self, event: str) -> None:
        for hook in self.hooks:
            getattr(hook, event)(self)
        if self.dist.enabled and event in ("after_step", "after_epoch"):
            # rank 0 decides (it validates and its clock counts): every process stops at the same step
            self.should_stop, self.stop_reason = dist_utils.broadcast_object(self.dist, (self.should_stop, self.stop_reason))  # type: ignore[misc]

    # --- the loop -------------------------------------------------------------------------------------

    _running = False

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.cfg.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        if self.cfg.amp and self.device.type == "cpu" and self.frozen > 0 and cpu_has_bf16():
            return autocast_modules(self._frozen_modules(), "cpu")
        return contextlib.nullcontext()

    def _frozen_modules(self) -> list[nn.Module]:
        """The frozen backbone stages as callable modules (the stem stage is a list of two)."""
        stages = self.net.backbone.body.stages()[: self.frozen]
        return [m for stage in stages for m in (stage if isinstance(stage, nn.ModuleList) else [stage])]

    def _loader(self) -> DataLoader:
        self.data.set_epoch(self.epoch)
        start = self.batch_in_epoch * self.cfg.batch
        sampler = EpochSampler(len(self.data), self.cfg.seed, self.epoch, self.dist.rank, self.dist.world, start)
        g = torch.Generator().manual_seed(self.cfg.seed * 7919 + self.epoch)  # keeps the global RNG out of the loader
        workers = self.cfg.workers
        return DataLoader(self.data, batch_size=self.cfg.batch, sampler=sampler, collate_fn=collate, num_workers=workers, generator=g)

    def _optimizer_step(self, batches: list) -> dict[str, float]:
        """Forward and backward over ``batches`` (accumulated), then one optimizer step; the mean losses."""
        # the global RNG (dropout) is a function of the seed, the rank and the step: exact resume anywhere
        torch.manual_seed((self.cfg.seed * 1_000_003 + self.dist.rank) * 10_000_019 + self.step)
        totals: dict[str, float] = {}
        for i, (images, targets) in enumerate(batches):
            images = [im.to(self.device, non_blocking=True) for im in images]
            targets = [{k: v.to(self.device) for k, v in t.items()} for t in targets]
            sync = i == len(batches) - 1 or not self.dist.enabled
            with self.model.no_sync() if not sync else contextlib.nullcontext(), self._autocast():
                losses = self.model(images, targets)
                loss = sum(losses.values())
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"epoch {self.epoch + 1}: loss is {loss.item()}; lower --lr or check the data")
                (loss / len(batches)).backward()
            for k, v in losses.items():
                totals[k] = totals.get(k, 0.0) + float(v.item()) / len(batches)
        if self.cfg.grad_clip > 0:
            nn.utils.clip_grad_norm_([p for p in self.net.parameters() if p.requires_grad], self.cfg.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        totals["loss"] = sum(totals.values())
        return totals

    def fit(self, progress: bool = True, stop_after_epoch: int | None = None) -> TrainResult:
        """Run (or continue) training until ``cfg.epochs``, an early stop or the budget; the result."""
        show = progress and self.dist.is_main
        self._clock, self._running = time.perf_counter(), True
        self._call("before_train")
        try:
            with make_progress(transient=False) if show else _NullProgress() as bar:
                task = bar.add_task("train", total=self.total_steps, completed=self.step)
                while self.epoch < self.cfg.epochs and not self.should_stop:
                    if stop_after_epoch is not None and self.epoch >= stop_after_epoch:
                        break
                    self._run_epoch(bar, task)
                    if show:
                        shown = ", ".join(f"{k} {self.row[k]:.3f}" for k in ("AP", "AP50") if k in self.row)
                        bar.console.print(f"epoch {self.row['epoch']}: loss {self.row['train_loss']:.3f} {shown}".rstrip())
                if self.should_stop and show:
                    bar.console.print(f"stopped: {self.stop_reason}")
        finally:
            self.elapsed, self._running = self.train_seconds(), False
        self._call("after_train")
        dist_utils.barrier(self.dist)
        return TrainResult(self.out, len(self.history), self.best, self.history, self.stop_reason)

    def _run_epoch(self, bar: Any, task: Any) -> None:
        cfg = self.cfg
        self._call("before_epoch")
        set_train_mode(self.net)
        if self.batch_in_epoch == 0:
            self.sums, self.seen, self.epoch_seconds = {}, 0, 0.0
        t0 = time.perf_counter()
        pending: list = []
        remaining = self.batches_per_epoch - self.batch_in_epoch
        for images, targets in self._loader():
            pending.append((images, targets))
            remaining -= 1
            if len(pending) < cfg.accumulate and remaining > 0:
                continue
            self._call("before_step")
            self.last_losses = self._optimizer_step(pending)
            self.step += 1
            self.batch_in_epoch += len(pending)
            self.seen += sum(len(im) for im, _ in pending)
            for k, v in self.last_losses.items():
                self.sums[k] = self.sums.get(k, 0.0) + v * len(pending)
            pending = []
            self.epoch_seconds += time.perf_counter() - t0
            t0 = time.perf_counter()
            self._call("after_step")
            desc = f"epoch {self.epoch + 1}/{self.cfg.epochs} loss {self.last_losses['loss']:.3f}"
            bar.update(task, advance=1, total=self.total_steps, description=desc)
            if self.should_stop:
                break
        done = max(1, self.batch_in_epoch)
        row: dict[str, Any] = {"epoch": self.epoch + 1}
        row.update({f"train_{k}": v / done for k, v in self.sums.items()})
        row.update({"lr": self.current_lr(), "train_images_per_s": self.seen * self.dist.world / max(self.epoch_seconds, 1e-9)})
        row.update({"train_seconds": self.epoch_seconds, "frozen_stages": self.frozen})
        self.row, self.is_best = row, False
        self.history.append(row)
        self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        self._running = False  # validation and checkpoints do not count as training time
        self.elapsed += time.perf_counter() - self._clock
        self._call("after_epoch")
        dist_utils.barrier(self.dist)
        self._clock, self._running = time.perf_counter(), True


def train(
    cfg: TrainConfig,
    *,
    resume: bool = False,
    progress: bool = True,
    stop_after_epoch: int | None = None,
    hooks: list[Hook] | None = None,
    train_dataset: DetectionDataset | None = None,
    val_dataset: DetectionDataset | None = None,
) -> TrainResult:
    """Train a detector as ``cfg`` says and write the run folder.

    Args:
        cfg: training settings; with ``resume`` the saved config of ``cfg.out/last.pt`` is used instead.
        resume: continue from ``cfg.out/last.pt`` (written after every epoch and every
            ``cfg.checkpoint_every`` optimizer steps; a run killed with SIGKILL resumes exactly).
        progress: show a progress bar.
        stop_after_epoch: stop cleanly once this many epochs are done (the run stays resumable).
        hooks: extra :class:`~logodet.engine.hooks.Hook` objects.
        train_dataset / val_dataset: in-memory datasets instead of ``cfg.data`` / ``cfg.val``.

    Writes ``last.pt``, ``best.pt``, ``metrics.csv``, ``learning_curve.png`` and ``train_config.yaml`` to ``cfg.out``.
    """
    trainer = Trainer(cfg, resume=resume, hooks=hooks, train_dataset=train_dataset, val_dataset=val_dataset)
    return trainer.fit(progress=progress, stop_after_epoch=stop_after_epoch)


class _NullProgress:
    def __enter__(self) -> _NullProgress:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def add_task(self, *args, **kwargs) -> int:
        return 0

    def update(self, *args, **kwargs) -> None:
        return None
