"""``logodet train`` (also ``--find-lr`` and ``--kfold K``) and ``logodet tune``."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from logodet.cli.errors import user_errors

__all__ = ["train_cmd", "tune_cmd"]


def train_cmd(
    data: Path | None = typer.Option(None, "--data", help="Training dataset folder (annotations.json + images/)."),
    val: Path | None = typer.Option(None, "--val", help="Validation dataset folder; metrics are computed after every epoch."),
    out: Path | None = typer.Option(None, "--out", help="Run folder: best.pt, last.pt, metrics.csv, learning_curve.png [runs/train]."),
    model: str | None = typer.Option(None, "--model", help="Registered model name (see `logodet models`)."),
    weights: str | None = typer.Option(None, "--weights", help="'imagenet' (offline, from the installed package) or 'none'."),
    epochs: int | None = typer.Option(None, "--epochs", min=1),
    imgsz: int | None = typer.Option(None, "--imgsz", help="Square input size (multiple of 32)."),
    batch: int | None = typer.Option(None, "--batch", min=1, help="Images per step (per process under torchrun)."),
    optimizer: str | None = typer.Option(None, "--optimizer", help="adamw or sgd."),
    lr: float | None = typer.Option(None, "--lr", help="Peak learning rate of the head (after warm-up)."),
    schedule: str | None = typer.Option(None, "--schedule", help="cosine, step, onecycle or constant (all with warm-up)."),
    freeze: int | None = typer.Option(None, "--freeze", min=-1, help="Backbone stages kept frozen (0 = none, -1 = all)."),
    unfreeze_epoch: int | None = typer.Option(None, "--unfreeze-epoch", min=0, help="Epoch from which frozen stages train."),
    accumulate: int | None = typer.Option(None, "--accumulate", min=1, help="Batches per optimizer step."),
    ema: bool | None = typer.Option(None, "--ema/--no-ema", help="Keep an EMA of the weights for validation and checkpoints."),
    patience: int | None = typer.Option(None, "--patience", min=0, help="Early stop after this many epochs without improvement."),
    budget_minutes: float | None = typer.Option(None, "--budget-minutes", min=0, help="Stop after this much training time."),
    budget_fit: bool | None = typer.Option(
        None, "--budget-fit/--no-budget-fit", help="Re-fit --epochs to --budget-minutes after each epoch (schedule ends with the budget)."
    ),
    device: str | None = typer.Option(None, "--device", help="auto, cpu or cuda."),
    seed: int | None = typer.Option(None, "--seed"),
    workers: int | None = typer.Option(None, "--workers", min=0, help="Data-loading worker processes."),
    logger: list[str] | None = typer.Option(None, "--logger", help="Extra logger: tensorboard or mlflow (repeatable)."),
    config: Path | None = typer.Option(None, "--config", help="YAML with TrainConfig fields; command-line options win."),
    sets: list[str] | None = typer.Option(None, "--set", help="Any TrainConfig field as key=value (repeatable), e.g. ema_decay=0.999."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from last.pt with its saved settings."),
    find_lr: bool = typer.Option(False, "--find-lr", help="Run the learning-rate range test instead of training; writes lr_find.png."),
    kfold: int = typer.Option(0, "--kfold", min=0, help="Train K models on K folds of --data and report mean and std."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Train a detector by transfer learning.

    Example: logodet train --data runs/synth --val runs/synth-val --out runs/exp --epochs 10 --imgsz 320 --batch 8
    """
    with user_errors():
        from logodet.config import load_config
        from logodet.engine.config import TrainConfig

        options = {
            "data": data,
            "val": val,
            "out": out,
            "model": model,
            "weights": weights,
            "epochs": epochs,
            "imgsz": imgsz,
            "batch": batch,
            "optimizer": optimizer,
            "lr": lr,
            "schedule": schedule,
            "freeze": freeze,
            "unfreeze_epoch": unfreeze_epoch,
            "accumulate": accumulate,
            "ema": ema,
            "patience": patience,
            "budget_minutes": budget_minutes,
            "budget_fit": budget_fit,
            "device": device,
            "seed": seed,
            "workers": workers,
            "loggers": tuple(logger) if logger else None,
        }
        overrides = {k: v for k, v in options.items() if v is not None}
        overrides = {k: (str(v) if isinstance(v, Path) else v) for k, v in overrides.items()}
        cfg = load_config(TrainConfig, config, overrides)
        if sets:
            cfg = load_config(TrainConfig, None, {**_as_dict(cfg), **dict(_split(s) for s in sets)})
        if not resume and not cfg.data:
            raise ValueError("--data is required (or data: in --config)")
        console = Console()
        if find_lr:
            from logodet.engine.lr_finder import find_lr as run_find_lr

            res = run_find_lr(cfg, progress=progress)
            shown = f"{res.suggestion:.2e}" if res.suggestion is not None else "none (the loss never fell)"
            console.print(f"suggested learning rate: {shown}; curve in {Path(cfg.out) / 'lr_find.png'}")
            return
        if kfold:
            from logodet.engine.kfold import run_kfold

            summary = run_kfold(cfg, kfold, resume=resume, progress=progress)
            table = Table(title=f"{kfold}-fold cross-validation")
            table.add_column("metric")
            table.add_column("mean", justify="right")
            table.add_column("std", justify="right")
            for k, v in summary.mean.items():
                table.add_row(k, f"{v:.4f}", f"{summary.std[k]:.4f}")
            console.print(table)
            console.print(f"per-fold rows in {Path(cfg.out) / 'kfold.csv'}")
            return
        from logodet.engine.trainer import train

        result = train(cfg, resume=resume, progress=progress)
        if os.environ.get("RANK", "0") != "0":
            return  # under torchrun only rank 0 reports
        note = f" ({result.stop_reason})" if result.stop_reason else ""
        console.print(f"done: {result.epochs_done} epochs{note}, best {cfg.metric} {result.best_metric:.4f}; run folder {result.out}")


def _as_dict(cfg: object) -> dict:
    from logodet.config import config_to_dict

    return config_to_dict(cfg)


def _split(text: str) -> tuple[str, object]:
    import yaml

    if "=" not in text:
        raise ValueError(f"--set {text!r}: expected key=value")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)


def tune_cmd(
    space: Path = typer.Option(..., "--space", help="Search-space YAML: TrainConfig field -> {type, low, high, log | choices}."),
    trials: int = typer.Option(20, "--trials", min=1, help="Finished trials the study should hold."),
    out: Path = typer.Option(Path("runs/tune"), "--out", help="Study folder: study.db, trial_N/, best_config.yaml."),
    config: Path | None = typer.Option(None, "--config", help="Base TrainConfig YAML (data, val, epochs, ...)."),
    data: Path | None = typer.Option(None, "--data", help="Training dataset folder (overrides the base config)."),
    val: Path | None = typer.Option(None, "--val", help="Validation dataset folder (overrides the base config)."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Epochs per trial (overrides the base config)."),
    study_name: str = typer.Option("logodet", "--study-name"),
    storage: str | None = typer.Option(None, "--storage", help="Optuna storage URL [sqlite:///OUT/study.db]."),
    seed: int = typer.Option(0, "--seed", help="Sampler seed."),
) -> None:
    """Search hyper-parameters with Optuna (TPE + median pruning); re-run to continue the study.

    Example: logodet tune --config base.yaml --space space.yaml --trials 20 --out runs/tune
    """
    with user_errors():
        from logodet.config import load_config
        from logodet.engine.config import TrainConfig
        from logodet.engine.tune import load_search_space, run_tune

        given = {"data": data, "val": val, "epochs": epochs}
        overrides = {k: str(v) if isinstance(v, Path) else v for k, v in given.items() if v is not None}
        base = load_config(TrainConfig, config, overrides)
        result = run_tune(base, load_search_space(space), trials, out=out, study_name=study_name, storage=storage, seed=seed)
        console = Console()
        table = Table(title=f"study {study_name} ({result.storage})")
        for col in ("trial", "state", base.metric, *result.best_params):
            table.add_column(col)
        for row in result.trials:
            value = "" if row["value"] is None else f"{row['value']:.4f}"
            table.add_row(str(row["number"]), row["state"], value, *(str(row.get(k, "")) for k in result.best_params))
        console.print(table)
        console.print(f"best {base.metric} {result.best_value:.4f} with {result.best_params}; config in {result.best_config}")
