"""``logodet eval``: COCO metrics of a model or of a predictions file on a dataset folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["eval_cmd"]


def eval_cmd(
    data: Annotated[Path, typer.Option("--data", help="Dataset folder (annotations.json + images/) or a COCO json file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for metrics.json, pr_curve.png and f1_curve.png.")],
    predictions: Annotated[Path | None, typer.Option("--predictions", help="COCO results json to evaluate (instead of --model).")] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Model checkpoint to run on the dataset (instead of --predictions).")
    ] = None,
    conf: Annotated[float, typer.Option("--conf", min=0.0, max=1.0, help="Minimum confidence of --model detections.")] = 0.001,
    imgsz: Annotated[
        list[int] | None,
        typer.Option("--imgsz", min=32, help="Inference size for --model (default: the model's); repeat it to merge several sizes."),
    ] = None,
    box_scale: Annotated[
        float, typer.Option("--box-scale", min=0.1, max=4.0, help="Grow --model boxes about their centres by this factor.")
    ] = 1.0,
    report: Annotated[
        bool, typer.Option("--report", help="Also write OUT/report.html and OUT/report.json (confusion matrix, galleries, brand presence).")
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", min=0.0, max=1.0, help="Confidence threshold of the report (default: the best-F1 threshold)."),
    ] = None,
) -> None:
    """Evaluate detections with the twelve COCO metrics, per-class AP and the best-F1 threshold.

    Give exactly one of --model (predictions made with
    logodet.inference.predictor.predict_coco_results and saved as OUT/predictions.json)
    or --predictions (a COCO results file using the dataset's image and category ids).
    Writes OUT/metrics.json, OUT/pr_curve.png and OUT/f1_curve.png; with --report also
    OUT/report.html and OUT/report.json (per-class table, confusion matrix, galleries of
    the worst errors drawn from the dataset's images, image-level brand presence) at
    --threshold or the best-F1 threshold.

    Example: logodet eval --data data/val --predictions runs/preds.json --out runs/eval --report
    """
    from logodet.evaluation.curves import save_curve_plots
    from logodet.evaluation.detection import evaluate_coco, print_metrics, save_metrics
    from logodet.evaluation.predictions import load_ground_truth, load_predictions, normalize_ground_truth, validate_predictions

    console = Console()
    if (model is None) == (predictions is None):
        raise typer.BadParameter("give exactly one of --model and --predictions", param_hint="'--model' / '--predictions'")
    if threshold is not None and not report:
        raise typer.BadParameter("--threshold only applies with --report", param_hint="'--threshold'")
    try:
        from logodet.datasets.formats.coco import load_coco

        dataset = None
        if predictions is not None:
            gt = load_ground_truth(data)
            results = load_predictions(predictions, gt)
            if report:
                dataset = load_coco(data)  # for its image folder
        else:
            from logodet.inference.predictor import predict_coco_results
            from logodet.io import atomic_write_json

            dataset = load_coco(data)
            gt = normalize_ground_truth(dataset, str(data))
            sizes = (imgsz[0] if len(imgsz) == 1 else tuple(imgsz)) if imgsz else None
            results = validate_predictions(
                predict_coco_results(model, dataset, conf=conf, imgsz=sizes, box_scale=box_scale), gt, f"predictions of {model}"
            )
            atomic_write_json(out / "predictions.json", results)
        metrics = evaluate_coco(gt, results)
    except (FileNotFoundError, ValueError) as exc:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    save_metrics(metrics, out / "metrics.json")
    save_curve_plots(metrics.match, out)
    print_metrics(metrics, console)
    console.print(f"Wrote {out / 'metrics.json'}, {out / 'pr_curve.png'}, {out / 'f1_curve.png'}")
    if report:
        from logodet.evaluation.report import write_report

        try:
            path = write_report(gt, results, metrics, out, dataset=dataset, threshold=threshold, title=f"logodet evaluation: {data}")
        except (FileNotFoundError, ValueError) as exc:
            Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(1) from exc
        used = metrics.best_f1_threshold if threshold is None else threshold
        written = json.loads(path.with_name("report.json").read_text(encoding="utf-8"))
        if written["image_dir"] is None:
            console.print("[yellow]note:[/yellow] no image folder: the report has no galleries")
        for gallery in written["galleries"].values():
            for msg in gallery["skipped"]:
                console.print(f"[yellow]note:[/yellow] gallery skipped {msg}", highlight=False)
        console.print(f"Wrote {path} and {path.with_name('report.json')} (confidence >= {used:.4g})")
