"""``logodet data agree``: agreement between annotators of the same images, and their scores against gold labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["agree_cmd"]


def _name(path: Path) -> str:
    path = path.resolve()
    return path.parent.name if path.suffix == ".json" and path.stem == "annotations" else path.stem if path.suffix == ".json" else path.name


def _num(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def agree_cmd(
    paths: Annotated[list[Path], typer.Argument(help="One COCO folder or json file per annotator (the name is the folder / file stem).")],
    gold: Annotated[Path | None, typer.Option("--gold", help="Gold labels: score every annotator against them.")] = None,
    iou: Annotated[float, typer.Option("--iou", min=0.0, max=1.0, help="IoU at which two same-class boxes are the same object.")] = 0.5,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the full report to this JSON file.")] = None,
) -> None:
    """Box agreement (F1 of one annotator against another, mean IoU) and presence kappa between annotators.

    Images are matched by file name and classes by name. For each pair:
    matched boxes, boxes only one drew, agreement and Cohen's kappa of
    "class present in image"; Fleiss' kappa across three or more annotators.
    With --gold, precision, recall, F1 and mean IoU of each annotator per class.
    Needs two annotators, or one with --gold.

    Example: logodet data agree labels/ann labels/bob labels/cho --gold labels/gold --json agreement.json
    """
    from rich.console import Console
    from rich.table import Table

    from logodet.cli.errors import user_errors
    from logodet.datasets.formats.coco import load_coco
    from logodet.datasets.quality import annotator_agreement, score_against_gold
    from logodet.io import atomic_write_json

    if len(paths) < 2 and gold is None:
        raise typer.BadParameter("give at least two annotators, or one with --gold", param_hint="'PATHS'")
    console = Console(soft_wrap=True)
    with user_errors():
        datasets: dict = {}
        for p in paths:
            name, k = _name(p), 2
            while name in datasets:
                name, k = f"{_name(p)}_{k}", k + 1
            datasets[name] = load_coco(p)
        report = annotator_agreement(datasets, iou) if len(datasets) >= 2 else None
        scores = {}
        if gold is not None:
            gold_ds = load_coco(gold)
            scores = {name: score_against_gold(ds, gold_ds, iou) for name, ds in datasets.items()}
        if json_path is not None:
            atomic_write_json(json_path, {"agreement": report.to_dict() if report else None, "gold": scores or None}, indent=1)
    if report is not None:
        console.print(f"{len(report.annotators)} annotators, {report.images} images labelled by all, IoU >= {iou}", highlight=False)
        for name, files in report.missing.items():
            if files:
                console.print(f"[yellow]warning:[/] {name} did not label {len(files)} images, e.g. {files[0]}", highlight=False)
        table = Table(title="Agreement per pair of annotators")
        for col in ("pair", "images", "matched", "only first", "only second", "agreement", "mean IoU", "presence kappa"):
            table.add_column(col, justify="left" if col == "pair" else "right")
        for p in report.pairs:
            row = (p.images, p.matched, p.only_a, p.only_b)
            table.add_row(f"{p.a} / {p.b}", *map(str, row), _num(p.agreement), _num(p.mean_iou), _num(p.kappa))
        console.print(table)
        per_class = Table(title="Agreement per class (each pair)")
        per_class.add_column("class")
        for p in report.pairs:
            per_class.add_column(f"{p.a} / {p.b}", justify="right")
        for c in report.classes:
            per_class.add_row(c, *(_num(p.per_class[c]["agreement"]) if c in p.per_class else "-" for p in report.pairs))
        console.print(per_class)
        if report.fleiss_kappa is not None or len(report.annotators) >= 3:
            console.print(f"Fleiss' kappa (class presence, all annotators): {_num(report.fleiss_kappa)}", highlight=False)
    for name, s in scores.items():
        table = Table(title=f"{name} against gold ({s['images']} images)")
        for col in ("class", "tp", "fp", "fn", "precision", "recall", "F1", "mean IoU"):
            table.add_column(col, justify="left" if col == "class" else "right")
        for cname, r in [*s["per_class"].items(), ("all", s["overall"])]:
            style = "bold" if cname == "all" else None
            table.add_row(
                cname,
                str(r["tp"]),
                str(r["fp"]),
                str(r["fn"]),
                *(_num(r[k]) for k in ("precision", "recall", "f1", "mean_iou")),
                style=style,
            )
        console.print(table)
        if s["missing"]:
            console.print(f"[yellow]warning:[/] {name} did not label {len(s['missing'])} gold images", highlight=False)
    if json_path is not None:
        console.print(f"Wrote {json_path}", highlight=False)
