"""Logo variants cut from labelled photos: a few real shots become artwork for synthesis.

The artwork of a brand (a simple-icons SVG, a press-kit PNG) is often not
the mark its photos show: a trefoil where the icon draws three bars, a
badge on a sign where the icon is a flat glyph. When a user has a few
labelled photos of a brand, each labelled box, cut out as an opaque
rectangle, is a variant of that brand that looks like the real thing.
Pasted by the synthesis engine (placed on regions and planes, recoloured,
blurred and blended like any multi-colour logo) it gives many new views of
the real appearance, and its synthetic box is the cut rectangle: the same
labelling convention as the photos it came from (hand-drawn boxes with
their margin), not the tight box of the artwork.

:func:`write_box_crops` writes the crops into a logo folder's
``<class>/`` sub-folders; :func:`logo_folder_with_crops` builds a new logo
folder holding the artwork (as links, never copies or changes) and the
crops, which :func:`~logodet.assets.logos.load_logo_folder` reads as one
bank whose classes have the artwork and the crops as variants.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from logodet.assets.logos import BRANDS_FILE, LOGO_SUFFIXES, is_monochrome
from logodet.io import atomic_write_bytes, read_rgb
from logodet.types import DetectionDataset

__all__ = ["CROP_PREFIX", "logo_folder_with_crops", "write_box_crops"]

CROP_PREFIX = "crop-"


def _artwork_classes(folder: Path) -> set[str]:
    """Class names of a logo folder (file stems and sub-folder names), as ``load_logo_folder`` reads them."""
    names = {p.stem for p in folder.iterdir() if p.is_file() and p.suffix.lower() in LOGO_SUFFIXES and not p.name.startswith(".")}
    names |= {d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")}
    return names


def write_box_crops(
    dataset: DetectionDataset,
    out_dir: str | Path,
    classes: set[str] | None = None,
    min_side: int = 12,
    max_side: int = 512,
) -> dict[str, int]:
    """Write every labelled box of ``dataset`` as an opaque RGBA PNG ``out_dir/<class>/crop-<image>-<k>.png``.

    Args:
        dataset: labelled photos (``image_dir`` set).
        out_dir: the logo folder to add variants to.
        classes: only boxes of these class names (default: all).
        min_side: boxes with a shorter side (pixels) are skipped: too few
            pixels to show the mark. Boxes of one flat colour are skipped too:
            they show no mark, and the engine would paint them as a
            monochrome icon (a plain rectangle).
        max_side: crops with a longer side are downscaled to it (area
            interpolation); the engine renders every placement smaller anyway.

    Returns:
        ``{class name: crops written}`` for the classes that got any.

    Raises:
        ValueError: ``min_side`` below 1 or ``max_side`` below ``min_side``.
        ImageReadError: an image file of ``dataset`` is missing or corrupt (the message names it).

    Example:
        >>> write_box_crops(shots, "runs/logos", classes={"nike"})  # doctest: +SKIP
        {'nike': 6}
    """
    if min_side < 1 or max_side < min_side:
        raise ValueError(f"write_box_crops: need 1 <= min_side <= max_side, got min_side={min_side}, max_side={max_side}")
    out_dir = Path(out_dir)
    counts: dict[str, int] = {}
    for index, rec in enumerate(dataset.images):
        boxes = [(k, a) for k, a in enumerate(rec.annotations) if not a.iscrowd]
        boxes = [(k, a) for k, a in boxes if classes is None or dataset.class_names[a.category] in classes]
        if not boxes:
            continue
        rgb = read_rgb(dataset.image_path(rec))
        h, w = rgb.shape[:2]
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(rec.file_name).stem)
        for k, ann in boxes:
            x0, y0 = max(0, int(np.floor(ann.bbox[0]))), max(0, int(np.floor(ann.bbox[1])))
            x1, y1 = min(w, int(np.ceil(ann.bbox[2]))), min(h, int(np.ceil(ann.bbox[3])))
            if min(x1 - x0, y1 - y0) < min_side:
                continue
            crop = rgb[y0:y1, x0:x1]
            rgba = np.dstack([crop, np.full(crop.shape[:2], 255, np.uint8)])
            if is_monochrome(rgba):
                continue
            scale = max_side / max(crop.shape[:2])
            if scale < 1.0:
                size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
                rgba = cv2.resize(rgba, size, interpolation=cv2.INTER_AREA)
            buf = io.BytesIO()
            Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
            name = dataset.class_names[ann.category]
            atomic_write_bytes(out_dir / name / f"{CROP_PREFIX}{index:04d}-{stem}-{k}.png", buf.getvalue())
            counts[name] = counts.get(name, 0) + 1
    return counts


def logo_folder_with_crops(artwork: str | Path, shots: DetectionDataset, out_dir: str | Path, **kwargs: int) -> dict[str, int]:
    """A new logo folder ``out_dir``: the artwork of ``artwork`` (linked) plus the box crops of ``shots``.

    Only boxes of classes the artwork has are cut (a crop of another class would
    add a class the detector was not asked for). ``out_dir`` is rebuilt from
    scratch, so it always holds exactly these inputs; ``artwork`` is never
    written to. Keyword arguments go to :func:`write_box_crops`.

    Returns:
        ``{class name: crops written}``.

    Raises:
        FileNotFoundError: ``artwork`` is not a folder.
        ValueError: ``out_dir`` is ``artwork`` itself.

    Example:
        >>> logo_folder_with_crops("runs/bench/logos", shots, "runs/bench/logos-shots")  # doctest: +SKIP
        {'adidas': 5, 'apple': 6, ...}
    """
    artwork, out_dir = Path(artwork), Path(out_dir)
    if not artwork.is_dir():
        raise FileNotFoundError(f"{artwork}: logo folder not found")
    if out_dir.resolve() == artwork.resolve():
        raise ValueError(f"{out_dir}: the crops folder must not be the artwork folder")
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    for p in sorted(artwork.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_file() and (p.suffix.lower() in LOGO_SUFFIXES or p.name == BRANDS_FILE):
            (out_dir / p.name).symlink_to(p.resolve())
        elif p.is_dir():
            (out_dir / p.name).mkdir()
            for f in sorted(p.iterdir()):
                if f.is_file() and f.suffix.lower() in LOGO_SUFFIXES and not f.name.startswith("."):
                    (out_dir / p.name / f.name).symlink_to(f.resolve())
    return write_box_crops(shots, out_dir, classes=_artwork_classes(artwork), **kwargs)
