"""Blending modes: Poisson stays in its crop and is deterministic; labels do not depend on the mode; every switch off composes."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from logodet.assets.logos import LogoBank
from logodet.masks import mask_to_bbox
from logodet.synth.blend import _POISSON_GROW, alpha_blend, poisson_blend, poisson_window
from logodet.synth.compose import compose
from logodet.synth.config import SynthConfig
from logodet.synth.surfaces import BackgroundAnalysis, SurfaceRegion

from .conftest import smooth_backgrounds


def _patch() -> tuple[np.ndarray, np.ndarray]:
    alpha = np.zeros((14, 18), np.float32)
    alpha[3:11, 3:15] = 1.0
    rgb = np.zeros((14, 18, 3), np.float32)
    rgb[..., 0] = 0.9
    rgb[5:9, 6:12, 1] = 1.0
    return rgb * alpha[..., None], alpha


@pytest.mark.parametrize("mixed", [False, True])
@pytest.mark.parametrize("pos", [(30, 20), (-4, 50), (70, -5), (74, 56)])
def test_poisson_changes_only_the_crop_around_the_logo(mixed: bool, pos: tuple[int, int]) -> None:
    bg = smooth_backgrounds(1, seed=2, shape=(64, 90))[0]
    premul, alpha = _patch()
    x, y = pos
    out = poisson_blend(bg, premul, alpha, x, y, mixed=mixed, margin=5)
    x0, y0, x1, y1 = poisson_window(bg.shape[:2], alpha.shape, x, y, 5)
    outside = np.ones(bg.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[outside], bg[outside])
    assert not np.array_equal(out, bg)
    assert np.array_equal(out, poisson_blend(bg, premul, alpha, x, y, mixed=mixed, margin=5))  # deterministic
    # strong changes only on the logo's coverage (rows 3-10, columns 3-14 of the patch) and the domain's ring
    ys, xs = np.nonzero((np.abs(out.astype(int) - bg) > 20).any(axis=2))
    grow = _POISSON_GROW
    assert ys.min() >= max(y + 3 - grow, 0) and xs.min() >= max(x + 3 - grow, 0)
    assert ys.max() <= y + 10 + grow and xs.max() <= x + 14 + grow


@pytest.mark.parametrize("mixed", [False, True])
@pytest.mark.parametrize("pos", [(60, 60), (-30, -20), (150, 170), (-5, 150)])
def test_poisson_keeps_the_logo_visible_also_where_the_image_border_cuts_it(mixed: bool, pos: tuple[int, int]) -> None:
    # A logo whose Poisson domain is too tight (seamlessClone erodes it) comes out invisible but still labelled.
    bg = smooth_backgrounds(1, seed=3, shape=(200, 200))[0]
    alpha = np.zeros((60, 80), np.float32)
    cv2.circle(alpha, (40, 30), 25, 1.0, -1)
    premul = np.zeros((60, 80, 3), np.float32)
    premul[..., 2] = 0.9 * alpha
    pasted = alpha_blend(bg, premul, alpha, *pos)
    logo = (pasted != bg).any(axis=2)
    change = np.abs(poisson_blend(bg, premul, alpha, *pos, mixed=mixed).astype(int) - bg)[logo].mean()
    assert change > 0.35 * np.abs(pasted.astype(int) - bg)[logo].mean()


def test_poisson_keeps_the_logo_in_place() -> None:
    bg = np.full((40, 50, 3), 120, np.uint8)
    premul, alpha = _patch()
    a, p = alpha_blend(bg, premul, alpha, 12, 9), poisson_blend(bg, premul, alpha, 12, 9)
    ga, gp = np.abs(np.diff(a[..., 1].astype(int), axis=1)), np.abs(np.diff(p[..., 1].astype(int), axis=1))
    for row in (14, 16):  # rows through the green bar: its two edges are the strongest inner gradients in both
        inner = slice(16, 26)
        assert sorted(np.argsort(gp[row, inner])[-2:]) == sorted(np.argsort(ga[row, inner])[-2:]) == [1, 7]


def _analysis(shape: tuple[int, int]) -> BackgroundAnalysis:
    h, w = shape
    labels = np.zeros((h, w), np.int32)
    labels[10 : h - 10, 10 : w // 2] = 1
    labels[10 : h - 10, w // 2 : w - 10] = 2
    regions = [
        SurfaceRegion(
            1, 1, (10, 10, w // 2, h - 10), ((10 + w // 2 - 1) / 2, (h - 1) / 2), min(w // 2 - 10, h - 20) / 2, (0.3, 0.0, -0.95), 0.9
        ),
        SurfaceRegion(2, 1, (w // 2, 10, w - 10, h - 10), ((w // 2 + w - 11) / 2, (h - 1) / 2), min(w // 2 - 10, h - 20) / 2, None),
    ]
    return BackgroundAnalysis(w, h, labels, regions, focal=float(w))


ABLATIONS = [
    {},
    {"use_regions": False},
    {"use_planes": False},
    {"color_model": "brand"},
    {"color_model": "random"},
    {"blend_probs": {"alpha": 1.0}},
    {"blend_probs": {"feather": 1.0}},
    {"blend_probs": {"poisson": 1.0}},
    {"distractors": (0, 0)},
    {"shading_prob": 0.0, "noise_prob": 0.0, "jpeg_artifact_prob": 0.0, "motion_blur_prob": 0.0, "shadow_prob": 0.0, "blur_prob": 0.0},
]


@pytest.mark.parametrize("switch", ABLATIONS, ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()) or "defaults")
def test_every_ablation_switch_composes(mixed_bank: LogoBank, switch: dict) -> None:
    cfg = dataclasses.replace(SynthConfig(size=(128, 96), min_logos=2, max_logos=3, empty_prob=0.0), **switch)
    bg = smooth_backgrounds(1, seed=1, shape=(120, 160))[0]
    analysis = _analysis((120, 160))
    total = 0
    for seed in range(4):
        comp = compose(bg, mixed_bank, np.random.default_rng(seed), cfg, analysis)
        assert comp.image.shape == (96, 128, 3)
        for inst in comp.instances:
            assert inst.bbox == mask_to_bbox(inst.mask)
            assert inst.occlusion <= cfg.max_overlap + 1e-9 and inst.truncation <= cfg.max_truncation + 1e-9
        total += len(comp.instances)
    assert total >= 4


def test_blend_mode_does_not_move_labels(bank: LogoBank) -> None:
    bg = smooth_backgrounds(1, seed=4)[0]
    base = SynthConfig(size=(128, 96), min_logos=1, max_logos=1, empty_prob=0.0)
    for seed in range(5):
        masks = [
            compose(bg, bank, np.random.default_rng(seed), dataclasses.replace(base, blend_probs={mode: 1.0})).instances[0].mask
            for mode in ("alpha", "feather", "poisson")
        ]
        assert np.array_equal(masks[0], masks[1]) and np.array_equal(masks[0], masks[2])  # the mode changes colours, not labels


def test_blend_probs_mix_modes(bank: LogoBank) -> None:
    cfg = SynthConfig(size=(64, 48), min_logos=1, max_logos=1, empty_prob=0.0, blend_probs={"alpha": 1.0, "poisson": 1.0})
    bg = smooth_backgrounds(1, seed=4)[0]
    images = {compose(bg, bank, np.random.default_rng(s), cfg).image.tobytes() for s in range(6)}
    assert len(images) == 6
    with pytest.raises(ValueError, match="blend_probs"):
        SynthConfig(blend_probs={"screen": 1.0})
