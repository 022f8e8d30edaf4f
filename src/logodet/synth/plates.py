"""Backing plates and two-tone paint: what many real logos look like beyond a flat silhouette.

In real photos a logo often sits on a sign, badge, sticker or label of its own
colour (a white plate behind a shop sign, a blue oval behind a car badge), and
icon artwork that is one flat colour shows up in several colours (gradients,
two-tone lettering, lit and shadowed parts). Both are drawn here, on the logo's
own patch, from the ``rng`` given:

- :func:`plate_alpha` is the coverage of a plate around a warped logo mask: an
  ellipse, a rounded rectangle (both around the mask's minimum-area rectangle,
  so they follow its perspective) or the mask's convex hull grown by a margin;
- :func:`plate_colors` paints it: white, black, the brand colour or a random
  colour, lit by a soft linear gradient, with an optional rim;
- :func:`two_tone` gives a monochrome icon a second colour, as a gradient, soft
  blobs or a hard split.

The plate is never part of the label: boxes stay the logo's own.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ["PLATE_SHAPES", "plate_alpha", "plate_colors", "two_tone"]

PLATE_SHAPES = ("ellipse", "rounded", "hull")


def plate_alpha(mask: np.ndarray, margin: float, shape: str) -> tuple[np.ndarray, int]:
    """Coverage (``float32 [h + 2p, w + 2p]`` in ``[0, 1]``) of a plate around ``mask`` and the padding ``p``.

    Args:
        mask: the logo's warped ``bool [h, w]`` mask.
        margin: plate margin around the logo, as a fraction of the mask's longer side.
        shape: one of :data:`PLATE_SHAPES`.

    Example:
        >>> m = np.zeros((20, 40), bool); m[5:15, 5:35] = True
        >>> a, p = plate_alpha(m, 0.2, "rounded")
        >>> a.shape == (20 + 2 * p, 40 + 2 * p) and a[p + 10, p + 20] == 1.0 and a[0, 0] == 0.0
        True
    """
    if shape not in PLATE_SHAPES:
        raise ValueError(f"plate shape: expected one of {PLATE_SHAPES}, got {shape!r}")
    pts = cv2.findNonZero(mask.view(np.uint8) if mask.dtype == bool else mask.astype(np.uint8))
    if pts is None:
        raise ValueError("plate_alpha: empty mask")
    (cx, cy), (rw, rh), angle = cv2.minAreaRect(pts)
    m = max(1.0, margin * max(rw, rh, 1.0))
    pad = math.ceil(m + 0.25 * max(rw, rh) + 2)
    h, w = mask.shape
    plate = np.zeros((h + 2 * pad, w + 2 * pad), np.uint8)
    centre = (cx + pad, cy + pad)
    if shape == "ellipse":  # the ellipse through the rectangle's corners, shrunk a little, plus the margin
        axes = (round(rw * 0.68 + m), round(rh * 0.68 + m))
        cv2.ellipse(plate, (round(centre[0]), round(centre[1])), axes, angle, 0, 360, 1, -1, cv2.LINE_8)
    elif shape == "rounded":
        box = cv2.boxPoints((centre, (rw + 2 * m, rh + 2 * m), angle))
        cv2.fillConvexPoly(plate, np.round(box).astype(np.int32), 1)
        k = max(1, int(m)) | 1  # rounded corners: blur the rectangle and threshold it again
        plate = (cv2.GaussianBlur(plate.astype(np.float32), (4 * k + 1, 4 * k + 1), k) > 0.5).astype(np.uint8)
    else:
        cv2.fillConvexPoly(plate, cv2.convexHull(pts).reshape(-1, 2) + pad, 1)
        r = max(1, round(m))
        plate = cv2.dilate(plate, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    alpha = cv2.GaussianBlur(plate.astype(np.float32), (3, 3), 0.7)
    return alpha, pad


def _ramp(h: int, w: int, theta: float, x0: float = 0.0, y0: float = 0.0) -> np.ndarray:
    """``float32 [h, w]`` signed distance of each pixel from the line through ``(x0, y0)`` across direction ``theta``."""
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    return (xx - x0) * math.cos(theta) + (yy - y0) * math.sin(theta)


def _random_color(rng: np.random.Generator, brand: tuple[int, int, int] | None) -> np.ndarray:
    kind = rng.random()
    if kind < 0.4:
        c = np.full(3, rng.uniform(225, 255))
    elif kind < 0.55:
        c = np.full(3, rng.uniform(0, 45))
    elif kind < 0.75 and brand is not None:
        c = np.asarray(brand, np.float64)
    else:
        hsv = np.array([[[rng.uniform(0, 180), rng.uniform(60, 255), rng.uniform(60, 255)]]], np.float32).astype(np.uint8)
        c = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).reshape(3).astype(np.float64)
    return (c / 255.0).astype(np.float32)


def plate_colors(alpha: np.ndarray, rng: np.random.Generator, brand: tuple[int, int, int] | None = None) -> np.ndarray:
    """Straight ``float32 [h, w, 3]`` colours of a plate of coverage ``alpha``: one colour, a lighting gradient, maybe a rim.

    Example:
        >>> a, _ = plate_alpha(np.ones((10, 10), bool), 0.2, "ellipse")
        >>> plate_colors(a, np.random.default_rng(0)).shape == (*a.shape, 3)
        True
    """
    h, w = alpha.shape
    base = _random_color(rng, brand)
    t = _ramp(h, w, rng.uniform(0.0, 2.0 * math.pi)) / max(h, w, 1)
    light = 1.0 + float(rng.uniform(0.0, 0.35)) * (t - t.mean())
    rgb = np.clip(base[None, None, :] * light[..., None], 0.0, 1.0)
    if rng.random() < 0.35:  # a rim of another colour, as on badges and seals
        width = max(1, round(rng.uniform(0.02, 0.06) * max(h, w)))
        inner = cv2.erode((alpha > 0.5).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1)))
        rim = (alpha > 0.5) & (inner == 0)
        rgb[rim] = _random_color(rng, brand)
    return rgb.astype(np.float32)


def two_tone(paint: np.ndarray, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """``float32 [h, w, 3]`` colours mixing ``paint`` (``[3]``, ``0..1``) with a second colour: gradient, blobs or split.

    Example:
        >>> two_tone(np.zeros(3, np.float32), (8, 12), np.random.default_rng(0)).shape
        (8, 12, 3)
    """
    h, w = shape
    other = _random_color(rng, None)
    kind = int(rng.integers(3))
    if kind == 0:  # linear gradient
        t = _ramp(h, w, rng.uniform(0.0, 2.0 * math.pi))
    elif kind == 1:  # soft blobs
        cells = rng.random((int(rng.integers(2, 5)), int(rng.integers(2, 5)))).astype(np.float32)
        t = cv2.resize(cells, (w, h), interpolation=cv2.INTER_CUBIC)
    else:  # a hard split along a random line
        theta = rng.uniform(0.0, 2.0 * math.pi)
        t = (_ramp(h, w, theta, rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h) > 0).astype(np.float32)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    rgb = paint.reshape(1, 1, 3) * (1.0 - t[..., None]) + other.reshape(1, 1, 3) * t[..., None]
    return rgb.astype(np.float32)
