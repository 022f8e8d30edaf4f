"""Appearance operations: each changes the logo, is deterministic for a seed; the colour model keeps contrast."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from logodet.assets.brands import contrast_ratio
from logodet.assets.logos import LogoBank
from logodet.synth.appearance import (
    add_noise,
    choose_logo_color,
    drop_shadow_alpha,
    jpeg_artifacts,
    motion_blur,
    shade_by_luminance,
    under_patch,
)
from logodet.synth.compose import compose
from logodet.synth.config import SynthConfig

from .conftest import smooth_backgrounds


def _logo() -> tuple[np.ndarray, np.ndarray]:
    """A straight-colour logo with an inner pattern and its alpha."""
    rgb = np.zeros((24, 32, 3), np.float32)
    rgb[..., 0] = np.linspace(0.1, 0.9, 32)
    rgb[6:18, 8:24] = (0.2, 0.7, 0.3)
    alpha = np.zeros((24, 32), np.float32)
    alpha[4:20, 4:28] = 1.0
    return rgb, alpha


def test_noise_changes_and_is_deterministic() -> None:
    rgb, _ = _logo()
    a, b = add_noise(rgb, 0.05, np.random.default_rng(1)), add_noise(rgb, 0.05, np.random.default_rng(1))
    assert np.array_equal(a, b) and np.abs(a - rgb).mean() > 0.02
    assert not np.array_equal(a, add_noise(rgb, 0.05, np.random.default_rng(2)))


def test_jpeg_artifacts_change_and_are_deterministic() -> None:
    rgb, _ = _logo()
    low, again = jpeg_artifacts(rgb, 10), jpeg_artifacts(rgb, 10)
    assert np.array_equal(low, again) and low.shape == rgb.shape and low.dtype == np.float32
    assert np.abs(low - rgb).mean() > np.abs(jpeg_artifacts(rgb, 95) - rgb).mean() > 0


def test_motion_blur_smears_along_its_direction() -> None:
    p = np.zeros((21, 21, 4), np.float32)
    p[10, 10] = 1.0
    horiz, vert = motion_blur(p, 9, 0.0), motion_blur(p, 9, 90.0)
    assert np.array_equal(horiz, motion_blur(p, 9, 0.0))
    assert horiz[10, 6, 3] > 0 and horiz[6, 10, 3] == 0 and vert[6, 10, 3] > 0 and vert[10, 6, 3] == 0
    assert horiz[..., 3].sum() == pytest.approx(1.0, abs=1e-5)


def test_shading_follows_background_luminance() -> None:
    rgb, alpha = _logo()
    under = np.full((24, 32, 3), 200, np.uint8)
    under[:, :16] = 40  # a dark left half
    shaded = shade_by_luminance(rgb, under, alpha, 0.8)
    assert np.array_equal(shaded, shade_by_luminance(rgb, under, alpha, 0.8))
    assert shaded[12, 6].sum() < rgb[12, 6].sum() and shaded[12, 26].sum() > rgb[12, 26].sum()
    assert np.array_equal(shade_by_luminance(rgb, under, alpha, 0.0), rgb)


def test_shadow_is_offset_and_soft() -> None:
    _, alpha = _logo()
    shadow, m = drop_shadow_alpha(alpha, (3, 2), 1.5, 0.5)
    assert shadow.max() <= 0.5 + 1e-6
    ys, xs = np.nonzero(shadow > 0.25)
    assert ys.min() - m == 4 + 2 and xs.min() - m == 4 + 3  # shifted by (dx, dy)


def test_under_patch_replicates_out_of_frame() -> None:
    canvas = np.arange(5 * 6 * 3, dtype=np.uint8).reshape(5, 6, 3)
    under = under_patch(canvas, (4, 4), -2, 3)
    assert under.shape == (4, 4, 3)
    assert np.array_equal(under[0, 2], canvas[3, 0]) and np.array_equal(under[3, 0], canvas[4, 0])


@pytest.mark.parametrize("under", [(250, 250, 250), (10, 10, 10), (0, 100, 180), (200, 30, 40), (128, 128, 128)])
def test_contrast_color_model_reaches_min_contrast(under: tuple[int, int, int]) -> None:
    for seed in range(10):
        paint = choose_logo_color((0, 102, 177), under, np.random.default_rng(seed), "contrast", 2.5)
        assert contrast_ratio(paint, under) >= 2.5
    assert choose_logo_color((0, 102, 177), under, np.random.default_rng(0), "contrast", 2.5) == choose_logo_color(
        (0, 102, 177), under, np.random.default_rng(0), "contrast", 2.5
    )


def test_color_models() -> None:
    rng = np.random.default_rng(0)
    assert choose_logo_color((0, 102, 177), (255, 255, 255), rng, "contrast") == (0, 102, 177)  # brand colour kept when it contrasts
    assert choose_logo_color((0, 102, 177), (0, 100, 180), rng, "brand") in {(0, 0, 0), (255, 255, 255)}  # vanishing: neutral
    randoms = {choose_logo_color((0, 102, 177), (255, 255, 255), rng, "random") for _ in range(20)}
    assert len(randoms) > 10


@pytest.mark.parametrize(
    "op",
    [
        {"noise_prob": 1.0},
        {"jpeg_artifact_prob": 1.0, "jpeg_artifact_quality": (5, 10)},
        {"shading_prob": 1.0, "shading_strength": (1.0, 1.0)},
        {"motion_blur_prob": 1.0, "motion_blur_px": 9.0},
        {"shadow_prob": 1.0, "shadow_opacity": (0.8, 0.8)},
    ],
)
def test_each_op_changes_the_composed_logo(bank: LogoBank, op: dict) -> None:
    off = dict(noise_prob=0.0, jpeg_artifact_prob=0.0, shading_prob=0.0, motion_blur_prob=0.0, shadow_prob=0.0, blend_probs={"alpha": 1.0})
    off |= dict(plate_prob=0.0, two_tone_prob=0.0)
    base = SynthConfig(size=(128, 96), min_logos=1, max_logos=1, empty_prob=0.0, scale=(0.5, 0.6), **off)
    bg = smooth_backgrounds(1, seed=5, shape=(96, 128))[0]
    on = dataclasses.replace(base, **op)
    plain = compose(bg, bank, np.random.default_rng(3), base)
    a, b = compose(bg, bank, np.random.default_rng(3), on), compose(bg, bank, np.random.default_rng(3), on)
    assert np.array_equal(a.image, b.image)  # deterministic for a seed
    assert [i.bbox for i in a.instances] == [i.bbox for i in plain.instances]  # geometry unchanged by appearance
    (inst,) = a.instances
    assert np.abs(a.image[inst.mask].astype(int) - plain.image[inst.mask].astype(int)).mean() > 1.0 or (
        "shadow_prob" in op and np.abs(a.image.astype(int) - plain.image.astype(int)).mean() > 0.1
    )
