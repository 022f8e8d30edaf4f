"""``logodet predict``."""

from __future__ import annotations

from pathlib import Path

import typer

from logodet.cli.errors import user_errors


def predict_cmd(
    model: Path = typer.Option(..., "--model", help="best.pt (PyTorch) or model.onnx (ONNX Runtime)."),
    source: Path = typer.Option(..., "--source", help="An image file or a folder of images (searched recursively)."),
    out: Path = typer.Option(Path("runs/predict"), "--out", help="Output folder."),
    conf: float = typer.Option(0.25, "--conf", min=0.0, max=1.0, help="Minimum score."),
    iou: float = typer.Option(0.6, "--iou", min=0.0, max=1.0, help="NMS IoU threshold."),
    imgsz: list[int] | None = typer.Option(
        None,
        "--imgsz",
        min=32,
        help="Input size for a .pt model (default: its training size; an ONNX file keeps its export size). "
        "Repeat it (--imgsz 224 --imgsz 256) to run at each size and merge the detections.",
    ),
    box_scale: float = typer.Option(
        1.0,
        "--box-scale",
        min=0.1,
        max=4.0,
        help="Grow boxes about their centres by this factor (labelling convention; bench realworld picks one).",
    ),
    save_images: bool = typer.Option(True, "--save-images/--no-save-images", help="Write annotated copies."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Detect logos in images; writes predictions.jsonl, predictions_coco.json and annotated images.

    Example: logodet predict --model runs/exp/model.onnx --source photos/ --out runs/predict --conf 0.3
    Several sizes: logodet predict --model runs/exp/best.pt --source photos/ --imgsz 192 --imgsz 224 --imgsz 256
    """
    with user_errors():
        from logodet.inference.predictor import Predictor
        from logodet.inference.run import predict_source

        sizes = (imgsz[0] if len(imgsz) == 1 else tuple(imgsz)) if imgsz else None
        predictor = Predictor.from_path(model, conf=conf, iou=iou, imgsz=sizes, box_scale=box_scale)
        s = predict_source(predictor, source, out, save_images=save_images, progress=progress)
        typer.echo(f"{s.images} images, {s.detections} detections -> {s.jsonl}")
        for msg in s.failed:
            typer.echo(f"skipped: {msg}", err=True)
