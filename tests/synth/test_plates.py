"""Backing plates and two-tone paint: plate shapes cover the logo with a margin, never cover labelled logos, leave labels alone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from logodet.assets.logos import LogoBank
from logodet.masks import mask_to_bbox
from logodet.synth.compose import compose
from logodet.synth.config import SynthConfig
from logodet.synth.plates import PLATE_SHAPES, plate_alpha, plate_colors, two_tone

from .conftest import smooth_backgrounds


def _bar(h: int = 30, w: int = 60) -> np.ndarray:
    m = np.zeros((h, w), bool)
    m[8:22, 10:50] = True
    return m


@pytest.mark.parametrize("shape", PLATE_SHAPES)
def test_plate_covers_the_logo_and_a_margin(shape: str) -> None:
    mask = _bar()
    alpha, pad = plate_alpha(mask, 0.2, shape)
    assert alpha.shape == (mask.shape[0] + 2 * pad, mask.shape[1] + 2 * pad)
    assert alpha.dtype == np.float32 and alpha.min() >= 0.0 and alpha.max() <= 1.0
    inside = alpha[pad : pad + mask.shape[0], pad : pad + mask.shape[1]]
    assert inside[mask].min() > 0.99  # the whole logo is on the plate
    plate = alpha > 0.5
    x0, y0, x1, y1 = mask_to_bbox(plate)
    # wider than the 40x14 logo by about the margin (0.2 x 40 = 8 px each side) and not the whole patch
    assert 40 + 8 <= x1 - x0 <= 40 + 4 * 8 + 20 and y1 - y0 >= 14 + 8
    assert not plate[0].any() and not plate[-1].any()


def test_plate_margin_grows_the_plate_and_bad_input_is_refused() -> None:
    small = (plate_alpha(_bar(), 0.05, "rounded")[0] > 0.5).sum()
    large = (plate_alpha(_bar(), 0.4, "rounded")[0] > 0.5).sum()
    assert large > 1.5 * small
    with pytest.raises(ValueError, match="plate shape"):
        plate_alpha(_bar(), 0.1, "star")
    with pytest.raises(ValueError, match="empty mask"):
        plate_alpha(np.zeros((5, 5), bool), 0.1, "hull")


def test_plate_colors_are_one_colour_lit_by_a_gradient() -> None:
    alpha, _ = plate_alpha(_bar(), 0.2, "ellipse")
    for seed in range(6):
        rgb = plate_colors(alpha, np.random.default_rng(seed), (200, 10, 10))
        assert rgb.shape == (*alpha.shape, 3) and rgb.dtype == np.float32
        assert rgb.min() >= 0.0 and rgb.max() <= 1.0
    a = plate_colors(alpha, np.random.default_rng(3))
    assert np.array_equal(a, plate_colors(alpha, np.random.default_rng(3)))


def test_two_tone_mixes_the_paint_with_another_colour() -> None:
    paint = np.array([0.9, 0.1, 0.1], np.float32)
    seen_two = 0
    for seed in range(8):
        rgb = two_tone(paint, (20, 30), np.random.default_rng(seed))
        assert rgb.shape == (20, 30, 3)
        colours = np.unique(np.round(rgb.reshape(-1, 3), 2), axis=0)
        seen_two += len(colours) >= 2
        assert np.abs(rgb - paint).reshape(-1, 3).sum(1).min() < 0.05  # the paint itself is still there
    assert seen_two >= 6


def test_plates_change_pixels_not_labels(bank: LogoBank) -> None:
    cfg = SynthConfig(size=(160, 120), min_logos=2, max_logos=3, empty_prob=0.0, scale=(0.2, 0.5), distractors=(0, 0), plate_prob=0.0)
    cfg = dataclasses.replace(cfg, two_tone_prob=0.0)
    on = dataclasses.replace(cfg, plate_prob=1.0, two_tone_prob=1.0)
    changed = 0
    for seed in range(10):
        bg = smooth_backgrounds(1, seed=seed)[0]
        comp = compose(bg, bank, np.random.default_rng(seed), on)
        for inst in comp.instances:
            assert inst.bbox == mask_to_bbox(inst.mask)  # labels stay the logo's own mask
        plain = compose(bg, bank, np.random.default_rng(seed), cfg)
        changed += int(not np.array_equal(plain.image, comp.image))
    assert changed == 10
    with pytest.raises(ValueError, match="plate_prob"):
        SynthConfig(plate_prob=2.0)
    with pytest.raises(ValueError, match="plate_margin"):
        SynthConfig(plate_margin=(0.3, 0.1))


def test_covered_window_counts_labelled_logos_only() -> None:
    """Plates are cleared where ``Occupancy.covered`` is true: labelled logos, not distractors."""
    from logodet.synth.placement import Occupancy

    occ = Occupancy((10, 10))
    m = np.zeros((10, 10), bool)
    m[2:5, 2:5] = True
    occ.add(m, 0, 0)
    occ.add(np.ones((2, 2), bool), 8, 8, labelled=False)
    cov = occ.covered((6, 6), 1, 1)
    assert cov.sum() == 9 and cov[1:4, 1:4].all()  # the labelled square only, shifted into the window
    assert not occ.covered((3, 3), 20, 20).any()
