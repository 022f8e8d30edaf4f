"""``logodet data stats``: counts and distributions of a dataset, and its gap to another one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["stats_cmd"]

_DISTRIBUTIONS = (
    ("boxes_per_image", "boxes per image"),
    ("box_width", "box width [px]"),
    ("box_height", "box height [px]"),
    ("relative_size", "relative size sqrt(box/image)"),
    ("aspect_ratio", "aspect ratio w/h"),
    ("centre_x", "box centre x (fraction)"),
    ("centre_y", "box centre y (fraction)"),
    ("image_width", "image width [px]"),
    ("image_height", "image height [px]"),
)


def _num(v: Any) -> str:
    return "-" if v is None else f"{v:.4g}"


def stats_cmd(
    path: Annotated[Path, typer.Argument(help="Dataset folder (or COCO json file).")],
    compare: Annotated[
        Path | None, typer.Option("--compare", help="A second dataset: the distribution gap to it (e.g. real data).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for stats.json, plots, and compare.json with one plot per feature.")
    ] = None,
    sample: Annotated[int, typer.Option("--sample", min=1, help="Images per dataset read for the colour statistics of --compare.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the --sample choice.")] = 0,
    fmt: Annotated[str | None, typer.Option("--format", help="Dataset format (default: detected).")] = None,
) -> None:
    """Print per-class counts, box sizes (COCO small/medium/large), aspect ratios, image sizes and box positions.

    With --compare DIR2, also the Wasserstein distance and KS statistic of each
    feature between the two datasets (box geometry, and colour statistics of
    images and box crops on a seeded sample), and the classes found in only one.
    With --out, writes stats.json and PNG plots (and compare.json plus one
    overlaid histogram per feature).

    Example: logodet data stats runs/synth --compare ../shared/data/flickrlogos27-dev --out runs/synth/stats
    """
    from rich.console import Console
    from rich.table import Table

    from logodet.cli.errors import user_errors
    from logodet.datasets.check import open_dataset
    from logodet.datasets.stats import compare_stats, compute_stats, write_comparison, write_stats

    console = Console(soft_wrap=True)
    with user_errors():
        dataset = open_dataset(path, fmt)
        stats = write_stats(dataset, out) if out is not None else compute_stats(dataset)
        gap = None
        if compare is not None:
            other = open_dataset(compare, fmt)
            names = (path.name, compare.name) if path.name != compare.name else (str(path), str(compare))
            if out is not None:
                gap = write_comparison(dataset, other, out, names=names, sample=sample, seed=seed)
            else:
                gap = compare_stats(dataset, other, sample=sample, seed=seed)
    sizes = stats["box_sizes"]
    console.print(
        f"{path}: {stats['images']} images ({stats['empty_images']} without boxes), {stats['annotations']} boxes "
        f"({stats['crowd']} crowd) of {stats['classes']} classes; small {sizes['small']}, medium {sizes['medium']}, large {sizes['large']}",
        highlight=False,
    )
    classes = Table(title="Per class")
    for col in ("class", "instances", "images"):
        classes.add_column(col, justify="left" if col == "class" else "right")
    for c in stats["per_class"]:
        classes.add_row(c["name"], str(c["instances"]), str(c["images"]))
    console.print(classes)
    dist = Table(title="Distributions")
    for col in ("feature", "mean", "median", "p05", "p95", "min", "max"):
        dist.add_column(col, justify="left" if col == "feature" else "right")
    for key, label in _DISTRIBUTIONS:
        s = stats[key]
        dist.add_row(label, *(_num(s[k]) for k in ("mean", "median", "p05", "p95", "min", "max")))
    console.print(dist)
    common = ", ".join(f"{s['width']}x{s['height']} ({s['images']})" for s in stats["image_sizes"][:5])
    console.print(f"Most common image sizes: {common or '-'}", highlight=False)
    if gap is not None:
        table = Table(title=f"Distribution gap: {path} vs {compare}")
        for col in ("feature", "Wasserstein", "KS", "mean A", "mean B", "n A", "n B"):
            table.add_column(col, justify="left" if col == "feature" else "right")
        for name, g in gap["features"].items():
            table.add_row(name, _num(g["wasserstein"]), _num(g["ks"]), _num(g["mean_a"]), _num(g["mean_b"]), str(g["n_a"]), str(g["n_b"]))
        console.print(table)
        cls = gap["classes"]
        console.print(f"Classes only in {path}: {', '.join(cls['only_a']) or '-'}", highlight=False)
        console.print(f"Classes only in {compare}: {', '.join(cls['only_b']) or '-'}", highlight=False)
    if out is not None:
        console.print(
            f"Wrote {out / 'stats.json'} and plots" + (f", {out / 'compare.json'} and compare_*.png" if gap is not None else ""),
            highlight=False,
        )
