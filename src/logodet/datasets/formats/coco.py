"""COCO detection format: pure load/save functions.

A logodet dataset folder holds ``annotations.json`` (COCO) and ``images/``.
Boxes are ``xywh`` in COCO and ``xyxy`` in memory; categories are matched by
name, and on save they get ids ``1..K`` in class order.

Segmentations are kept as given and validated on load:

* polygons: a list of parts, each a flat list ``[x1, y1, x2, y2, ...]`` of at
  least 6 numbers (3 points) and of even length; an object may have several parts;
* RLE: ``{"size": [height, width], "counts": ...}`` with ``size`` equal to the
  image's, and ``counts`` either the compressed string (its characters are
  checked, it is not decoded on load) or the uncompressed list of run lengths
  (non-negative integers adding up to ``height * width``), as crowd regions use.

``segmentation: []`` (or ``null``) means none. ``iscrowd`` is ``0``/``1``.
Error messages name the file and the field, e.g.
``annotations.json: annotations[3].segmentation[1]: ...``.

Saving writes box coordinates at full float precision (integral values as
integers), so a COCO -> other format -> COCO round trip loses nothing to
rounding here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from logodet.datasets.formats._files import check_image_mode, place_image
from logodet.io import atomic_write_json
from logodet.types import Annotation, DetectionDataset, ImageRecord

__all__ = ["ANNOTATIONS_FILE", "IMAGES_DIR", "COCOFormatError", "dataset_to_coco", "load_coco", "load_coco_dict", "save_coco"]

ANNOTATIONS_FILE = "annotations.json"
IMAGES_DIR = "images"
_ANN_KEYS = {"id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd"}
_RLE_CHARS = frozenset(chr(c) for c in range(48, 48 + 64))  # the alphabet of compressed COCO RLE counts


class COCOFormatError(ValueError):
    """A COCO file is malformed; the message names the file and the field."""


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({"dict": "object", "list": "list", "str": "string", "int": "integer"}.get(k.__name__, k.__name__) for k in kinds)


def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise COCOFormatError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _require(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in _object(obj, where):
        raise COCOFormatError(f"{where}: missing field '{key}'")
    value = obj[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise COCOFormatError(f"{where}.{key}: expected {_type_name(kind)}, got {type(value).__name__}")
    return value


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _polygon_parts(seg: list, where: str) -> list:
    for k, part in enumerate(seg):
        if not isinstance(part, list):
            raise COCOFormatError(f"{where}[{k}]: expected a polygon [x1, y1, x2, y2, ...], got {type(part).__name__}")
        if len(part) < 6 or len(part) % 2:
            raise COCOFormatError(f"{where}[{k}]: a polygon needs an even count of at least 6 numbers (3 points), got {len(part)}")
        bad = [v for v in part if not _is_number(v)]
        if bad:
            raise COCOFormatError(f"{where}[{k}]: polygon coordinates must be finite numbers, got {bad[0]!r:.40}")
    return seg


def _rle(seg: dict, where: str, width: int, height: int) -> dict:
    size = _require(seg, "size", list, where)
    if len(size) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in size):
        raise COCOFormatError(f"{where}.size: expected [height, width] integers, got {size!r:.60}")
    if size != [height, width]:
        raise COCOFormatError(f"{where}.size: {size} does not match the image's [height, width] [{height}, {width}]")
    counts = _require(seg, "counts", (str, list), where)
    if isinstance(counts, str):
        if not counts or not set(counts) <= _RLE_CHARS:
            raise COCOFormatError(f"{where}.counts: not a compressed RLE string (characters '0'..'o' expected)")
    else:
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
            raise COCOFormatError(f"{where}.counts: uncompressed RLE counts must be non-negative integers")
        if sum(counts) != height * width:
            raise COCOFormatError(f"{where}.counts: run lengths add up to {sum(counts)}, not {height}x{width} = {height * width}")
    return seg


def _segmentation(ann: dict, where: str, rec: ImageRecord) -> dict | list | None:
    seg = ann.get("segmentation")
    where = f"{where}.segmentation"
    if seg is None or seg == []:
        return None
    if isinstance(seg, list):
        return _polygon_parts(seg, where)
    if isinstance(seg, dict):
        return _rle(seg, where, rec.width, rec.height)
    raise COCOFormatError(f"{where}: expected a list of polygons or an RLE object, got {type(seg).__name__}")


def _categories(cats: list, source: str) -> tuple[list[str], dict[int, int]]:
    entries: list[tuple[int, str]] = []
    ids: dict[int, int] = {}
    names: dict[str, int] = {}
    for i, cat in enumerate(cats):
        where = f"{source}: categories[{i}]"
        cid = _require(cat, "id", int, where)
        name = _require(cat, "name", str, where)
        if cid in ids:
            raise COCOFormatError(f"{where}.id: duplicate category id {cid} (also categories[{ids[cid]}])")
        if name in names:
            raise COCOFormatError(f"{where}.name: duplicate category name {name!r} (also categories[{names[name]}])")
        ids[cid], names[name] = i, i
        entries.append((cid, name))
    entries.sort()
    return [n for _, n in entries], {cid: k for k, (cid, _) in enumerate(entries)}


def _annotation(ann: dict, where: str, rec: ImageRecord, category: int) -> Annotation:
    bbox = _require(ann, "bbox", list, where)
    if len(bbox) != 4 or not all(_is_number(v) for v in bbox):
        raise COCOFormatError(f"{where}.bbox: expected [x, y, w, h] finite numbers, got {bbox!r:.80}")
    x, y, w, h = (float(v) for v in bbox)
    if w < 0 or h < 0:
        raise COCOFormatError(f"{where}.bbox: negative width or height in {bbox!r}")
    if not math.isfinite(x + w) or not math.isfinite(y + h):
        raise COCOFormatError(f"{where}.bbox: coordinates too large in {bbox!r:.80}")
    area = ann.get("area")
    if area is not None and not _is_number(area):
        raise COCOFormatError(f"{where}.area: expected a number, got {type(area).__name__}")
    crowd = ann.get("iscrowd", 0)
    if crowd is None:
        crowd = 0
    if crowd not in (0, 1) or isinstance(crowd, float):
        raise COCOFormatError(f"{where}.iscrowd: expected 0 or 1, got {crowd!r:.40}")
    extra = {k: v for k, v in ann.items() if k not in _ANN_KEYS}
    if "id" in ann:
        extra["id"] = ann["id"]
    return Annotation(
        (x, y, x + w, y + h),
        category,
        segmentation=_segmentation(ann, where, rec),
        area=float(area) if area is not None else None,
        iscrowd=int(crowd),
        extra=extra,
    )


def load_coco_dict(data: dict, source: str = "annotations.json", image_dir: Path | None = None) -> DetectionDataset:
    """Build a :class:`DetectionDataset` from a parsed COCO dictionary.

    Raises:
        COCOFormatError: naming ``source`` and the offending field.

    Example:
        >>> data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 40, "height": 30}],
        ...         "categories": [{"id": 1, "name": "acme"}],
        ...         "annotations": [{"image_id": 1, "category_id": 1, "bbox": [1.5, 2, 10, 5]}]}
        >>> load_coco_dict(data).images[0].annotations[0].bbox
        (1.5, 2.0, 11.5, 7.0)
    """
    if not isinstance(data, dict):
        raise COCOFormatError(f"{source}: top level must be an object, got {type(data).__name__}")
    names, cat_index = _categories(_require(data, "categories", list, source), source)
    images = _require(data, "images", list, source)
    anns = data.get("annotations", [])
    if not isinstance(anns, list):
        raise COCOFormatError(f"{source}.annotations: expected list, got {type(anns).__name__}")

    records: dict[int, ImageRecord] = {}
    for i, img in enumerate(images):
        where = f"{source}: images[{i}]"
        iid = _require(img, "id", int, where)
        if iid in records:
            raise COCOFormatError(f"{where}.id: duplicate image id {iid}")
        file_name = _require(img, "file_name", str, where)
        width, height = _require(img, "width", int, where), _require(img, "height", int, where)
        if not file_name:
            raise COCOFormatError(f"{where}.file_name: must not be empty")
        if width <= 0 or height <= 0:
            raise COCOFormatError(f"{where}: width/height must be positive, got {width}x{height}")
        records[iid] = ImageRecord(file_name, width, height, id=iid)

    for i, ann in enumerate(anns):
        where = f"{source}: annotations[{i}]"
        iid = _require(ann, "image_id", int, where)
        cid = _require(ann, "category_id", int, where)
        if iid not in records:
            raise COCOFormatError(f"{where}.image_id: unknown image id {iid}")
        if cid not in cat_index:
            raise COCOFormatError(f"{where}.category_id: unknown category id {cid}")
        rec = records[iid]
        rec.annotations.append(_annotation(ann, where, rec, cat_index[cid]))
    return DetectionDataset(names, list(records.values()), image_dir)


def load_coco(path: str | Path) -> DetectionDataset:
    """Load a dataset folder (``annotations.json`` + ``images/``) or a COCO json file.

    Raises:
        FileNotFoundError: no annotations file.
        COCOFormatError: the file is not UTF-8 JSON (the message gives the line) or a field
            is malformed (the message gives the field path, e.g. ``annotations[3].bbox``).

    Example:
        >>> ds = load_coco("../shared/data/flickrlogos27-dev")  # doctest: +SKIP
    """
    path = Path(path)
    json_path = path / ANNOTATIONS_FILE if path.is_dir() else path
    if not json_path.is_file():
        raise FileNotFoundError(f"{json_path}: no COCO annotations file")
    raw = json_path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise COCOFormatError(f"{json_path}: not UTF-8 text at line {line} (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise COCOFormatError(f"{json_path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})") from None
    except RecursionError:
        raise COCOFormatError(f"{json_path}: top level: JSON nested too deeply") from None
    image_dir = json_path.parent / IMAGES_DIR
    return load_coco_dict(data, str(json_path), image_dir if image_dir.is_dir() else json_path.parent)


def _num(value: float) -> int | float:
    """``value`` at full precision; an integral value as an ``int`` (shorter JSON, same number)."""
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _segmentation_json(seg: dict | list) -> dict | list:
    """JSON-ready copy of a segmentation (numpy numbers become Python numbers, ``bytes`` counts a string)."""
    if isinstance(seg, dict):
        out = dict(seg)
        counts = out.get("counts")
        if isinstance(counts, bytes):
            out["counts"] = counts.decode("ascii")
        elif counts is not None and not isinstance(counts, str):
            out["counts"] = [int(c) for c in counts]
        if "size" in out:
            out["size"] = [int(v) for v in out["size"]]
        return out
    return [[_num(v) for v in part] for part in seg]


def dataset_to_coco(dataset: DetectionDataset, info: dict | None = None) -> dict:
    """The COCO dictionary of ``dataset``; image ids are kept or assigned after the largest kept id.

    Boxes are written at full precision (no rounding). Keys of
    :attr:`Annotation.extra` are written too, except where they would replace a
    COCO field; an ``id`` in ``extra`` is not reused (annotation ids are ``1..M``).

    Example:
        >>> ds = DetectionDataset(["acme"], [ImageRecord("a.jpg", 40, 30, [Annotation((1.25, 2, 11, 7), 0)])])
        >>> dataset_to_coco(ds)["annotations"][0]["bbox"]
        [1.25, 2, 9.75, 5]
    """
    used = {r.id for r in dataset.images if r.id is not None}
    next_id = max(used, default=0) + 1
    images, anns = [], []
    for rec in dataset.images:
        iid = rec.id
        if iid is None:
            iid, next_id = next_id, next_id + 1
        images.append({"id": int(iid), "file_name": rec.file_name, "width": int(rec.width), "height": int(rec.height)})
        for a in rec.annotations:
            x1, y1, x2, y2 = a.bbox
            w, h = x2 - x1, y2 - y1
            entry: dict[str, Any] = {
                "id": len(anns) + 1,
                "image_id": int(iid),
                "category_id": a.category + 1,
                "bbox": [_num(x1), _num(y1), _num(w), _num(h)],
                "area": float(a.area if a.area is not None else w * h),
                "iscrowd": int(a.iscrowd),
            }
            if a.segmentation:
                entry["segmentation"] = _segmentation_json(a.segmentation)
            entry.update({k: v for k, v in a.extra.items() if k not in entry and k != "id"})
            anns.append(entry)
    cats = [{"id": i + 1, "name": n, "supercategory": "logo"} for i, n in enumerate(dataset.class_names)]
    return {"info": info or {"description": "logodet dataset"}, "images": images, "annotations": anns, "categories": cats}


def _relative_image_path(file_name: str) -> Path:
    rel = Path(file_name)
    if rel.is_absolute() or ".." in rel.parts:
        raise COCOFormatError(f"{file_name}: an image path must stay inside the image folder to place the image")
    return rel


def save_coco(dataset: DetectionDataset, path: str | Path, info: dict | None = None, images: str = "none") -> Path:
    """Write ``dataset`` as COCO json atomically; ``path`` is a folder or a ``.json`` file.

    Args:
        dataset: the dataset (its ``image_dir`` must be set unless ``images="none"``).
        path: the dataset folder (``annotations.json`` is written in it) or a ``.json`` file.
        info: the COCO ``info`` block (default: a short description).
        images: ``"none"`` (annotations only), ``"copy"`` or ``"symlink"``: place each image at
            ``images/<file_name>`` next to the json (sub-folders kept). Images are placed
            before the json is written, so a missing image leaves no json behind.

    Returns:
        The path of the json file.

    Raises:
        FileNotFoundError: an image to place does not exist.
        COCOFormatError: a ``file_name`` leaves the image folder (absolute or with ``..``) while placing images.

    Example:
        >>> save_coco(load_coco("data/raw"), "data/clean", images="copy")  # doctest: +SKIP
        PosixPath('data/clean/annotations.json')
    """
    check_image_mode(images)
    path = Path(path)
    json_path = path if path.suffix == ".json" else path / ANNOTATIONS_FILE
    if images != "none":
        targets = [(rec, json_path.parent / IMAGES_DIR / _relative_image_path(rec.file_name)) for rec in dataset.images]
        for rec, dst in targets:
            place_image(dataset.image_path(rec), dst, images)
    atomic_write_json(json_path, dataset_to_coco(dataset, info))
    return json_path
