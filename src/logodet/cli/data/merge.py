"""``logodet data merge``: several datasets (e.g. real and synthetic) into one COCO folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["merge_cmd"]


def _parse_renames(items: list[str]) -> dict[str, str]:
    renames: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise typer.BadParameter(f"expected OLD=NEW, got {item!r}", param_hint="'--rename'")
        renames[old.strip()] = new.strip()
    return renames


def _name(path: Path) -> str:
    path = path.resolve()
    return path.parent.name if path.suffix == ".json" and path.stem == "annotations" else path.stem if path.suffix == ".json" else path.name


def merge_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Dataset folders (annotations.json + images/) or COCO json files, in order.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (outside every input) for annotations.json + images/.")],
    rename: Annotated[
        list[str] | None, typer.Option("--rename", help="Rename a class before matching by name, OLD=NEW (repeatable).")
    ] = None,
    prefix: Annotated[
        bool, typer.Option("--prefix", help="Prefix every file name with its dataset name, not only colliding ones.")
    ] = False,
    images: Annotated[str, typer.Option("--images", help="How images are placed: symlink, copy or none.")] = "symlink",
) -> None:
    """Merge datasets: classes matched by name, colliding file names prefixed by the dataset name, ids renumbered.

    Each dataset is named after its folder (or json file stem); each annotation
    keeps that name in its "source" field. Prints the boxes of each class per input.

    Example: logodet data merge ../shared/data/flickrlogos27-dev runs/synth --out data/real+synth --rename Coca-Cola=cocacola
    """
    from rich.console import Console
    from rich.table import Table

    from logodet.cli.errors import user_errors
    from logodet.datasets.formats.coco import load_coco
    from logodet.datasets.merge import merge_datasets, write_merged

    renames = _parse_renames(rename or [])
    console = Console(soft_wrap=True)
    with user_errors():
        datasets = [load_coco(p) for p in paths]
        merged = merge_datasets(datasets, names=[_name(p) for p in paths], category_map=renames, prefix=prefix)
        written = write_merged(merged, out, images)
    from collections import Counter

    boxes = Counter((a.category, a.extra["source"]) for r in merged.images for a in r.annotations)
    sources = merged.source_names
    table = Table(title="Boxes per class and source")
    table.add_column("class")
    for s in sources:
        table.add_column(s, justify="right")
    table.add_column("total", justify="right")
    for k, cname in enumerate(merged.class_names):
        counts = [boxes[k, s] for s in sources]
        table.add_row(cname, *map(str, counts), str(sum(counts)))
    console.print(table)
    console.print(f"Merged {len(paths)} datasets: {len(merged)} images, {len(merged.class_names)} classes -> {written}", highlight=False)
