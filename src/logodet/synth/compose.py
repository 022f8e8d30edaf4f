"""One synthetic image: logos warped onto surfaces, recoloured, shaded and blended onto a background.

:func:`compose` is the single entry point the pipeline calls per image. It
draws everything from the ``rng`` it is given (same generator state, same
image), places logos (and unlabelled distractors) one after another, later
ones occluding earlier ones, and returns exact visible masks and boxes. With a
:class:`~logodet.synth.surfaces.BackgroundAnalysis` each logo goes on a surface
region, sized from the region and warped by the homography of its plane
(:mod:`logodet.synth.placement`); appearance and blending are in
:mod:`logodet.synth.appearance` and :mod:`logodet.synth.blend`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from logodet.assets.crops import CROP_PREFIX
from logodet.assets.logos import LogoAsset, LogoBank
from logodet.masks import mask_to_bbox
from logodet.synth.appearance import degrade_jpeg_patch, drop_shadow_alpha, logo_colors, motion_blur
from logodet.synth.augment import (
    apply_crop,
    gaussian_blur,
    logo_warp,
    sample_crop_window,
    sample_logo_long_side,
    sample_logo_warp,
    warp_patch,
)
from logodet.synth.blend import BLEND_MODES, alpha_blend, feather_alpha, poisson_blend
from logodet.synth.config import SynthConfig
from logodet.synth.distractors import DistractorBank
from logodet.synth.placement import Occupancy, SceneView, choose_position, choose_region, crop_analysis, region_fraction, warp_quality
from logodet.synth.plates import PLATE_SHAPES, plate_alpha, plate_colors
from logodet.synth.surfaces import BackgroundAnalysis

__all__ = ["Composition", "Instance", "compose", "sample_class", "sample_logo_count", "sample_variant"]


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


def sample_class(bank: LogoBank, rng: np.random.Generator, cfg: SynthConfig) -> int:
    """A class index: uniform (``cfg.class_balance == "uniform"``) or drawn by ``cfg.class_weights`` (missing names weigh 1).

    Raises:
        ValueError: ``class_weights`` names a class the bank lacks, or gives every class weight 0.

    Example:
        >>> bank = LogoBank.__new__(LogoBank); bank.class_names = ["a", "b"]
        >>> sample_class(bank, np.random.default_rng(0), SynthConfig(class_balance="weighted", class_weights={"a": 0.0}))
        1
    """
    n = bank.num_classes
    if cfg.class_balance == "uniform" or not cfg.class_weights:
        return int(rng.integers(n))
    unknown = sorted(set(cfg.class_weights) - set(bank.class_names))
    if unknown:
        raise ValueError(f"class_weights: unknown class(es) {unknown}; the bank has {bank.class_names}")
    w = np.array([float(cfg.class_weights.get(name, 1.0)) for name in bank.class_names])
    if w.sum() <= 0:
        raise ValueError(f"class_weights: every class has weight 0: {cfg.class_weights}")
    return int(rng.choice(n, p=w / w.sum()))


def sample_variant(variants: list[LogoAsset], rng: np.random.Generator, crop_share: float | None = None) -> LogoAsset:
    """One variant of a class: uniform, or a crop of a labelled photo with probability ``crop_share``.

    With ``crop_share`` set and both kinds present (crops are the variants whose
    file name starts with ``crop-``), the kind is drawn first, then a variant of it
    uniformly; with one kind only, or ``crop_share=None``, every variant is alike.

    Example:
        >>> from pathlib import Path
        >>> art = [LogoAsset("a", Path("a.svg"), np.zeros((1, 1, 4), np.uint8))]
        >>> crops = [LogoAsset("a", Path(f"crop-{i}.png"), np.zeros((1, 1, 4), np.uint8)) for i in range(9)]
        >>> sample_variant(art + crops, np.random.default_rng(0), crop_share=0.0).path.name
        'a.svg'
    """
    if crop_share is not None:
        crops = [v for v in variants if v.path.name.startswith(CROP_PREFIX)]
        if 0 < len(crops) < len(variants):
            artwork = [v for v in variants if not v.path.name.startswith(CROP_PREFIX)]
            variants = crops if rng.random() < crop_share else artwork
    return variants[int(rng.integers(len(variants)))]


def _homography() -> Any:
    """``logodet.synth.plane.logo_homography``, or ``None`` when it is not importable."""
    try:
        from logodet.synth.plane import logo_homography
    except ImportError:  # pragma: no cover - plane.py ships with the package
        return None
    return logo_homography


def _warp_at(patch: np.ndarray, matrix: np.ndarray, pad: int) -> tuple[np.ndarray, int, int]:
    """``patch`` warped by ``matrix`` (patch -> frame pixels) into its own bounding box plus ``pad``; and that box's top-left."""
    h, w = patch.shape[:2]
    corners = np.array([[-0.5, -0.5, 1], [w - 0.5, -0.5, 1], [w - 0.5, h - 0.5, 1], [-0.5, h - 0.5, 1]]) @ matrix.T
    xy = corners[:, :2] / corners[:, 2:]
    x0, y0 = math.floor(xy[:, 0].min()) - pad, math.floor(xy[:, 1].min()) - pad
    size = (math.ceil(xy[:, 0].max()) + pad + 1 - x0, math.ceil(xy[:, 1].max()) + pad + 1 - y0)
    shifted = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0], [0.0, 0.0, 1.0]]) @ matrix
    out = cv2.warpPerspective(patch, shifted, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out, x0, y0


@dataclass
class _Warped:
    """A logo warped into the frame: coverage, premultiplied colour (``None`` for monochrome icons), mask, top-left."""

    alpha: np.ndarray
    color: np.ndarray | None
    mask: np.ndarray
    x: int
    y: int
    region: int | None = None


def _warp_colors(asset: LogoAsset, long_side: int, warp: Any, pad: int | None) -> np.ndarray | None:
    """The premultiplied colours of a multi-colour logo warped like its alpha (monochrome icons are painted later: ``None``)."""
    if asset.is_monochrome:
        return None
    patch = np.ascontiguousarray(asset.render(long_side)[..., :3])
    return _warp_at(patch, warp, pad)[0] if pad is not None else warp_patch(patch, warp)


def _place_on_region(
    asset: LogoAsset, view: SceneView, used: set[int], occupancy: Occupancy, rng: np.random.Generator, cfg: SynthConfig, pad: int
) -> _Warped | None:
    """Try regions until a warped logo fits, or ``None``.

    Only the logo's alpha is rendered and warped while trying (the colours
    follow once a place is found); warps that are too small or too skewed are
    rejected before anything is rendered.
    """
    homography = _homography() if cfg.use_planes else None
    lo, hi = (math.log(s) for s in cfg.region_scale)
    cap = max(cfg.scale[1] * min(cfg.size), cfg.min_logo_px)
    for _ in range(cfg.placement_tries):
        region = choose_region(view, used, rng)
        assert region is not None
        # the part of the region inside the frame: clamp the centre there and shrink the radius to fit
        bx0, by0, bx1, by1 = region.bbox
        r = max(min(region.inner_radius, (bx1 - bx0) / 2.0, (by1 - by0) / 2.0), 0.5)
        cx0 = min(max(region.center[0], bx0 + r - 0.5), bx1 - r - 0.5)
        cy0 = min(max(region.center[1], by0 + r - 0.5), by1 - r - 0.5)
        size = min(max(2.0 * r * math.exp(rng.uniform(lo, hi)), cfg.min_logo_px), cap)
        angle = float(rng.uniform(-cfg.rotation, cfg.rotation))
        spread = max(r - size / 2.0, 0.0) * 0.5 * math.sqrt(rng.random())
        theta = rng.uniform(0.0, 2.0 * math.pi)
        center = (cx0 + spread * math.cos(theta), cy0 + spread * math.sin(theta))
        long_side = round(size)
        w, h = asset.render_shape(long_side)
        if homography is not None and region.normal is not None:
            try:
                matrix = homography(region.normal, view.focal, center, float(max(w, h)), angle, (w, h), principal=view.principal)
            except ValueError:
                continue
        else:
            shift = rng.uniform(-cfg.perspective, cfg.perspective, size=(4, 2)) if cfg.perspective > 0 else None
            base = logo_warp(w, h, angle, shift).matrix
            c = base @ [(w - 1) / 2.0, (h - 1) / 2.0, 1.0]
            matrix = np.array([[1.0, 0.0, center[0] - c[0] / c[2]], [0.0, 1.0, center[1] - c[1] / c[2]], [0.0, 0.0, 1.0]]) @ base
        side, aniso = warp_quality(matrix, w, h)
        if side < cfg.min_warp_px or aniso > cfg.max_anisotropy:
            continue
        alpha, x, y = _warp_at(asset.render(long_side, alpha_only=True), matrix, pad)
        mask = alpha >= cfg.mask_threshold
        if np.count_nonzero(mask) < cfg.min_mask_px or region_fraction(view.labels, region.label, mask, x, y) < cfg.min_in_region:
            continue
        if occupancy.check(mask, x, y, cfg).ok:
            return _Warped(alpha, _warp_colors(asset, long_side, matrix, pad), mask, x, y, region.label)
    return None


def _place_random(asset: LogoAsset, occupancy: Occupancy, rng: np.random.Generator, cfg: SynthConfig, pad: int) -> _Warped | None:
    """The region-free placement: random size, rotation and perspective jitter, uniform position."""
    long_side = sample_logo_long_side(rng, cfg)
    w, h = asset.render_shape(long_side)
    warp = sample_logo_warp(rng, cfg, w, h, pad)
    side, aniso = warp_quality(warp.matrix, w, h)
    if side < cfg.min_warp_px or aniso > cfg.max_anisotropy:
        return None
    alpha = warp_patch(asset.render(long_side, alpha_only=True), warp)
    mask = alpha >= cfg.mask_threshold
    if np.count_nonzero(mask) < cfg.min_mask_px:
        return None
    pos = choose_position(mask, occupancy, rng, cfg)
    return None if pos is None else _Warped(alpha, _warp_colors(asset, long_side, warp, None), mask, pos[0], pos[1])


def _paint(
    canvas: np.ndarray,
    asset: LogoAsset,
    occupancy: Occupancy,
    view: SceneView | None,
    used: set[int],
    mode: str,
    rng: np.random.Generator,
    cfg: SynthConfig,
    labelled: bool = True,
) -> np.ndarray | None:
    """Place, recolour and blend one logo (or distractor); the new canvas, or ``None`` when it found no place."""
    pad = math.ceil(3.0 * max(cfg.feather, cfg.blur_sigma, 1.0) + cfg.motion_blur_px / 2.0) + 1
    placed = None
    on_region = cfg.region_prob >= 1.0 or (cfg.region_prob > 0.0 and rng.random() < cfg.region_prob)
    if view is not None and view.regions and on_region:
        placed = _place_on_region(asset, view, used, occupancy, rng, cfg, pad)
        if placed is not None:
            used.add(placed.region)  # type: ignore[arg-type]
    if placed is None:
        placed = _place_random(asset, occupancy, rng, cfg, pad)
        if placed is None:
            return None
    alpha, mask, x, y = placed.alpha, placed.mask, placed.x, placed.y
    if cfg.plate_prob > 0.0 and rng.random() < cfg.plate_prob:
        shape = PLATE_SHAPES[int(rng.integers(len(PLATE_SHAPES)))]
        plate, p = plate_alpha(mask, float(rng.uniform(*cfg.plate_margin)), shape)
        plate[occupancy.covered(plate.shape, x - p, y - p)] = 0.0  # never over a labelled logo
        colors = plate_colors(plate, rng, asset.brand_color)
        canvas = alpha_blend(canvas, colors * plate[..., None], plate, x - p, y - p, inplace=True)
    rgb = logo_colors(canvas, asset, alpha, placed.color, mask, x, y, rng, cfg)
    a = feather_alpha(alpha, cfg.feather) if mode == "feather" else alpha
    a = a * np.float32(rng.uniform(cfg.opacity[0], cfg.opacity[1]))
    premul = rgb * a[..., None]
    if rng.random() < cfg.blur_prob and cfg.blur_sigma > 0:
        sigma = float(rng.uniform(0.3, max(cfg.blur_sigma, 0.3)))
        premul, a = gaussian_blur(premul, sigma), gaussian_blur(a, sigma)
    if rng.random() < cfg.motion_blur_prob and cfg.motion_blur_px >= 2:
        length, angle = float(rng.uniform(2.0, cfg.motion_blur_px)), float(rng.uniform(0.0, 180.0))
        premul, a = motion_blur(premul, length, angle), motion_blur(a, length, angle)
    if rng.random() < cfg.shadow_prob:
        long_side = max(mask.shape)
        theta, dist = rng.uniform(0.0, 2.0 * math.pi), rng.uniform(0.02, 0.08) * long_side
        shadow, m = drop_shadow_alpha(
            alpha,
            (round(dist * math.cos(theta)), round(dist * math.sin(theta))),
            0.5 + rng.uniform(0.01, 0.05) * long_side,
            float(rng.uniform(*cfg.shadow_opacity)),
        )
        canvas = alpha_blend(canvas, np.zeros((*shadow.shape, 3), np.float32), shadow, x - m, y - m, inplace=True)
    occupancy.add(mask, x, y, labelled)
    mixed = bool(rng.random() < cfg.poisson_mixed_prob)  # drawn in every mode: the same draws follow whatever the mode
    if mode == "poisson":
        canvas = poisson_blend(canvas, premul, a, x, y, mixed=mixed)
    else:
        canvas = alpha_blend(canvas, premul, a, x, y, inplace=True)
    if rng.random() < cfg.jpeg_artifact_prob:
        degrade_jpeg_patch(canvas, a, x, y, int(rng.integers(cfg.jpeg_artifact_quality[0], cfg.jpeg_artifact_quality[1] + 1)))
    return canvas


def compose(
    background: np.ndarray,
    bank: LogoBank,
    rng: np.random.Generator,
    cfg: SynthConfig,
    analysis: BackgroundAnalysis | None = None,
    *,
    distractors: DistractorBank | None = None,
) -> Composition:
    """Compose one synthetic image from a background and the logo bank.

    The background is random-cropped (cover, aspect kept) and resized to
    ``cfg.size``; one blending mode is drawn for the image from
    ``cfg.blend_probs``. Then up to ``sample_logo_count`` logos (class by
    ``cfg.class_balance``, variant uniform) and, with a distractor bank,
    ``cfg.distractors`` unlabelled icons, in random order, are placed:

    - with ``analysis`` (of the uncropped background) and ``cfg.use_regions``,
      for a ``cfg.region_prob`` fraction of the logos: on a region visible in the crop (area-weighted, unused ones first), the
      long side a ``cfg.region_scale`` fraction of the region's inscribed
      diameter, warped by the homography of the region's plane
      (``cfg.use_planes``; else a similarity plus perspective jitter), at least
      ``cfg.min_in_region`` of the mask inside the region; a logo that fits no
      region falls back to the next mode;
    - else: random size, rotation and perspective jitter, uniform position.

    Warps shorter than ``cfg.min_warp_px`` or more skewed than
    ``cfg.max_anisotropy`` are rejected. Each logo is painted (monochrome icons
    by ``cfg.color_model``), colour-jittered, optionally shaded by the
    background's luminance, noised, JPEG-degraded, blurred or motion-blurred,
    given a drop shadow, and blended. Positions respect ``cfg.max_truncation``,
    ``cfg.max_overlap`` (distractors count as occluders) and
    ``cfg.min_visibility``; a logo that finds no valid position is left out.

    Args:
        background: ``uint8 [H, W, 3]`` RGB photo.
        bank: the logo classes and their artwork.
        rng: the generator every random choice is drawn from.
        cfg: synthesis settings.
        analysis: the background's regions and planes (see
            :class:`~logodet.synth.surfaces.BackgroundAnalysis`), or ``None``.
        distractors: icons pasted unlabelled (the bank's class names are
            never drawn), or ``None``.

    Returns:
        The ``uint8 [cfg.size[1], cfg.size[0], 3]`` image and its labelled
        instances (boxes are the tight boxes of the visible masks).

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
    window = sample_crop_window(background.shape[:2], (width, height), rng, cfg.bg_crop_scale)
    canvas = apply_crop(background, window, (width, height))
    view = None
    if cfg.use_regions and isinstance(analysis, BackgroundAnalysis):
        bg_h, bg_w = background.shape[:2]
        if (analysis.width, analysis.height) != (bg_w, bg_h):
            raise ValueError(f"compose: analysis is of a {analysis.width}x{analysis.height} image, the background is {bg_w}x{bg_h}")
        view = crop_analysis(analysis, window, (width, height))
    occupancy = Occupancy((height, width))
    n_logos = sample_logo_count(rng, cfg)
    n_distract = 0
    if distractors is not None and cfg.distractors[1] > 0:
        n_distract = int(rng.integers(cfg.distractors[0], cfg.distractors[1] + 1))
    if n_logos + n_distract == 0:
        return Composition(canvas, [])
    weights = np.array([max(float(cfg.blend_probs.get(m, 0.0)), 0.0) for m in BLEND_MODES])
    mode = BLEND_MODES[int(rng.choice(len(BLEND_MODES), p=weights / weights.sum()))]
    order = rng.permutation(np.r_[np.ones(n_logos, bool), np.zeros(n_distract, bool)])
    exclude = frozenset(bank.class_names)
    used: set[int] = set()
    sources: list[tuple[int, str] | None] = []
    for labelled in order:
        if labelled:
            class_index = sample_class(bank, rng, cfg)
            asset = sample_variant(bank.variants(class_index), rng, cfg.crop_share)
        else:
            asset = distractors.sample(rng, exclude)  # type: ignore[union-attr]
            if asset is None:
                continue
        painted = _paint(canvas, asset, occupancy, view, used, mode, rng, cfg, labelled=bool(labelled))
        if painted is not None:
            canvas = painted
            sources.append((class_index, asset.path.name) if labelled else None)
    instances = []
    for i, visible in enumerate(occupancy.visible_masks()):
        src = sources[i]
        if src is None:
            continue  # a distractor: pasted, never labelled
        visibility, occlusion, truncation = occupancy.stats(i)
        box = mask_to_bbox(visible)
        if box is None or visibility < cfg.min_visibility or np.count_nonzero(visible) < cfg.min_mask_px:
            continue  # unreachable with the placement checks; kept as the contract
        instances.append(Instance(src[0], visible, box, visibility, occlusion, truncation, src[1]))
    return Composition(canvas, instances)
