"""``logodet models``: the model zoo with size, compute and CPU latency."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from logodet.cli.errors import user_errors

__all__ = ["models_cmd"]


def models_cmd(
    imgsz: Annotated[list[int] | None, typer.Option("--imgsz", min=32, help="Input size to profile; repeat for several.")] = None,
    runs: Annotated[int, typer.Option("--runs", min=1, help="Timed CPU calls per model and size.")] = 10,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed calls before timing.")] = 2,
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="Torch CPU threads while timing (default: torch's).")] = None,
    latency: Annotated[bool, typer.Option("--latency/--no-latency", help="Measure CPU latency (slow) or only count.")] = True,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the rows to this JSON file.")] = None,
) -> None:
    """List the registered detectors: head, backbone, pretrained weights, parameters, GFLOPs and CPU latency.

    GFLOPs count a multiply-add as 2 (batch 1, dense graph without NMS); latency is the median of
    --runs timed PyTorch calls at batch 1 on this machine's CPU.

    Example: logodet models --imgsz 320 --imgsz 640 --runs 10 --json models.json
    """
    from logodet.io import atomic_write_json
    from logodet.models.profile import profile_models

    sizes = list(dict.fromkeys(imgsz)) if imgsz else [320, 640]
    with user_errors():
        rows = profile_models(imgsizes=sizes, runs=runs, warmup=warmup, threads=threads, latency=latency)
        if json_out is not None:
            atomic_write_json(json_out, rows, indent=2)
    table = Table(title="logodet models")
    for col in ("model", "head", "backbone", "pretrained", "params (M)"):
        table.add_column(col, justify="right" if col == "params (M)" else "left", overflow="fold", min_width=len(col))
    for size in sizes:
        table.add_column(f"GFLOPs {size}", justify="right")
    if latency:
        for size in sizes:
            table.add_column(f"CPU ms {size}", justify="right")
    for row in rows:
        pretrained = ("yes" if row["pretrained_installed"] else "yes (not installed)") if row["pretrained"] else "no"
        cells = [row["name"], row["head"], row["backbone"], pretrained, f"{row['params'] / 1e6:.2f}"]
        cells += [f"{row[f'gflops_{s}']:.2f}" for s in sizes]
        if latency:
            cells += [f"{row[f'latency_median_ms_{s}']:.1f}" for s in sizes]
        table.add_row(*cells)
    console = Console()
    console.print(table)
    if json_out is not None:
        console.print(f"wrote {json_out}", highlight=False)
