"""``logodet data convert``: write a dataset in another format (COCO, YOLO, Pascal VOC, LabelMe)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["convert_cmd"]


def convert_cmd(
    src: Annotated[Path, typer.Argument(help="Source dataset folder (or COCO json / YOLO data.yaml file).")],
    dst: Annotated[Path, typer.Argument(help="Destination folder (new or empty; see --overwrite).")],
    to_fmt: Annotated[str, typer.Option("--to", help="Target format: coco, yolo, voc or labelme.")],
    from_fmt: Annotated[str | None, typer.Option("--from", help="Source format (default: detected).")] = None,
    images: Annotated[str, typer.Option("--images", help="Place images by copy, symlink, or none (annotations only).")] = "copy",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty destination folder.")] = False,
    yolo_task: Annotated[
        str, typer.Option("--yolo-task", help="YOLO labels: detect (boxes) or segment (polygons for annotations with masks).")
    ] = "detect",
) -> None:
    """Convert a dataset between COCO, YOLO, Pascal VOC and LabelMe.

    Prints what was written (images, boxes, masks, classes) and every item the
    target format cannot hold (dropped) or holds in another form (changed),
    grouped by reason. The source is never modified.

    Example: logodet data convert --to yolo ../shared/data/flickrlogos27-dev runs/flickr-yolo
    """
    from rich.console import Console
    from rich.table import Table

    from logodet.cli.errors import user_errors
    from logodet.datasets.convert import convert

    console = Console(soft_wrap=True)
    with user_errors():
        report = convert(src, dst, from_fmt=from_fmt, to_fmt=to_fmt, images=images, overwrite=overwrite, yolo_task=yolo_task)
    table = Table(title=f"{report.from_fmt} -> {report.to_fmt}: {dst}")
    table.add_column("item")
    table.add_column("count", justify="right")
    for name, value in (
        ("images", report.images),
        ("boxes", report.annotations),
        ("masks", report.masks),
        ("classes", report.classes),
        ("dropped", len(report.dropped)),
        ("changed", len(report.changed)),
    ):
        table.add_row(name, str(value))
    console.print(table)
    for title, counts in (("Dropped", report.dropped_counts()), ("Changed", report.changed_counts())):
        if counts:
            detail = Table(title=title)
            detail.add_column("what: reason")
            detail.add_column("count", justify="right")
            for reason, n in counts.items():
                detail.add_row(reason, str(n))
            console.print(detail)
