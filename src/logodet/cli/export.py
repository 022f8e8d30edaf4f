"""``logodet export``."""

from __future__ import annotations

from pathlib import Path

import typer

from logodet.cli.errors import user_errors


def export_cmd(
    model: Path = typer.Option(..., "--model", help="Training checkpoint (best.pt or last.pt)."),
    out: Path = typer.Option(..., "--out", help="File to write, e.g. model.onnx."),
    format: str = typer.Option("onnx", "--format", help="Export format (onnx)."),
    imgsz: int | None = typer.Option(None, "--imgsz", help="Input size (default: the training size)."),
) -> None:
    """Export a checkpoint for deployment; the ONNX graph is checked against PyTorch.

    Example: logodet export --model runs/exp/best.pt --format onnx --out runs/exp/model.onnx
    """
    with user_errors():
        if format != "onnx":
            raise ValueError(f"--format {format!r} is not supported; use onnx")
        from logodet.export.onnx import export_onnx

        path = export_onnx(model, out, imgsz=imgsz)
        typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB), outputs match PyTorch")
