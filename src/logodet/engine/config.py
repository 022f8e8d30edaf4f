"""``TrainConfig``: every knob of ``logodet train``, saved with each run."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPTIMIZERS", "SCHEDULES", "TrainConfig"]

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("cosine", "step", "onecycle", "constant")


@dataclass(frozen=True)
class TrainConfig:
    """Training settings.

    Attributes:
        data / val: dataset folders (``annotations.json`` + ``images/``); ``val`` may be empty to skip validation.
        out: run folder for checkpoints, ``metrics.csv``, plots.
        model: registered model name; weights: ``imagenet`` or ``none`` (a scratch model).
        epochs / batch / imgsz: the usual; ``batch`` is per process (``torchrun`` multiplies it by the world size).
        optimizer: ``adamw`` or ``sgd`` (with ``momentum``, Nesterov).
        lr: peak learning rate of the head; pretrained backbone layers get ``lr * backbone_lr_mult``.
        weight_decay: decoupled (AdamW) or L2 (SGD) decay of weights; biases and norms get none.
        schedule: ``cosine`` (to ``lr * min_lr_ratio``), ``step`` (``step_gamma`` at each fraction of
            training in ``step_milestones``), ``onecycle`` (up from ``lr / 25`` over ``onecycle_pct`` of
            training, then cosine down to ``lr * min_lr_ratio``) or ``constant``; every schedule starts with
            ``warmup_iters`` linear warm-up steps (optimizer steps).
        freeze: backbone stages kept frozen (0 = none; stage 0 is the stem; -1 = the whole backbone).
        unfreeze_epoch: epoch (1-based) from which frozen stages start to train (0 = never).
        unfreeze_every: with ``unfreeze_epoch``, release one stage (the deepest frozen one) every this many
            epochs instead of all at once (0 = all at once).
        backbone_lr_mult: learning-rate multiplier for the pretrained layers (``weights=imagenet`` only).
        head_dropout: dropout before the classification output of the head (0 = off).
        grad_clip: clip the global gradient norm to this (0 = off).
        accumulate: optimizer step every this many batches (gradient accumulation).
        ema: keep an exponential moving average of the weights, used for validation and saved checkpoints.
        ema_decay / ema_tau: EMA decay, ramped up as ``decay * (1 - exp(-updates / tau))``.
        amp: bf16 autocast on a GPU; on a CPU with native bf16 instructions (AVX512-BF16 or AMX), bf16 for the
            frozen backbone stages only (no backward pass there; what trains stays float32). Ignored on other CPUs.
        channels_last: channels-last memory layout for the model on the CPU (faster oneDNN convolutions).
        device: ``auto`` (a GPU when present), ``cpu`` or ``cuda``.
        metric: validation metric that selects ``best.pt`` and drives early stopping (a key of metrics.json).
        patience: stop when ``metric`` has not improved for this many epochs (0 = never).
        val_conf: score threshold for validation predictions (low, as COCO evaluation expects).
        checkpoint_every: also write ``last.pt`` every this many optimizer steps inside an epoch (0 = only at
            epoch ends), so a killed run loses little.
        deterministic: deterministic algorithms (same seed, same model, bit for bit on one machine).
        loggers: extra loggers besides CSV: ``tensorboard`` and ``mlflow`` (used when installed).
        budget_minutes: stop (mid-epoch, then validate) once this much training time is spent (0 = no budget).
        budget_fit: with ``budget_minutes``, after every epoch re-fit the optimizer steps still to run to the
            budget at the last epoch's pace and re-lay the learning-rate schedule to end at that step, so it
            ends when the budget does (as Ultralytics' ``time`` argument does); ``epochs`` is the first guess.
    """

    data: str = ""
    val: str = ""
    out: str = "runs/train"
    model: str = "fcos_efficientnet_lite0"
    weights: str = "imagenet"
    epochs: int = 10
    batch: int = 8
    imgsz: int = 320
    optimizer: str = "adamw"
    lr: float = 2e-3
    momentum: float = 0.9
    weight_decay: float = 0.05
    schedule: str = "cosine"
    warmup_iters: int = 100
    min_lr_ratio: float = 0.05
    step_milestones: tuple[float, ...] = (0.7, 0.9)
    step_gamma: float = 0.1
    onecycle_pct: float = 0.3
    freeze: int = 3
    unfreeze_epoch: int = 0
    unfreeze_every: int = 0
    backbone_lr_mult: float = 0.5
    head_dropout: float = 0.0
    grad_clip: float = 10.0
    accumulate: int = 1
    ema: bool = True
    ema_decay: float = 0.9998
    ema_tau: float = 2000.0
    amp: bool = True
    channels_last: bool = True
    device: str = "auto"
    augment: bool = True
    workers: int = 0
    seed: int = 0
    metric: str = "AP50"
    patience: int = 0
    val_conf: float = 0.01
    checkpoint_every: int = 200
    deterministic: bool = False
    loggers: tuple[str, ...] = ()
    budget_minutes: float = 0.0
    budget_fit: bool = False
    threads: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch", "imgsz", "accumulate"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.imgsz % 32:
            raise ValueError(f"imgsz must be a multiple of 32, got {self.imgsz}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.freeze < -1:
            raise ValueError(f"freeze must be >= 0 (or -1 for the whole backbone), got {self.freeze}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not 0 <= self.min_lr_ratio <= 1 or not 0 < self.step_gamma <= 1 or not 0 < self.onecycle_pct < 1:
            raise ValueError("min_lr_ratio must be in [0, 1], step_gamma in (0, 1], onecycle_pct in (0, 1)")
        if any(not 0 < m < 1 for m in self.step_milestones):
            raise ValueError(f"step_milestones are fractions of training in (0, 1), got {self.step_milestones}")
        if not 0 <= self.head_dropout < 1:
            raise ValueError(f"head_dropout must be in [0, 1), got {self.head_dropout}")
        if not 0 < self.ema_decay < 1 or self.ema_tau <= 0:
            raise ValueError(f"ema_decay must be in (0, 1) and ema_tau > 0, got {self.ema_decay}, {self.ema_tau}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")
        unknown = set(self.loggers) - {"tensorboard", "mlflow"}
        if unknown:
            raise ValueError(f"loggers: expected tensorboard and/or mlflow, got {sorted(unknown)}")
        for name in ("warmup_iters", "unfreeze_epoch", "unfreeze_every", "patience", "checkpoint_every", "workers", "threads"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.grad_clip < 0 or self.weight_decay < 0 or self.budget_minutes < 0:
            raise ValueError("grad_clip, weight_decay and budget_minutes must be >= 0")
