"""A self-contained HTML evaluation report and its JSON twin.

:func:`write_report` gathers, at one confidence threshold (the best-F1 point
of the detection metrics unless given):

* the twelve COCO box metrics and the best-F1 operating point;
* a per-class table: AP, AP50, instances (non-crowd boxes), and box-level
  precision / recall / F1 at the threshold (IoU 0.5, from the confusion matrix);
* PR and F1-vs-confidence curves (:mod:`logodet.evaluation.curves`);
* the confusion matrix with its background row and column
  (:mod:`logodet.evaluation.confusion`), as plots and, up to 25 classes, a table;
* galleries of the worst false positives and false negatives
  (:mod:`logodet.evaluation.galleries`) when the images are available;
* image-level brand presence per class and micro-averaged
  (:mod:`logodet.evaluation.presence`), at the threshold and, for reference,
  at the threshold that would maximise micro F1 on this very set (optimistic:
  choose thresholds on a validation split).

``report.html`` has its CSS inline and refers to the images it sits next to by
relative paths; every user string is escaped. All files are written atomically.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import numpy as np

from logodet.evaluation.confusion import confusion_from_match, match_at_threshold, save_confusion_plots
from logodet.evaluation.curves import save_curve_plots
from logodet.evaluation.detection import COCO_METRIC_DESCRIPTIONS, COCO_METRIC_NAMES, DetectionMetrics
from logodet.evaluation.galleries import Gallery, save_galleries
from logodet.evaluation.matching import match_coco
from logodet.evaluation.predictions import normalize_ground_truth, validate_predictions
from logodet.evaluation.presence import best_presence_threshold, presence_metrics, presence_table
from logodet.io import atomic_write_bytes, atomic_write_json
from logodet.types import DetectionDataset

__all__ = ["REPORT_HTML", "REPORT_JSON", "build_report_data", "render_report_html", "write_report"]

REPORT_HTML = "report.html"
REPORT_JSON = "report.json"
MAX_CONFUSION_TABLE = 25

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f3f3f3}
td.l,th.l{text-align:left}.muted{color:#777}.note{background:#fff8e1;border:1px solid #f0d98c;padding:.5em 1em}
img{max-width:100%;border:1px solid #eee}.row{display:flex;flex-wrap:wrap;gap:1em}.row img{max-width:580px}
table.cm td{min-width:2.2em;text-align:center}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value < 0:
        return "n/a"
    return f"{value:.{digits}f}"


def _rel(path: Path | None, out_dir: Path) -> str | None:
    return None if path is None else path.relative_to(out_dir).as_posix()


def build_report_data(
    gt: dict,
    results: list[dict],
    metrics: DetectionMetrics,
    out_dir: Path,
    image_dir: Path | None,
    threshold: float | None,
    title: str,
    gallery_limit: int,
) -> dict[str, Any]:
    """Compute every section, write the plots and galleries under ``out_dir``; returns the JSON-ready report.

    ``gt`` and ``results`` must already be normalised / validated (``write_report`` does it).
    """
    source = "best_f1" if threshold is None else "given"
    thr = float(metrics.best_f1_threshold if threshold is None else threshold)
    if not math.isfinite(thr):
        raise ValueError(f"write_report: threshold must be finite, got {threshold!r}")
    tm = match_at_threshold(gt, results, thr, 0.5, validate=False)
    cm = confusion_from_match(tm)
    det_match = metrics.match if metrics.match is not None else match_coco(gt, results, 0.5)
    pr_png, f1_png = save_curve_plots(det_match, out_dir)
    cm_png, cmn_png = save_confusion_plots(cm, out_dir)
    table = presence_table(gt, results, validate=False)
    presence = presence_metrics(table, threshold=thr)
    best_t = best_presence_threshold(table)
    presence_best = presence_metrics(table, threshold=best_t)
    galleries: dict[str, Gallery] = {}
    if image_dir is not None:
        galleries = save_galleries(gt, results, tm, image_dir, out_dir / "galleries", limit=gallery_limit)
    instances = np.bincount(tm.gt_class[~tm.gt_crowd], minlength=len(tm.class_names))
    box_prf = cm.per_class()
    per_class = {}
    for k, name in enumerate(tm.class_names):
        ap = metrics.per_class.get(name, {})
        per_class[name] = {"AP": float(ap.get("AP", -1.0)), "AP50": float(ap.get("AP50", -1.0)), "instances": int(instances[k])}
        per_class[name].update(box_prf[name])
    return {
        "title": title,
        "threshold": thr,
        "threshold_source": source,
        "iou_threshold": 0.5,
        "coco": {name: float(getattr(metrics, name)) for name in COCO_METRIC_NAMES},
        "best_f1": {k: float(getattr(metrics, k)) for k in ("best_f1", "best_f1_threshold", "precision", "recall")},
        "counts": {"images": metrics.num_images, "predictions": metrics.num_predictions, "ground_truth": metrics.num_ground_truth},
        "per_class": per_class,
        "confusion": cm.to_dict(),
        "presence": presence.to_dict(),
        "presence_best_in_sample": presence_best.to_dict(),
        "galleries": {
            kind: {"file": _rel(g.path, out_dir), "items": [i.to_dict() for i in g.items], "skipped": g.skipped}
            for kind, g in galleries.items()
        },
        "image_dir": None if image_dir is None else str(image_dir),
        "files": {
            "pr_curve": _rel(pr_png, out_dir),
            "f1_curve": _rel(f1_png, out_dir),
            "confusion_matrix": _rel(cm_png, out_dir),
            "confusion_matrix_normalized": _rel(cmn_png, out_dir),
        },
    }


def _table(head: list[str], rows: list[list[str]], cls: str = "", left: int = 1) -> str:
    """An HTML table; cells are already escaped; the first ``left`` columns align left."""
    th = "".join(f'<th class="l">{h}</th>' if i < left else f"<th>{h}</th>" for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(f'<td class="l">{c}</td>' if i < left else f"<td>{c}</td>" for i, c in enumerate(r)) + "</tr>" for r in rows
    )
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _confusion_html(conf: dict[str, Any]) -> str:
    labels = conf["labels"]
    if len(labels) > MAX_CONFUSION_TABLE:
        return f'<p class="muted">{len(labels) - 1} classes: see the plots for the full matrix.</p>'
    head = ["truth \\ predicted", *(_e(x) for x in labels)]
    rows = []
    for r, label in enumerate(labels):
        cells = [_e(label)]
        for c, v in enumerate(conf["matrix"][r]):
            shade = conf["normalized"][r][c]
            style = f"rgba(33,102,172,{0.85 * shade:.2f})"
            color = "#fff" if shade > 0.55 else "#222"
            cells.append(f'<span style="display:block;background:{style};color:{color}">{v if v else ""}</span>')
        rows.append(cells)
    return _table(head, rows, "cm")


def _presence_html(p: dict[str, Any]) -> str:
    rows = [
        [_e(name), _num(v["precision"]), _num(v["recall"]), _num(v["f1"]), str(v["support"]), str(v["predicted"])]
        for name, v in p["per_class"].items()
    ]
    m = p["micro"]
    rows.append(["<b>micro</b>", _num(m["precision"]), _num(m["recall"]), _num(m["f1"]), str(m["tp"] + m["fn"]), str(m["tp"] + m["fp"])])
    neg = (
        f"<p>{p['num_negative_images']} of {p['num_images']} images hold no annotation: "
        f"{p['negative_brands_per_image']:.3f} brands claimed per such image, "
        f"{100 * p['negative_images_flagged']:.1f}% of them with at least one.</p>"
    )
    return _table(["class", "precision", "recall", "F1", "images with brand", "images flagged"], rows) + neg


def _gallery_html(data: dict[str, Any]) -> str:
    if data["image_dir"] is None:
        return '<p class="note">No image folder was given: galleries were not drawn.</p>'
    parts = []
    for kind, title in (
        ("false_positives", "Worst false positives (highest score first)"),
        ("false_negatives", "False negatives (largest first)"),
    ):
        g = data["galleries"].get(kind, {"file": None, "items": [], "skipped": []})
        parts.append(f"<h3>{title}</h3>")
        if not g["items"]:
            parts.append('<p class="muted">None at this threshold.</p>')
            continue
        if g["file"]:
            parts.append(f'<img src="{_e(g["file"])}" alt="{_e(kind)}">')
        for msg in g["skipped"]:
            parts.append(f'<p class="note">Skipped: {_e(msg)}</p>')
        rows = [
            [_e(i["file_name"]), _e(i["class_name"]), _num(i["score"]), _e(i["reason"]), _e(", ".join(f"{v:g}" for v in i["bbox"]))]
            for i in g["items"]
        ]
        parts.append(_table(["file", "class", "score", "reason", "box (x1, y1, x2, y2)"], rows, left=2))
    return "".join(parts)


def render_report_html(data: dict[str, Any]) -> str:
    """The HTML page of a report dictionary from :func:`build_report_data` (every user string escaped)."""
    thr = data["threshold"]
    src = "the best-F1 threshold" if data["threshold_source"] == "best_f1" else "given"
    coco_rows = [[name, _e(COCO_METRIC_DESCRIPTIONS[name]), _num(v)] for name, v in data["coco"].items()]
    b = data["best_f1"]
    pc_rows = [
        [
            _e(n),
            _num(v["AP"]),
            _num(v["AP50"]),
            *(str(v[k]) for k in ("instances", "tp", "fp", "fn")),
            *(_num(v[k]) for k in ("precision", "recall", "f1")),
        ]
        for n, v in data["per_class"].items()
    ]
    files = data["files"]
    pb = data["presence_best_in_sample"]
    c = data["counts"]
    body = f"""
<h1>{_e(data["title"])}</h1>
<p>{c["images"]} images, {c["ground_truth"]} ground-truth boxes, {c["predictions"]} predictions.
Operating point: confidence &ge; <b>{thr:.4g}</b> ({src}), IoU {data["iou_threshold"]:g}.</p>
<h2>COCO box metrics</h2>
{_table(["metric", "definition", "value"], coco_rows, left=2)}
<p>Best F1 {b["best_f1"]:.3f} at confidence &ge; {b["best_f1_threshold"]:.4g}
(precision {b["precision"]:.3f}, recall {b["recall"]:.3f}; IoU 0.5, all classes pooled).</p>
<h2>Per class</h2>
<p class="muted">AP and AP50 as COCO; counts and rates at confidence &ge; {thr:.4g}, IoU 0.5 (from the confusion matrix).</p>
{_table(["class", "AP", "AP50", "instances", "TP", "FP", "FN", "precision", "recall", "F1"], pc_rows)}
<h2>Curves</h2>
<div class="row"><img src="{_e(files["pr_curve"])}" alt="precision-recall curve"><img src="{_e(files["f1_curve"])}" alt="F1 curve"></div>
<h2>Confusion matrix</h2>
<p class="muted">Rows: ground truth; columns: prediction; the background row holds false positives on background
(duplicates included), the background column missed boxes.</p>
<div class="row"><img src="{_e(files["confusion_matrix"])}" alt="confusion matrix">
<img src="{_e(files["confusion_matrix_normalized"])}" alt="row-normalised confusion matrix"></div>
{_confusion_html(data["confusion"])}
<h2>Galleries</h2>
{_gallery_html(data)}
<h2>Image-level brand presence</h2>
<p class="muted">An image is flagged for a brand when a detection of it scores &ge; {thr:.4g};
it shows the brand when it holds a non-crowd box of it.</p>
{_presence_html(data["presence"])}
<p>On this set, micro F1 would peak at {pb["micro"]["f1"]:.3f} with confidence &ge; {pb["threshold"]:.4g}
(chosen on the data it is measured on: optimistic).</p>
"""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(data['title'])}</title><style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


def write_report(
    gt: dict | DetectionDataset,
    results: list[dict],
    metrics: DetectionMetrics | dict[str, Any],
    out_dir: str | Path,
    dataset: DetectionDataset | None = None,
    threshold: float | None = None,
    *,
    title: str = "logodet evaluation report",
    gallery_limit: int = 24,
) -> Path:
    """Write ``out_dir/report.html``, ``out_dir/report.json`` and the images they show.

    Args:
        gt: COCO ground truth (as ``load_ground_truth`` returns it) or a dataset.
        results: COCO results using ``gt``'s image and category ids.
        metrics: the :class:`DetectionMetrics` of ``results`` (or its ``to_dict()``).
        out_dir: output folder (created); files in it are replaced atomically.
        dataset: where the images live (``dataset.image_dir``), for the galleries;
            by default ``gt`` itself when it is a dataset. Without an image folder
            the galleries are left out.
        threshold: the confidence threshold of the confusion matrix, per-class
            rates, galleries and presence table; by default ``metrics.best_f1_threshold``.
        title: page title (escaped).
        gallery_limit: most errors shown per gallery.

    Returns:
        The path of ``report.html``.

    Raises:
        COCOFormatError, PredictionsFormatError: malformed inputs.
        KeyError: a metrics dict missing keys.
        ValueError: a non-finite threshold.

    Example:
        >>> metrics = evaluate_coco(gt, results)  # doctest: +SKIP
        >>> write_report(gt, results, metrics, "runs/eval", dataset=load_coco("data/val"))  # doctest: +SKIP
        PosixPath('runs/eval/report.html')
    """
    out_dir = Path(out_dir)
    if isinstance(metrics, dict):
        metrics = DetectionMetrics.from_dict(metrics)
    if dataset is None and isinstance(gt, DetectionDataset):
        dataset = gt
    gt_dict = normalize_ground_truth(gt)
    checked = validate_predictions(results, gt_dict)
    image_dir = None if dataset is None or dataset.image_dir is None else Path(dataset.image_dir)
    data = build_report_data(gt_dict, checked, metrics, out_dir, image_dir, threshold, title, gallery_limit)
    atomic_write_json(out_dir / REPORT_JSON, data, indent=2)
    path = out_dir / REPORT_HTML
    atomic_write_bytes(path, render_report_html(data).encode("utf-8"))
    return path
