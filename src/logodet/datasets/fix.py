"""A corrected copy of a checked dataset (``logodet data check --fix --out DST``); the input is never touched."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from logodet.datasets.check import CheckReport, check_dataset
from logodet.datasets.formats._files import place_image
from logodet.datasets.formats.coco import ANNOTATIONS_FILE, IMAGES_DIR
from logodet.io import atomic_write_json

__all__ = ["FixReport", "fix_dataset"]


@dataclass
class FixReport:
    """What :func:`fix_dataset` wrote and changed: change counts by kind, and one line per change."""

    outputs: list[Path]
    changes: dict[str, int]
    details: list[str]
    unfixed: dict[str, int]


def _fix_scan(scan: Any, dst: Path, changes: dict[str, int], details: list[str]) -> Path:
    def note(kind: str, detail: str) -> None:
        changes[kind] = changes.get(kind, 0) + 1
        details.append(f"{scan.name}: {detail}")

    data = scan.data
    cats = []
    for j, (c, keep) in enumerate(zip(data["categories"], scan.cat_keep, strict=True)):
        if keep:
            cats.append(c)
        else:
            note("category entries dropped (malformed or duplicate)", f"categories[{j}] {c!r:.60} dropped")
    images, kept, wh = [], np.zeros(len(scan.img_file), bool), scan.image_sizes()
    for i, im in enumerate(data["images"]):
        fname = scan.img_file[i]
        if not scan.img_ok[i] or i in scan.dropped_images:
            reason = scan.dropped_images.get(i, "malformed entry")
            note(f"images dropped ({reason})", f"images[{i}] {fname or ''} dropped: {reason}")
            continue
        entry, true = dict(im), tuple(int(v) for v in wh[i])
        if (entry.get("width"), entry.get("height")) != true:
            note(
                "image sizes set from the files",
                f"images[{i}] {fname}: size {entry.get('width')}x{entry.get('height')} -> {true[0]}x{true[1]}",
            )
            entry["width"], entry["height"] = true
        images.append(entry)
        kept[i] = True
        place_image(scan.image_dir / fname, dst / IMAGES_DIR / fname, "symlink")
    anns = data.get("annotations", []) if isinstance(data.get("annotations"), list) else []
    boxes, img = scan.boxes, np.maximum(scan.ann_img, 0)
    size = wh[img] if len(wh) else np.full((len(boxes), 2), np.nan)
    with np.errstate(invalid="ignore"):
        x1, y1 = np.clip(boxes[:, 0], 0, size[:, 0]), np.clip(boxes[:, 1], 0, size[:, 1])
        x2, y2 = np.clip(boxes[:, 0] + boxes[:, 2], 0, size[:, 0]), np.clip(boxes[:, 1] + boxes[:, 3], 0, size[:, 1])
    clipped = np.stack([x1, y1, x2 - x1, y2 - y1], 1)
    ids = [a["id"] for k, a in enumerate(anns) if scan.ann_keep[k] and type(a.get("id")) is int and k not in scan.ann_dup_ids]
    next_id = max(ids, default=0) + 1
    out_anns = []
    for k, a in enumerate(anns):
        where = scan.ann_where(k, "bbox").removesuffix(".bbox")
        if not scan.ann_keep[k]:
            note("annotations dropped (malformed, unknown image or category)", f"{where} dropped")
            continue
        if not kept[scan.ann_img[k]]:
            note("annotations dropped with their image", f"{where} dropped with images[{scan.ann_img[k]}]")
            continue
        if not (clipped[k, 2] > 0 and clipped[k, 3] > 0):
            note("annotations dropped (no area inside the image)", f"{where} dropped: box {a['bbox']} has no area inside the image")
            continue
        a = dict(a)
        if not np.array_equal(clipped[k], boxes[k]):
            a["bbox"] = [round(float(v), 3) for v in clipped[k]]
            if not a.get("segmentation"):
                a["area"] = round(float(clipped[k, 2] * clipped[k, 3]), 3)
            note("boxes clipped to the image", f"{where}: box {[round(float(v), 3) for v in boxes[k]]} -> {a['bbox']}")
        if scan.cat_known[a["category_id"]] != a["category_id"]:
            note(
                "annotations moved to the first category of that name",
                f"{where}: category {a['category_id']} -> {scan.cat_known[a['category_id']]}",
            )
            a["category_id"] = scan.cat_known[a["category_id"]]
        if k in scan.ann_dup_ids or type(a.get("id")) is not int:
            note("annotation ids renumbered", f"{where}: id {a.get('id')!r} -> {next_id}")
            a["id"], next_id = next_id, next_id + 1
        out_anns.append(a)
    path = dst / ANNOTATIONS_FILE
    atomic_write_json(path, {**data, "categories": cats, "images": images, "annotations": out_anns})
    return path


def fix_dataset(source: CheckReport | str | Path, out: str | Path, **check_options: Any) -> FixReport:
    """Write a corrected COCO copy of a checked dataset to ``out``; the input is never modified.

    Drops missing and corrupt images (with their annotations), images listed twice or with the
    same bytes as an earlier one, and annotations that are malformed or name an unknown image or
    category; sets image sizes from the files; clips boxes to the image and drops those left with
    no area; renumbers duplicate annotation ids; merges categories of the same name. Images are
    placed as relative symlinks. Near duplicates and split leaks need a person's choice and are left.
    A folder of splits is fixed split by split into ``out/<split>``; ``split_of`` datasets are not written.

    Args:
        source: a :class:`CheckReport` of :func:`check_dataset`, or a path to check first.
        out: a new or empty folder, not inside the input.
        **check_options: passed to :func:`check_dataset` when ``source`` is a path.

    Raises:
        ValueError: ``out`` is (inside) the input, or a dataset cannot be read at all.
        FileExistsError: ``out`` is a folder with files in it.

    Example:
        >>> fix_dataset(check_dataset("data"), "data_fixed").changes  # doctest: +SKIP
        {'boxes clipped to the image': 3}
    """
    report = source if isinstance(source, CheckReport) else check_dataset(source, **check_options)
    scans = [s for s in report._scans if s.primary]
    if not scans:
        raise ValueError("fix_dataset: the report holds no checked dataset (make it with check_dataset)")
    out = Path(out)
    for scan in report._scans:
        root = scan.root.resolve()
        root = root.parent if root.is_file() else root
        if out.resolve() == root or root in out.resolve().parents:
            raise ValueError(f"{out}: the corrected copy must not be written into the input dataset {scan.root}")
    if out.is_dir() and any(out.iterdir()):
        raise FileExistsError(f"{out}: folder is not empty; give a new or empty folder for the corrected copy")
    for scan in scans:
        fatal = [
            p
            for p in scan.problems
            if p.code in ("invalid_json", "format_error")
            or (p.code == "malformed_field" and p.where in ("", "images", "categories", "annotations"))
        ]
        if fatal:
            raise ValueError(f"{fatal[0].file}: cannot be fixed automatically: {fatal[0].where or 'top level'}: {fatal[0].message}")
    changes: dict[str, int] = {}
    details: list[str] = []
    outputs = [_fix_scan(s, out / s.name if report.settings.get("splits") else out, changes, details) for s in scans]
    left = defaultdict(int)
    for s in scans:
        for p in s.problems:
            if p.code in ("split_leak", "near_duplicate_image"):
                left[p.code] += 1
    return FixReport(outputs, changes, details, dict(left))
