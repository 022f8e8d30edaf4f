"""``logodet data show``: a contact sheet of random images of a dataset with masks, boxes and class names."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["show_cmd"]


def show_cmd(
    path: Annotated[Path, typer.Argument(help="Dataset folder (or COCO json file).")],
    out: Annotated[Path, typer.Option("--out", help="Image file to write (.png, or .jpg).")],
    count: Annotated[int, typer.Option("--count", min=1, help="Number of images on the sheet.")] = 16,
    columns: Annotated[int, typer.Option("--columns", min=1, help="Images per row.")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random choice of images.")] = 0,
    class_name: Annotated[str | None, typer.Option("--class", help="Only images holding a box of this class.")] = None,
    tile: Annotated[int, typer.Option("--tile", min=32, help="Cell size in pixels.")] = 320,
    fmt: Annotated[str | None, typer.Option("--format", help="Dataset format (default: detected).")] = None,
) -> None:
    """Draw a seeded random pick of images with their masks (semi-transparent), boxes, class names and file names.

    Example: logodet data show ../shared/data/flickrlogos27-dev --out sheet.png --count 16 --class nike
    """
    from rich.console import Console

    from logodet.cli.errors import user_errors
    from logodet.datasets.check import open_dataset
    from logodet.datasets.show import pick_images, write_sheet

    with user_errors():
        dataset = open_dataset(path, fmt)
        n = len(pick_images(dataset, count, seed, class_name))
        write_sheet(dataset, out, count=count, columns=columns, seed=seed, class_name=class_name, tile=tile)
    Console().print(f"Wrote {out}: {n} of {len(dataset)} images", highlight=False)
