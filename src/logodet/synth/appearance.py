"""How a placed logo looks: colour model for monochrome icons, motion blur, noise, JPEG artefacts, shading, shadow.

Every operation works on the logo's own patch (never the full frame), takes
its parameters explicitly or draws them from the ``rng`` it is given, so one
seed gives one result. Colours are straight (not premultiplied) ``float32``
RGB in ``[0, 1]`` unless stated otherwise.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from logodet.assets.brands import choose_tint, contrast_ratio
from logodet.assets.logos import LogoAsset
from logodet.synth.augment import gaussian_blur, jitter_colors
from logodet.synth.blend import clip_window
from logodet.synth.config import SynthConfig
from logodet.synth.plates import two_tone

__all__ = [
    "add_noise",
    "choose_logo_color",
    "degrade_jpeg_patch",
    "drop_shadow_alpha",
    "jpeg_artifacts",
    "logo_colors",
    "motion_blur",
    "motion_kernel",
    "shade_by_luminance",
    "straight_colors",
    "under_patch",
]

# a small palette of saturated and neutral colours the contrast model falls back to (SynthText-style)
_PALETTE = np.array(
    [
        (0, 0, 0),
        (255, 255, 255),
        (200, 30, 40),
        (240, 200, 20),
        (20, 90, 200),
        (30, 150, 70),
        (240, 120, 20),
        (120, 40, 160),
        (20, 40, 90),
        (250, 240, 220),
    ],
    np.float64,
)


def _lab(rgb: tuple[float, float, float]) -> np.ndarray:
    return cv2.cvtColor(np.asarray(rgb, np.float32).reshape(1, 1, 3) / 255.0, cv2.COLOR_RGB2Lab).reshape(3).astype(np.float64)


def _rgb(lab: np.ndarray) -> tuple[int, int, int]:
    out = cv2.cvtColor(np.asarray(lab, np.float32).reshape(1, 1, 3), cv2.COLOR_Lab2RGB).reshape(3)
    return tuple(int(v) for v in np.clip(np.round(out * 255.0), 0, 255))  # type: ignore[return-value]


def choose_logo_color(
    brand_color: tuple[int, int, int] | None,
    under: tuple[float, float, float],
    rng: np.random.Generator,
    model: str = "contrast",
    min_contrast: float = 2.0,
    neutral_prob: float = 0.0,
) -> tuple[int, int, int]:
    """The paint of a monochrome icon over an area of mean colour ``under`` (``0..255``).

    Models: ``brand`` is :func:`logodet.assets.brands.choose_tint` (brand
    colour, or black/white); ``random`` is a uniformly random hue, saturation
    and value; ``contrast`` keeps the ``brand`` choice when its WCAG contrast
    with ``under`` reaches ``min_contrast``, else flips its lightness in Lab
    away from the background (hue kept), else takes a random palette colour
    that reaches it (black or white, whichever contrasts more, as the last resort).

    Example:
        >>> choose_logo_color((0, 102, 177), (255, 255, 255), np.random.default_rng(0))
        (0, 102, 177)
        >>> choose_logo_color((0, 102, 177), (0, 100, 180), np.random.default_rng(0)) != (0, 102, 177)
        True
    """
    if model == "random":
        hsv = np.array([[[rng.uniform(0, 180), rng.uniform(0, 255), rng.uniform(40, 255)]]], np.float32)
        return tuple(int(v) for v in cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).reshape(3))  # type: ignore[return-value]
    base = choose_tint(brand_color, under, rng, neutral_prob)
    if model == "brand" or contrast_ratio(base, under) >= min_contrast:
        return base
    lab, bg_l = _lab(base), float(_lab(under)[0])
    lab[0] = rng.uniform(0.0, max(bg_l - 45.0, 2.0)) if bg_l > 50.0 else rng.uniform(min(bg_l + 45.0, 98.0), 100.0)
    flipped = _rgb(lab)
    if contrast_ratio(flipped, under) >= min_contrast:
        return flipped
    ok = [tuple(int(v) for v in c) for c in _PALETTE if contrast_ratio(tuple(c), under) >= min_contrast]
    if ok:
        return ok[int(rng.integers(len(ok)))]  # type: ignore[return-value]
    dark, light = (0, 0, 0), (255, 255, 255)
    return dark if contrast_ratio(dark, under) >= contrast_ratio(light, under) else light


def under_patch(canvas: np.ndarray, shape: tuple[int, int], x: int, y: int) -> np.ndarray:
    """The ``uint8 [h, w, 3]`` canvas pixels under a ``shape`` patch at ``(x, y)``; out-of-frame parts repeat the edge.

    Example:
        >>> under_patch(np.arange(12, dtype=np.uint8).reshape(2, 2, 3), (3, 3), 1, 1)[:, :, 0].tolist()
        [[9, 9, 9], [9, 9, 9], [9, 9, 9]]
    """
    h, w = shape
    H, W = canvas.shape[:2]
    x0, y0 = min(max(x, 0), W - 1), min(max(y, 0), H - 1)
    x1, y1 = max(min(x + w, W), x0 + 1), max(min(y + h, H), y0 + 1)
    crop = canvas[y0:y1, x0:x1]
    top, left = max(y0 - y, 0), max(x0 - x, 0)
    bottom, right = max(h - top - crop.shape[0], 0), max(w - left - crop.shape[1], 0)
    if top or left or bottom or right:
        crop = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_REPLICATE)
    return crop[:h, :w]


def motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    """A normalised line kernel of ``length`` pixels at ``angle_deg`` (odd size, sums to 1).

    Example:
        >>> k = motion_kernel(5, 0); k.shape, float(k.sum()), float(k[2].sum())
        ((5, 5), 1.0, 1.0)
    """
    size = max(1, math.ceil(length) | 1)
    k = np.zeros((size, size), np.float32)
    c = (size - 1) / 2.0
    dx, dy = math.cos(math.radians(angle_deg)) * c, -math.sin(math.radians(angle_deg)) * c
    shift = 4  # sub-pixel line end points, 1/16 px
    p0 = (round((c - dx) * 16), round((c - dy) * 16))
    p1 = (round((c + dx) * 16), round((c + dy) * 16))
    cv2.line(k, p0, p1, 1.0, 1, cv2.LINE_AA, shift)
    total = float(k.sum())
    if total <= 0:
        k[int(c), int(c)] = 1.0
        total = 1.0
    return k / total


def motion_blur(patch: np.ndarray, length: float, angle_deg: float) -> np.ndarray:
    """``patch`` (``float32 [h, w]`` or ``[h, w, C]``, e.g. premultiplied RGBA) blurred along a line.

    Example:
        >>> p = np.zeros((9, 9), np.float32); p[4, 4] = 1
        >>> out = motion_blur(p, 5, 0); float(out.sum()), bool(out[4, 2] > 0 and out[2, 4] == 0)
        (1.0, True)
    """
    if length < 2:
        return patch
    out = cv2.filter2D(patch, -1, motion_kernel(length, angle_deg), borderType=cv2.BORDER_CONSTANT)
    return out if out.ndim == patch.ndim else out[..., None]


def add_noise(rgb: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``rgb`` plus Gaussian noise of standard deviation ``sigma`` (clipped to ``[0, 1]``).

    Example:
        >>> out = add_noise(np.full((4, 4, 3), 0.5, np.float32), 0.1, np.random.default_rng(0))
        >>> bool(out.std() > 0.05)
        True
    """
    if sigma <= 0:
        return rgb
    return np.clip(rgb + rng.standard_normal(rgb.shape, dtype=np.float32) * np.float32(sigma), 0.0, 1.0)


def jpeg_artifacts(rgb: np.ndarray, quality: int) -> np.ndarray:
    """``rgb`` encoded as a JPEG of ``quality`` and decoded again (block and ringing artefacts).

    Example:
        >>> g = np.tile(np.linspace(0, 1, 16, dtype=np.float32), (16, 1))[..., None].repeat(3, 2)
        >>> bool(np.abs(jpeg_artifacts(g, 10) - g).max() > 0.01)
        True
    """
    bgr = np.ascontiguousarray(np.clip(rgb[..., ::-1] * 255.0 + 0.5, 0, 255).astype(np.uint8))
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - cv2 encodes any uint8 image
        return rgb
    out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out[..., ::-1].astype(np.float32) * np.float32(1.0 / 255.0)


def shade_by_luminance(rgb: np.ndarray, under: np.ndarray, alpha: np.ndarray, strength: float) -> np.ndarray:
    """``rgb`` multiplied by the background's normalised, blurred luminance under it (lighting transfer).

    The factor is ``1 + strength * (L / mean(L) - 1)``, where ``L`` is the
    luminance of ``under`` blurred by a twentieth of the patch size and the
    mean is weighted by ``alpha``: shadows and highlights of the surface carry
    over onto the logo while its average colour stays.

    Args:
        rgb: straight ``float32 [h, w, 3]`` logo colours.
        under: ``uint8 [h, w, 3]`` background under the patch.
        alpha: ``float32 [h, w]`` logo coverage (weights of the mean).
        strength: ``0`` (no shading) to ``1`` (full).

    Example:
        >>> under = np.zeros((8, 8, 3), np.uint8); under[:, 4:] = 200
        >>> out = shade_by_luminance(np.full((8, 8, 3), 0.5, np.float32), under, np.ones((8, 8), np.float32), 1.0)
        >>> bool(out[0, 0, 0] < out[0, 7, 0])
        True
    """
    if strength <= 0:
        return rgb
    lum = cv2.cvtColor(under, cv2.COLOR_RGB2GRAY).astype(np.float32) * np.float32(1.0 / 255.0)
    h, w = lum.shape
    sigma = max(1.0, 0.05 * max(h, w))
    step = int(sigma // 2)  # a wide blur is as good on a grid a few pixels coarse, and far cheaper
    if step >= 2 and min(h, w) >= 2 * step:
        small = cv2.resize(lum, (w // step, h // step), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), sigma / step, borderType=cv2.BORDER_REPLICATE)
        lum = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        lum = cv2.GaussianBlur(lum, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    a = np.ascontiguousarray(alpha, np.float32)
    total = float(a.sum())
    mean = float(np.vdot(lum, a)) / total if total > 0 else float(lum.mean())
    factor = np.clip(1.0 + np.float32(strength) * (lum / np.float32(max(mean, 0.02)) - 1.0), 0.2, 2.0)
    return np.clip(rgb * factor[..., None], 0.0, 1.0)


def drop_shadow_alpha(alpha: np.ndarray, offset: tuple[int, int], sigma: float, opacity: float) -> tuple[np.ndarray, int]:
    """The coverage of a soft shadow of ``alpha`` and the margin it was padded by.

    The shadow is ``alpha`` shifted by ``offset`` = ``(dx, dy)``, blurred by
    ``sigma`` and scaled by ``opacity``; it lies in a patch padded by the
    returned margin ``m`` on every side (place it at ``(x - m, y - m)``).

    Example:
        >>> a = np.ones((4, 4), np.float32)
        >>> s, m = drop_shadow_alpha(a, (2, 1), 1.0, 0.5); s.shape == (4 + 2 * m, 4 + 2 * m), float(s.max()) <= 0.5
        (True, True)
    """
    dx, dy = int(offset[0]), int(offset[1])
    m = math.ceil(3.0 * max(sigma, 0.5)) + max(abs(dx), abs(dy))
    h, w = alpha.shape
    out = np.zeros((h + 2 * m, w + 2 * m), np.float32)
    out[m + dy : m + dy + h, m + dx : m + dx + w] = alpha
    if sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    return np.clip(out * np.float32(opacity), 0.0, 1.0), m


def straight_colors(premul: np.ndarray, alpha: np.ndarray, sigma: float) -> np.ndarray:
    """Un-premultiplied colours, extended outward into transparent pixels so a feathered edge has no dark fringe."""
    safe = np.maximum(alpha, 1e-4)[..., None]
    rgb = premul / safe
    spread = max(sigma * 2.0, 1.0)
    fill = gaussian_blur(premul, spread) / np.maximum(gaussian_blur(alpha, spread), 1e-4)[..., None]
    return np.clip(np.where(alpha[..., None] > 1e-3, rgb, fill), 0.0, 1.0).astype(np.float32)


def logo_colors(
    canvas: np.ndarray,
    asset: LogoAsset,
    alpha: np.ndarray,
    color: np.ndarray | None,
    mask: np.ndarray,
    x: int,
    y: int,
    rng: np.random.Generator,
    cfg: SynthConfig,
) -> np.ndarray:
    """Colour, jitter, shading and noise of a logo placed at ``(x, y)``: its straight ``float32 [h, w, 3]`` colours.

    ``alpha`` and ``mask`` are the warped coverage and its threshold; ``color``
    the warped premultiplied colours of a multi-colour logo, or ``None`` for a
    monochrome icon, which is painted by ``cfg.color_model`` (and, with
    probability ``cfg.two_tone_prob``, mixed with a second colour).

    A monochrome icon without shading or noise gets a single ``[1, 1, 3]``
    colour that broadcasts over the patch.
    """
    under = under_patch(canvas, mask.shape, x, y)
    if color is None:  # a monochrome icon: one colour, jittered as a single pixel (the same draws as a full patch)
        mean = cv2.mean(under, mask=mask.view(np.uint8))[:3]
        paint = choose_logo_color(asset.brand_color, mean, rng, cfg.color_model, cfg.min_contrast, cfg.neutral_tint_prob)
        rgb = jitter_colors(np.asarray(paint, np.float32).reshape(1, 1, 3) / np.float32(255.0), rng, cfg)  # broadcasts
        if cfg.two_tone_prob > 0.0 and rng.random() < cfg.two_tone_prob:
            rgb = two_tone(rgb.reshape(3), alpha.shape, rng)
    else:
        rgb = jitter_colors(straight_colors(color, alpha, cfg.feather), rng, cfg, weight=alpha)
    if rng.random() < cfg.shading_prob:
        rgb = shade_by_luminance(rgb, under, alpha, float(rng.uniform(*cfg.shading_strength)))
    if rng.random() < cfg.noise_prob and cfg.noise_sigma > 0:
        rgb = add_noise(np.broadcast_to(rgb, (*alpha.shape, 3)), float(rng.uniform(0.2, 1.0)) * cfg.noise_sigma, rng)
    return rgb


def degrade_jpeg_patch(canvas: np.ndarray, alpha: np.ndarray, x: int, y: int, quality: int) -> None:
    """JPEG artefacts on the logo crop of ``canvas`` (in place): the crop re-encoded, kept on the logo and a 2-px rim."""
    win = clip_window(canvas.shape[:2], alpha.shape, x, y)
    if win is None:
        return
    rows, cols, prows, pcols = win
    crop = canvas[rows, cols].astype(np.float32) * np.float32(1.0 / 255.0)
    degraded = jpeg_artifacts(crop, quality)
    w = np.clip(gaussian_blur(np.ascontiguousarray(alpha[prows, pcols]), 2.0) * 3.0, 0.0, 1.0)[..., None]
    canvas[rows, cols] = np.clip((crop + w * (degraded - crop)) * 255.0 + 0.5, 0, 255).astype(np.uint8)
