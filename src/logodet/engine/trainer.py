"""The training loop: AdamW, warm-up + cosine decay, validation each epoch, resumable checkpoints.

Example:
    >>> from logodet.engine.config import TrainConfig
    >>> result = train(TrainConfig(data="runs/synth", val="runs/synth-val", out="runs/exp", epochs=5))  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from logodet.config import config_from_dict, config_to_dict, save_config
from logodet.datasets.formats.coco import load_coco
from logodet.engine.checkpoint import get_rng_state, load_checkpoint, save_checkpoint, set_rng_state
from logodet.engine.config import TrainConfig
from logodet.engine.data import DetectionTrainData, collate
from logodet.engine.plots import plot_learning_curve
from logodet.io import atomic_write_bytes
from logodet.models.zoo import build_model
from logodet.progress import make_progress
from logodet.types import DetectionDataset

__all__ = ["TrainResult", "evaluate_model", "train"]

LOSS_KEYS = ("classification", "bbox_regression", "bbox_ctrness")


@dataclass
class TrainResult:
    """What a finished (or stopped) run produced."""

    out: Path
    epochs_done: int
    best_metric: float
    history: list[dict] = field(default_factory=list)


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _freeze(model: nn.Module, stages: int) -> None:
    body = model.backbone.body
    for i, stage in enumerate(body.stages()):
        for p in stage.parameters():
            p.requires_grad_(i >= stages)


def _set_train_mode(model: nn.Module) -> None:
    """Train mode, but backbone BatchNorm statistics stay frozen (small CPU batches make them noisy)."""
    model.train()
    for m in model.backbone.body.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()


def _lr_lambda(cfg: TrainConfig, total_iters: int):
    def fn(step: int) -> float:
        if step < cfg.warmup_iters:
            return (step + 1) / cfg.warmup_iters
        progress = (step - cfg.warmup_iters) / max(1, total_iters - cfg.warmup_iters)
        return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return fn


def _param_groups(model: nn.Module, cfg: TrainConfig) -> list[dict]:
    backbone, decay, no_decay = [], [], []
    body_params = {id(p) for p in model.backbone.body.parameters()}
    for _, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if id(p) in body_params:
            backbone.append(p)
        elif p.ndim <= 1:
            no_decay.append(p)
        else:
            decay.append(p)
    lr_bb = cfg.lr * (cfg.backbone_lr_mult if cfg.weights == "imagenet" else 1.0)
    return [
        {"params": backbone, "lr": lr_bb, "weight_decay": cfg.weight_decay},
        {"params": decay, "lr": cfg.lr, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "lr": cfg.lr, "weight_decay": 0.0},
    ]


def evaluate_model(model: nn.Module, dataset: DetectionDataset, class_names: list[str], imgsz: int, conf: float = 0.01) -> dict:
    """COCO metrics (``metrics.json`` keys) of an in-memory model on ``dataset``."""
    from logodet.evaluation.detection import evaluate_coco
    from logodet.inference.predictor import Predictor, predict_coco_results

    was_training = model.training
    model.eval()
    predictor = Predictor.from_model(model, class_names, imgsz, conf=conf)
    results = predict_coco_results(predictor, dataset, conf=conf, progress=False)
    if was_training:
        _set_train_mode(model)
    return evaluate_coco(dataset, results).to_dict()


def _write_metrics_csv(path: Path, history: list[dict]) -> None:
    keys = list(history[0].keys()) if history else []
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    writer.writerows(history)
    atomic_write_bytes(path, buf.getvalue().encode())


def train(cfg: TrainConfig, *, resume: bool = False, progress: bool = True, stop_after_epoch: int | None = None) -> TrainResult:
    """Train a detector as ``cfg`` says and write the run folder.

    Args:
        cfg: training settings; with ``resume`` the saved config of ``cfg.out/last.pt`` is used instead.
        resume: continue from ``cfg.out/last.pt`` (model, optimizer, scheduler, epoch, RNG states).
        progress: show a progress bar.
        stop_after_epoch: stop cleanly once this many epochs are done (the run stays resumable).

    Writes ``last.pt``, ``best.pt``, ``metrics.csv``, ``learning_curve.png`` and ``train_config.yaml`` to ``cfg.out``.
    """
    out = Path(cfg.out)
    state = None
    if resume:
        state = load_checkpoint(out / "last.pt")
        cfg = config_from_dict(TrainConfig, {**state["config"], "out": str(out)})
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    train_ds = load_coco(cfg.data)
    val_ds = load_coco(cfg.val) if cfg.val else None
    class_names = list(train_ds.class_names) if state is None else list(state["class_names"])
    if val_ds is not None and set(val_ds.class_names) - set(class_names):
        raise ValueError(f"{cfg.val}: classes {sorted(set(val_ds.class_names) - set(class_names))} are not in the training data")
    if state is None and out.exists() and (out / "last.pt").exists():
        raise FileExistsError(f"{out}: already holds a run; pass --resume to continue it or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out / "train_config.yaml")

    _seed_all(cfg.seed)
    model = build_model(cfg.model, num_classes=len(class_names), weights="none" if state else cfg.weights, imgsz=cfg.imgsz)
    _freeze(model, cfg.freeze)
    data = DetectionTrainData(train_ds, cfg.imgsz, augment=cfg.augment)
    iters_per_epoch = math.ceil(len(data) / cfg.batch)
    total_iters = iters_per_epoch * cfg.epochs
    optimizer = torch.optim.AdamW(_param_groups(model, cfg), lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(cfg, total_iters))
    start_epoch, history, best = 0, [], -math.inf
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, history, best = int(state["epoch"]), list(state["history"]), float(state["best_metric"])
        set_rng_state(state["rng"])

    def checkpoint(epoch: int) -> dict:
        return {
            "model": model.state_dict(),
            "model_name": cfg.model,
            "class_names": class_names,
            "imgsz": cfg.imgsz,
            "config": config_to_dict(cfg),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "epoch": epoch,
            "history": history,
            "best_metric": best,
            "rng": get_rng_state(),
        }

    with make_progress(transient=False) if progress else _NullProgress() as bar:
        task = bar.add_task("train", total=total_iters, completed=start_epoch * iters_per_epoch)
        for epoch in range(start_epoch, cfg.epochs):
            if stop_after_epoch is not None and epoch >= stop_after_epoch:
                break
            generator = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
            loader = DataLoader(data, batch_size=cfg.batch, shuffle=True, generator=generator, collate_fn=collate, num_workers=cfg.workers)
            _set_train_mode(model)
            sums = dict.fromkeys(LOSS_KEYS, 0.0)
            t0, seen = time.perf_counter(), 0
            for images, targets in loader:
                losses = model(images, targets)
                loss = sum(losses.values())
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"epoch {epoch + 1}: loss is {loss.item()}; lower --lr or check the data")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip > 0:
                    nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], cfg.grad_clip)
                optimizer.step()
                scheduler.step()
                for k in LOSS_KEYS:
                    sums[k] += losses[k].item()
                seen += len(images)
                bar.update(task, advance=1, description=f"epoch {epoch + 1}/{cfg.epochs} loss {loss.item():.3f}")
            elapsed = time.perf_counter() - t0
            row = {"epoch": epoch + 1, **{f"train_{k}": sums[k] / iters_per_epoch for k in LOSS_KEYS}}
            row.update({"lr": optimizer.param_groups[1]["lr"], "train_images_per_s": seen / elapsed, "train_seconds": elapsed})
            if val_ds is not None:
                metrics = evaluate_model(model, val_ds, class_names, cfg.imgsz, cfg.val_conf)
                row.update({k: metrics[k] for k in ("AP", "AP50", "AP75", "AR100", "best_f1")})
            history.append(row)
            score = row.get(cfg.metric, -row["train_classification"])
            is_best = score > best
            best = max(best, score)
            ckpt = checkpoint(epoch + 1)
            save_checkpoint(ckpt, out / "last.pt")
            if is_best:
                save_checkpoint(ckpt, out / "best.pt")
            _write_metrics_csv(out / "metrics.csv", history)
            plot_learning_curve(history, out / "learning_curve.png")
            if progress:
                shown = ", ".join(f"{k} {row[k]:.3f}" for k in ("AP", "AP50") if k in row)
                bar.console.print(f"epoch {epoch + 1}: loss {sum(row[f'train_{k}'] for k in LOSS_KEYS):.3f} {shown}")
    return TrainResult(out, len(history), best, history)


class _NullProgress:
    def __enter__(self) -> _NullProgress:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def add_task(self, *args, **kwargs) -> int:
        return 0

    def update(self, *args, **kwargs) -> None:
        return None
