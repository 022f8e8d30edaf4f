"""Letterbox preprocessing shared by training, evaluation and every inference backend."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["PAD_VALUE", "Letterbox", "letterbox"]

PAD_VALUE = 114


@dataclass(frozen=True)
class Letterbox:
    """How an image was mapped into the square network input: ``input = original * scale``."""

    scale: float
    width: int
    height: int

    def boxes_to_original(self, xyxy: np.ndarray) -> np.ndarray:
        """Map ``xyxy`` boxes from network input pixels back to the original image (clipped)."""
        out = np.asarray(xyxy, np.float32) / self.scale
        out[:, 0::2] = out[:, 0::2].clip(0, self.width)
        out[:, 1::2] = out[:, 1::2].clip(0, self.height)
        return out


def letterbox(image: np.ndarray, imgsz: int) -> tuple[np.ndarray, Letterbox]:
    """Resize ``image`` (``uint8 [H, W, 3]``) so its long side is ``imgsz``; pad right/bottom to a square.

    Example:
        >>> img, lb = letterbox(np.zeros((100, 200, 3), np.uint8), 320)
        >>> img.shape, lb.scale
        ((320, 320, 3), 1.6)
    """
    h, w = image.shape[:2]
    scale = imgsz / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    if (nw, nh) != (w, h):
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (nw, nh), interpolation=interp)
    out = np.full((imgsz, imgsz, 3), PAD_VALUE, np.uint8)
    out[:nh, :nw] = image
    return out, Letterbox(scale, w, h)
