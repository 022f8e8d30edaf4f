"""LabelMe format: pure load/save functions.

A LabelMe folder holds one ``<stem>.json`` per image (in any sub-folder),
each with ``imagePath`` (relative to the json file), ``imageWidth``,
``imageHeight``, optionally ``imageData`` (the image file, base64) and
``shapes``: ``{"label", "points", "shape_type", "group_id", "flags",
"description"}``. Points are continuous pixel coordinates from 0.

Shapes: a ``rectangle`` is two corner points in any order (more points are
read as their bounds); a ``polygon`` has at least three points and becomes a
box (its bounds) plus a COCO polygon segmentation. Shapes with the same
``group_id`` and label are one object whose segmentation has one polygon per
shape (a rectangle in such a group joins as its four corners). A missing
``shape_type`` means ``polygon``, as in LabelMe. Every other shape type
(``circle``, ``point``, ``line``, ``linestrip``, ``points``, ``mask``) is an
error naming the file and the shape, so no object disappears silently.

Kept in :attr:`Annotation.extra` and written back: a non-empty ``flags``
dict and ``description``, the ``group_id`` of a one-shape object (the id of
a multi-part object is renumbered on save), and any shape key LabelMe does not
define (LabelMe keeps such keys too); a shape key ``iscrowd`` sets
:attr:`Annotation.iscrowd`. Image-level ``flags`` and ``area`` are not kept.

Images: the dataset's ``image_dir`` is the deepest folder holding the input
folder and every image, and ``file_name`` is relative to it. When an image
file is missing but the json embeds it in ``imageData``, the loader never
writes into the input: the image is decoded into ``extract_dir`` (a new
temporary folder by default) under its ``file_name``, the other images are
linked there, and ``image_dir`` points at that folder.

Class names: the ``class_names`` argument (labels must be among them),
else ``labels.txt`` in the folder (names it lacks are appended), else the
order of first appearance, reading the files sorted by path. In a folder,
json files whose top level is not an object with ``shapes`` or
``imagePath`` are not LabelMe files and are skipped (a review manifest, for
instance); images come in the order of their json files' paths.

On save, an annotation with a polygon segmentation becomes one polygon per
part (sharing a ``group_id`` when there are several); an RLE mask becomes the
polygons of its outer contours (holes are lost and the box shrinks by up to
one pixel, as contours pass through pixel centres); anything else becomes
a rectangle.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import os
import posixpath
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from logodet.datasets.formats._files import check_image_mode, place_image
from logodet.io import atomic_write_bytes, atomic_write_json
from logodet.masks import rle_decode
from logodet.types import Annotation, DetectionDataset, ImageRecord

__all__ = ["LabelMeFile", "LabelMeFormatError", "LabelMeObject", "load_labelme", "read_labelme_file", "save_labelme"]

LABELS_FILE = "labels.txt"
LABELME_VERSION = "5.5.0"
SHAPE_TYPES = ("rectangle", "polygon")
RESERVED_KEYS = {"label", "points", "group_id", "shape_type", "flags", "description", "mask", "iscrowd"}


class LabelMeFormatError(ValueError):
    """A LabelMe file is malformed; the message names the file and the field (``shapes[1].points``)."""


@dataclass
class LabelMeObject:
    """One object of a LabelMe file: a label, its box and (for polygons) its segmentation.

    ``where`` names its first shape (``shapes[3]``) for error messages.
    """

    label: str
    bbox: tuple[float, float, float, float]
    segmentation: list | None = None
    iscrowd: int = 0
    extra: dict = field(default_factory=dict)
    where: str = ""

    def to_annotation(self, category: int) -> Annotation:
        """The object as an :class:`Annotation` of class index ``category``."""
        return Annotation(self.bbox, category, segmentation=self.segmentation, iscrowd=self.iscrowd, extra=dict(self.extra))


@dataclass
class LabelMeFile:
    """A parsed LabelMe json file."""

    path: Path
    image_path: str
    width: int
    height: int
    objects: list[LabelMeObject]
    image_data: str | None = None

    @property
    def image_file(self) -> Path:
        """Where ``imagePath`` points: normalised, relative paths taken from the json's folder."""
        return Path(os.path.normpath(os.path.join(os.path.abspath(self.path.parent), self.image_path)))

    def decode_image_data(self) -> bytes:
        """The image file embedded in ``imageData``.

        Raises:
            LabelMeFormatError: no ``imageData``, bad base64, or bytes that are not an image.
        """
        if not self.image_data:
            raise LabelMeFormatError(f"{self.path}: imageData: no embedded image, and {self.image_file} does not exist")
        try:
            raw = base64.b64decode("".join(self.image_data.split()), validate=True)
            with Image.open(io.BytesIO(raw)) as im:
                im.size  # noqa: B018 - opening reads the header; a non-image fails here
        except (binascii.Error, ValueError, OSError, Image.DecompressionBombError) as exc:
            raise LabelMeFormatError(f"{self.path}: imageData: not a base64-encoded image ({exc})") from None
        return raw


def _is_number(value: Any) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _points(shape: dict, source: Path, where: str, minimum: int) -> list[tuple[float, float]]:
    points = shape.get("points")
    if not isinstance(points, list):
        raise LabelMeFormatError(f"{source}: {where}.points: expected a list of [x, y] points, got {type(points).__name__}")
    for j, p in enumerate(points):
        if not isinstance(p, list) or len(p) != 2 or not all(map(_is_number, p)):
            raise LabelMeFormatError(f"{source}: {where}.points[{j}]: expected [x, y] finite numbers, got {p!r:.60}")
    if len(points) < minimum:
        raise LabelMeFormatError(
            f"{source}: {where}.points: a {shape.get('shape_type') or 'polygon'} needs at least {minimum} points, got {len(points)}"
        )
    return [(float(x), float(y)) for x, y in points]


def _parse_shape(shape: Any, source: Path, where: str) -> tuple[str, str, list[tuple[float, float]], int | None, int, dict]:
    if not isinstance(shape, dict):
        raise LabelMeFormatError(f"{source}: {where}: expected an object, got {type(shape).__name__}")
    label = shape.get("label")
    if not isinstance(label, str) or not label.strip():
        raise LabelMeFormatError(f"{source}: {where}.label: expected a non-empty string, got {label!r:.60}")
    kind = shape.get("shape_type") or "polygon"
    if kind not in SHAPE_TYPES:
        raise LabelMeFormatError(f"{source}: {where}.shape_type: {kind!r:.40} is not supported (only {' and '.join(SHAPE_TYPES)})")
    points = _points(shape, source, where, 2 if kind == "rectangle" else 3)
    group = shape.get("group_id")
    if group is not None and (not isinstance(group, int) or isinstance(group, bool)):
        raise LabelMeFormatError(f"{source}: {where}.group_id: expected an integer or null, got {group!r:.40}")
    crowd = shape.get("iscrowd", 0)
    if crowd not in (0, 1) or isinstance(crowd, float):
        raise LabelMeFormatError(f"{source}: {where}.iscrowd: expected 0 or 1, got {crowd!r:.40}")
    extra: dict = {}
    for key, kind_ok in (("flags", dict), ("description", str)):
        value = shape.get(key)
        if value is not None and not isinstance(value, kind_ok):
            raise LabelMeFormatError(f"{source}: {where}.{key}: expected {kind_ok.__name__} or null, got {type(value).__name__}")
        if value:
            extra[key] = value
    extra.update((k, v) for k, v in shape.items() if k not in RESERVED_KEYS)
    return label, kind, points, group, int(crowd), extra


def _bounds(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _objects(shapes: list, source: Path) -> list[LabelMeObject]:
    groups: dict[tuple, list[tuple[str, str, list[tuple[float, float]], int, dict, str]]] = {}
    for i, shape in enumerate(shapes):
        where = f"shapes[{i}]"
        label, kind, points, group, crowd, extra = _parse_shape(shape, source, where)
        key = (group, label) if group is not None else (None, i)
        groups.setdefault(key, []).append((label, kind, points, crowd, extra, where))
    objects = []
    for (group, _), members in groups.items():
        label, _, _, _, extra, where = members[0]
        boxes = [_bounds(m[2]) for m in members]
        bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
        segmentation = None
        if any(m[1] == "polygon" for m in members):
            segmentation = []
            for (_, kind, points, *_), (x1, y1, x2, y2) in zip(members, boxes, strict=True):
                if kind == "rectangle":
                    points = [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]
                segmentation.append([v for p in points for v in p])
        if group is not None and len(members) == 1:  # the id of a multi-part group only ties the parts together
            extra = {**extra, "group_id": group}
        objects.append(LabelMeObject(label, bbox, segmentation, max(m[3] for m in members), extra, where))
    return objects


def read_labelme_file(path: str | Path) -> LabelMeFile:
    """Parse one LabelMe json file.

    Raises:
        FileNotFoundError: the file does not exist.
        LabelMeFormatError: invalid JSON or a malformed field, naming the file and the field.

    Example:
        >>> f = read_labelme_file("review/a.json")  # doctest: +SKIP
        >>> [(o.label, o.bbox) for o in f.objects]  # doctest: +SKIP
        [('acme', (10.0, 20.0, 50.0, 60.0))]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: LabelMe file not found")
    return _parse_file(path, _read_json(path))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise LabelMeFormatError(f"{path}: not valid JSON ({exc})") from None
    except OSError as exc:
        raise LabelMeFormatError(f"{path}: cannot read ({exc})") from None


def _parse_file(path: Path, data: Any) -> LabelMeFile:
    if not isinstance(data, dict):
        raise LabelMeFormatError(f"{path}: top level must be an object, got {type(data).__name__}")
    for key, kind in (("shapes", list), ("imagePath", str), ("imageWidth", int), ("imageHeight", int)):
        if key not in data:
            raise LabelMeFormatError(f"{path}: {key}: missing")
        if not isinstance(data[key], kind) or isinstance(data[key], bool):
            raise LabelMeFormatError(f"{path}: {key}: expected {kind.__name__}, got {type(data[key]).__name__}")
    image_path = posixpath.normpath(data["imagePath"].replace("\\", "/")) if data["imagePath"] else ""
    if not image_path or image_path == ".":
        raise LabelMeFormatError(f"{path}: imagePath: must name the image file")
    width, height = data["imageWidth"], data["imageHeight"]
    if width <= 0 or height <= 0:
        raise LabelMeFormatError(f"{path}: imageWidth/imageHeight: must be positive, got {width}x{height}")
    image_data = data.get("imageData")
    if image_data is not None and not isinstance(image_data, str):
        raise LabelMeFormatError(f"{path}: imageData: expected a base64 string or null, got {type(image_data).__name__}")
    return LabelMeFile(path, image_path, width, height, _objects(data["shapes"], path), image_data or None)


def _read_labels(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelMeFormatError(f"{path}: cannot read the class names ({exc})") from None
    names = [s for s in (line.strip() for line in lines) if s and s not in ("__ignore__", "_background_")]
    if len(set(names)) != len(names):
        raise LabelMeFormatError(f"{path}: duplicate class names")
    return names


def load_labelme(path: str | Path, *, extract_dir: str | Path | None = None, class_names: Sequence[str] | None = None) -> DetectionDataset:
    """Load a folder of LabelMe json files (searched recursively) or one json file.

    Args:
        path: the folder, or a single ``.json`` file.
        extract_dir: where images embedded in ``imageData`` are decoded when their
            file is missing (default: a new temporary folder); used only then.
        class_names: the classes, in index order; every label must be one of them.

    Raises:
        FileNotFoundError: ``path`` does not exist or holds no LabelMe file.
        LabelMeFormatError: malformed file, unknown label (with ``class_names``) or two files
            for one image; the message names the file and the field.

    Example:
        >>> ds = load_labelme("labelled/")  # doctest: +SKIP
        >>> save_coco(ds, "data/labelled")  # doctest: +SKIP
    """
    root = Path(path)
    if root.is_file():
        files, base_dir = [root], root.parent
    elif root.is_dir():
        files, base_dir = sorted(p for p in root.rglob("*.json") if p.is_file()), root
    else:
        raise FileNotFoundError(f"{root}: no such LabelMe file or folder")
    parsed = []
    for f in files:
        data = _read_json(f)
        if base_dir == root and (not isinstance(data, dict) or ("shapes" not in data and "imagePath" not in data)):
            continue  # not a LabelMe file
        parsed.append(_parse_file(f, data))
        if parsed[-1].image_data is not None and parsed[-1].image_file.is_file():
            parsed[-1].image_data = None  # the file is there: do not hold its copy in memory
    if not parsed:
        raise FileNotFoundError(f"{root}: no LabelMe json files")
    names, strict = (list(class_names), True) if class_names is not None else ([], False)
    if not strict and (base_dir / LABELS_FILE).is_file():
        names = _read_labels(base_dir / LABELS_FILE)
    index = {n: i for i, n in enumerate(names)}
    owner: dict[Path, Path] = {}
    for f in parsed:
        if f.image_file in owner:
            raise LabelMeFormatError(f"{f.path}: imagePath: image {f.image_file} is already described by {owner[f.image_file]}")
        owner[f.image_file] = f.path
        for obj in f.objects:
            if obj.label not in index:
                if strict:
                    known = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
                    raise LabelMeFormatError(f"{f.path}: {obj.where}.label: {obj.label!r} is not a known class name (known: {known})")
                index[obj.label] = len(names)
                names.append(obj.label)
    base = Path(os.path.commonpath([os.path.abspath(base_dir), *(os.path.dirname(f.image_file) for f in parsed)]))
    records = [
        ImageRecord(f.image_file.relative_to(base).as_posix(), f.width, f.height, [o.to_annotation(index[o.label]) for o in f.objects])
        for f in parsed
    ]
    embedded = {k: f.decode_image_data() for k, f in enumerate(parsed) if f.image_data is not None}
    if not embedded:
        return DetectionDataset(names, records, base)
    image_dir = Path(extract_dir) if extract_dir is not None else Path(tempfile.mkdtemp(prefix="logodet-labelme-"))
    for k, (f, rec) in enumerate(zip(parsed, records, strict=True)):
        if k in embedded:
            atomic_write_bytes(image_dir / rec.file_name, embedded[k])
        elif f.image_file.is_file():
            place_image(f.image_file, image_dir / rec.file_name, "symlink")
    return DetectionDataset(names, records, image_dir)


def _polygons(ann: Annotation) -> list[list[tuple[float, float]]]:
    seg = ann.segmentation
    if isinstance(seg, list):
        parts = [p for p in seg if isinstance(p, (list, tuple)) and len(p) >= 6]
        return [[(float(p[k]), float(p[k + 1])) for k in range(0, len(p) - 1, 2)] for p in parts]
    if isinstance(seg, dict):
        mask = rle_decode(seg).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        return [[(float(x), float(y)) for x, y in c.reshape(-1, 2)] for c in contours if len(c) >= 3]
    return []


def _shapes(rec: ImageRecord, class_names: list[str]) -> list[dict]:
    used = [a.extra.get("group_id") for a in rec.annotations]
    next_gid = max((g for g in used if isinstance(g, int) and not isinstance(g, bool)), default=0) + 1
    taken: set[tuple[int, str]] = set()
    shapes = []
    for ann in rec.annotations:
        label = class_names[ann.category]
        try:
            parts = _polygons(ann)
        except (ValueError, TypeError) as exc:
            raise LabelMeFormatError(f"{rec.file_name}: annotation of {label!r}: cannot convert its segmentation ({exc})") from None
        gid = ann.extra.get("group_id")
        if not isinstance(gid, int) or isinstance(gid, bool) or (gid, label) in taken:
            gid = None
        if gid is None and len(parts) > 1:
            gid, next_gid = next_gid, next_gid + 1
        if gid is not None:
            taken.add((gid, label))
        x1, y1, x2, y2 = ann.bbox
        for kind, points in [("polygon", p) for p in parts] or [("rectangle", [(x1, y1), (x2, y2)])]:
            shape = {
                "label": label,
                "points": [[x, y] for x, y in points],
                "group_id": gid,
                "description": description if isinstance(description := ann.extra.get("description"), str) else "",
                "shape_type": kind,
                "flags": flags if isinstance(flags := ann.extra.get("flags"), dict) else {},
            }
            if ann.iscrowd:
                shape["iscrowd"] = 1
            shape.update((k, v) for k, v in ann.extra.items() if k not in RESERVED_KEYS)
            shapes.append(shape)
    return shapes


def save_labelme(dataset: DetectionDataset, path: str | Path, images: str = "copy", *, embed_images: bool = False) -> Path:
    """Write ``dataset`` as LabelMe files at ``path``; returns ``path``.

    Each image gets ``<file stem>.json`` next to its copy (same relative path
    as ``file_name``), and ``labels.txt`` lists the classes. With
    ``images="none"`` the json's ``imagePath`` points back at the source image.

    Args:
        dataset: the dataset (its ``image_dir`` must be set unless ``images="none"``).
        path: the folder to write.
        images: ``"copy"``, ``"symlink"`` (relative links, copies where links fail) or ``"none"``.
        embed_images: also store each image file, base64, in ``imageData``.

    Raises:
        LabelMeFormatError: two images would share one json (``a.jpg`` and ``a.png``), an image
            path leaves the folder, or a segmentation cannot be converted.

    Example:
        >>> save_labelme(load_coco("data/val"), "review/val")  # doctest: +SKIP
        PosixPath('review/val')
    """
    check_image_mode(images)
    root = Path(path)
    targets: dict[Path, str] = {}
    for rec in dataset.images:
        rel = Path(rec.file_name)
        if rel.is_absolute() or ".." in rel.parts:
            raise LabelMeFormatError(f"{rec.file_name}: an image path must stay inside the image folder to be saved")
        if rel.with_suffix(".json") in targets:
            raise LabelMeFormatError(
                f"{rec.file_name}: shares {rel.with_suffix('.json').as_posix()} with {targets[rel.with_suffix('.json')]}"
            )
        targets[rel.with_suffix(".json")] = rec.file_name
    for rec in dataset.images:
        rel = Path(rec.file_name)
        image_path = rel.name
        if images != "none":
            place_image(dataset.image_path(rec), root / rel, images)
        elif dataset.image_dir is not None:
            image_path = Path(os.path.relpath(os.path.abspath(dataset.image_path(rec)), os.path.abspath((root / rel).parent))).as_posix()
        image_data = None
        if embed_images:
            src = dataset.image_path(rec)
            if not src.is_file():
                raise FileNotFoundError(f"{src}: image file not found (needed to embed it)")
            image_data = base64.b64encode(src.read_bytes()).decode("ascii")
        doc = {
            "version": LABELME_VERSION,
            "flags": {},
            "shapes": _shapes(rec, dataset.class_names),
            "imagePath": image_path,
            "imageData": image_data,
            "imageHeight": int(rec.height),
            "imageWidth": int(rec.width),
        }
        atomic_write_json(root / rel.with_suffix(".json"), doc, indent=2)
    atomic_write_bytes(root / LABELS_FILE, "".join(n + "\n" for n in dataset.class_names).encode("utf-8"))
    return root
