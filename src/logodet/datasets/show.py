"""A contact sheet for looking at a dataset: a seeded random pick of images with masks, boxes and class names.

Masks (COCO RLE or polygons) are filled semi-transparently in the class colour
of :func:`logodet.inference.draw.class_color`; boxes and names are drawn by
:func:`logodet.inference.draw.draw_detections`, so a sheet of labels looks like
a sheet of predictions. Each tile carries the image's file name.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from logodet.inference.draw import class_color, draw_detections
from logodet.io import ImageReadError, atomic_write_bytes, read_rgb
from logodet.masks import rle_decode
from logodet.types import Annotation, DetectionDataset, ImageRecord

__all__ = ["annotation_mask", "draw_record", "pick_images", "show_sheet", "write_sheet"]


def annotation_mask(ann: Annotation, width: int, height: int, scale: float = 1.0) -> np.ndarray | None:
    """``bool [round(height*scale), round(width*scale)]`` mask of ``ann``'s segmentation, or ``None``.

    Polygons (``[[x1, y1, x2, y2, ...], ...]``) are filled at the scaled size; an RLE is
    decoded at its own size and resized (nearest). A missing or malformed segmentation gives ``None``.

    Example:
        >>> m = annotation_mask(Annotation((0, 0, 4, 4), 0, segmentation=[[0, 0, 3, 0, 3, 3, 0, 3]]), 8, 6)
        >>> m.shape, int(m.sum())
        ((6, 8), 16)
    """
    seg = ann.segmentation
    h, w = max(1, round(height * scale)), max(1, round(width * scale))
    try:
        if isinstance(seg, dict):
            mask = rle_decode(seg)
            if mask.shape != (h, w):
                mask = cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
            return mask
        if isinstance(seg, list) and seg:
            out = np.zeros((h, w), np.uint8)
            polys = [np.round(np.asarray(p, np.float64).reshape(-1, 2) * scale).astype(np.int32) for p in seg if len(p) >= 6]
            if not polys:
                return None
            cv2.fillPoly(out, polys, 1)
            return out.astype(bool)
    except (ValueError, TypeError):
        return None
    return None


def draw_record(image: np.ndarray, record: ImageRecord, class_names: list[str], scale: float = 1.0, alpha: float = 0.45) -> np.ndarray:
    """A copy of ``image`` (``record``'s image, already resized by ``scale``) with masks, boxes and class names.

    Example:
        >>> rec = ImageRecord("a.png", 40, 30, [Annotation((5, 5, 20, 20), 0, segmentation=[[5, 5, 20, 5, 20, 20]])])
        >>> draw_record(np.zeros((30, 40, 3), np.uint8), rec, ["acme"]).shape
        (30, 40, 3)
    """
    out = image.astype(np.float32)
    for ann in record.annotations:
        mask = annotation_mask(ann, record.width, record.height, scale)
        if mask is None:
            continue
        if mask.shape != out.shape[:2]:
            mask = cv2.resize(mask.astype(np.uint8), (out.shape[1], out.shape[0]), interpolation=cv2.INTER_NEAREST).astype(bool)
        out[mask] = out[mask] * (1 - alpha) + np.float32(class_color(ann.category)) * alpha
    dets = record.to_detections(include_crowd=True)
    dets.xyxy = dets.xyxy * np.float32(scale)
    tile = max(image.shape[:2])
    return draw_detections(np.clip(out, 0, 255).astype(np.uint8), dets, class_names, thickness=max(1, round(tile / 320)))


def pick_images(dataset: DetectionDataset, count: int, seed: int = 0, class_name: str | None = None) -> list[int]:
    """Indices of ``count`` images chosen at random with ``seed`` (all when fewer), in dataset order.

    With ``class_name`` only images holding at least one box of that class are chosen.

    Raises:
        ValueError: ``class_name`` is not a class of the dataset, or no image holds it.
    """
    candidates = np.arange(len(dataset))
    if class_name is not None:
        if class_name not in dataset.class_names:
            raise ValueError(f"--class: {class_name!r} is not a class of the dataset; classes: {', '.join(dataset.class_names)}")
        k = dataset.class_names.index(class_name)
        candidates = np.array([i for i, r in enumerate(dataset.images) if any(a.category == k for a in r.annotations)], np.int64)
        if not candidates.size:
            raise ValueError(f"--class: no image has a box of class {class_name!r}")
    if count >= len(candidates):
        return candidates.tolist()
    return sorted(np.random.default_rng(seed).choice(candidates, size=count, replace=False).tolist())


def _caption(tile: np.ndarray, text: str) -> None:
    scale = max(0.3, tile.shape[1] / 900)
    (_, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    y0 = max(0, tile.shape[0] - th - base - 2)
    tile[y0:] = (tile[y0:] * 0.35).astype(np.uint8)
    cv2.putText(tile, text, (2, tile.shape[0] - base - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def show_sheet(
    dataset: DetectionDataset,
    count: int = 16,
    columns: int = 4,
    seed: int = 0,
    class_name: str | None = None,
    tile: int = 320,
    gap: int = 4,
    alpha: float = 0.45,
) -> np.ndarray:
    """``uint8 [H, W, 3]`` grid of ``count`` random images with masks, boxes, class names and file names.

    Each image is scaled to fit a ``tile`` x ``tile`` cell (aspect kept) on a dark
    sheet; an image that cannot be read gets a crossed-out cell naming it. An empty
    dataset gives one blank cell.

    Example:
        >>> show_sheet(DetectionDataset(["acme"], []), tile=32).shape
        (40, 40, 3)
    """
    picked = pick_images(dataset, count, seed, class_name)
    cols = max(1, min(columns, len(picked)))
    rows = max(1, -(-len(picked) // cols))
    sheet = np.full((rows * (tile + gap) + gap, cols * (tile + gap) + gap, 3), 40, np.uint8)
    for n, i in enumerate(picked):
        rec = dataset.images[i]
        y, x = gap + (n // cols) * (tile + gap), gap + (n % cols) * (tile + gap)
        try:
            image = read_rgb(dataset.image_path(rec))
        except ImageReadError:
            cell = np.full((tile, tile, 3), 90, np.uint8)
            cv2.line(cell, (0, 0), (tile - 1, tile - 1), (200, 60, 60), 2)
            cv2.line(cell, (0, tile - 1), (tile - 1, 0), (200, 60, 60), 2)
            _caption(cell, f"unreadable: {rec.file_name}")
            sheet[y : y + tile, x : x + tile] = cell
            continue
        s = tile / max(image.shape[:2])
        h, w = max(1, round(image.shape[0] * s)), max(1, round(image.shape[1] * s))
        small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        cell = draw_record(small, rec, dataset.class_names, scale=w / rec.width, alpha=alpha)
        _caption(cell, rec.file_name)
        sheet[y : y + h, x : x + w] = cell
    return sheet


def write_sheet(dataset: DetectionDataset, path: str | Path, **options: object) -> Path:
    """Write :func:`show_sheet` of ``dataset`` as a PNG (or JPEG, by suffix), atomically; the path.

    Example:
        >>> write_sheet(load_coco("data/real"), "sheet.png", count=16, seed=0)  # doctest: +SKIP
        PosixPath('sheet.png')
    """
    path = Path(path)
    sheet = show_sheet(dataset, **options)  # type: ignore[arg-type]
    suffix = path.suffix.lower() if path.suffix.lower() in (".png", ".jpg", ".jpeg") else ".png"
    ok, buf = cv2.imencode(suffix, np.ascontiguousarray(sheet[..., ::-1]))
    if not ok:
        raise RuntimeError(f"{path}: cannot encode the contact sheet")
    atomic_write_bytes(path, buf.tobytes())
    return path
