"""``TrainConfig``: every knob of ``logodet train``, saved with each run."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """Training settings.

    Attributes:
        data / val: dataset folders (``annotations.json`` + ``images/``); ``val`` may be empty to skip validation.
        out: run folder for checkpoints, ``metrics.csv``, plots.
        model: registered model name; weights: ``imagenet`` or ``none``.
        epochs / batch / imgsz: the usual; lr: peak AdamW learning rate.
        warmup_iters: linear warm-up steps before cosine decay to ``lr * min_lr_ratio``.
        freeze: backbone stages kept frozen (0 = none; stage 0 is the stem).
        backbone_lr_mult: learning-rate multiplier for the trainable pretrained layers.
        metric: validation metric that selects ``best.pt`` (a key of metrics.json).
        val_conf: score threshold for validation predictions (low, as COCO evaluation expects).
    """

    data: str = ""
    val: str = ""
    out: str = "runs/train"
    model: str = "fcos_efficientnet_lite0"
    weights: str = "imagenet"
    epochs: int = 10
    batch: int = 8
    imgsz: int = 320
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_iters: int = 100
    min_lr_ratio: float = 0.05
    freeze: int = 3
    backbone_lr_mult: float = 0.5
    grad_clip: float = 10.0
    augment: bool = True
    workers: int = 0
    seed: int = 0
    metric: str = "AP50"
    val_conf: float = 0.01
    threads: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch", "imgsz"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.imgsz % 32:
            raise ValueError(f"imgsz must be a multiple of 32, got {self.imgsz}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.freeze < 0:
            raise ValueError(f"freeze must be >= 0, got {self.freeze}")
