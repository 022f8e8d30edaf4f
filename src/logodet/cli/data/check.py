"""``logodet data check``: every problem of a dataset at once, optionally a corrected copy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["check_cmd"]


def check_cmd(
    path: Annotated[Path, typer.Argument(help="Dataset folder, COCO json file, or a folder of split sub-folders (train/, val/, test/).")],
    split_of: Annotated[
        list[Path] | None, typer.Option("--split-of", help="Another split of the same data (repeatable); shared images are errors.")
    ] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Write a corrected COCO copy to --out (the input is never modified).")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="New or empty folder for the corrected copy (with --fix).")] = None,
    dup_distance: Annotated[
        int,
        typer.Option("--dup-distance", min=-1, help="Perceptual-hash bits within which images are near duplicates; -1: same bytes only."),
    ] = 4,
    decode: Annotated[bool, typer.Option("--decode", help="Fully decode every image (slower; finds damage past the header).")] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write every problem to this JSON file.")] = None,
    first: Annotated[int, typer.Option("--first", min=0, help="How many problems to print in full (errors first).")] = 20,
    fmt: Annotated[str | None, typer.Option("--format", help="Dataset format (default: detected).")] = None,
) -> None:
    """Validate a dataset: files, sizes, boxes, ids, categories, duplicates and leakage between splits.

    Exit status 1 when there is any error, 0 when there are only warnings or
    nothing. With --fix --out DST a corrected copy is written (bad images and
    annotations dropped, sizes set from the files, boxes clipped, ids renumbered,
    images as symlinks); the exit status still describes the input.

    Example: logodet data check data/ --json check.json --fix --out data_fixed
    """
    from rich.console import Console
    from rich.table import Table

    from logodet.cli.errors import user_errors
    from logodet.datasets.check import PROBLEM_CODES, check_dataset
    from logodet.datasets.fix import fix_dataset
    from logodet.io import atomic_write_json

    if fix and out is None:
        raise typer.BadParameter("--fix needs --out DST, a new folder for the corrected copy", param_hint="'--out'")
    if out is not None and not fix:
        raise typer.BadParameter("--out is only used with --fix", param_hint="'--out'")
    console = Console(soft_wrap=True)
    with user_errors():
        report = check_dataset(
            path, split_of=split_of or (), fmt=fmt, dup_distance=None if dup_distance < 0 else dup_distance, decode=decode
        )
        fixed = fix_dataset(report, out) if fix and out is not None else None
    for d in report.datasets:
        role = "" if d.primary else " (split to compare)"
        console.print(f"Checked {d.name}{role}: {d.images} images, {d.annotations} annotations, {d.categories} categories", highlight=False)
    counts = report.counts()
    if counts:
        table = Table(title="Problems by code")
        for col in ("code", "severity", "count", "meaning"):
            table.add_column(col, justify="right" if col == "count" else "left")
        for code, n in counts.items():
            sev, meaning = PROBLEM_CODES[code]
            table.add_row(code, f"[red]{sev}[/]" if sev == "error" else f"[yellow]{sev}[/]", str(n), meaning)
        console.print(table)
    if report.problems and first:
        shown = report.errors[:first] + report.warnings[: max(0, first - len(report.errors))]
        detail = Table(title=f"First {len(shown)} of {len(report.problems)} problems" if len(shown) < len(report.problems) else "Problems")
        for col in ("severity", "code", "file", "where", "message"):
            detail.add_column(col, overflow="fold")
        for p in shown:
            detail.add_row(p.severity, p.code, p.file, p.where, p.message)
        console.print(detail)
    if json_path is not None:
        atomic_write_json(json_path, report.to_dict(), indent=1)
        console.print(f"Wrote all {len(report.problems)} problems to {json_path}", highlight=False)
    if fixed is not None:
        console.print(f"Wrote the corrected copy: {', '.join(str(p) for p in fixed.outputs)}", highlight=False)
        for kind, n in fixed.changes.items():
            console.print(f"  {n:6d}  {kind}", highlight=False)
        if not fixed.changes:
            console.print("  nothing to change", highlight=False)
        for code, n in fixed.unfixed.items():
            console.print(f"  left as they are: {n} {code} (needs a person's choice)", highlight=False)
    n_err, n_warn = len(report.errors), len(report.warnings)
    if n_err:
        console.print(f"[bold red]{n_err} errors[/], {n_warn} warnings", highlight=False)
        raise typer.Exit(1)
    console.print(f"[green]No errors[/], {n_warn} warnings" if n_warn else "[green]No problems found[/]", highlight=False)
