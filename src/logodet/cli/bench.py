"""``logodet bench realworld``: cold-start and few-shot logo detection on real photos, against baselines."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer

from logodet.cli.errors import user_errors

__all__ = ["bench_app"]

bench_app = typer.Typer(name="bench", help="Benchmarks a user can run on their own data.", no_args_is_help=True)


@bench_app.command("realworld")
def realworld_cmd(
    out: Path = typer.Option(Path("runs/bench-realworld"), "--out", help="Report folder (report.md, report.json, runs/, data/)."),
    logos: str = typer.Option("", "--logos", help="A logo folder, or comma-separated simple-icons slugs [the 21 FlickrLogos-27 brands]."),
    icons: Path = typer.Option(Path("../shared/data/logos/simple-icons"), "--icons", help="simple-icons folder (slugs, distractors)."),
    backgrounds: Path = typer.Option(Path("../shared/data/backgrounds"), "--backgrounds", help="Background photos."),
    test: Path = typer.Option(Path("../shared/data/flickrlogos27-dev"), "--test", help="Real test set (COCO; categories = slugs)."),
    real_train: Path | None = typer.Option(None, "--real-train", help="Real images for the few-shot track (may be --test)."),
    shots: int = typer.Option(5, "--shots", min=1, help="Real images per brand in the few-shot track."),
    budget_minutes: float = typer.Option(60.0, "--budget-minutes", min=0.5, help="CPU training time per main run."),
    ablation_minutes: float = typer.Option(15.0, "--ablation-minutes", min=0.5, help="CPU training time per ablation run."),
    ablations: str = typer.Option("", "--ablations", help="Comma-separated profiles (no_regions, no_planes, ...) or 'all'."),
    baselines: str = typer.Option("naive,yolo", "--baselines", help="Comma-separated: naive, yolo (empty: none)."),
    tracks: str = typer.Option("cold,fewshot", "--tracks", help="Comma-separated: cold, fewshot."),
    synth_images: int = typer.Option(3000, "--synth-images", min=16, help="Synthetic images per profile."),
    imgsz: int = typer.Option(320, "--imgsz", help="Training and test input size."),
    seed: int = typer.Option(0, "--seed"),
    sets: list[str] | None = typer.Option(None, "--set", help="Any RealWorldConfig field as key=value, e.g. model=..."),
) -> None:
    """Train on synthetic logos, test on real photos: AP, AP50, per-brand AP50, image-level presence, false positives.

    Runs the cold-start and few-shot tracks, the naive copy-paste and YOLO11n baselines at the same CPU budget, and
    the ablations; finished runs are kept, so re-running the same command continues. Writes OUT/report.md.

    Example: logodet bench realworld --real-train ../shared/data/flickrlogos27-dev --shots 5 --budget-minutes 60
    """
    with user_errors():
        from logodet.bench.realworld import FLICKRLOGOS_BRANDS, RealWorldConfig, run_realworld
        from logodet.config import load_config

        def items(text: str) -> tuple[str, ...]:
            return tuple(t.strip() for t in text.split(",") if t.strip())

        is_folder = bool(logos) and Path(logos).is_dir()
        values = {
            "out": str(out),
            "logos": logos if is_folder else "",
            "brands": list(items(logos)) if logos and not is_folder else list(FLICKRLOGOS_BRANDS),
            "icons": str(icons),
            "backgrounds": str(backgrounds),
            "test": str(test),
            "real_train": str(real_train) if real_train else "",
            "shots": shots,
            "budget_minutes": budget_minutes,
            "ablation_minutes": ablation_minutes,
            "ablations": list(items(ablations)),
            "baselines": list(items(baselines)),
            "tracks": list(items(tracks)),
            "synth_images": synth_images,
            "imgsz": imgsz,
            "seed": seed,
        }
        cfg = load_config(RealWorldConfig, None, values)
        if sets:
            cfg = load_config(RealWorldConfig, None, {**dataclasses.asdict(cfg), **dict(_split(s) for s in sets)})
        report = run_realworld(cfg)
        from logodet.bench.report import goal_lines

        for line in goal_lines(report["rows"]):
            typer.echo(line)
        typer.echo(f"report: {Path(cfg.out) / 'report.md'}")


def _split(text: str) -> tuple[str, object]:
    import yaml

    if "=" not in text:
        raise ValueError(f"--set {text!r}: expected key=value")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)
