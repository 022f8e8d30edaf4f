"""Scene-aware placement: regions mapped through the crop, logos kept inside their region, warp rejection, class balance."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from logodet.assets.logos import LogoBank
from logodet.masks import mask_to_bbox
from logodet.synth.compose import compose, sample_class
from logodet.synth.config import SynthConfig
from logodet.synth.placement import SceneView, choose_region, crop_analysis, region_fraction, warp_quality
from logodet.synth.surfaces import BackgroundAnalysis, SurfaceRegion

from .conftest import smooth_backgrounds

CFG = SynthConfig(size=(160, 120), min_logos=1, max_logos=2, empty_prob=0.0, bg_crop_scale=(1.0, 1.0), scale=(0.1, 0.6))


def one_region(normal: tuple[float, float, float] | None = None) -> BackgroundAnalysis:
    """A 160x120 background analysis with one 70x50 region (label 5) off-centre, and the rest unusable."""
    labels = np.zeros((120, 160), np.int32)
    labels[20:70, 70:140] = 5
    region = SurfaceRegion(5, 3500, (70, 20, 140, 70), (104.5, 44.5), 25.0, normal, 0.9)
    return BackgroundAnalysis(160, 120, labels, [region], focal=200.0 if normal is not None else None)


@pytest.mark.parametrize("normal", [None, (0.0, 0.0, -1.0), (0.45, -0.2, -0.87)])
def test_region_placement_keeps_logo_inside(bank: LogoBank, normal: tuple[float, float, float] | None) -> None:
    analysis = one_region(normal)
    bg = smooth_backgrounds(1, shape=(120, 160))[0]
    inside = []
    for seed in range(12):
        comp = compose(bg, bank, np.random.default_rng(seed), CFG, analysis)
        for inst in comp.instances:
            assert inst.bbox == mask_to_bbox(inst.mask)
            inside.append(np.count_nonzero(inst.mask & (analysis.labels == 5)) / inst.area)
    assert len(inside) >= 10
    assert np.median(inside) >= CFG.min_in_region  # first logos go on the region; later ones may fall back when it is full
    assert sum(f >= CFG.min_in_region - 1e-9 for f in inside) >= 0.6 * len(inside)


def test_without_regions_logos_go_anywhere(bank: LogoBank) -> None:
    analysis = one_region()
    bg = smooth_backgrounds(1, shape=(120, 160))[0]
    off = dataclasses.replace(CFG, use_regions=False)
    inside = [
        np.count_nonzero(i.mask & (analysis.labels == 5)) / i.area
        for s in range(12)
        for i in compose(bg, bank, np.random.default_rng(s), off, analysis).instances
    ]
    assert np.mean(inside) < 0.6  # the region covers 18% of the frame


def test_region_prob_sends_a_share_of_logos_off_the_regions(bank: LogoBank) -> None:
    analysis = one_region()
    bg = smooth_backgrounds(1, shape=(120, 160))[0]

    def inside_share(cfg: SynthConfig) -> float:
        fractions = [
            np.count_nonzero(i.mask & (analysis.labels == 5)) / i.area
            for s in range(24)
            for i in compose(bg, bank, np.random.default_rng(s), cfg, analysis).instances
        ]
        return float(np.mean([f >= CFG.min_in_region - 1e-9 for f in fractions]))

    always, never = inside_share(CFG), inside_share(dataclasses.replace(CFG, region_prob=0.0))
    half = inside_share(dataclasses.replace(CFG, region_prob=0.5))
    assert always > 0.6 and never < 0.4  # the region covers 18% of the frame
    assert never < half < always
    with pytest.raises(ValueError, match="region_prob"):
        SynthConfig(region_prob=1.5)


def test_crop_analysis_maps_through_the_crop() -> None:
    analysis = one_region()
    view = crop_analysis(analysis, (60, 10, 80, 60), (160, 120))  # 2x zoom on the region's neighbourhood
    (reg,) = view.regions
    assert view.labels.shape == (120, 160)
    assert reg.center == pytest.approx(((104.5 + 0.5 - 60) * 2 - 0.5, (44.5 + 0.5 - 10) * 2 - 0.5))
    assert reg.inner_radius == 50.0 and reg.bbox == (20, 20, 160, 120)
    assert view.visible_area == [int(np.count_nonzero(view.labels == 5))]
    assert crop_analysis(analysis, (0, 80, 40, 30), (160, 120)).regions == []  # region not in the crop


def test_choose_region_prefers_unused_and_area() -> None:
    labels = np.ones((10, 30), np.int32)
    labels[:, 20:] = 2
    regs = [SurfaceRegion(1, 200, (0, 0, 20, 10), (9.5, 4.5), 5.0), SurfaceRegion(2, 100, (20, 0, 30, 10), (24.5, 4.5), 5.0)]
    view = SceneView(labels, regs, [200, 100], None, (15.0, 5.0))
    rng = np.random.default_rng(0)
    picks = [choose_region(view, set(), rng).label for _ in range(3000)]
    assert 0.62 < picks.count(1) / len(picks) < 0.71
    assert all(choose_region(view, {1}, rng).label == 2 for _ in range(20))


def test_region_fraction_and_warp_quality() -> None:
    labels = np.zeros((20, 20), np.int32)
    labels[:, 10:] = 1
    assert region_fraction(labels, 1, np.ones((4, 4), bool), 8, 0) == 0.5
    side, aniso = warp_quality(np.array([[0.0, -2.0, 5.0], [2.0, 0.0, 5.0], [0.0, 0.0, 1.0]]), 10, 5)  # rotation x2
    assert side == pytest.approx(10.0) and aniso == pytest.approx(1.0)
    skew = np.array([[1.0, 3.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert warp_quality(skew, 10, 10)[1] > 4.0


def test_skewed_and_tiny_warps_are_rejected(bank: LogoBank) -> None:
    analysis = one_region((0.866, 0.0, -0.5))  # a plane seen at 60 degrees: foreshortened by 2
    bg = smooth_backgrounds(1, shape=(120, 160))[0]
    one = dataclasses.replace(CFG, max_logos=1, perspective=0.0)

    def inside(cfg: SynthConfig) -> float:
        fr = [
            np.count_nonzero(i.mask & (analysis.labels == 5)) / i.area
            for s in range(10)
            for i in compose(bg, bank, np.random.default_rng(s), cfg, analysis).instances
        ]
        return float(np.mean(fr))

    assert inside(one) >= 0.8  # the foreshortened warp is accepted: logos on the region
    assert inside(dataclasses.replace(one, max_anisotropy=1.5)) < 0.6  # rejected on the region: random fallback
    tiny = dataclasses.replace(CFG, min_warp_px=500)
    assert all(not compose(bg, bank, np.random.default_rng(s), tiny, analysis).instances for s in range(4))


def test_class_balance_uniform_and_weighted(bank: LogoBank) -> None:
    rng = np.random.default_rng(0)
    n = bank.num_classes
    counts = np.bincount([sample_class(bank, rng, CFG) for _ in range(6000)], minlength=n)
    assert np.abs(counts / counts.sum() - 1.0 / n).max() < 0.03
    first = bank.class_names[0]
    weighted = dataclasses.replace(CFG, class_balance="weighted", class_weights={first: float(n)})  # first class: half of all draws
    counts = np.bincount([sample_class(bank, rng, weighted) for _ in range(6000)], minlength=n)
    assert abs(counts[0] / counts.sum() - n / (2 * n - 1)) < 0.03
    with pytest.raises(ValueError, match="class_weights"):
        sample_class(bank, rng, dataclasses.replace(weighted, class_weights={"no-such-brand": 1.0}))
