"""Pascal VOC detection format: pure load/save functions.

A VOC folder holds ``Annotations/<stem>.xml`` (one file per image, same
relative path as the image without its suffix), the images in
``JPEGImages/`` (``images/`` is accepted on load), optionally
``ImageSets/Main/*.txt`` (image lists; not needed to load) and, when logodet
wrote it, ``labels.txt`` with the class names in index order.

One annotation file::

    <annotation>
      <filename>sub/a.jpg</filename>
      <size><width>640</width><height>480</height><depth>3</depth></size>
      <object>
        <name>acme</name><pose>Unspecified</pose>
        <truncated>0</truncated><difficult>0</difficult>
        <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>640</xmax><ymax>480</ymax></bndbox>
      </object>
    </annotation>

Coordinates: VOC counts pixels from 1 and both box corners are inclusive
pixels, so a box over pixels ``1..W`` has ``xmin=1, xmax=W``. logodet's boxes
are continuous and 0-based, so ``x1 = xmin - 1`` and ``x2 = xmax`` (likewise
for y). On save ``xmin = round(x1) + 1`` and ``xmax = round(x2)``: VOC tools
expect integers, so each edge moves by at most half a pixel and sub-pixel
precision is lost.

``difficult``, ``truncated``, ``occluded`` (``0``/``1``) and ``pose`` are kept
in :attr:`Annotation.extra` when they differ from their defaults (``0`` and
``"Unspecified"``) and written back; save always writes ``pose``,
``truncated`` and ``difficult``. VOC has no crowd regions, segmentations or
image ids: crowd annotations (``iscrowd=1``) are not written, as in
``save_yolo``, and other ``extra`` keys are dropped.

Class names: ``labels.txt`` when present (names it lacks are appended), else
the order of first appearance, reading the annotation files sorted by path.

Error messages name the file and an XPath-like place in it, counting from 1
as XPath does: ``object[2]/bndbox/xmin`` is the ``xmin`` of the second object.
Files with a DTD or entity declarations are refused (they are the means of
XML bombs and external-entity reads).
"""

from __future__ import annotations

import math
import posixpath
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

from logodet.datasets.formats._files import check_image_mode, place_image
from logodet.io import IMAGE_SUFFIXES, atomic_write_bytes
from logodet.types import Annotation, DetectionDataset, ImageRecord

__all__ = ["VOCFormatError", "load_voc", "save_voc"]

ANNOTATIONS_DIR, IMAGES_DIR, ALT_IMAGES_DIR, LABELS_FILE = "Annotations", "JPEGImages", "images", "labels.txt"
IMAGE_SET_FILE = "ImageSets/Main/default.txt"
FLAG_FIELDS = ("truncated", "difficult", "occluded")
DEFAULT_POSE = "Unspecified"


class VOCFormatError(ValueError):
    """A VOC file is malformed; the message names the file and the XML path of the field."""


class _Forbidden(Exception):
    """Raised from the expat handlers when a document declares a DTD or entities."""


def _parse_xml(data: bytes, source: Path) -> ET.Element:
    """Parse ``data`` into an element tree, refusing DTDs and entity declarations."""

    def forbid(*_: object) -> None:
        raise _Forbidden

    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = forbid
    parser.EntityDeclHandler = forbid
    parser.UnparsedEntityDeclHandler = forbid
    parser.ExternalEntityRefHandler = forbid
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
        return builder.close()
    except _Forbidden:
        raise VOCFormatError(f"{source}: DTD and entity declarations (<!DOCTYPE>, <!ENTITY>) are not allowed") from None
    except (expat.ExpatError, ValueError, LookupError, AssertionError) as exc:  # LookupError: an unknown declared encoding
        raise VOCFormatError(f"{source}: not well-formed XML ({exc})") from None


def _text(parent: ET.Element, tag: str, source: Path, where: str, required: bool = True) -> str | None:
    node = parent.find(tag)
    path = f"{where}/{tag}" if where else tag
    if node is None or not (node.text or "").strip():
        if required:
            raise VOCFormatError(f"{source}: {path}: missing or empty")
        return None
    return node.text.strip()


def _number(parent: ET.Element, tag: str, source: Path, where: str) -> float:
    text = _text(parent, tag, source, where)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise VOCFormatError(f"{source}: {where}/{tag}: expected a finite number, got {text!r}")
    return value


def _size(root: ET.Element, tag: str, source: Path) -> int:
    size = root.find("size")
    if size is None:
        raise VOCFormatError(f"{source}: size: missing (the image width and height are read from it)")
    value = _number(size, tag, source, "size")
    if value <= 0 or value != int(value):
        raise VOCFormatError(f"{source}: size/{tag}: expected a positive integer, got {_text(size, tag, source, 'size')!r}")
    return int(value)


def _flag(obj: ET.Element, tag: str, source: Path, where: str) -> int:
    text = _text(obj, tag, source, where, required=False)
    if text is None:
        return 0
    lowered = text.lower()
    if lowered in ("0", "1", "0.0", "1.0", "false", "true"):
        return int(lowered in ("1", "1.0", "true"))
    raise VOCFormatError(f"{source}: {where}/{tag}: expected 0 or 1, got {text!r}")


def _parse_object(obj: ET.Element, source: Path, where: str) -> tuple[str, Annotation]:
    name = _text(obj, "name", source, where)
    box = obj.find("bndbox")
    if box is None:
        raise VOCFormatError(f"{source}: {where}/bndbox: missing")
    bw = f"{where}/bndbox"
    xmin, ymin, xmax, ymax = (_number(box, tag, source, bw) for tag in ("xmin", "ymin", "xmax", "ymax"))
    x1, y1 = xmin - 1, ymin - 1
    if xmax < x1 or ymax < y1:
        raise VOCFormatError(f"{source}: {bw}: xmax/ymax ({xmax:g}, {ymax:g}) lie before xmin/ymin ({xmin:g}, {ymin:g})")
    extra: dict = {}
    for tag in FLAG_FIELDS:
        if flag := _flag(obj, tag, source, where):
            extra[tag] = flag
    pose = _text(obj, "pose", source, where, required=False)
    if pose is not None and pose != DEFAULT_POSE:
        extra["pose"] = pose
    return name, Annotation((x1, y1, xmax, ymax), 0, extra=extra)


def _image_file_name(root: ET.Element, xml_rel: Path, image_dir: Path, source: Path) -> str:
    """The image path relative to the image folder: ``filename`` with a folder part as written, else next to the xml's sub-folder."""
    name = _text(root, "filename", source, "", required=False)
    if name is None:
        stem = image_dir / xml_rel.with_suffix("")
        found = sorted(p for p in stem.parent.glob(f"{stem.name}.*") if p.suffix.lower() in IMAGE_SUFFIXES) if stem.parent.is_dir() else []
        if len(found) != 1:
            raise VOCFormatError(f"{source}: filename: missing, and {len(found)} image files are named {stem.name}.* in {stem.parent}")
        return found[0].relative_to(image_dir).as_posix()
    if "/" not in name:
        name = (xml_rel.parent / name).as_posix()
    return posixpath.normpath(name)


def _read_labels(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise VOCFormatError(f"{path}: cannot read the class names ({exc})") from exc
    names = [line.strip() for line in lines if line.strip()]
    if len(set(names)) != len(names):
        raise VOCFormatError(f"{path}: duplicate class names")
    return names


def load_voc(path: str | Path) -> DetectionDataset:
    """Load a Pascal VOC folder (``Annotations/`` + ``JPEGImages/`` or ``images/``).

    Image sizes come from each file's ``<size>``; boxes are converted from
    VOC's 1-based inclusive pixels to logodet's 0-based continuous ``xyxy``.
    Images come in the order of their annotation files' paths.

    Raises:
        FileNotFoundError: no ``Annotations`` folder.
        VOCFormatError: malformed XML or field (the message names the file and the XML path).

    Example:
        >>> ds = load_voc("data/VOC2007")  # doctest: +SKIP
        >>> ds.images[0].annotations[0].bbox  # xmin=1, xmax=640 in the file  # doctest: +SKIP
        (0.0, 0.0, 640.0, 480.0)
    """
    root = Path(path)
    ann_dir = root / ANNOTATIONS_DIR
    if not ann_dir.is_dir():
        raise FileNotFoundError(f"{ann_dir}: no VOC Annotations folder")
    image_dir = root / IMAGES_DIR
    if not image_dir.is_dir() and (root / ALT_IMAGES_DIR).is_dir():
        image_dir = root / ALT_IMAGES_DIR
    names = _read_labels(root / LABELS_FILE) if (root / LABELS_FILE).is_file() else []
    index = {n: i for i, n in enumerate(names)}
    records: list[ImageRecord] = []
    seen: dict[str, Path] = {}
    for xml_path in sorted(p for p in ann_dir.rglob("*.xml") if p.is_file()):
        try:
            data = xml_path.read_bytes()
        except OSError as exc:
            raise VOCFormatError(f"{xml_path}: cannot read ({exc})") from exc
        tree = _parse_xml(data, xml_path)
        if tree.tag != "annotation":
            raise VOCFormatError(f"{xml_path}: the root element is <{tree.tag}>, expected <annotation>")
        file_name = _image_file_name(tree, xml_path.relative_to(ann_dir), image_dir, xml_path)
        if file_name in seen:
            raise VOCFormatError(f"{xml_path}: filename: image {file_name!r} is already described by {seen[file_name]}")
        seen[file_name] = xml_path
        width, height = _size(tree, "width", xml_path), _size(tree, "height", xml_path)
        anns = []
        for i, obj in enumerate(tree.findall("object"), 1):
            name, ann = _parse_object(obj, xml_path, f"object[{i}]")
            if name not in index:
                index[name] = len(names)
                names.append(name)
            ann.category = index[name]
            anns.append(ann)
        records.append(ImageRecord(file_name, width, height, anns))
    return DetectionDataset(names, records, image_dir)


def _check_file_name(file_name: str) -> Path:
    rel = Path(file_name)
    if rel.is_absolute() or ".." in rel.parts:
        raise VOCFormatError(f"{file_name}: an image path must stay inside the image folder to be saved")
    return rel


def _annotation_xml(rec: ImageRecord, class_names: list[str]) -> bytes:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = IMAGES_DIR
    ET.SubElement(root, "filename").text = Path(rec.file_name).as_posix()
    size = ET.SubElement(root, "size")
    for tag, value in (("width", rec.width), ("height", rec.height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(int(value))
    ET.SubElement(root, "segmented").text = "0"
    for ann in rec.annotations:
        if ann.iscrowd:
            continue
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = class_names[ann.category]
        ET.SubElement(obj, "pose").text = str(ann.extra.get("pose", DEFAULT_POSE))
        for tag in FLAG_FIELDS:
            if tag != "occluded" or tag in ann.extra:
                ET.SubElement(obj, tag).text = str(int(bool(ann.extra.get(tag, 0))))
        box = ET.SubElement(obj, "bndbox")
        x1, y1, x2, y2 = ann.bbox
        for tag, value in (("xmin", round(x1) + 1), ("ymin", round(y1) + 1), ("xmax", round(x2)), ("ymax", round(y2))):
            ET.SubElement(box, tag).text = str(int(value))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def save_voc(dataset: DetectionDataset, path: str | Path, images: str = "copy") -> Path:
    """Write ``dataset`` as a Pascal VOC folder at ``path``; returns ``path``.

    Writes ``Annotations/<file stem>.xml`` per image (an image without boxes
    gets a file without objects), ``labels.txt``, ``ImageSets/Main/default.txt``
    and the images under ``JPEGImages/``. Box edges are rounded to whole
    pixels (see the module notes on the 1-based convention).

    Args:
        dataset: the dataset (its ``image_dir`` must be set unless ``images="none"``).
        path: the VOC folder to write.
        images: ``"copy"``, ``"symlink"`` (relative links, copies where links fail) or ``"none"``.

    Raises:
        VOCFormatError: two images would share one annotation file (``a.jpg`` and ``a.png``),
            or an image path leaves the image folder.

    Example:
        >>> save_voc(load_coco("data/val"), "data/val_voc")  # doctest: +SKIP
        PosixPath('data/val_voc')
    """
    check_image_mode(images)
    root = Path(path)
    for name in dataset.class_names:
        if not name.strip() or name != name.strip() or "\n" in name:
            raise VOCFormatError(f"class name {name!r}: VOC names must be non-empty, one line, without surrounding spaces")
    targets: dict[Path, str] = {}
    for rec in dataset.images:
        xml_rel = _check_file_name(rec.file_name).with_suffix(".xml")
        if xml_rel in targets:
            raise VOCFormatError(
                f"{rec.file_name}: shares {ANNOTATIONS_DIR}/{xml_rel.as_posix()} with {targets[xml_rel]}; rename one image"
            )
        targets[xml_rel] = rec.file_name
    for rec in dataset.images:
        rel = Path(rec.file_name)
        atomic_write_bytes(root / ANNOTATIONS_DIR / rel.with_suffix(".xml"), _annotation_xml(rec, dataset.class_names))
        if images != "none":
            place_image(dataset.image_path(rec), root / IMAGES_DIR / rel, images)
    ids = "".join(Path(rec.file_name).with_suffix("").as_posix() + "\n" for rec in dataset.images)
    atomic_write_bytes(root / IMAGE_SET_FILE, ids.encode("utf-8"))
    atomic_write_bytes(root / LABELS_FILE, "".join(n + "\n" for n in dataset.class_names).encode("utf-8"))
    return root
