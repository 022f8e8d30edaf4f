"""``logodet data review``: export predictions as LabelMe files for a person to correct, and import the corrections."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["review_export_cmd", "review_import_cmd"]


def review_export_cmd(
    data: Annotated[Path, typer.Option("--data", help="Dataset folder (annotations.json + images/) or a COCO json file.")],
    predictions: Annotated[Path, typer.Option("--predictions", help="COCO results json using the dataset's image and category ids.")],
    out: Annotated[Path, typer.Option("--out", help="New or empty folder for the review files.")],
    count: Annotated[int | None, typer.Option("--count", min=0, help="How many images to review (default: all).")] = None,
    strategy: Annotated[
        str, typer.Option("--strategy", help="uncertain (scores nearest 0.5 first), random (seeded) or all (dataset order).")
    ] = "uncertain",
    select: Annotated[list[int] | None, typer.Option("--select", help="Review this image id (repeatable); replaces --strategy.")] = None,
    conf: Annotated[float, typer.Option("--conf", min=0.0, max=1.0, help="Draw predictions at or above this score.")] = 0.25,
    seed: Annotated[int, typer.Option("--seed", help="Seed of --strategy random.")] = 0,
    images: Annotated[str, typer.Option("--images", help="Place the images in the review folder: copy, symlink or none.")] = "copy",
) -> None:
    """Write LabelMe files with the model's predictions as pre-annotations for human review.

    Each chosen image gets OUT/<name>.json next to a copy of the image; the
    label is the class name and the description shows the score. OUT also
    holds review_manifest.json (review file -> dataset image id) and labels.txt.

    Example: logodet data review-export --data data/new --predictions preds.json --out review --count 50
    """
    import json

    from rich.console import Console

    from logodet.cli.errors import user_errors
    from logodet.datasets.formats.coco import dataset_to_coco, load_coco
    from logodet.datasets.review import MANIFEST_FILE, export_for_review
    from logodet.evaluation.predictions import load_predictions

    console = Console(soft_wrap=True)
    with user_errors():
        dataset = load_coco(data)
        results = load_predictions(predictions, dataset_to_coco(dataset))
        export_for_review(dataset, results, out, select=select or None, count=count, strategy=strategy, conf=conf, seed=seed, images=images)
    files = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))["files"]
    shown = sum(f["shown_predictions"] for f in files)
    console.print(f"Wrote {len(files)} review files with {shown} pre-annotations to {out}", highlight=False)
    console.print(f"Correct them in LabelMe (labelme {out} --labels {out / 'labels.txt'} --nodata), then import them.", highlight=False)


def review_import_cmd(
    review_dir: Annotated[Path, typer.Argument(help="Review folder written by the review export (with review_manifest.json).")],
    into: Annotated[Path, typer.Option("--into", help="The dataset folder the review was exported from (not modified).")],
    out: Annotated[Path, typer.Option("--out", help="New or empty folder for the corrected COCO dataset.")],
    images: Annotated[str, typer.Option("--images", help="Place the images in OUT/images: symlink, copy or none.")] = "symlink",
) -> None:
    """Apply the corrected LabelMe files of a review to a dataset and write the result as a new dataset.

    The reviewed images get exactly the reviewer's objects; every other image
    keeps its annotations. Labels must be class names of the dataset.

    Example: logodet data review-import review --into data/new --out data/new_reviewed
    """
    from rich.console import Console

    from logodet.cli.errors import user_errors
    from logodet.datasets.formats.coco import load_coco
    from logodet.datasets.review import apply_review, import_reviewed, save_reviewed_dataset

    console = Console(soft_wrap=True)
    with user_errors():
        dataset = load_coco(into)
        reviewed = import_reviewed(review_dir)
        result = apply_review(dataset, reviewed)
        json_path = save_reviewed_dataset(result, out, images=images)
    reviewed_ids = {r.id for r in reviewed.images}
    old = sum(len(d.annotations) for d, r in zip(dataset.images, result.images, strict=True) if r.id in reviewed_ids)
    new = sum(len(r.annotations) for r in reviewed.images)
    console.print(f"Reviewed {len(reviewed_ids)} of {len(dataset)} images: {old} annotations before, {new} after", highlight=False)
    console.print(f"Wrote {json_path}", highlight=False)
