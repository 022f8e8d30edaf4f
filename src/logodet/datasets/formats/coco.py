"""COCO detection format: pure load/save functions.

A logodet dataset folder holds ``annotations.json`` (COCO) and ``images/``.
Boxes are ``xywh`` in COCO and ``xyxy`` in memory; categories are matched by
name, and on save they get ids ``1..K`` in class order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from logodet.io import atomic_write_json
from logodet.types import Annotation, DetectionDataset, ImageRecord

__all__ = ["COCOFormatError", "dataset_to_coco", "load_coco", "load_coco_dict", "save_coco"]

ANNOTATIONS_FILE = "annotations.json"
IMAGES_DIR = "images"


class COCOFormatError(ValueError):
    """A COCO file is malformed; the message names the file and the field."""


def _require(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise COCOFormatError(f"{where}: missing field '{key}'")
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise COCOFormatError(f"{where}.{key}: expected {getattr(kind, '__name__', kind)}, got {type(value).__name__}")
    return value


def load_coco_dict(data: dict, source: str = "annotations.json", image_dir: Path | None = None) -> DetectionDataset:
    """Build a :class:`DetectionDataset` from a parsed COCO dictionary.

    Raises:
        COCOFormatError: naming ``source`` and the offending field.
    """
    if not isinstance(data, dict):
        raise COCOFormatError(f"{source}: top level must be an object")
    cats = _require(data, "categories", list, source)
    images = _require(data, "images", list, source)
    anns = data.get("annotations", [])
    if not isinstance(anns, list):
        raise COCOFormatError(f"{source}.annotations: expected list")

    cat_index: dict[int, int] = {}
    names: list[str] = []
    for i, cat in enumerate(sorted(cats, key=lambda c: c.get("id", 0) if isinstance(c, dict) else 0)):
        where = f"{source}: categories[{i}]"
        cid = _require(cat, "id", int, where)
        name = _require(cat, "name", str, where)
        if cid in cat_index:
            raise COCOFormatError(f"{where}.id: duplicate category id {cid}")
        if name in names:
            raise COCOFormatError(f"{where}.name: duplicate category name {name!r}")
        cat_index[cid] = len(names)
        names.append(name)

    records: dict[int, ImageRecord] = {}
    order: list[int] = []
    for i, img in enumerate(images):
        where = f"{source}: images[{i}]"
        iid = _require(img, "id", int, where)
        if iid in records:
            raise COCOFormatError(f"{where}.id: duplicate image id {iid}")
        try:
            rec = ImageRecord(
                _require(img, "file_name", str, where),
                _require(img, "width", int, where),
                _require(img, "height", int, where),
                id=iid,
            )
        except ValueError as exc:
            raise COCOFormatError(f"{where}: {exc}") from exc
        records[iid] = rec
        order.append(iid)

    for i, ann in enumerate(anns):
        where = f"{source}: annotations[{i}]"
        iid = _require(ann, "image_id", int, where)
        cid = _require(ann, "category_id", int, where)
        bbox = _require(ann, "bbox", list, where)
        if iid not in records:
            raise COCOFormatError(f"{where}.image_id: unknown image id {iid}")
        if cid not in cat_index:
            raise COCOFormatError(f"{where}.category_id: unknown category id {cid}")
        if len(bbox) != 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox):
            raise COCOFormatError(f"{where}.bbox: expected [x, y, w, h] numbers, got {bbox!r}")
        x, y, w, h = (float(v) for v in bbox)
        if w < 0 or h < 0:
            raise COCOFormatError(f"{where}.bbox: negative width or height in {bbox!r}")
        extra = {k: v for k, v in ann.items() if k not in {"id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd"}}
        if "id" in ann:
            extra["id"] = ann["id"]
        try:
            records[iid].annotations.append(
                Annotation(
                    (x, y, x + w, y + h),
                    cat_index[cid],
                    segmentation=ann.get("segmentation") or None,
                    area=float(ann["area"]) if isinstance(ann.get("area"), (int, float)) else None,
                    iscrowd=int(ann.get("iscrowd", 0) or 0),
                    extra=extra,
                )
            )
        except ValueError as exc:
            raise COCOFormatError(f"{where}: {exc}") from exc
    return DetectionDataset(names, [records[i] for i in order], image_dir)


def load_coco(path: str | Path) -> DetectionDataset:
    """Load a dataset folder (``annotations.json`` + ``images/``) or a COCO json file.

    Example:
        >>> ds = load_coco("../shared/data/flickrlogos27-dev")  # doctest: +SKIP
    """
    path = Path(path)
    json_path = path / ANNOTATIONS_FILE if path.is_dir() else path
    if not json_path.is_file():
        raise FileNotFoundError(f"{json_path}: no COCO annotations file")
    image_dir = json_path.parent / IMAGES_DIR
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise COCOFormatError(f"{json_path}: not valid JSON ({exc})") from exc
    return load_coco_dict(data, str(json_path), image_dir if image_dir.is_dir() else json_path.parent)


def dataset_to_coco(dataset: DetectionDataset, info: dict | None = None) -> dict:
    """The COCO dictionary of ``dataset``; image ids are kept or assigned ``1..N``."""
    used = {r.id for r in dataset.images if r.id is not None}
    next_id = max(used, default=0) + 1
    images, anns = [], []
    for rec in dataset.images:
        iid = rec.id
        if iid is None:
            iid, next_id = next_id, next_id + 1
        images.append({"id": iid, "file_name": rec.file_name, "width": int(rec.width), "height": int(rec.height)})
        for a in rec.annotations:
            x1, y1, x2, y2 = a.bbox
            w, h = x2 - x1, y2 - y1
            entry = {
                "id": len(anns) + 1,
                "image_id": iid,
                "category_id": a.category + 1,
                "bbox": [round(x1, 3), round(y1, 3), round(w, 3), round(h, 3)],
                "area": float(a.area if a.area is not None else w * h),
                "iscrowd": int(a.iscrowd),
            }
            if a.segmentation:
                entry["segmentation"] = a.segmentation
            entry.update({k: v for k, v in a.extra.items() if k != "id"})
            anns.append(entry)
    cats = [{"id": i + 1, "name": n, "supercategory": "logo"} for i, n in enumerate(dataset.class_names)]
    return {"info": info or {"description": "logodet dataset"}, "images": images, "annotations": anns, "categories": cats}


def save_coco(dataset: DetectionDataset, path: str | Path, info: dict | None = None) -> Path:
    """Write ``dataset`` as COCO json atomically; ``path`` is a folder or a ``.json`` file."""
    path = Path(path)
    json_path = path if path.suffix == ".json" else path / ANNOTATIONS_FILE
    atomic_write_json(json_path, dataset_to_coco(dataset, info))
    return json_path
