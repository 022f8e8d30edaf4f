"""Draw detections on images for people to look at."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from logodet.types import Detections

__all__ = ["class_color", "draw_detections"]


def class_color(class_id: int) -> tuple[int, int, int]:
    """A stable, distinct RGB colour per class index."""
    hue = (class_id * 0.61803398875) % 1.0
    hsv = np.uint8([[[int(hue * 179), 220, 235]]])
    r, g, b = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0]
    return int(r), int(g), int(b)


def draw_detections(image: np.ndarray, dets: Detections, class_names: Sequence[str], thickness: int | None = None) -> np.ndarray:
    """A copy of RGB ``image`` with boxes, class names and scores drawn.

    Example:
        >>> img = draw_detections(np.zeros((64, 64, 3), np.uint8), Detections([[4, 4, 40, 40]], [0], [0.9]), ["acme"])
        >>> img.shape
        (64, 64, 3)
    """
    out = np.ascontiguousarray(image.copy())
    t = thickness or max(1, round(max(out.shape[:2]) / 320))
    scale = max(0.35, max(out.shape[:2]) / 900)
    for i in range(len(dets)):
        x1, y1, x2, y2 = (round(float(v)) for v in dets.xyxy[i])
        cid = int(dets.class_ids[i])
        color = class_color(cid)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, t)
        label = class_names[cid] if cid < len(class_names) else str(cid)
        if dets.scores is not None:
            label += f" {dets.scores[i]:.2f}"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        ty = max(y1, th + base + 1)
        cv2.rectangle(out, (x1, ty - th - base - 1), (x1 + tw + 2, ty), color, -1)
        cv2.putText(out, label, (x1 + 1, ty - base), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return out
