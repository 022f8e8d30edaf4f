"""One synthetic image: logos warped, recoloured and blended onto a background.

:func:`compose` is the single entry point the pipeline calls per image. It
draws everything from the ``rng`` it is given (same generator state, same
image), places logos one after another (later ones occlude earlier ones) and
returns exact visible masks and boxes. The scene-aware SynthLogo engine
(regions, depth, planes, Poisson blending, distractors) slots in behind the
same signature through ``analysis`` and the helpers in ``placement`` / ``blend``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from logodet.assets.brands import choose_tint
from logodet.assets.logos import LogoAsset, LogoBank
from logodet.masks import mask_to_bbox
from logodet.synth.augment import cover_crop, gaussian_blur, jitter_colors, sample_logo_long_side, sample_logo_warp, warp_patch
from logodet.synth.blend import alpha_blend, clip_window, feather_alpha
from logodet.synth.config import SynthConfig
from logodet.synth.placement import Occupancy, choose_position

__all__ = ["Composition", "Instance", "compose", "sample_logo_count"]


@dataclass
class Instance:
    """One labelled logo of a composed image.

    Attributes:
        class_index: index into ``LogoBank.class_names``.
        mask: ``bool [H, W]`` visible pixels (full frame).
        bbox: tight ``xyxy`` box of ``mask``, right/bottom exclusive.
        visibility: visible pixels over the pixels of the whole warped logo
            (out-of-frame and occluded parts count as invisible).
        occlusion: fraction of the in-frame logo covered by later logos.
        truncation: fraction of the logo outside the image.
        source: file name of the artwork variant used.
    """

    class_index: int
    mask: np.ndarray
    bbox: tuple[int, int, int, int]
    visibility: float
    occlusion: float = 0.0
    truncation: float = 0.0
    source: str = ""

    @property
    def area(self) -> int:
        """Visible mask area in pixels."""
        return int(np.count_nonzero(self.mask))


@dataclass
class Composition:
    """A composed image and its instances (possibly none)."""

    image: np.ndarray
    instances: list[Instance]


def sample_logo_count(rng: np.random.Generator, cfg: SynthConfig) -> int:
    """Logos to try on one image: 0 with probability ``cfg.empty_prob``, else uniform in ``[min_logos, max_logos]``.

    Example:
        >>> sample_logo_count(np.random.default_rng(0), SynthConfig(min_logos=2, max_logos=2, empty_prob=0.0))
        2
    """
    empty = rng.random() < cfg.empty_prob
    count = int(rng.integers(cfg.min_logos, cfg.max_logos + 1))
    return 0 if empty else count


def _straight_colors(premul: np.ndarray, alpha: np.ndarray, sigma: float) -> np.ndarray:
    """Un-premultiplied colours, extended outward into transparent pixels so a feathered edge has no dark fringe."""
    safe = np.maximum(alpha, 1e-4)[..., None]
    rgb = premul / safe
    spread = max(sigma * 2.0, 1.0)
    fill = gaussian_blur(premul, spread) / np.maximum(gaussian_blur(alpha, spread), 1e-4)[..., None]
    return np.clip(np.where(alpha[..., None] > 1e-3, rgb, fill), 0.0, 1.0).astype(np.float32)


def _paint_logo(
    canvas: np.ndarray,
    asset: LogoAsset,
    occupancy: Occupancy,
    rng: np.random.Generator,
    cfg: SynthConfig,
    analysis: object | None,
) -> np.ndarray | None:
    """Warp, place, recolour and blend one logo; the new canvas, or ``None`` when it found no place."""
    patch = asset.render(sample_logo_long_side(rng, cfg))
    pad = math.ceil(3.0 * max(cfg.feather, cfg.blur_sigma, 1.0)) + 1
    warped = warp_patch(patch, sample_logo_warp(rng, cfg, patch.shape[1], patch.shape[0], pad))
    alpha = np.ascontiguousarray(warped[..., 3])
    mask = alpha >= cfg.mask_threshold
    if np.count_nonzero(mask) < cfg.min_mask_px:
        return None
    pos = choose_position(mask, occupancy, rng, cfg, analysis)
    if pos is None:
        return None
    x, y = pos
    if asset.is_monochrome:
        win = clip_window(canvas.shape[:2], mask.shape, x, y)
        assert win is not None  # choose_position keeps part of the logo in frame
        under = canvas[win[0], win[1]][mask[win[2], win[3]]]
        tint = choose_tint(asset.brand_color, tuple(under.mean(axis=0)), rng, cfg.neutral_tint_prob)
        rgb = np.empty((*warped.shape[:2], 3), np.float32)
        rgb[:] = np.asarray(tint, np.float32) / 255.0
    else:
        rgb = _straight_colors(warped[..., :3], alpha, cfg.feather)
    rgb = jitter_colors(rgb, rng, cfg, weight=alpha)
    a = feather_alpha(alpha, cfg.feather) * np.float32(rng.uniform(cfg.opacity[0], cfg.opacity[1]))
    premul = rgb * a[..., None]
    if rng.random() < cfg.blur_prob and cfg.blur_sigma > 0:
        sigma = float(rng.uniform(0.3, max(cfg.blur_sigma, 0.3)))
        premul, a = gaussian_blur(premul, sigma), gaussian_blur(a, sigma)
    occupancy.add(mask, x, y)
    return alpha_blend(canvas, premul, a, x, y)


def compose(
    background: np.ndarray,
    bank: LogoBank,
    rng: np.random.Generator,
    cfg: SynthConfig,
    analysis: object | None = None,
) -> Composition:
    """Compose one synthetic image from a background and the logo bank.

    The background is random-cropped (cover, aspect kept) and resized to
    ``cfg.size``; then up to ``sample_logo_count`` logos (class uniform,
    variant uniform) are scaled, rotated, perspective-warped, tinted if
    monochrome, colour-jittered, optionally blurred and blended with feathered
    alpha. Positions respect ``cfg.max_truncation``, ``cfg.max_overlap`` and
    ``cfg.min_visibility``; a logo that finds no valid position is left out.
    Later logos occlude earlier ones, whose visible masks are updated.

    Args:
        background: ``uint8 [H, W, 3]`` RGB photo.
        bank: the logo classes and their artwork.
        rng: the generator every random choice is drawn from.
        cfg: synthesis settings.
        analysis: a background analysis (regions, depth, planes) for
            scene-aware placement; unused by this engine.

    Returns:
        The ``uint8 [cfg.size[1], cfg.size[0], 3]`` image and its instances
        (boxes are the tight boxes of the visible masks).

    Example:
        >>> bank = load_logo_folder("examples/logos")  # doctest: +SKIP
        >>> bg = np.zeros((400, 600, 3), np.uint8)
        >>> comp = compose(bg, bank, np.random.default_rng(0), SynthConfig(size=(320, 320)))  # doctest: +SKIP
        >>> comp.image.shape, all(i.bbox == mask_to_bbox(i.mask) for i in comp.instances)  # doctest: +SKIP
        ((320, 320, 3), True)
    """
    if background.ndim != 3 or background.shape[2] != 3 or background.dtype != np.uint8:
        raise ValueError(f"compose: background must be uint8 [H, W, 3], got {background.dtype} {list(background.shape)}")
    width, height = cfg.size
    canvas = cover_crop(background, (width, height), rng, cfg.bg_crop_scale)
    occupancy = Occupancy((height, width))
    sources: list[tuple[int, str]] = []
    for _ in range(sample_logo_count(rng, cfg)):
        class_index = int(rng.integers(bank.num_classes))
        variants = bank.variants(class_index)
        asset = variants[int(rng.integers(len(variants)))]
        painted = _paint_logo(canvas, asset, occupancy, rng, cfg, analysis)
        if painted is not None:
            canvas = painted
            sources.append((class_index, asset.path.name))
    instances = []
    for i, visible in enumerate(occupancy.visible_masks()):
        visibility, occlusion, truncation = occupancy.stats(i)
        box = mask_to_bbox(visible)
        if box is None or visibility < cfg.min_visibility or np.count_nonzero(visible) < cfg.min_mask_px:
            continue  # unreachable with the placement checks; kept as the contract for richer engines
        instances.append(Instance(sources[i][0], visible, box, visibility, occlusion, truncation, sources[i][1]))
    return Composition(canvas, instances)
