"""The dataset format registry: detect, load, save and convert between COCO, YOLO, Pascal VOC and LabelMe.

Every format loads into and saves from :class:`~logodet.types.DetectionDataset`;
this module picks the format's functions and keeps account of what a target
format cannot hold, so a conversion never loses anything silently:

============  ===============================================================
target        what does not survive
============  ===============================================================
``coco``      nothing
``yolo``      crowd regions, ``extra`` fields and image ids; with
              ``yolo_task="detect"`` every mask; with ``"segment"`` masks
              become one polygon each (parts joined, RLE -> outer contours)
              and the box becomes the polygon's bounds
``voc``       crowd regions, masks, image ids, ``extra`` fields other than
              ``pose``/``truncated``/``difficult``/``occluded``; box edges
              are rounded to whole pixels
``labelme``   image ids; RLE masks become outer-contour polygons and boxes
              of masks become the polygons' bounds
============  ===============================================================

Conversions write into a temporary sibling of the destination and rename it
into place at the end, so a failed conversion leaves no half-written folder.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from logodet.datasets.formats._files import check_image_mode
from logodet.types import Annotation, DetectionDataset

__all__ = ["FORMATS", "ConvertItem", "ConvertReport", "convert", "detect_format", "load_dataset", "plan_conversion", "save_dataset"]

FORMATS = ("coco", "yolo", "voc", "labelme")
YOLO_TASKS = ("detect", "segment")
_VOC_EXTRA = frozenset({"pose", "truncated", "difficult", "occluded"})
_LABELME_RESERVED = frozenset({"label", "points", "shape_type", "mask"})
_TARGET_NAMES = {"coco": "COCO", "yolo": "YOLO", "voc": "VOC", "labelme": "LabelMe"}
_LOOKED_FOR = (
    "annotations.json or a .json file with 'images' (coco), data.yaml (yolo), Annotations/*.xml (voc), *.json files with 'shapes' (labelme)"
)
_JSON_PROBES = 50  # json files read at most when looking for LabelMe files


@dataclass(frozen=True)
class ConvertItem:
    """Something a conversion dropped or changed, and why.

    Attributes:
        what: ``"annotation"``, ``"mask"``, ``"box"``, ``"extra 'key'"``, ``"image ids"`` or
            ``"label file"`` (a YOLO label file without an image, which no loader reads).
        reason: why the target format cannot keep it as it was.
        file_name: the image (or label file) it belongs to (``None``: the whole dataset).
        index: the annotation's index in that image (``None``: not one annotation).
    """

    what: str
    reason: str
    file_name: str | None = None
    index: int | None = None


@dataclass
class ConvertReport:
    """What :func:`convert` wrote: counts in the destination, and every item dropped or changed.

    Attributes:
        src, dst: the source and destination paths.
        from_fmt, to_fmt: the formats.
        images, annotations, masks, classes: counts written (``masks``: annotations written with a mask or polygon).
        dropped: items the destination does not hold at all.
        changed: items the destination holds in another form (joined polygons, rounded boxes, ...).
    """

    src: Path
    dst: Path
    from_fmt: str
    to_fmt: str
    images: int
    annotations: int
    masks: int
    classes: int
    dropped: list[ConvertItem] = field(default_factory=list)
    changed: list[ConvertItem] = field(default_factory=list)

    @staticmethod
    def _count(items: list[ConvertItem]) -> dict[str, int]:
        return dict(sorted(Counter(f"{i.what}: {i.reason}" for i in items).items()))

    def dropped_counts(self) -> dict[str, int]:
        """``{"what: reason": count}`` of the dropped items, sorted."""
        return self._count(self.dropped)

    def changed_counts(self) -> dict[str, int]:
        """``{"what: reason": count}`` of the changed items, sorted."""
        return self._count(self.changed)


def _check_format(fmt: str, name: str = "format") -> str:
    if fmt not in FORMATS:
        raise ValueError(f"{name}: expected one of {FORMATS}, got {fmt!r}")
    return fmt


def _json_object(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def detect_format(path: str | Path) -> str:
    """The format of the dataset at ``path``: one of :data:`FORMATS`.

    COCO: a folder with ``annotations.json`` or a ``.json`` file with ``images``;
    YOLO: a folder with ``data.yaml`` (or that file); VOC: a folder with
    ``Annotations/*.xml``; LabelMe: a folder of ``*.json`` files with ``shapes``
    (or one such file). Checked in that order.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: no format matches; the message lists what was looked for.

    Example:
        >>> detect_format("../shared/data/flickrlogos27-dev")  # doctest: +SKIP
        'coco'
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such dataset folder or file")
    if p.is_file():
        if p.suffix.lower() in (".yaml", ".yml"):
            return "yolo"
        data = _json_object(p) if p.suffix.lower() == ".json" else None
        if data is not None and "images" in data:
            return "coco"
        if data is not None and "shapes" in data:
            return "labelme"
    else:
        if (p / "annotations.json").is_file():
            return "coco"
        if (p / "data.yaml").is_file():
            return "yolo"
        ann_dir = p / "Annotations"
        if ann_dir.is_dir() and any(f.is_file() for f in ann_dir.rglob("*.xml")):
            return "voc"
        for k, f in enumerate(p.rglob("*.json")):
            if k >= _JSON_PROBES:
                break
            data = _json_object(f) if f.is_file() else None
            if data is not None and "shapes" in data:
                return "labelme"
    raise ValueError(f"{p}: cannot tell the dataset format; looked for {_LOOKED_FOR}. Name the format explicitly")


def load_dataset(path: str | Path, fmt: str | None = None) -> DetectionDataset:
    """Load the dataset at ``path`` in format ``fmt`` (default: :func:`detect_format`).

    Raises:
        FileNotFoundError, ValueError: from the format's loader (the message names the file and field).

    Example:
        >>> ds = load_dataset("data/voc2007")  # doctest: +SKIP
    """
    fmt = _check_format(fmt) if fmt is not None else detect_format(path)
    if fmt == "coco":
        from logodet.datasets.formats.coco import load_coco

        return load_coco(path)
    if fmt == "yolo":
        from logodet.datasets.formats.yolo import load_yolo

        return load_yolo(path)
    if fmt == "voc":
        from logodet.datasets.formats.voc import load_voc

        return load_voc(path)
    from logodet.datasets.formats.labelme import load_labelme

    return load_labelme(path)


def save_dataset(dataset: DetectionDataset, path: str | Path, fmt: str, images: str = "copy", *, yolo_task: str = "detect") -> Path:
    """Write ``dataset`` at ``path`` in format ``fmt``; the path the format's saver returns.

    That is ``annotations.json`` for COCO, ``data.yaml`` for YOLO and the folder
    for VOC and LabelMe. What the format cannot hold is dropped as
    :func:`plan_conversion` describes.

    Args:
        dataset: the dataset (its ``image_dir`` must be set unless ``images="none"``).
        path: the folder to write.
        fmt: one of :data:`FORMATS`.
        images: ``"copy"``, ``"symlink"`` or ``"none"``.
        yolo_task: ``"detect"`` or ``"segment"`` (YOLO only).

    Example:
        >>> save_dataset(load_dataset("data/voc2007"), "data/voc2007_coco", "coco")  # doctest: +SKIP
        PosixPath('data/voc2007_coco/annotations.json')
    """
    _check_format(fmt)
    check_image_mode(images)
    if yolo_task not in YOLO_TASKS:
        raise ValueError(f"yolo_task: expected one of {YOLO_TASKS}, got {yolo_task!r}")
    if fmt == "coco":
        from logodet.datasets.formats.coco import save_coco

        return save_coco(dataset, path, images=images)
    if fmt == "yolo":
        from logodet.datasets.formats.yolo import save_yolo

        return save_yolo(dataset, path, images=images, task=yolo_task)
    if fmt == "voc":
        from logodet.datasets.formats.voc import save_voc

        return save_voc(dataset, path, images=images)
    from logodet.datasets.formats.labelme import save_labelme

    return save_labelme(dataset, path, images=images)


def _polygon_bounds(ann: Annotation, file_name: str, k: int) -> tuple[list[float] | None, tuple[float, float, float, float] | None]:
    from logodet.datasets.formats.yolo import annotation_polygon

    try:
        poly = annotation_polygon(ann)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{file_name}: annotations[{k}].segmentation: cannot convert to a polygon ({exc})") from None
    if poly is None:
        return None, None
    xs, ys = poly[0::2], poly[1::2]
    return poly, (min(xs), min(ys), max(xs), max(ys))


def _box_moved(a: tuple[float, ...], b: tuple[float, ...], scale: float) -> bool:
    return any(abs(u - v) > 1e-6 * scale for u, v in zip(a, b, strict=True))


def _extras_lost(ann: Annotation, to_fmt: str) -> list[str]:
    keys = [key for key in ann.extra if key != "id"]  # "id" is the source's annotation id, renumbered by every writer
    if to_fmt == "yolo":
        return keys
    if to_fmt == "voc":
        return [key for key in keys if key not in _VOC_EXTRA]
    if to_fmt == "labelme":
        return [key for key in keys if key in _LABELME_RESERVED]
    return []


def _image_ids_kept(dataset: DetectionDataset) -> bool:
    """Whether the ids are what a reload gives anyway: ``1..N`` in file-path order (the order the other loaders read)."""
    ordered = sorted(dataset.images, key=lambda r: Path(r.file_name))
    return all(rec.id is None or rec.id == k + 1 for k, rec in enumerate(ordered))


def plan_conversion(dataset: DetectionDataset, to_fmt: str, yolo_task: str = "detect") -> ConvertReport:
    """What writing ``dataset`` as ``to_fmt`` keeps, drops and changes (nothing is written).

    ``src``/``dst``/``from_fmt`` of the result are placeholders that :func:`convert` fills in.

    Raises:
        ValueError: an RLE mask that has to become a polygon cannot be decoded (naming image and annotation).

    Example:
        >>> from logodet.types import ImageRecord
        >>> ds = DetectionDataset(["acme"], [ImageRecord("a.jpg", 40, 30, [Annotation((0, 0, 9, 9), 0, iscrowd=1)])])
        >>> plan_conversion(ds, "yolo").dropped_counts()
        {'annotation: crowd regions have no YOLO form': 1}
    """
    _check_format(to_fmt, "to_fmt")
    if yolo_task not in YOLO_TASKS:
        raise ValueError(f"yolo_task: expected one of {YOLO_TASKS}, got {yolo_task!r}")
    dropped: list[ConvertItem] = []
    changed: list[ConvertItem] = []
    n_anns = n_masks = 0
    target = _TARGET_NAMES[to_fmt]
    if to_fmt != "coco" and not _image_ids_kept(dataset):
        dropped.append(ConvertItem("image ids", f"{target} files have no image ids; images are numbered 1..N in file order on load"))
    boxes_only = to_fmt == "voc" or (to_fmt == "yolo" and yolo_task == "detect")
    for rec in dataset.images:
        scale = max(rec.width, rec.height)
        for k, a in enumerate(rec.annotations):
            at = {"file_name": rec.file_name, "index": k}
            if a.iscrowd and to_fmt in ("yolo", "voc"):
                dropped.append(ConvertItem("annotation", f"crowd regions have no {target} form", **at))
                continue
            n_anns += 1
            for key in _extras_lost(a, to_fmt):
                dropped.append(ConvertItem(f"extra {key!r}", f"{target} has no field for it", **at))
            if to_fmt == "voc" and any(not float(v).is_integer() for v in a.bbox):
                changed.append(ConvertItem("box", "VOC boxes are whole pixels: edges rounded", **at))
            if not a.segmentation:
                continue
            if to_fmt == "coco":
                n_masks += 1
                continue
            if boxes_only:
                reason = "YOLO detect labels hold boxes only (use the segment task)" if to_fmt == "yolo" else "VOC holds boxes only"
                dropped.append(ConvertItem("mask", reason, **at))
                continue
            poly, bounds = _polygon_bounds(a, rec.file_name, k)
            if poly is None:
                dropped.append(ConvertItem("mask", "no polygon of 3 points or more: written as a box", **at))
                continue
            n_masks += 1
            if isinstance(a.segmentation, dict):
                changed.append(ConvertItem("mask", "RLE written as its outer contour polygons (holes lost)", **at))
            elif to_fmt == "yolo" and sum(1 for p in a.segmentation if len(p) >= 6) > 1:
                changed.append(ConvertItem("mask", "a YOLO line holds one polygon: parts joined in order", **at))
            if bounds is not None and _box_moved(a.bbox, bounds, scale):
                changed.append(ConvertItem("box", "the box becomes the polygon's bounds", **at))
    return ConvertReport(Path(), Path(), "", to_fmt, len(dataset), n_anns, n_masks, dataset.num_classes, dropped, changed)


def _dataset_root(src: Path) -> Path:
    s = src.resolve()
    return s if s.is_dir() else s.parent


def _check_destination(src: Path, dst: Path, overwrite: bool) -> None:
    root, d = _dataset_root(src), dst.resolve()
    if d == root or root in d.parents:
        raise ValueError(f"{dst}: the destination must not be the source dataset folder {root} or inside it")
    if d in root.parents:
        raise ValueError(f"{dst}: the destination holds the source dataset {root}; choose another folder")
    if dst.exists() and not dst.is_dir():
        raise FileExistsError(f"{dst}: exists and is not a folder")
    if dst.is_dir() and any(dst.iterdir()) and not overwrite:
        raise FileExistsError(f"{dst}: the folder is not empty; pass overwrite to replace it")


def _new_sibling(dst: Path, kind: str) -> Path:
    """An unused hidden name next to ``dst`` (a folder made there gets the usual permissions, unlike ``mkdtemp``'s)."""
    while True:
        path = dst.parent / f".{dst.name}.{kind}-{secrets.token_hex(4)}"
        if not path.exists() and not path.is_symlink():
            return path


def _replace_folder(tmp: Path, dst: Path) -> None:
    """Move the finished ``tmp`` folder to ``dst``, replacing what is there."""
    if not dst.exists():
        os.replace(tmp, dst)
        return
    old = _new_sibling(dst, "old")
    os.replace(dst, old)
    try:
        os.replace(tmp, dst)
    except OSError:
        os.replace(old, dst)
        raise
    shutil.rmtree(old, ignore_errors=True)


def convert(
    src: str | Path,
    dst: str | Path,
    from_fmt: str | None = None,
    to_fmt: str = "coco",
    images: str = "copy",
    *,
    overwrite: bool = False,
    yolo_task: str = "detect",
) -> ConvertReport:
    """Convert the dataset at ``src`` into a new ``to_fmt`` dataset folder at ``dst``.

    The source is never modified. The result is written into a temporary
    sibling of ``dst`` and renamed into place when complete.

    Args:
        src: the source dataset (folder, or file where the format allows it).
        dst: the folder to write; must not be ``src``'s folder, lie inside it or hold it.
        from_fmt: the source format (default: :func:`detect_format`).
        to_fmt: the target format, one of :data:`FORMATS`.
        images: ``"copy"``, ``"symlink"`` (relative links) or ``"none"`` (annotations only).
        overwrite: replace a non-empty ``dst`` (refused otherwise).
        yolo_task: ``"detect"`` (boxes) or ``"segment"`` (polygons) when writing YOLO.

    Returns:
        The counts written and every item dropped or changed, with reasons.

    Raises:
        FileNotFoundError: ``src`` or an image to place is missing.
        FileExistsError: ``dst`` is not empty and ``overwrite`` is false.
        ValueError: bad arguments, unknown format, or a malformed source (naming file and field).

    Example:
        >>> report = convert("data/coco", "data/yolo", to_fmt="yolo")  # doctest: +SKIP
        >>> report.images, report.dropped_counts()  # doctest: +SKIP
        (324, {})
    """
    _check_format(to_fmt, "to_fmt")
    if from_fmt is not None:
        _check_format(from_fmt, "from_fmt")
    check_image_mode(images)
    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise FileNotFoundError(f"{src}: no such dataset folder or file")
    _check_destination(src, dst, overwrite)
    fmt = from_fmt or detect_format(src)
    dataset = load_dataset(src, fmt)
    report = plan_conversion(dataset, to_fmt, yolo_task)
    report.src, report.dst, report.from_fmt = src, dst, fmt
    if fmt == "yolo":
        from logodet.datasets.formats.yolo import unmatched_label_files

        unmatched = [ConvertItem("label file", "no image of that name in images/", f"labels/{rel}") for rel in unmatched_label_files(src)]
        report.dropped[:0] = unmatched
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_sibling(dst, "tmp")
    tmp.mkdir()
    try:
        save_dataset(dataset, tmp, to_fmt, images, yolo_task=yolo_task)
        _replace_folder(tmp, dst)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return report
