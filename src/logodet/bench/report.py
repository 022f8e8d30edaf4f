"""The real-world benchmark's report: a markdown table per question and the same numbers as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from logodet.io import atomic_write_bytes, atomic_write_json

__all__ = ["ABLATION_REFERENCE", "GOALS", "ablation_lines", "goal_lines", "render_markdown", "write_report"]

GOALS = {"cold_AP50": 0.50, "cold_F1": 0.60, "fewshot_AP50": 0.75, "yolo_ratio": 1.3}
ABLATION_REFERENCE = "ablation reference: SynthLogo, every stage on"


def _f(v: Any, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _row(rows: list[dict], prefix: str) -> dict | None:
    return next((r for r in rows if r["name"].startswith(prefix)), None)


def goal_lines(rows: list[dict]) -> list[str]:
    """One line per goal of the benchmark: met or missed, and by how much."""
    out = []

    def check(label: str, value: float | None, target: float) -> None:
        if value is None:
            out.append(f"- {label}: not measured")
        else:
            verdict = "met" if value >= target else f"missed by {target - value:.3f}"
            out.append(f"- {label}: {value:.3f} (goal >= {target}) — {verdict}")

    cold, few = _row(rows, "cold start"), _row(rows, "few-shot")
    naive, yolo = _row(rows, "baseline: naive"), _row(rows, "baseline: YOLO11n")
    check("cold start AP50", cold and cold["AP50"], GOALS["cold_AP50"])
    check("cold start image-level F1", cold and cold["presence_f1"], GOALS["cold_F1"])
    check("few-shot AP50", few and few["AP50"], GOALS["fewshot_AP50"])
    if cold and yolo:
        ratio = cold["AP50"] / yolo["AP50"] if yolo["AP50"] > 0 else float("inf")
        check("logodet AP50 / YOLO11n AP50 at equal CPU time", ratio, GOALS["yolo_ratio"])
    else:
        out.append("- logodet / YOLO11n: not measured")
    if cold and naive:
        better = cold["AP50"] > naive["AP50"]
        out.append(f"- above the naive copy-paste baseline: {'yes' if better else 'no'} ({cold['AP50']:.3f} vs {naive['AP50']:.3f})")
    else:
        out.append("- naive copy-paste baseline: not measured")
    return out


def ablation_lines(rows: list[dict]) -> list[str]:
    """A table of the ablation rows against SynthLogo at the same budget (empty without ablations).

    The reference is the ``ABLATION_REFERENCE`` row, else the cold-start row
    when it was trained for the ablations' budget.
    """
    ablations = [r for r in rows if r["name"].startswith("ablation: ")]
    if not ablations:
        return []
    minutes = ablations[0]["budget_minutes"]
    ref = _row(rows, ABLATION_REFERENCE)
    cold = _row(rows, "cold start")
    if ref is None and cold is not None and cold["budget_minutes"] == minutes:
        ref = cold
    out = ["| run | CPU min | AP50 | change vs all stages | AP | presence F1 |", "|---|---:|---:|---:|---:|---:|"]
    for r in ([ref] if ref else []) + ablations:
        delta = "" if ref is None or r is ref else f"{r['AP50'] - ref['AP50']:+.3f}"
        out.append(f"| {r['name']} | {r['budget_minutes']:g} | {_f(r['AP50'])} | {delta} | {_f(r['AP'])} | {_f(r['presence_f1'])} |")
    if ref is None:
        out.append("")
        out.append(f"No SynthLogo run at {minutes:g} min to compare with.")
    return out


def render_markdown(report: dict) -> str:
    """The report as markdown."""
    rows = report["rows"]
    cfg = report["config"]
    lines = [
        f"# Real-world benchmark ({report['date']})",
        "",
        f"Test set `{cfg['test']}`; model `{cfg['model']}` at {cfg['imgsz']} px, batch {cfg['batch']}; "
        f"{cfg['synth_images']} synthetic images per profile; seed {cfg['seed']}. The presence threshold and the prediction "
        "input size and box scale are chosen on the validation split.",
        "",
        *[f"- {n}" for n in report["notes"]],
        "",
        "## Goals",
        "",
        *goal_lines(rows),
        "",
        "## Results on the test split",
        "",
        "| run | CPU min | input px (val) | box scale (val) | AP | AP50 | AP75 | APs | APm | APl | presence P | R | F1 | threshold (val) "
        "| FP / negative image |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cells = [r.get("input_size", cfg["imgsz"]), f"x{r.get('box_scale', 1.0):g}"]
        cells += [r["AP"], r["AP50"], r["AP75"], r["APs"], r["APm"], r["APl"]]
        cells += [r["presence_precision"], r["presence_recall"], r["presence_f1"], r["presence_threshold"], r["fp_per_negative_image"]]
        lines.append(f"| {r['name']} | {r['budget_minutes']:g} | " + " | ".join(_f(c) for c in cells) + " |")
    ablation = ablation_lines(rows)
    if ablation:
        lines += ["", "## Ablation: one synthesis stage off at a time (test split)", "", *ablation]
    brands = sorted({b for r in rows for b in r.get("per_brand_AP50", {})})
    if brands:
        lines += ["", "## AP50 per brand", "", "| brand | " + " | ".join(r["name"] for r in rows) + " |", "|---|" + "---:|" * len(rows)]
        for b in brands:
            lines.append(f"| {b} | " + " | ".join(_f(r.get("per_brand_AP50", {}).get(b)) for r in rows) + " |")
    notes = [f"- {r['name']}: {'; '.join(r['notes'])}" for r in rows if r.get("notes")]
    if notes:
        lines += ["", "## Run notes", "", *notes]
    return "\n".join(lines) + "\n"


def write_report(report: dict, out: str | Path) -> Path:
    """Write ``report.md`` and ``report.json`` to ``out``; the markdown path."""
    out = Path(out)
    atomic_write_json(out / "report.json", report, indent=2)
    path = out / "report.md"
    atomic_write_bytes(path, render_markdown(report).encode("utf-8"))
    return path
