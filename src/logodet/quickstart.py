"""The quickstart: every stage of logodet end to end on the bundled demo assets.

Synthesises a training and a validation set from the demo logos on the colour
photos shipped with scikit-image, trains, evaluates, exports ONNX, predicts on
a few photos and writes a report folder. Nothing is downloaded.

Example:
    >>> run_quickstart("runs/quickstart")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

__all__ = ["QuickstartSettings", "default_logos_dir", "run_quickstart"]


# The demo profile: the first-synthesis look (random placement, brand colours, alpha/feathered blending,
# light appearance noise). Four CPU epochs on seven photos are too few for the full SynthLogo defaults
# (regions, planes, contrast colours, Poisson), which reached AP50 0.59 after 3 epochs on their own,
# harder validation set; those defaults are for real photos and are measured by the real-world benchmark.
DEMO_SYNTH = {
    "scale": [0.18, 0.6],
    "max_logos": 3,
    "empty_prob": 0.05,
    "analysis.enabled": False,
    "color_model": "brand",
    "blend_probs": {"alpha": 0.4, "feather": 0.6},
    "shading_prob": 0.3,
    "noise_prob": 0.1,
    "motion_blur_prob": 0.05,
    "jpeg_artifact_prob": 0.05,
}


@dataclass(frozen=True)
class QuickstartSettings:
    """Sizes of the quickstart run; the defaults fit in about 15 minutes on 2 CPU cores."""

    train_images: int = 1000
    val_images: int = 150
    imgsz: int = 320
    epochs: int = 4
    batch: int = 8
    lr: float = 2e-3
    workers: int = 2
    seed: int = 0
    synth_overrides: dict = field(default_factory=lambda: dict(DEMO_SYNTH))


def default_logos_dir() -> Path:
    """The bundled demo logos: ``examples/logos`` in the working directory or beside the source tree."""
    candidates = [Path.cwd() / "examples" / "logos", Path(__file__).resolve().parents[2] / "examples" / "logos"]
    for c in candidates:
        if c.is_dir() and any(c.glob("*.svg")):
            return c
    raise FileNotFoundError(f"demo logos not found in {' or '.join(map(str, candidates))}; pass --logos DIR")


def _stage(console: Console, name: str, t0: float) -> None:
    console.print(f"[bold cyan]▶ {name}[/]  (t = {time.perf_counter() - t0:.0f} s)")


def run_quickstart(
    out: str | Path, logos: str | Path | None = None, settings: QuickstartSettings | None = None, progress: bool = True
) -> dict:
    """Run the whole pipeline into ``out`` and return the validation metrics (``metrics.json`` content).

    Layout of ``out``: ``data/train``, ``data/val`` (synthetic datasets), ``run/`` (checkpoints,
    metrics.csv, learning curve), ``model.onnx``, ``predictions/`` and ``report/`` (metrics.json,
    learning_curve.png, PR / F1 curves, annotated examples, summary.md).
    """
    from logodet.assets.backgrounds import demo_background_paths
    from logodet.engine.config import TrainConfig
    from logodet.engine.trainer import train
    from logodet.evaluation.curves import save_curve_plots
    from logodet.evaluation.detection import evaluate_coco, print_metrics, save_metrics
    from logodet.export.onnx import export_onnx
    from logodet.inference.predictor import Predictor, predict_coco_results
    from logodet.inference.run import predict_source
    from logodet.synth.config import resolve_synth_config
    from logodet.synth.pipeline import synthesize

    s = settings or QuickstartSettings()
    out = Path(out)
    logos_dir = Path(logos) if logos else default_logos_dir()
    console = Console()
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    overrides = [f"{k}={json.dumps(v)}" for k, v in s.synth_overrides.items()]
    cfg = resolve_synth_config(size=(s.imgsz, s.imgsz), overrides=overrides)

    _stage(console, f"synthesise {s.train_images} training + {s.val_images} validation images from {logos_dir}", t0)
    t = time.perf_counter()
    backgrounds = demo_background_paths()
    synthesize(logos_dir, backgrounds, out / "data" / "train", s.train_images, cfg, seed=s.seed, workers=s.workers, progress=progress)
    synthesize(logos_dir, backgrounds, out / "data" / "val", s.val_images, cfg, seed=s.seed + 10_000, workers=s.workers, progress=progress)
    timings["synthesis_s"] = time.perf_counter() - t

    _stage(console, f"train fcos_efficientnet_lite0 for {s.epochs} epochs at {s.imgsz} px", t0)
    t = time.perf_counter()
    run_dir = out / "run"
    tcfg = TrainConfig(
        data=str(out / "data" / "train"),
        val=str(out / "data" / "val"),
        out=str(run_dir),
        epochs=s.epochs,
        imgsz=s.imgsz,
        batch=s.batch,
        lr=s.lr,
        seed=s.seed,
    )
    resume = (run_dir / "last.pt").is_file()
    if resume:
        console.print(f"resuming the training run in {run_dir}")
    train(tcfg, resume=resume, progress=progress)
    timings["training_s"] = time.perf_counter() - t

    _stage(console, "evaluate best.pt on the synthetic validation set", t0)
    t = time.perf_counter()
    from logodet.datasets.formats.coco import load_coco

    val = load_coco(out / "data" / "val")
    report = out / "report"
    report.mkdir(parents=True, exist_ok=True)
    predictor = Predictor.from_path(run_dir / "best.pt", conf=0.001)
    results = predict_coco_results(predictor, val, progress=progress)
    metrics = evaluate_coco(val, results)
    save_metrics(metrics, report / "metrics.json")
    save_curve_plots(metrics.match, report)
    timings["evaluation_s"] = time.perf_counter() - t

    _stage(console, "export ONNX and predict on photos", t0)
    t = time.perf_counter()
    onnx_path = export_onnx(run_dir / "best.pt", out / "model.onnx")
    onnx_predictor = Predictor.from_path(onnx_path, conf=0.4)
    photos = out / "photos"
    photos.mkdir(exist_ok=True)
    for p in backgrounds[:3]:
        shutil.copy(p, photos / p.name)
    for rec in val.images[:5]:
        shutil.copy(val.image_path(rec), photos / f"val_{rec.file_name.replace('/', '_')}")
    predicted = predict_source(onnx_predictor, photos, out / "predictions", progress=False)
    shutil.copytree(predicted.annotated_dir, report / "examples", dirs_exist_ok=True)
    timings["export_predict_s"] = time.perf_counter() - t
    shutil.copy(run_dir / "learning_curve.png", report / "learning_curve.png")
    shutil.copy(run_dir / "metrics.csv", report / "metrics.csv")

    timings["total_s"] = time.perf_counter() - t0
    summary = _summary(metrics.to_dict(), timings, out)
    (report / "summary.md").write_text(summary, encoding="utf-8")
    console.print()
    print_metrics(metrics, console)
    console.print(summary)
    return metrics.to_dict()


def _summary(m: dict, timings: dict[str, float], out: Path) -> str:
    lines = [
        "# logodet quickstart",
        "",
        f"Validation (synthetic): AP {m['AP']:.3f}, AP50 {m['AP50']:.3f}, AP75 {m['AP75']:.3f}, "
        f"best F1 {m['best_f1']:.3f} at score {m['best_f1_threshold']:.2f}",
        "",
        "| stage | seconds |",
        "|---|---|",
        *[f"| {k.removesuffix('_s')} | {v:.0f} |" for k, v in timings.items()],
        "",
        "Where everything is:",
        f"- datasets: {out / 'data' / 'train'}, {out / 'data' / 'val'}",
        f"- checkpoints and metrics.csv: {out / 'run'}",
        f"- ONNX model: {out / 'model.onnx'}",
        f"- predictions on photos: {out / 'predictions'}",
        f"- report (metrics.json, learning curve, examples): {out / 'report'}",
    ]
    return "\n".join(lines) + "\n"
