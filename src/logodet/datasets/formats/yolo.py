"""YOLO detection and segmentation formats: pure load/save functions.

A YOLO dataset folder holds ``data.yaml`` (``names``: the classes in index
order, as a list or an ``index: name`` mapping; ``nc``, checked against
``names`` when present; ``train``/``val`` pointing at ``images``, relative to
the file's folder; no ``path`` key, so YOLO trainers resolve them there too),
``images/`` and ``labels/``: one ``.txt`` per image, same relative path and
stem. Each line is one object, coordinates normalised by the image width
(x) and height (y):

* a box: ``class cx cy w h`` (5 fields);
* a polygon: ``class x1 y1 x2 y2 x3 y3 ...`` (an odd count of at least 7
  fields: 3 points or more). On load its box is the polygon's bounds and the
  polygon is kept, in pixels, as the annotation's COCO ``segmentation``
  (``[[x1, y1, x2, y2, ...]]``), with the polygon's area as ``area``.

An image without objects gets an empty label file on save; on load an image
without a label file has no objects. Crowd regions (``iscrowd=1``) are not
written: YOLO has no way to mark them.

``save_yolo(..., task="segment")`` writes a polygon line for each annotation
with a segmentation and a box line for the others. YOLO holds one polygon per
line, so an object of several parts is written as **one polygon joining the
parts in the order given** (the parts' points, concatenated): no part is
lost and the polygon's bounds, hence the reloaded box, are the bounds of all
parts. An RLE mask becomes its outer contours (``cv2.findContours``, largest
first, joined the same way); holes are lost, and as contours pass through
pixel centres the reloaded box is up to one pixel smaller on the right and
bottom. A mask without a contour of 3 points or more is written as a box.

Values are written with 10 significant digits, so boxes survive a round
trip to better than 1e-6 relative.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from PIL import Image

from logodet.datasets.formats._files import check_image_mode, place_image
from logodet.io import atomic_write_bytes, list_images
from logodet.masks import rle_decode
from logodet.types import Annotation, DetectionDataset, ImageRecord

__all__ = [
    "TASKS",
    "YOLOFormatError",
    "annotation_polygon",
    "load_yolo",
    "save_yolo",
    "unmatched_label_files",
    "yolo_line",
    "yolo_polygon_line",
]

DATA_FILE, IMAGES_DIR, LABELS_DIR = "data.yaml", "images", "labels"
TASKS = ("detect", "segment")


class YOLOFormatError(ValueError):
    """A YOLO file is malformed; the message names the file, line and field."""


def _fmt(value: float) -> str:
    return format(float(value), ".10g")


def yolo_line(category: int, bbox: tuple[float, float, float, float], width: int, height: int) -> str:
    """One label line for an ``xyxy`` box in an image of ``width`` x ``height`` pixels.

    Example:
        >>> yolo_line(2, (10, 20, 30, 60), 100, 200)
        '2 0.2 0.2 0.2 0.2'
    """
    x1, y1, x2, y2 = (float(v) for v in bbox)
    vals = ((x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height)
    return " ".join([str(int(category)), *(_fmt(v) for v in vals)])


def yolo_polygon_line(category: int, points: Sequence[float], width: int, height: int) -> str:
    """One segmentation label line for a flat pixel polygon ``[x1, y1, x2, y2, ...]``.

    Example:
        >>> yolo_polygon_line(1, [0, 0, 50, 0, 50, 20], 100, 40)
        '1 0 0 0.5 0 0.5 0.5'
    """
    if len(points) < 6 or len(points) % 2:
        raise ValueError(f"yolo_polygon_line: expected an even count of at least 6 numbers, got {len(points)}")
    scale = (width, height)
    return " ".join([str(int(category)), *(_fmt(float(v) / scale[k % 2]) for k, v in enumerate(points))])


def annotation_polygon(ann: Annotation) -> list[float] | None:
    """The one pixel polygon ``[x1, y1, ...]`` that ``task="segment"`` writes for ``ann``, or ``None`` (a box line).

    Polygon parts (at least 3 points each) are joined in the order given; an
    RLE mask gives its outer contours, largest first, joined the same way.

    Raises:
        ValueError: the RLE cannot be decoded.

    Example:
        >>> annotation_polygon(Annotation((0, 0, 4, 4), 0, segmentation=[[0, 0, 4, 0, 4, 4], [9, 9, 9, 9]]))
        [0.0, 0.0, 4.0, 0.0, 4.0, 4.0]
    """
    seg = ann.segmentation
    if isinstance(seg, dict):
        mask = rle_decode(seg).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        contours = sorted((c.reshape(-1, 2) for c in contours if len(c) >= 3), key=lambda c: -cv2.contourArea(c))
        parts = [[float(v) for v in c.ravel()] for c in contours]
    elif isinstance(seg, (list, tuple)):
        parts = [[float(v) for v in p] for p in seg if isinstance(p, (list, tuple, np.ndarray)) and len(p) >= 6]
    else:
        return None
    joined = [v for p in parts for v in p[: len(p) - len(p) % 2]]
    return joined or None


def _label_paths(dataset: DetectionDataset) -> list[Path]:
    seen: dict[Path, str] = {}
    out = []
    for rec in dataset.images:
        rel = Path(rec.file_name)
        if rel.is_absolute() or ".." in rel.parts:
            raise YOLOFormatError(f"{rec.file_name}: an image path must stay inside the image folder to be saved")
        label = rel.with_suffix(".txt")
        if label in seen:
            raise YOLOFormatError(f"{rec.file_name}: shares {LABELS_DIR}/{label.as_posix()} with {seen[label]}; rename one image")
        seen[label] = rec.file_name
        out.append(label)
    return out


def _lines(rec: ImageRecord, task: str) -> list[str]:
    lines = []
    for k, a in enumerate(rec.annotations):
        if a.iscrowd:
            continue
        poly = None
        if task == "segment":
            try:
                poly = annotation_polygon(a)
            except (ValueError, TypeError) as exc:
                raise YOLOFormatError(f"{rec.file_name}: annotations[{k}].segmentation: cannot convert to a polygon ({exc})") from None
        if poly is None:
            lines.append(yolo_line(a.category, a.bbox, rec.width, rec.height))
        else:
            lines.append(yolo_polygon_line(a.category, poly, rec.width, rec.height))
    return lines


def save_yolo(dataset: DetectionDataset, path: str | Path, images: str = "symlink", task: str = "detect") -> Path:
    """Write ``dataset`` as a YOLO folder at ``path``; the path of ``data.yaml``.

    Args:
        dataset: the dataset (its ``image_dir`` must be set unless ``images="none"``).
        path: the YOLO folder to write.
        images: ``"symlink"`` (relative links, copies where links fail),
            ``"copy"``, or ``"none"`` (labels and ``data.yaml`` only).
        task: ``"detect"`` (box lines only) or ``"segment"`` (polygon lines for annotations
            with a segmentation, see the module notes, box lines for the others).

    Raises:
        YOLOFormatError: two images share a label file (``a.jpg`` and ``a.png``), an image path
            leaves the image folder, or an RLE cannot be decoded.

    Example:
        >>> save_yolo(load_coco("runs/synth"), "runs/synth/yolo")  # doctest: +SKIP
        PosixPath('runs/synth/yolo/data.yaml')
    """
    check_image_mode(images)
    if task not in TASKS:
        raise ValueError(f"task: expected one of {TASKS}, got {task!r}")
    root = Path(path)
    labels = _label_paths(dataset)
    all_lines = [_lines(rec, task) for rec in dataset.images]  # every conversion first: a bad mask leaves nothing written
    for rec, label, lines in zip(dataset.images, labels, all_lines, strict=True):
        atomic_write_bytes(root / LABELS_DIR / label, "".join(line + "\n" for line in lines).encode("utf-8"))
        if images != "none":
            place_image(dataset.image_path(rec), root / IMAGES_DIR / rec.file_name, images)
    # no "path" key: YOLO trainers then resolve images/ against this file's folder (a relative "path" would be the working folder)
    data = {"train": IMAGES_DIR, "val": IMAGES_DIR, "nc": dataset.num_classes, "names": list(dataset.class_names)}
    out = root / DATA_FILE
    atomic_write_bytes(out, yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8"))
    return out


class _Loader(yaml.SafeLoader):
    """Safe YAML loader whose value errors (a bad date, say) carry the place in the file."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(None, None, f"cannot read the value ({exc})", node.start_mark) from None


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise YOLOFormatError(f"{path}:{line}: not UTF-8 text (byte {exc.start})") from None


def _name(value: Any, data_path: Path, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value).strip():
        raise YOLOFormatError(f"{data_path}: {where}: expected a class name, got {value!r:.40}")
    return str(value)


def _class_names(data_path: Path) -> list[str]:
    text = _read_text(data_path)
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        raise YOLOFormatError(f"{data_path}:{line}: not valid YAML (character {exc.character!r} is not allowed)") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YOLOFormatError(f"{data_path}:{line}: not valid YAML ({exc.problem or exc.context or 'syntax error'})") from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise YOLOFormatError(f"{data_path}: top level: cannot read the YAML ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise YOLOFormatError(f"{data_path}: top level must be a mapping with 'names', got {type(data).__name__}")
    names = data.get("names")
    if isinstance(names, dict):
        keys: dict[int, Any] = {}
        for k, v in names.items():
            if isinstance(k, bool) or not (isinstance(k, int) or (isinstance(k, str) and k.isdigit() and k.isascii())):
                raise YOLOFormatError(f"{data_path}: names: keys must be class indices, got {list(names)!r:.80}")
            if int(k) in keys:
                raise YOLOFormatError(f"{data_path}: names: index {int(k)} given twice")
            keys[int(k)] = v
        if sorted(keys) != list(range(len(keys))):
            raise YOLOFormatError(f"{data_path}: names: indices must be 0..{len(keys) - 1}, got {sorted(keys)}")
        result = [_name(keys[k], data_path, f"names[{k}]") for k in range(len(keys))]
    elif isinstance(names, list) and names:
        result = [_name(n, data_path, f"names[{k}]") for k, n in enumerate(names)]
    else:
        raise YOLOFormatError(f"{data_path}: missing field 'names' (a list of class names or an index -> name mapping)")
    if not result:
        raise YOLOFormatError(f"{data_path}: names: no class names")
    first: dict[str, int] = {}
    for k, n in enumerate(result):
        if n in first:
            raise YOLOFormatError(f"{data_path}: names[{k}]: duplicate class name {n!r} (also names[{first[n]}])")
        first[n] = k
    nc = data.get("nc")
    if nc is not None and (isinstance(nc, bool) or not isinstance(nc, int) or nc != len(result)):
        raise YOLOFormatError(f"{data_path}: nc: {nc!r:.40} does not match the {len(result)} class names")
    return result


def _polygon_area(xs: np.ndarray, ys: np.ndarray) -> float:
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2)


def _parse_line(parts: list[str], where: str, width: int, height: int, num_classes: int) -> Annotation:
    n = len(parts)
    if n != 5 and (n < 7 or n % 2 == 0):
        raise YOLOFormatError(
            f"{where}: expected 'class cx cy w h' (5 fields) or 'class x1 y1 x2 y2 x3 y3 ...' (an odd count >= 7), got {n} fields"
        )
    try:
        cls = int(parts[0])
        vals = np.array([float(v) for v in parts[1:]], np.float64)
    except ValueError:
        raise YOLOFormatError(f"{where}: expected an integer class and {n - 1} numbers, got {' '.join(parts)!r:.80}") from None
    if not 0 <= cls < num_classes:
        raise YOLOFormatError(f"{where}: class {cls} is outside the {num_classes} names of data.yaml")
    if not np.all(np.isfinite(vals)):
        raise YOLOFormatError(f"{where}: coordinates must be finite numbers, got {' '.join(parts[1:])!r:.80}")
    if n == 5:
        cx, cy, w, h = (float(v) for v in vals)
        if w < 0 or h < 0:
            raise YOLOFormatError(f"{where}: negative box size {w} x {h}")
        return Annotation(((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height), cls)
    xs, ys = vals[0::2] * width, vals[1::2] * height
    poly = np.stack([xs, ys], 1).ravel()
    box = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
    return Annotation(box, cls, segmentation=[[float(v) for v in poly]], area=_polygon_area(xs, ys))


def _parse_labels(path: Path, width: int, height: int, num_classes: int) -> list[Annotation]:
    anns = []
    for no, line in enumerate(_read_text(path).splitlines(), 1):
        parts = line.split()
        if parts:
            anns.append(_parse_line(parts, f"{path}:{no}", width, height, num_classes))
    return anns


def _image_size(img: Path) -> tuple[int, int]:
    try:
        with Image.open(img) as im:
            return im.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise YOLOFormatError(f"{img}: cannot read the image size ({exc})") from None


def load_yolo(path: str | Path) -> DetectionDataset:
    """Load a YOLO folder (``data.yaml``, ``images/``, ``labels/``); coordinates become absolute pixels.

    Image sizes are read from the image headers; an image without a label
    file has no objects. Box lines become boxes; polygon lines become their
    bounds plus a polygon ``segmentation``.

    Raises:
        FileNotFoundError: no ``data.yaml`` or no ``images/`` folder.
        YOLOFormatError: malformed ``data.yaml`` (the message names the field or line) or label
            line (the message names the file and line).

    Example:
        >>> ds = load_yolo("runs/synth/yolo")  # doctest: +SKIP
    """
    root = Path(path)
    data_path = root / DATA_FILE if root.is_dir() else root
    root = data_path.parent
    if not data_path.is_file():
        raise FileNotFoundError(f"{data_path}: no YOLO data.yaml")
    names = _class_names(data_path)
    image_dir = root / IMAGES_DIR
    if not image_dir.is_dir():
        raise FileNotFoundError(f"{image_dir}: no images folder")
    records = []
    for img in list_images(image_dir):
        rel = img.relative_to(image_dir)
        width, height = _image_size(img)
        label = root / LABELS_DIR / rel.with_suffix(".txt")
        anns = _parse_labels(label, width, height, len(names)) if label.is_file() else []
        records.append(ImageRecord(rel.as_posix(), width, height, anns))
    return DetectionDataset(names, records, image_dir)


def unmatched_label_files(path: str | Path) -> list[str]:
    """Label files of a YOLO folder that no image matches (:func:`load_yolo` skips them), relative to ``labels/``.

    Example:
        >>> unmatched_label_files("runs/synth/yolo")  # doctest: +SKIP
        ['old/frame_0001.txt']
    """
    root = Path(path)
    root = root if root.is_dir() else root.parent
    labels, image_dir = root / LABELS_DIR, root / IMAGES_DIR
    if not labels.is_dir():
        return []
    matched = {img.relative_to(image_dir).with_suffix(".txt") for img in list_images(image_dir)} if image_dir.is_dir() else set()
    return sorted(p.relative_to(labels).as_posix() for p in labels.rglob("*.txt") if p.is_file() and p.relative_to(labels) not in matched)
