"""Background analysis: the entry point (regions, depth, planes), its config and its on-disk cache."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from logodet.synth.analysis import AnalysisCache, AnalysisConfig, analyze_background, config_key, whole_image_region
from logodet.synth.surfaces import BackgroundAnalysis

from .test_depth import tiny_depth_model
from .test_plane import angle_deg, render_plane


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"depth": "midas"}, "analysis.depth"),
        ({"depth": "onnx"}, "analysis.depth_model"),
        ({"depth_output": "inverse"}, "analysis.depth_output"),
        ({"max_tilt_deg": 0}, "analysis.max_tilt_deg"),
        ({"ransac_iterations": 0}, "ransac_iterations"),
        ({"fov_deg": 180}, "analysis.fov_deg"),
        ({"depth_std": (1, 0, 1)}, "depth_std"),
    ],
)
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AnalysisConfig(**kwargs)


def test_whole_image_without_depth():
    img = np.full((48, 64, 3), (10, 20, 30), np.uint8)
    res = analyze_background(img, AnalysisConfig(regions=False, depth="none"))
    assert (res.width, res.height) == (64, 48) and res.labels.dtype == np.int32 and (res.labels == 1).all()
    assert len(res.regions) == 1 and res.regions[0].normal is None and res.regions[0].mean_color == (10.0, 20.0, 30.0)
    assert res.depth is None and res.focal is None
    assert res.method == {"regions": "whole", "depth": "none", "planes": "none"}
    assert {"regions", "depth", "planes", "total", "plane_per_region"} <= set(res.timings)
    labels, regions = whole_image_region(np.zeros((5, 7), np.uint8))
    assert labels.shape == (5, 7) and regions[0].area == 35


def test_vanishing_normal_of_a_rendered_plane():
    img, normal, _ = render_plane(25, 30, 10)
    res = analyze_background(img, AnalysisConfig(regions=False, depth="vanishing"))
    assert res.method["planes"] == "vanishing"
    assert res.regions[0].normal is not None and angle_deg(res.regions[0].normal, normal) < 10.0


def test_steep_vanishing_plane_is_dropped():
    img, _, _ = render_plane(0, 50)
    res = analyze_background(img, AnalysisConfig(regions=False, depth="vanishing", max_tilt_deg=30))
    assert res.regions == []


def test_onnx_depth_then_ransac_at_full_resolution(tmp_path):
    pytest.importorskip("onnxruntime")
    model = tiny_depth_model(tmp_path / "tiny.onnx")
    cfg = AnalysisConfig(regions=False, depth="onnx", depth_model=str(model), depth_input_size=(32, 32), depth_output="depth", max_side=64)
    img = np.full((120, 160, 3), 128, np.uint8)  # constant 'depth': a fronto-parallel plane
    res = analyze_background(img, cfg)
    assert res.depth.shape == (120, 160) and res.labels.shape == (120, 160)
    assert res.method["planes"] == "ransac" and len(res.regions) == 1
    assert angle_deg(res.regions[0].normal, (0, 0, -1)) < 1.0 and res.regions[0].plane_inliers == 1.0
    assert res.regions[0].bbox == (0, 0, 160, 120) and res.focal == pytest.approx(160 / 2 / np.tan(np.radians(30)), rel=1e-6)


def test_planes_off_keeps_regions_unfitted():
    img, _, _ = render_plane(25, 30)
    res = analyze_background(img, AnalysisConfig(regions=False, planes=False))
    assert res.method["planes"] == "off" and res.regions[0].normal is None


def test_same_seed_same_analysis():
    img, _, _ = render_plane(20, -30)
    a, b = (analyze_background(img, AnalysisConfig(regions=False), seed=1) for _ in range(2))
    assert np.array_equal(a.labels, b.labels) and a.regions == b.regions and a.focal == b.focal


def test_real_segmenter_if_present():
    segment = pytest.importorskip("logodet.synth.segment")
    assert hasattr(segment, "segment_regions")
    img, _, _ = render_plane(20, 25)
    res = analyze_background(img[::2, ::2].copy(), AnalysisConfig(regions=True, depth="vanishing", max_side=320))
    assert res.labels.shape == (240, 320) and res.method["regions"] != "whole"
    present = set(np.unique(res.labels).tolist())
    assert all(r.label in present for r in res.regions)


# --- cache ----------------------------------------------------------------------------------


def _assert_same(a: BackgroundAnalysis, b: BackgroundAnalysis) -> None:
    assert np.array_equal(a.labels, b.labels) and a.labels.dtype == b.labels.dtype
    assert (a.depth is None and b.depth is None) or np.array_equal(a.depth, b.depth)
    assert a.regions == b.regions and a.focal == b.focal and a.method == b.method and a.timings == b.timings


class _Counter:
    def __init__(self, image, cfg):
        self.image, self.cfg, self.calls = image, cfg, 0

    def __call__(self):
        self.calls += 1
        return analyze_background(self.image, self.cfg)


def test_cache_hit_equal_arrays_and_config_miss(tmp_path):
    pytest.importorskip("onnxruntime")
    img = np.full((60, 80, 3), 90, np.uint8)  # constant 'depth': one planar region
    cfg = AnalysisConfig(regions=False, depth="onnx", depth_model=str(tiny_depth_model(tmp_path / "m.onnx")), depth_input_size=(32, 32))
    cache = AnalysisCache(tmp_path / "cache")
    key = img.tobytes()
    compute = _Counter(img, cfg)
    first = cache.load_or_compute(key, cfg, compute)
    second = cache.load_or_compute(key, cfg, compute)
    assert compute.calls == 1
    _assert_same(first, second)
    assert second.depth is not None and second.regions and isinstance(second.regions[0].normal, tuple)
    other = dataclasses.replace(cfg, max_tilt_deg=45.0)
    cache.load_or_compute(key, other, _Counter(img, other))
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2
    assert cache.key(key, cfg) != cache.key(key, other) and cache.key(key, cfg) != cache.key(key + b"x", cfg)


def test_cache_keys_files_by_content(tmp_path):
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    a.write_bytes(b"same bytes")
    b.write_bytes(b"same bytes")
    cache, cfg = AnalysisCache(tmp_path / "cache"), AnalysisConfig(regions=False, depth="none")
    assert cache.key(a, cfg) == cache.key(str(b), cfg) == cache.key(b"same bytes", cfg)
    assert json.loads(config_key(cfg))["depth"] == "none"


@pytest.mark.parametrize("damage", ["npz", "json", "missing_npz", "version"])
def test_corrupt_entry_is_recomputed_with_a_warning(tmp_path, damage):
    img = np.full((30, 40, 3), 77, np.uint8)
    cfg = AnalysisConfig(regions=False, depth="none")
    cache = AnalysisCache(tmp_path)
    first = cache.load_or_compute(img.tobytes(), cfg, _Counter(img, cfg))
    key = cache.key(img.tobytes(), cfg)
    npz, meta = tmp_path / f"{key}.npz", tmp_path / f"{key}.json"
    if damage == "npz":
        npz.write_bytes(b"garbage")
    elif damage == "json":
        meta.write_text("{not json")
    elif damage == "missing_npz":
        npz.unlink()
    else:
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "version": -1}))
    compute = _Counter(img, cfg)
    with pytest.warns(UserWarning, match=f"{key}.json: corrupt analysis cache entry"):
        again = cache.load_or_compute(img.tobytes(), cfg, compute)
    assert compute.calls == 1
    assert np.array_equal(again.labels, first.labels) and again.regions == first.regions
    _assert_same(cache.load_or_compute(img.tobytes(), cfg, _Counter(img, cfg)), again)  # repaired


@pytest.mark.parametrize("pose,texture", [((25, 30, 10), "checker"), ((-20, 35, 0), "bricks"), ((10, -45, 0), "bricks")])
def test_default_analysis_recovers_a_rendered_plane(pose, texture):
    """Regions (HED + merging), vanishing-point depth and planes, all at their defaults, on a plane of known pose."""
    img, normal, mask = render_plane(*pose, texture=texture)
    res = analyze_background(img, AnalysisConfig(), seed=0)
    assert res.method == {"regions": "default", "depth": "vanishing", "planes": "vanishing"}
    on_plane = {r.label: float(mask[res.labels == r.label].mean()) for r in res.regions}
    fitted = [r for r in res.regions if r.normal is not None]
    largest = max(res.regions, key=lambda r: r.area)
    assert on_plane[largest.label] > 0.95 and largest.normal is not None
    assert angle_deg(largest.normal, normal) < 10.0
    for r in fitted:  # every plane found lies on the textured plane and faces the right way
        assert on_plane[r.label] > 0.9 and angle_deg(r.normal, normal) < 10.0
