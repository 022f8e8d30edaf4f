"""Setting up a training run: seeds, device, backbone freezing, BatchNorm mode and the optimizer's parameter groups."""

from __future__ import annotations

import random

import numpy as np
import torch
from torch import nn

from logodet.engine.config import TrainConfig

__all__ = ["apply_freeze", "build_optimizer", "num_stages", "param_groups", "seed_all", "select_device", "set_train_mode"]


def seed_all(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def set_train_mode(model: nn.Module) -> None:
    """Train mode, but backbone BatchNorm statistics stay frozen (small CPU batches make them noisy)."""
    model.train()
    for m in model.backbone.body.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()


def num_stages(model: nn.Module) -> int:
    """How many freezable stages the backbone has."""
    return len(list(model.backbone.body.stages()))


def apply_freeze(model: nn.Module, stages: int) -> None:
    """Freeze the first ``stages`` backbone stages; the rest trains."""
    for i, stage in enumerate(model.backbone.body.stages()):
        for p in stage.parameters():
            p.requires_grad_(i >= stages)


def param_groups(model: nn.Module, cfg: TrainConfig) -> list[dict]:
    """Backbone and head parameters, each with and without weight decay (biases and norms get none).

    Frozen parameters are included: unfreezing later only flips ``requires_grad``.
    """
    body = {id(p) for p in model.backbone.body.parameters()}
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {(b, d): [] for b in (True, False) for d in (True, False)}
    for _, p in model.named_parameters():
        groups[(id(p) in body, p.ndim > 1)].append(p)
    lr_bb = cfg.lr * (cfg.backbone_lr_mult if cfg.weights == "imagenet" else 1.0)
    return [
        {"params": params, "lr": lr_bb if is_body else cfg.lr, "weight_decay": cfg.weight_decay if decay else 0.0, "name": name}
        for (is_body, decay), params in groups.items()
        if params
        for name in [("backbone" if is_body else "head") + ("" if decay else "_no_decay")]
    ]


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW, or SGD with Nesterov momentum, over :func:`param_groups`."""
    groups = param_groups(model, cfg)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.momentum > 0)
    return torch.optim.AdamW(groups, lr=cfg.lr)


def select_device(cfg: TrainConfig) -> torch.device:
    """CUDA when asked for (an error without a GPU) or when ``auto`` finds one; else the CPU."""
    if cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("device: cuda requested but no GPU is available")
        return torch.device("cuda")
    return torch.device("cpu")
