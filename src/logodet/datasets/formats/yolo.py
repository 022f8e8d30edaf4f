"""YOLO detection format: pure load/save functions.

A YOLO dataset folder holds ``data.yaml`` (``names``: the classes in index
order, ``nc``, and ``path``/``train``/``val`` pointing at ``images``),
``images/`` and ``labels/``: one ``.txt`` per image, same relative path and
stem, one line ``class cx cy w h`` per box with the centre and size
normalised by the image width and height. An image without boxes gets an
empty label file.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from PIL import Image

from logodet.datasets.formats._files import check_image_mode, place_image
from logodet.io import atomic_write_bytes, list_images
from logodet.types import Annotation, DetectionDataset, ImageRecord

__all__ = ["YOLOFormatError", "load_yolo", "save_yolo", "yolo_line"]

DATA_FILE, IMAGES_DIR, LABELS_DIR = "data.yaml", "images", "labels"


class YOLOFormatError(ValueError):
    """A YOLO file is malformed; the message names the file, line and field."""


def yolo_line(category: int, bbox: tuple[float, float, float, float], width: int, height: int) -> str:
    """One label line for an ``xyxy`` box in an image of ``width`` x ``height`` pixels.

    Example:
        >>> yolo_line(2, (10, 20, 30, 60), 100, 200)
        '2 0.2 0.2 0.2 0.2'
    """
    x1, y1, x2, y2 = (float(v) for v in bbox)
    vals = ((x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height)
    return " ".join([str(int(category)), *(format(v, ".10g") for v in vals)])


def save_yolo(dataset: DetectionDataset, path: str | Path, images: str = "symlink") -> Path:
    """Write ``dataset`` as a YOLO folder at ``path``; the path of ``data.yaml``.

    Args:
        dataset: the dataset (its ``image_dir`` must be set unless ``images="none"``).
        path: the YOLO folder to write.
        images: ``"symlink"`` (relative links, copies where links fail),
            ``"copy"``, or ``"none"`` (labels and ``data.yaml`` only).

    Example:
        >>> save_yolo(load_coco("runs/synth"), "runs/synth/yolo")  # doctest: +SKIP
        PosixPath('runs/synth/yolo/data.yaml')
    """
    check_image_mode(images)
    root = Path(path)
    for rec in dataset.images:
        rel = Path(rec.file_name)
        lines = [yolo_line(a.category, a.bbox, rec.width, rec.height) for a in rec.annotations if not a.iscrowd]
        atomic_write_bytes(root / LABELS_DIR / rel.with_suffix(".txt"), "".join(line + "\n" for line in lines).encode())
        if images != "none":
            place_image(dataset.image_path(rec), root / IMAGES_DIR / rel, images)
    data = {"path": ".", "train": IMAGES_DIR, "val": IMAGES_DIR, "nc": dataset.num_classes, "names": list(dataset.class_names)}
    out = root / DATA_FILE
    atomic_write_bytes(out, yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8"))
    return out


def _class_names(data_path: Path) -> list[str]:
    try:
        data = yaml.safe_load(data_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise YOLOFormatError(f"{data_path}: cannot read ({exc})") from exc
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict):
        try:
            keys = sorted(int(k) for k in names)
        except (TypeError, ValueError):
            raise YOLOFormatError(f"{data_path}: names: keys must be class indices, got {list(names)}") from None
        if keys != list(range(len(keys))):
            raise YOLOFormatError(f"{data_path}: names: indices must be 0..{len(keys) - 1}, got {keys}")
        return [str(names[k] if k in names else names[str(k)]) for k in keys]
    if isinstance(names, list) and names:
        return [str(n) for n in names]
    raise YOLOFormatError(f"{data_path}: missing field 'names' (a list of class names or an index -> name mapping)")


def _parse_labels(path: Path, width: int, height: int, num_classes: int) -> list[Annotation]:
    anns = []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        where = f"{path}:{no}"
        if len(parts) != 5:
            raise YOLOFormatError(f"{where}: expected 'class cx cy w h' (5 fields), got {len(parts)}")
        try:
            cls = int(parts[0])
            cx, cy, w, h = (float(v) for v in parts[1:])
        except ValueError:
            raise YOLOFormatError(f"{where}: expected an integer class and four numbers, got {line.strip()!r}") from None
        if not 0 <= cls < num_classes:
            raise YOLOFormatError(f"{where}: class {cls} is outside the {num_classes} names of data.yaml")
        if w < 0 or h < 0:
            raise YOLOFormatError(f"{where}: negative box size {w} x {h}")
        box = ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height)
        anns.append(Annotation(box, cls))
    return anns


def load_yolo(path: str | Path) -> DetectionDataset:
    """Load a YOLO folder (``data.yaml``, ``images/``, ``labels/``); boxes become absolute ``xyxy``.

    Image sizes are read from the image headers; an image without a label
    file has no boxes.

    Raises:
        FileNotFoundError: no ``data.yaml`` or no ``images/`` folder.
        YOLOFormatError: malformed ``data.yaml`` or label line (the message names the file and line).

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
        try:
            with Image.open(img) as im:
                width, height = im.size
        except OSError as exc:
            raise YOLOFormatError(f"{img}: cannot read the image size ({exc})") from exc
        label = root / LABELS_DIR / rel.with_suffix(".txt")
        anns = _parse_labels(label, width, height, len(names)) if label.is_file() else []
        records.append(ImageRecord(rel.as_posix(), width, height, anns))
    return DetectionDataset(names, records, image_dir)
