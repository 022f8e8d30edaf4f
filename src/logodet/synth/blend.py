"""Blending a logo patch into an image: (feathered) alpha over premultiplied colour, or Poisson.

Every mode takes the same inputs: the canvas, a premultiplied patch, its alpha
and the patch's top-left position. Poisson blending (``cv2.seamlessClone``)
runs on a crop around the logo, never on the full frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from logodet.synth.augment import gaussian_blur

__all__ = ["BLEND_MODES", "alpha_blend", "clip_window", "feather_alpha", "poisson_blend", "poisson_window"]

BLEND_MODES = ("alpha", "feather", "poisson")


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


def alpha_blend(canvas: np.ndarray, premul_rgb: np.ndarray, alpha: np.ndarray, x: int, y: int, inplace: bool = False) -> np.ndarray:
    """``canvas`` with a premultiplied patch composited over it at top-left ``(x, y)``.

    ``out = patch_rgb + (1 - alpha) * canvas``, in ``[0, 1]`` colour units;
    the patch may extend beyond the canvas. The input is not modified unless
    ``inplace`` (then ``canvas`` itself is written and returned).

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
    out = canvas if inplace else canvas.copy()
    win = clip_window(canvas.shape[:2], alpha.shape, x, y)
    if win is None:
        return out
    rows, cols, prows, pcols = win
    a = alpha[prows, pcols, None]
    region = out[rows, cols].astype(np.float32) * (1.0 / 255.0)
    blended = premul_rgb[prows, pcols] + (1.0 - a) * region
    out[rows, cols] = np.clip(blended * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


_POISSON_GROW = 4  # pixels the Poisson domain extends past the logo's coverage


def poisson_window(shape: tuple[int, int], patch_shape: tuple[int, int], x: int, y: int, margin: int) -> tuple[int, int, int, int] | None:
    """The ``(x0, y0, x1, y1)`` crop of a ``shape`` image that :func:`poisson_blend` may change: the patch plus ``margin``, clipped.

    Example:
        >>> poisson_window((100, 100), (10, 20), 5, 90, 4)
        (1, 86, 29, 100)
    """
    h, w = shape
    ph, pw = patch_shape
    x0, y0, x1, y1 = max(x - margin, 0), max(y - margin, 0), min(x + pw + margin, w), min(y + ph + margin, h)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def poisson_blend(
    canvas: np.ndarray, premul_rgb: np.ndarray, alpha: np.ndarray, x: int, y: int, mixed: bool = False, margin: int = 6
) -> np.ndarray:
    """``canvas`` with the patch Poisson-blended (``cv2.seamlessClone``) at top-left ``(x, y)``.

    The source is the patch alpha-composited over the canvas, so partly
    transparent edges keep their look; the gradient domain is the patch's
    coverage (``alpha > 0.02``) grown by ``_POISSON_GROW`` pixels, solved on a
    crop of the patch plus ``margin`` pixels (:func:`poisson_window`) padded by
    reflection (a logo cut by the image border is mirrored across it, so the
    cut edge keeps its contrast); nothing outside that crop changes. ``mixed`` uses ``MIXED_CLONE`` (the stronger gradient of logo and
    background wins: texture shows through) instead of ``NORMAL_CLONE``.
    Geometry is unchanged; only colours shift toward the surroundings.

    Example:
        >>> bg = np.full((40, 40, 3), 90, np.uint8)
        >>> patch = np.zeros((8, 8, 3), np.float32); patch[2:6, 2:6] = 1.0
        >>> out = poisson_blend(bg, patch, np.ones((8, 8), np.float32), 16, 16)
        >>> bool(out[20, 20, 0] > out[17, 17, 0]), bool((out[:8] == 90).all())
        (True, True)
    """
    win = poisson_window(canvas.shape[:2], alpha.shape, x, y, margin)
    if win is None:
        return canvas.copy()
    x0, y0, x1, y1 = win
    dst = np.ascontiguousarray(canvas[y0:y1, x0:x1])
    src = alpha_blend(dst, premul_rgb, alpha, x - x0, y - y0)
    cover = np.zeros(dst.shape[:2], np.float32)
    cw = clip_window(cover.shape, alpha.shape, x - x0, y - y0)
    out = canvas.copy()
    if cw is None:
        return out
    cover[cw[0], cw[1]] = alpha[cw[2], cw[3]]
    if not (cover > 0.02).any():
        out[y0:y1, x0:x1] = src
        return out
    # seamlessClone erodes its domain by a few pixels (OpenCV 5 also from the domain's bounding box), so the
    # domain is the coverage grown by _POISSON_GROW on a crop padded by reflection; where the logo runs off the
    # image the padding mirrors it, so its cut edge keeps its contrast instead of fading into the border.
    grow = _POISSON_GROW
    covered = (cover > 0.02).astype(np.uint8) * 255
    h, w = covered.shape
    pads = [grow + 2 + (n if covered[edge].any() else 0) for n, edge in ((h, 0), (h, -1), (w, (..., 0)), (w, (..., -1)))]
    mask = cv2.copyMakeBorder(covered, *pads, cv2.BORDER_REFLECT_101)
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    mask[:1], mask[-1:], mask[:, :1], mask[:, -1:] = 0, 0, 0, 0
    dst_p, src_p = (cv2.copyMakeBorder(a, *pads, cv2.BORDER_REFLECT_101) for a in (dst, src))
    bx, by, bw, bh = cv2.boundingRect(mask)
    center = (bx + bw // 2, by + bh // 2)
    flag = cv2.MIXED_CLONE if mixed else cv2.NORMAL_CLONE
    out[y0:y1, x0:x1] = cv2.seamlessClone(src_p, dst_p, mask, center, flag)[pads[0] : pads[0] + h, pads[2] : pads[2] + w]
    return out
