"""``logodet synth``: a synthetic dataset folder from logo artwork and background photos."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["synth"]

SHOWN = 10  # input problems listed per kind; a photo folder can hold hundreds of small backgrounds


def synth(
    logos: Annotated[Path, typer.Option("--logos", help="Logo folder: <class>.svg|png|jpg files or <class>/ sub-folders of variants.")],
    out: Annotated[Path, typer.Option("--out", help="Dataset folder to write (images/ + annotations.json).")],
    backgrounds: Annotated[
        Path | None, typer.Option("--backgrounds", help="Folder of background photos (default: scikit-image's demo photos).")
    ] = None,
    n: Annotated[int, typer.Option("-n", "--num-images", min=0, help="Number of images.")] = 100,
    size: Annotated[str | None, typer.Option("--size", help="Output size WxH, e.g. 320x320 (default: the config's).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Dataset seed; the same seed gives byte-identical output.")] = 0,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes (the output does not depend on it).")] = 1,
    config: Annotated[Path | None, typer.Option("--config", help="SynthConfig YAML file.")] = None,
    key_white: Annotated[bool, typer.Option("--key-white", help="Make white pixels transparent in logos without alpha.")] = False,
    max_logos: Annotated[int | None, typer.Option("--max-logos", min=0, help="Most logos per image (0: images without logos).")] = None,
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="Config override key=value (repeatable), e.g. --set scale=[0.1,0.3].")
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a dataset in --out made with other inputs or settings.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    executor: Annotated[str, typer.Option("--executor", help="Where images are rendered: local (processes) or ray.")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster address for --executor ray (default: local).")] = None,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="Analysis cache (default: $LOGODET_CACHE/analysis, ~/.cache/logodet/analysis).")
    ] = None,
    distractors: Annotated[Path | None, typer.Option("--distractors", help="Folder of unlabelled icons pasted as distractors.")] = None,
    formats: Annotated[str, typer.Option("--format", help="Output formats, comma-separated: coco (always), yolo.")] = "coco",
    yolo: Annotated[bool, typer.Option("--yolo", help="Also write a YOLO copy in OUT/yolo (same as --format coco,yolo).")] = False,
    preview: Annotated[bool, typer.Option("--preview/--no-preview", help="Write OUT/preview.png, 16 images with boxes.")] = True,
    real_crops: Annotated[
        Path | None,
        typer.Option(
            "--real-crops",
            help="Labelled photos (COCO folder, categories named like the logo classes): each box is pasted as another "
            "variant of its class (few-shot; the crops go to OUT/logo-crops).",
        ),
    ] = None,
) -> None:
    """Synthesise a labelled dataset: logos warped, recoloured and blended onto photos, with exact boxes and RLE masks.

    Settings come from the defaults, then --config, then --size/--max-logos/--key-white,
    then --set; the resolved config is saved as OUT/synth_config.yaml. Images are written in
    shards: a re-run into the same --out with the same command resumes a killed run and
    gives byte-identical files.

    Example: logodet synth --logos examples/logos --out runs/synth -n 1000 --size 320x320 --seed 0 --workers 2
    """
    from rich.console import Console

    from logodet.cli.errors import user_errors
    from logodet.config import ConfigError
    from logodet.synth.config import resolve_synth_config
    from logodet.synth.pipeline import synthesize

    console = Console()
    with user_errors():
        if real_crops is not None:
            logos = _with_real_crops(logos, real_crops, out, console)
        cfg = resolve_synth_config(config, size=size, max_logos=max_logos, key_white=key_white or None, overrides=overrides)
        fmts = tuple(dict.fromkeys(["coco", *(f.strip().lower() for f in formats.split(",") if f.strip()), *(["yolo"] if yolo else [])]))
        if executor not in ("local", "ray"):
            raise ConfigError(f"--executor: expected local or ray, got {executor!r}")
        report = synthesize(
            logos, backgrounds, out, n, cfg, seed=seed, workers=workers, progress=not quiet, overwrite=overwrite,
            executor=executor, address=address, cache_dir=cache, distractors=distractors, formats=fmts, preview=preview,
        )  # fmt: skip
    for kind, lines in (
        ("skipped background", report.skipped_backgrounds),
        ("skipped logo", report.skipped_logos),
        ("small background", report.small_backgrounds),
    ):
        for line in lines[:SHOWN]:
            console.print(f"[yellow]{kind}[/] {line}", highlight=False)
        if len(lines) > SHOWN:
            console.print(f"[yellow]{kind}[/] ... and {len(lines) - SHOWN} more", highlight=False)
    if report.input_issues:
        console.print("Input problems: " + ", ".join(f"{v} {k}" for k, v in report.input_issues.items()), highlight=False)
    console.print(
        f"Wrote {report.num_images} images ({report.num_generated} new, {report.num_reused} reused), "
        f"{report.num_instances} logos of {len(report.class_names)} classes, {report.num_empty} images without logos, "
        f"in {report.seconds:.1f} s ({report.images_per_second:.1f} images/s) to {report.annotations}",
        highlight=False,
    )


def _with_real_crops(logos: Path, photos: Path, out: Path, console: Any) -> Path:
    """``OUT/logo-crops``: the artwork of ``logos`` (linked) plus every labelled box of ``photos`` as a variant."""
    from logodet.assets.crops import logo_folder_with_crops
    from logodet.datasets.formats.coco import load_coco

    folder = out / "logo-crops"
    counts = logo_folder_with_crops(logos, load_coco(photos), folder)
    if not counts:
        console.print(f"[yellow]--real-crops[/] {photos}: no usable box of a class in {logos}; no crops added", highlight=False)
    else:
        listed = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        console.print(f"{sum(counts.values())} real crops added as logo variants ({listed})", highlight=False)
    return folder
