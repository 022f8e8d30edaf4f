"""One composed image: exact masks and boxes, caps on overlap and truncation, determinism, the empty case."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as coco_mask

from logodet.assets.logos import LogoAsset, LogoBank
from logodet.masks import mask_to_bbox, rle_decode, rle_encode
from logodet.synth.augment import cover_crop, jitter_colors, logo_warp, sample_logo_long_side, warp_patch
from logodet.synth.blend import alpha_blend, clip_window, feather_alpha
from logodet.synth.compose import compose, sample_logo_count, sample_variant
from logodet.synth.config import SynthConfig
from logodet.synth.placement import Occupancy, choose_position

from .conftest import smooth_backgrounds

CFG = SynthConfig(size=(128, 96))
# the appearance operations that change colours, all off (colour checks need the exact paint)
PLAIN_LOOK = dict(
    motion_blur_prob=0.0, noise_prob=0.0, jpeg_artifact_prob=0.0, shading_prob=0.0, shadow_prob=0.0, blend_probs={"alpha": 1.0}
) | dict(plate_prob=0.0, two_tone_prob=0.0)
CROWDED = dataclasses.replace(CFG, min_logos=4, max_logos=6, empty_prob=0.0, scale=(0.3, 0.7), max_overlap=0.3, max_truncation=0.2)


def _compose(bank: LogoBank, seed: int, cfg: SynthConfig = CFG) -> tuple:
    bg = smooth_backgrounds(1, seed=seed)[0]
    return compose(bg, bank, np.random.default_rng([7, seed]), cfg)


def test_image_shape_and_instances(bank: LogoBank) -> None:
    comp = _compose(bank, 0)
    assert comp.image.shape == (96, 128, 3) and comp.image.dtype == np.uint8
    for inst in comp.instances:
        assert 0 <= inst.class_index < bank.num_classes
        assert inst.mask.shape == (96, 128) and inst.mask.dtype == bool
        assert inst.source.endswith(".svg")


@pytest.mark.parametrize("seed", range(12))
def test_box_is_box_of_decoded_rle(bank: LogoBank, seed: int) -> None:
    comp = _compose(bank, seed, CROWDED)
    for inst in comp.instances:
        rle = rle_encode(inst.mask)
        decoded = rle_decode(rle)
        assert np.array_equal(decoded, inst.mask)
        assert inst.bbox == mask_to_bbox(decoded)
        x, y, w, h = coco_mask.toBbox({"size": rle["size"], "counts": rle["counts"].encode()}).tolist()
        assert inst.bbox == (x, y, x + w, y + h)
        assert inst.area == int(decoded.sum()) >= CFG.min_mask_px


@pytest.mark.parametrize("seed", range(25))
def test_caps_on_overlap_truncation_and_visibility(bank: LogoBank, seed: int) -> None:
    comp = _compose(bank, seed, CROWDED)
    masks = [i.mask for i in comp.instances]
    for a in range(len(masks)):
        for b in range(a + 1, len(masks)):
            assert not np.any(masks[a] & masks[b])  # visible masks are disjoint: later logos occlude earlier ones
    for inst in comp.instances:
        assert inst.occlusion <= CROWDED.max_overlap + 1e-9
        assert inst.truncation <= CROWDED.max_truncation + 1e-9
        assert inst.visibility >= CROWDED.min_visibility


def test_crowded_images_do_overlap(bank: LogoBank) -> None:
    occlusions = [i.occlusion for s in range(25) for i in _compose(bank, s, CROWDED).instances]
    assert max(occlusions) > 0.05  # the cap is exercised, not avoided by never overlapping


def test_occupancy_cap_checked_independently() -> None:
    cfg = SynthConfig(size=(40, 40), max_overlap=0.25, max_truncation=0.5, min_visibility=0.3, min_mask_px=1)
    rng = np.random.default_rng(0)
    occ = Occupancy((40, 40))
    full_masks = []
    for _ in range(40):
        m = np.ones((int(rng.integers(6, 16)), int(rng.integers(6, 16))), bool)
        pos = choose_position(m, occ, rng, cfg)
        if pos is None:
            continue
        frame = np.zeros((40, 40), bool)
        win = clip_window((40, 40), m.shape, *pos)
        frame[win[0], win[1]] = m[win[2], win[3]]
        assert 1 - frame.sum() / m.sum() <= cfg.max_truncation + 1e-9
        occ.add(m, *pos)
        full_masks.append(frame)
    assert len(full_masks) >= 4
    for i, (full, visible) in enumerate(zip(full_masks, occ.visible_masks(), strict=True)):
        covered_by_later = np.zeros_like(full)
        for later in full_masks[i + 1 :]:
            covered_by_later |= later
        assert np.array_equal(visible, full & ~covered_by_later)
        assert (full & covered_by_later).sum() / full.sum() <= cfg.max_overlap + 1e-9


def test_same_rng_same_image_other_seed_other_image(bank: LogoBank) -> None:
    a, b = _compose(bank, 3), _compose(bank, 3)
    assert np.array_equal(a.image, b.image)
    assert [i.bbox for i in a.instances] == [i.bbox for i in b.instances]
    assert not np.array_equal(a.image, _compose(bank, 4).image)


@pytest.mark.parametrize("cfg", [dataclasses.replace(CFG, min_logos=0, max_logos=0), dataclasses.replace(CFG, empty_prob=1.0)])
def test_empty_case(bank: LogoBank, cfg: SynthConfig) -> None:
    bg = smooth_backgrounds(1)[0]
    comp = compose(bg, bank, np.random.default_rng(0), cfg)
    assert comp.instances == []
    plain = cover_crop(bg, cfg.size, np.random.default_rng(0), cfg.bg_crop_scale)
    assert np.array_equal(comp.image, plain)  # nothing painted


def test_mixed_bank_variants_and_monochrome_tint(mixed_bank: LogoBank) -> None:
    plain = dataclasses.replace(
        CFG, brightness=0, contrast=0, saturation=0, hue=0, blur_prob=0, opacity=(1.0, 1.0), feather=0, neutral_tint_prob=0, empty_prob=0
    )
    plain = dataclasses.replace(plain, max_overlap=0.0, **PLAIN_LOOK)  # no overlap: every logo lands on white
    white = np.full((96, 128, 3), 255, np.uint8)
    seen_sources, mono_checked = set(), False
    for seed in range(30):
        comp = compose(white, mixed_bank, np.random.default_rng(seed), plain)
        for inst in comp.instances:
            seen_sources.add(inst.source)
            core = cv2.erode(inst.mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)  # away from soft edges
            if mixed_bank.class_names[inst.class_index] == "mono" and core.sum() > 20:
                colours = comp.image[core]
                assert np.abs(np.median(colours, axis=0) - (0, 150, 60)).max() <= 3  # brand colour on white
                mono_checked = True
    assert {"wide.png", "tall.png", "mono.svg"} <= seen_sources
    assert mono_checked


def test_sample_logo_count_distribution() -> None:
    rng = np.random.default_rng(0)
    counts = [sample_logo_count(rng, SynthConfig(min_logos=1, max_logos=3, empty_prob=0.2)) for _ in range(2000)]
    assert set(counts) == {0, 1, 2, 3}
    assert 0.15 < counts.count(0) / len(counts) < 0.25


def test_logo_size_follows_scale() -> None:
    cfg = SynthConfig(size=(200, 100), scale=(0.2, 0.4), min_logo_px=4)
    sizes = [sample_logo_long_side(np.random.default_rng(i), cfg) for i in range(200)]
    assert min(sizes) >= 20 and max(sizes) <= 40


def test_cover_crop_keeps_aspect() -> None:
    img = np.zeros((100, 300, 3), np.uint8)
    img[:, 100:200] = 255  # a white band in the middle third
    out = cover_crop(img, (50, 50), np.random.default_rng(0), (1.0, 1.0))
    assert out.shape == (50, 50, 3)
    cols = out[25, :, 0]
    assert ((cols == 0) | (cols == 255)).mean() > 0.9  # a square window resized 2x: the band is not stretched


def test_identity_warp_is_integer_shift() -> None:
    patch = np.random.default_rng(0).random((5, 7, 4)).astype(np.float32)
    warp = logo_warp(7, 5, pad=3)
    out = warp_patch(patch, warp)
    assert warp.size == (13, 11)
    assert np.allclose(out[3:8, 3:10], patch, atol=1e-5)
    assert out[:3].sum() == 0 and out[8:].sum() == 0


def test_rotation_keeps_area() -> None:
    patch = np.zeros((40, 40, 4), np.float32)
    patch[10:30, 5:35] = 1.0
    out = warp_patch(patch, logo_warp(40, 40, angle_deg=30, pad=2))
    assert abs(out[..., 3].sum() - 600) < 15


def test_jitter_disabled_is_identity() -> None:
    rgb = np.random.default_rng(0).random((6, 6, 3)).astype(np.float32)
    cfg = SynthConfig(brightness=0, contrast=0, saturation=0, hue=0)
    assert np.allclose(jitter_colors(rgb, np.random.default_rng(0), cfg), rgb, atol=1e-5)


def test_alpha_blend_and_feather() -> None:
    canvas = np.full((6, 6, 3), 100, np.uint8)
    alpha = np.ones((4, 4), np.float32)
    out = alpha_blend(canvas, np.full((4, 4, 3), 1.0, np.float32), alpha, 4, -2)  # partly outside
    assert (out[:2, 4:] == 255).all() and (out[2:, :] == 100).all() and (out[:, :4] == 100).all()
    assert (canvas == 100).all()  # input untouched
    half = alpha_blend(canvas, np.full((4, 4, 3), 0.5, np.float32), alpha * 0.5, 0, 0)
    assert int(half[0, 0, 0]) == round(127.5 + 50)
    a = np.zeros((11, 11), np.float32)
    a[3:8, 3:8] = 1
    soft = feather_alpha(a, 1.0)
    assert 0 < soft[2, 5] < 0.5 < soft[5, 5] <= 1.0
    assert np.array_equal(feather_alpha(a, 0.0), a)


def test_background_must_be_rgb(bank: LogoBank) -> None:
    with pytest.raises(ValueError, match="uint8"):
        compose(np.zeros((10, 10), np.uint8), bank, np.random.default_rng(0), CFG)


def _asset(name: str) -> LogoAsset:
    return LogoAsset("duo", Path(name), np.full((8, 8, 4), 255, np.uint8))


def test_sample_variant_draws_crops_with_their_share() -> None:
    art = [_asset("duo.svg"), _asset("duo-alt.png")]
    crops = [_asset(f"crop-{i}-photo-0.png") for i in range(8)]
    variants = art + crops

    def crop_fraction(share: float | None, n: int = 4000) -> float:
        rng = np.random.default_rng(0)
        return sum(sample_variant(variants, rng, share).path.name.startswith("crop-") for _ in range(n)) / n

    assert crop_fraction(None) == pytest.approx(0.8, abs=0.03)  # every variant alike: 8 of 10
    assert crop_fraction(0.25) == pytest.approx(0.25, abs=0.03)
    assert crop_fraction(0.0) == 0.0 and crop_fraction(1.0) == 1.0
    # within a kind, uniform: both artwork files are drawn
    rng = np.random.default_rng(1)
    assert {sample_variant(variants, rng, 0.0).path.name for _ in range(200)} == {"duo.svg", "duo-alt.png"}
    # one kind only: the share cannot apply, every variant stays reachable
    rng = np.random.default_rng(2)
    assert {sample_variant(crops, rng, 0.0).path.name for _ in range(300)} == {c.path.name for c in crops}
    assert sample_variant(art, np.random.default_rng(3), 1.0).path.name in {"duo.svg", "duo-alt.png"}


def test_crop_share_none_keeps_the_random_stream(bank: LogoBank) -> None:
    # datasets made before crop_share existed stay the same images (their fingerprint omits the neutral value)
    a, b = _compose(bank, 3), _compose(bank, 3, dataclasses.replace(CFG, crop_share=0.5))
    assert np.array_equal(a.image, b.image)  # the example bank has no crops: no extra draw either
    with pytest.raises(ValueError, match="crop_share"):
        SynthConfig(crop_share=1.5)
