"""Blending a logo patch into an image: feathered alpha over premultiplied colour.

The next blending modes (Poisson, lighting transfer) take the same inputs: the
canvas, a premultiplied patch, its alpha and the patch's top-left position.
"""

from __future__ import annotations

import numpy as np

from logodet.synth.augment import gaussian_blur

__all__ = ["alpha_blend", "clip_window", "feather_alpha"]


def feather_alpha(alpha: np.ndarray, sigma: float) -> np.ndarray:
    """Soften the edge of ``float32 [h, w]`` alpha with a Gaussian of ``sigma`` pixels.

    Example:
        >>> a = np.zeros((9, 9), np.float32); a[3:6, 3:6] = 1
        >>> float(feather_alpha(a, 1.0)[4, 4]) < 1.0
        True
    """
    return np.clip(gaussian_blur(alpha, sigma), 0.0, 1.0) if sigma > 0 else alpha


def clip_window(shape: tuple[int, int], patch_shape: tuple[int, int], x: int, y: int) -> tuple[slice, slice, slice, slice] | None:
    """Image and patch slices where a ``patch_shape`` patch at ``(x, y)`` overlaps a ``shape`` image.

    Returns:
        ``(image_rows, image_cols, patch_rows, patch_cols)``, or ``None`` without overlap.

    Example:
        >>> clip_window((10, 10), (4, 4), -1, 8)
        (slice(8, 10, None), slice(0, 3, None), slice(0, 2, None), slice(1, 4, None))
    """
    h, w = shape
    ph, pw = patch_shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + pw, w), min(y + ph, h)
    if x0 >= x1 or y0 >= y1:
        return None
    return slice(y0, y1), slice(x0, x1), slice(y0 - y, y1 - y), slice(x0 - x, x1 - x)


def alpha_blend(canvas: np.ndarray, premul_rgb: np.ndarray, alpha: np.ndarray, x: int, y: int) -> np.ndarray:
    """``canvas`` with a premultiplied patch composited over it at top-left ``(x, y)``.

    ``out = patch_rgb + (1 - alpha) * canvas``, in ``[0, 1]`` colour units;
    the patch may extend beyond the canvas. The input is not modified.

    Args:
        canvas: ``uint8 [H, W, 3]`` image.
        premul_rgb: ``float32 [h, w, 3]`` colour already multiplied by ``alpha``.
        alpha: ``float32 [h, w]`` coverage in ``[0, 1]``.
        x: column of the patch's left edge in the canvas.
        y: row of the patch's top edge in the canvas.

    Example:
        >>> out = alpha_blend(np.zeros((4, 4, 3), np.uint8), np.ones((2, 2, 3), np.float32), np.ones((2, 2), np.float32), 1, 1)
        >>> int(out[1, 1, 0]), int(out[0, 0, 0])
        (255, 0)
    """
    out = canvas.copy()
    win = clip_window(canvas.shape[:2], alpha.shape, x, y)
    if win is None:
        return out
    rows, cols, prows, pcols = win
    a = alpha[prows, pcols, None]
    region = out[rows, cols].astype(np.float32) * (1.0 / 255.0)
    blended = premul_rgb[prows, pcols] + (1.0 - a) * region
    out[rows, cols] = np.clip(blended * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out
