"""Geometry and colour augmentation for synthesis: background crops, logo warps, colour jitter.

Every sampler takes the ``np.random.Generator`` it draws from, so one seed
gives one result. Logo patches are ``float32`` premultiplied RGBA in ``[0, 1]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from logodet.synth.config import SynthConfig

__all__ = [
    "LogoWarp",
    "apply_crop",
    "cover_crop",
    "gaussian_blur",
    "jitter_colors",
    "logo_warp",
    "sample_crop_window",
    "sample_logo_long_side",
    "sample_logo_warp",
    "warp_patch",
]


def sample_crop_window(
    image_hw: tuple[int, int], size: tuple[int, int], rng: np.random.Generator, crop_scale: tuple[float, float] = (1.0, 1.0)
) -> tuple[int, int, int, int]:
    """The ``(x0, y0, width, height)`` window :func:`cover_crop` cuts from an ``image_hw`` image (aspect of ``size``).

    Example:
        >>> sample_crop_window((100, 200), (64, 64), np.random.default_rng(0))[2:]
        (100, 100)
    """
    out_w, out_h = size
    h, w = image_hw
    full = min(w / out_w, h / out_h)
    s = full * float(rng.uniform(crop_scale[0], crop_scale[1]))
    cw, ch = max(1, min(w, round(out_w * s))), max(1, min(h, round(out_h * s)))
    x0 = int(rng.integers(0, w - cw + 1))
    y0 = int(rng.integers(0, h - ch + 1))
    return x0, y0, cw, ch


def apply_crop(image: np.ndarray, window: tuple[int, int, int, int], size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    """Cut ``window`` = ``(x0, y0, width, height)`` from ``image`` and resize it to ``size`` = ``(width, height)``.

    ``nearest`` resizes with nearest neighbour (for label maps); otherwise
    Gaussian halving then bilinear (cheap anti-aliasing).

    Example:
        >>> apply_crop(np.arange(16, dtype=np.int32).reshape(4, 4), (0, 0, 2, 2), (4, 4), nearest=True)[3].tolist()
        [4, 4, 5, 5]
    """
    x0, y0, cw, ch = window
    out_w, out_h = size
    crop = image[y0 : y0 + ch, x0 : x0 + cw]
    if (cw, ch) == (out_w, out_h):
        return crop.copy()
    if nearest:
        return cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_NEAREST)
    while crop.shape[1] >= 2 * out_w and crop.shape[0] >= 2 * out_h:
        crop = cv2.pyrDown(crop)  # Gaussian halving: cheap anti-aliasing, then bilinear for the rest
    return cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_LINEAR)


def cover_crop(
    image: np.ndarray, size: tuple[int, int], rng: np.random.Generator, crop_scale: tuple[float, float] = (1.0, 1.0)
) -> np.ndarray:
    """A random crop with the aspect of ``size`` resized to ``size`` (cover: no padding, aspect kept).

    The crop side is ``crop_scale`` (uniform in ``[min, max]``) times the
    largest window of that aspect that fits in ``image``
    (:func:`sample_crop_window` then :func:`apply_crop`).

    Args:
        image: ``uint8 [H, W, 3]``.
        size: output ``(width, height)``.
        rng: random generator.
        crop_scale: ``[min, max]`` fraction of the largest window.

    Example:
        >>> out = cover_crop(np.zeros((100, 200, 3), np.uint8), (64, 64), np.random.default_rng(0))
        >>> out.shape
        (64, 64, 3)
    """
    return apply_crop(image, sample_crop_window(image.shape[:2], size, rng, crop_scale), size)


def sample_logo_long_side(rng: np.random.Generator, cfg: SynthConfig) -> int:
    """Logo long side in pixels, log-uniform in ``cfg.scale`` times the image's short side.

    Example:
        >>> 32 <= sample_logo_long_side(np.random.default_rng(0), SynthConfig(size=(320, 320))) <= 160
        True
    """
    short = min(cfg.size)
    lo, hi = (math.log(max(s * short, 1.0)) for s in cfg.scale)
    return max(cfg.min_logo_px, round(math.exp(rng.uniform(lo, hi))))


@dataclass(frozen=True)
class LogoWarp:
    """A homography from logo-patch pixels to a canvas of ``size`` = ``(width, height)``."""

    matrix: np.ndarray
    size: tuple[int, int]


def logo_warp(width: int, height: int, angle_deg: float = 0.0, corner_shift: np.ndarray | None = None, pad: int = 0) -> LogoWarp:
    """The warp of a ``width x height`` patch: corner shifts (perspective), then rotation about the centre.

    The canvas is the warped patch's bounding box plus ``pad`` pixels on every
    side; with no rotation and no shift the warp is an integer translation.

    Args:
        width: patch width.
        height: patch height.
        angle_deg: counter-clockwise rotation in degrees.
        corner_shift: ``[4, 2]`` displacement of the corners (TL, TR, BR, BL)
            as fractions of ``(width, height)``.
        pad: margin in pixels kept around the warped patch (room for blur).

    Example:
        >>> warp = logo_warp(10, 4, pad=2)
        >>> warp.size, warp.matrix[:2, 2].tolist()
        ((14, 8), [2.0, 2.0])
    """
    src = np.array([[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5], [-0.5, height - 0.5]], np.float64)
    dst = src.copy()
    if corner_shift is not None:
        dst += np.asarray(corner_shift, np.float64).reshape(4, 2) * (width, height)
    center = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    t = math.radians(angle_deg)
    rot = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    dst = (dst - center) @ rot.T + center
    shift = np.ceil(pad - 0.5 - dst.min(axis=0) - 1e-6)  # integer: no rotation and no shift give a pure integer translation
    dst += shift
    size = (math.ceil(dst[:, 0].max() + 0.5 - 1e-6) + pad, math.ceil(dst[:, 1].max() + 0.5 - 1e-6) + pad)
    matrix = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32)).astype(np.float64)
    return LogoWarp(matrix, size)


def sample_logo_warp(rng: np.random.Generator, cfg: SynthConfig, width: int, height: int, pad: int) -> LogoWarp:
    """A random :func:`logo_warp`: rotation uniform in ``±cfg.rotation``, corners shifted up to ``cfg.perspective``.

    Example:
        >>> sample_logo_warp(np.random.default_rng(0), SynthConfig(), 32, 16, 2).matrix.shape
        (3, 3)
    """
    angle = float(rng.uniform(-cfg.rotation, cfg.rotation))
    shift = rng.uniform(-cfg.perspective, cfg.perspective, size=(4, 2)) if cfg.perspective > 0 else None
    return logo_warp(width, height, angle, shift, pad)


def warp_patch(patch: np.ndarray, warp: LogoWarp) -> np.ndarray:
    """Apply ``warp`` to a premultiplied ``float32 [h, w, C]`` patch (bilinear, zero outside).

    Example:
        >>> p = np.ones((4, 6, 4), np.float32)
        >>> float(warp_patch(p, logo_warp(6, 4, pad=1))[..., 3].sum())
        24.0
    """
    out = cv2.warpPerspective(patch, warp.matrix, warp.size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out if out.ndim == patch.ndim else out[..., None]


_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], np.float64)
_LUMA = np.array([0.299, 0.587, 0.114], np.float64)
_YIQ_INV = np.linalg.inv(_YIQ)


def jitter_colors(rgb: np.ndarray, rng: np.random.Generator, cfg: SynthConfig, weight: np.ndarray | None = None) -> np.ndarray:
    """Random brightness, contrast, saturation and hue change of straight ``float32 [h, w, 3]`` colours.

    Args:
        rgb: colours in ``[0, 1]``.
        rng: random generator (four draws).
        cfg: ``brightness``, ``contrast``, ``saturation`` and ``hue`` bounds.
        weight: optional ``[h, w]`` alpha; the contrast pivot is the weighted mean luma.

    Example:
        >>> out = jitter_colors(np.full((2, 2, 3), 0.5, np.float32), np.random.default_rng(0), SynthConfig())
        >>> out.shape, bool(out.min() >= 0 and out.max() <= 1)
        ((2, 2, 3), True)
    """
    b = 1.0 + rng.uniform(-cfg.brightness, cfg.brightness)
    c = 1.0 + rng.uniform(-cfg.contrast, cfg.contrast)
    s = 1.0 + rng.uniform(-cfg.saturation, cfg.saturation)
    t = rng.uniform(-cfg.hue, cfg.hue) * 2.0 * math.pi
    # colour transform in YIQ: scale chroma (saturation), rotate it (hue), scale all (brightness)
    m = np.eye(3)
    m[1:, 1:] = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]) * s
    full = b * (_YIQ_INV @ m @ _YIQ)
    flat = rgb.reshape(-1, 3)
    if weight is not None and (wsum := float(weight.sum())) > 0:
        pivot = float((weight.reshape(-1) @ flat) @ _LUMA) / wsum
    else:
        pivot = float(flat.mean(axis=0) @ _LUMA)
    # one affine colour map: out = c * (full @ rgb) + b * pivot * (1 - c)
    affine = np.c_[full * c, np.full(3, b * pivot * (1.0 - c))].astype(np.float32)
    out = cv2.transform(np.ascontiguousarray(rgb, np.float32).reshape(-1, 1, 3), affine).reshape(rgb.shape)
    return np.clip(out, 0.0, 1.0, out=out)


def gaussian_blur(patch: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (``sigma <= 0`` returns the input).

    Example:
        >>> gaussian_blur(np.eye(5, dtype=np.float32), 1.0).shape
        (5, 5)
    """
    if sigma <= 0:
        return patch
    out = cv2.GaussianBlur(patch, (0, 0), sigmaX=float(sigma), sigmaY=float(sigma), borderType=cv2.BORDER_CONSTANT)
    return out if out.ndim == patch.ndim else out[..., None]
