"""A contact sheet of a dataset: a grid of its images with the labelled boxes and class names drawn."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from logodet.inference.draw import draw_detections
from logodet.io import atomic_write_bytes, read_rgb
from logodet.types import DetectionDataset

__all__ = ["contact_sheet", "write_preview"]


def _pick(n_images: int, count: int) -> list[int]:
    """``count`` indices spread evenly over ``range(n_images)`` (all of them when fewer)."""
    if n_images <= count:
        return list(range(n_images))
    return sorted({round(k * (n_images - 1) / (count - 1)) for k in range(count)}) if count > 1 else [0]


def contact_sheet(dataset: DetectionDataset, count: int = 16, columns: int = 4, tile: int = 320, gap: int = 4) -> np.ndarray:
    """``uint8 [H, W, 3]`` grid of ``count`` images spread over ``dataset``, boxes and class names drawn.

    Each image is scaled to fit a ``tile`` x ``tile`` cell (aspect kept) on a
    dark grey sheet. An empty dataset gives a single blank cell.

    Example:
        >>> from logodet.types import ImageRecord
        >>> contact_sheet(DetectionDataset(["acme"], []), tile=32).shape
        (40, 40, 3)
    """
    picked = _pick(len(dataset), count)
    cols = max(1, min(columns, len(picked)))
    rows = max(1, -(-len(picked) // cols))
    sheet = np.full((rows * (tile + gap) + gap, cols * (tile + gap) + gap, 3), 40, np.uint8)
    for k, i in enumerate(picked):
        rec = dataset.images[i]
        image = read_rgb(dataset.image_path(rec))
        s = tile / max(image.shape[:2])
        h, w = max(1, round(image.shape[0] * s)), max(1, round(image.shape[1] * s))
        small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        dets = rec.to_detections()
        dets.xyxy = dets.xyxy * np.float32(s)
        drawn = draw_detections(small, dets, dataset.class_names, thickness=max(1, round(tile / 320)))
        y, x = gap + (k // cols) * (tile + gap), gap + (k % cols) * (tile + gap)
        sheet[y : y + h, x : x + w] = drawn
    return sheet


def write_preview(dataset: DetectionDataset, path: str | Path, count: int = 16, columns: int = 4, tile: int = 320) -> Path:
    """Write :func:`contact_sheet` of ``dataset`` as a PNG, atomically; the path.

    Example:
        >>> write_preview(load_coco("runs/synth"), "runs/synth/preview.png")  # doctest: +SKIP
        PosixPath('runs/synth/preview.png')
    """
    sheet = contact_sheet(dataset, count, columns, tile)
    ok, buf = cv2.imencode(".png", sheet[..., ::-1])
    if not ok:
        raise RuntimeError(f"{path}: cannot encode the contact sheet as PNG")
    atomic_write_bytes(path, buf.tobytes())
    return Path(path)
