"""``logodet quickstart``."""

from __future__ import annotations

from pathlib import Path

import typer

from logodet.cli.errors import user_errors


def quickstart_cmd(
    out: Path = typer.Option(Path("runs/quickstart"), "--out", help="Folder for datasets, run, ONNX model, predictions, report."),
    logos: Path | None = typer.Option(None, "--logos", help="Logo folder (default: the bundled examples/logos)."),
    train_images: int = typer.Option(1000, "--train-images", min=1, help="Synthetic training images."),
    val_images: int = typer.Option(150, "--val-images", min=1, help="Synthetic validation images."),
    epochs: int = typer.Option(4, "--epochs", min=1),
    workers: int = typer.Option(2, "--workers", min=1, help="Synthesis processes."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Run every stage on the bundled demo logos: synthesise, train, evaluate, export ONNX, predict, report.

    Example: logodet quickstart --out runs/quickstart
    """
    with user_errors():
        from logodet.quickstart import QuickstartSettings, run_quickstart

        settings = QuickstartSettings(train_images=train_images, val_images=val_images, epochs=epochs, workers=workers)
        run_quickstart(out, logos, settings, progress=progress)
