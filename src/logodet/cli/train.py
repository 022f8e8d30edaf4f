"""``logodet train``."""

from __future__ import annotations

from pathlib import Path

import typer

from logodet.cli.errors import user_errors


def train_cmd(
    data: Path = typer.Option(..., "--data", help="Training dataset folder (annotations.json + images/)."),
    val: Path | None = typer.Option(None, "--val", help="Validation dataset folder; metrics are computed after every epoch."),
    out: Path = typer.Option(Path("runs/train"), "--out", help="Run folder: best.pt, last.pt, metrics.csv, learning_curve.png."),
    model: str = typer.Option("fcos_efficientnet_lite0", "--model", help="Registered model name."),
    weights: str = typer.Option("imagenet", "--weights", help="'imagenet' (offline, from the installed package) or 'none'."),
    epochs: int = typer.Option(10, "--epochs", min=1),
    imgsz: int = typer.Option(320, "--imgsz", help="Square input size (multiple of 32)."),
    batch: int = typer.Option(8, "--batch", min=1),
    lr: float = typer.Option(2e-3, "--lr", help="Peak AdamW learning rate (after warm-up, before cosine decay)."),
    freeze: int = typer.Option(3, "--freeze", min=0, help="Backbone stages kept frozen (0 = train all; stage 0 is the stem)."),
    seed: int = typer.Option(0, "--seed"),
    workers: int = typer.Option(0, "--workers", min=0, help="Data-loading worker processes."),
    config: Path | None = typer.Option(None, "--config", help="YAML with TrainConfig fields; command-line options win."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from last.pt with its saved settings."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Train a detector by transfer learning.

    Example: logodet train --data runs/synth --val runs/synth-val --out runs/exp --epochs 10 --imgsz 320 --batch 8
    """
    with user_errors():
        from logodet.config import load_config
        from logodet.engine.config import TrainConfig
        from logodet.engine.trainer import train

        overrides = {
            "data": str(data),
            "val": str(val) if val else "",
            "out": str(out),
            "model": model,
            "weights": weights,
            "epochs": epochs,
            "imgsz": imgsz,
            "batch": batch,
            "lr": lr,
            "freeze": freeze,
            "seed": seed,
            "workers": workers,
        }
        cfg = load_config(TrainConfig, config, overrides)
        result = train(cfg, resume=resume, progress=progress)
        typer.echo(f"done: {result.epochs_done} epochs, best {cfg.metric} {result.best_metric:.4f}; run folder {result.out}")
