"""``logodet data split``: stratified train/val/test splits, k-fold folds or a few-shot subset, written as dataset folders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["split_cmd"]


def _parse_ratios(text: str) -> dict[str, float]:
    ratios: dict[str, float] = {}
    for item in text.split(","):
        name, sep, value = item.strip().partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            ratios[name.strip()] = float(value)
        except ValueError:
            raise typer.BadParameter(
                f"expected NAME=FRACTION items separated by commas, got {item.strip()!r}", param_hint="'--ratios'"
            ) from None
    return ratios


def split_cmd(
    path: Annotated[Path, typer.Argument(help="Dataset folder (annotations.json + images/) or a COCO json file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (outside the dataset): one sub-folder per split, and splits.json.")],
    ratios: Annotated[
        str | None, typer.Option("--ratios", help="Split fractions, NAME=FRACTION,... summing to 1 [default: train=0.8,val=0.1,test=0.1].")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split; the same seed gives the same split.")] = 0,
    kfold: Annotated[
        int | None, typer.Option("--kfold", min=2, help="Write K folds (fold_i/train, fold_i/val) instead of --ratios.")
    ] = None,
    shots: Annotated[
        int | None,
        typer.Option("--shots", min=1, help="The first split gets K annotated images per class; the others share the rest."),
    ] = None,
    group_duplicates: Annotated[
        bool, typer.Option("--group-duplicates", help="Keep near-duplicate images (perceptual hash) in the same split.")
    ] = False,
    dup_distance: Annotated[int, typer.Option("--dup-distance", min=0, help="Hash bits within which images are near duplicates.")] = 8,
    stratify: Annotated[bool, typer.Option("--stratify/--no-stratify", help="Balance every class across the splits.")] = True,
    images: Annotated[str, typer.Option("--images", help="How images are placed: symlink, copy or none.")] = "symlink",
) -> None:
    """Split a dataset into train/val/test (stratified by class, multi-label aware), k folds, or a few-shot subset.

    Every image lands in exactly one split; images without boxes are spread by
    ratio. With --group-duplicates, near-duplicate photos never straddle splits.
    Writes OUT/<split>/annotations.json + images/ (symlinks by default) and
    OUT/splits.json (method, seed, ratios, file names), and prints the images of
    each class per split.

    Example: logodet data split ../shared/data/flickrlogos27-dev --out data/splits --ratios train=0.7,val=0.15,test=0.15
    """
    import warnings

    from rich.console import Console
    from rich.table import Table

    from logodet.cli.errors import user_errors
    from logodet.datasets.formats.coco import load_coco
    from logodet.datasets.split import (
        DEFAULT_RATIOS,
        class_counts,
        few_shot_split,
        near_duplicate_groups_of,
        scarce_classes,
        split_dataset,
        write_splits,
    )
    from logodet.datasets.split import kfold as make_folds

    if kfold is not None and (ratios is not None or shots is not None):
        raise typer.BadParameter("--kfold cannot be combined with --ratios or --shots", param_hint="'--kfold'")
    parsed = _parse_ratios(ratios) if ratios is not None else dict(DEFAULT_RATIOS)
    console = Console(soft_wrap=True)
    with user_errors():
        dataset = load_coco(path)
        groups = near_duplicate_groups_of(dataset, dup_distance) if group_duplicates else None
        if groups is not None:
            console.print(f"{len(dataset)} images form {len(set(groups))} near-duplicate groups", highlight=False)
        if kfold is not None:
            folds = make_folds(dataset, k=kfold, seed=seed, stratify=stratify, groups=groups)
            parts = {f"fold_{i}/{name}": idx for i, fold in enumerate(folds) for name, idx in zip(("train", "val"), fold, strict=True)}
            method = f"kfold-{kfold}"
        elif shots is not None:
            for name, n in scarce_classes(dataset, shots).items():
                console.print(f"[yellow]warning:[/] only {n} images of {name} (fewer than {shots} shots); all go to training")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                parts = few_shot_split(dataset, shots, parsed, seed=seed, stratify=stratify, groups=groups)
            method = f"few-shot-{shots}"
        else:
            parts = split_dataset(dataset, parsed, seed=seed, stratify=stratify, groups=groups)
            method = "stratified" if stratify else "random"
        written = write_splits(dataset, parts, out, images, seed=seed, ratios=None if kfold else parsed, method=method)
    left_out = len(dataset) - sum(len(v) for v in parts.values()) if kfold is None else 0
    shown = {n: v for n, v in parts.items() if not n.endswith("/train")} if kfold else parts
    table = Table(title="Images per class and split")
    table.add_column("class")
    for name in shown:
        table.add_column(name, justify="right")
    counts = {n: class_counts(dataset, idx) for n, idx in shown.items()}
    for k, cname in enumerate(dataset.class_names):
        table.add_row(cname, *(str(c[k]) if c[k] else "[red]0[/]" for c in counts.values()))
    table.add_row("no boxes", *(str(sum(1 for i in idx if not dataset.images[i].annotations)) for idx in shown.values()), style="dim")
    table.add_row("all images", *(str(len(idx)) for idx in shown.values()), style="bold")
    console.print(table)
    if left_out:
        console.print(f"{left_out} near-duplicate image(s) of few-shot images left out of every split", highlight=False)
    console.print(f"Wrote {len(parts)} splits to {out} ({written.name})", highlight=False)
