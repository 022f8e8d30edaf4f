"""Depth estimators: vanishing points on rendered planes of known pose, a tiny ONNX depth model, no depth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from logodet.synth.analysis import AnalysisConfig
from logodet.synth.depth import (
    DepthResult,
    NoDepth,
    OnnxDepthEstimator,
    focal_from_fov,
    make_depth_estimator,
    region_normal,
)
from logodet.synth.vanishing import VanishingPointEstimator

from .test_plane import FOCAL, angle_deg, render_plane

VP_POSES = [(0, 0, 0), (30, 0, 0), (0, 35, 0), (25, 25, 0), (-20, 30, 15), (40, -10, 30), (10, -45, 0)]


@pytest.mark.parametrize("pose", VP_POSES)
def test_vanishing_points_recover_checkerboard_pose(pose):
    img, normal, mask = render_plane(*pose)
    res = VanishingPointEstimator(fov_deg=60.0).estimate(img)
    n, support = region_normal(res, mask)
    assert n is not None, f"no plane found for pose {pose}"
    assert angle_deg(n, normal) < 10.0
    assert n[2] < 0 and support > 0.5
    assert res.focal == pytest.approx(FOCAL, rel=0.1)


def test_vanishing_points_on_bricks():
    img, normal, mask = render_plane(-25, 30, 0, texture="bricks")
    n, _ = region_normal(VanishingPointEstimator().estimate(img), mask)
    assert n is not None and angle_deg(n, normal) < 10.0


def test_vanishing_points_are_deterministic():
    img, _, _ = render_plane(20, 20, 10)
    a, b = VanishingPointEstimator(seed=3).estimate(img), VanishingPointEstimator(seed=3).estimate(img)
    assert np.array_equal(a.normals, b.normals) and np.array_equal(a.segment_vp, b.segment_vp) and a.focal == b.focal


def test_no_lines_no_planes():
    rng = np.random.default_rng(0)
    blank = np.full((120, 160, 3), 128, np.uint8)
    noise = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    for img in (blank, noise):
        res = VanishingPointEstimator().estimate(img)
        assert res.depth is None and res.method == "vanishing"
        assert region_normal(res, np.ones(img.shape[:2], bool)) == (None, 0.0)
        assert res.focal == pytest.approx(focal_from_fov(160, 60.0))


def test_region_without_its_own_segments_gets_no_plane():
    img, _, mask = render_plane(20, 30)
    res = VanishingPointEstimator().estimate(img)
    elsewhere = np.zeros_like(mask)
    elsewhere[:5, :5] = True
    assert region_normal(res, elsewhere) == (None, 0.0)


def test_no_depth():
    res = NoDepth().estimate(np.zeros((10, 12, 3), np.uint8))
    assert (res.depth, res.focal, res.method, res.normals) == (None, None, "none", None)


# --- ONNX -----------------------------------------------------------------------------------


def tiny_depth_model(path, rank: int = 4, scale: float = 1.0):
    """An ONNX 'depth network': half-resolution mean over channels times ``scale`` (``[1, 1, h/2, w/2]``)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    dims = ["n", 3, "h", "w"][:rank]
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, dims)
    y = helper.make_tensor_value_info("depth", TensorProto.FLOAT, None)
    nodes = [
        helper.make_node("AveragePool", ["image"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("ReduceMean", ["pooled"], ["mean"], axes=[1], keepdims=1),
        helper.make_node("Mul", ["mean", "k"], ["depth"]),
    ]
    if rank != 4:  # a model that loads but takes the wrong input rank
        nodes = [helper.make_node("Mul", ["image", "k"], ["depth"])]
    k = helper.make_tensor("k", TensorProto.FLOAT, [], [scale])
    model = helper.make_model(helper.make_graph(nodes, "tiny_depth", [x], [y], [k]), opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _ramp(h=50, w=70):
    """Brighter to the right: a 'disparity' model sees the right side as near."""
    ramp = np.tile(np.linspace(0, 255, w, dtype=np.float32), (h, 1))
    return np.dstack([ramp] * 3).astype(np.uint8)


@pytest.mark.parametrize("output", ["disparity", "depth"])
def test_onnx_estimator_resizes_to_the_image(tmp_path, output):
    pytest.importorskip("onnxruntime")
    path = tiny_depth_model(tmp_path / "tiny.onnx")
    est = OnnxDepthEstimator(path, input_size=(32, 24), mean=(0, 0, 0), std=(1, 1, 1), output=output, fov_deg=90.0)
    res = est.estimate(_ramp())
    assert res.depth.shape == (50, 70) and res.depth.dtype == np.float32
    assert res.method == "onnx" and res.focal == pytest.approx(35.0)
    cols = res.depth.mean(axis=0)
    if output == "disparity":  # brighter = nearer = smaller depth
        assert cols[-1] < cols[0] and np.all(np.diff(cols) <= 1e-4)
    else:
        assert cols[-1] > cols[0] and np.all(np.diff(cols) >= -1e-4)
    assert np.all(res.depth > 0)


def test_onnx_estimator_errors_name_the_file(tmp_path):
    pytest.importorskip("onnxruntime")
    missing = tmp_path / "nope.onnx"
    with pytest.raises(FileNotFoundError, match=r"nope\.onnx"):
        OnnxDepthEstimator(missing).estimate(_ramp())
    rank3 = tiny_depth_model(tmp_path / "rank3.onnx", rank=3)
    with pytest.raises(ValueError, match=r"rank3\.onnx.*\[N, 3, H, W\]"):
        OnnxDepthEstimator(rank3).estimate(_ramp())
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ValueError, match=r"garbage\.onnx"):
        OnnxDepthEstimator(garbage).estimate(_ramp())
    with pytest.raises(ValueError, match="output"):
        OnnxDepthEstimator(missing, output="inverse")


def test_onnx_estimator_pickles_without_its_session(tmp_path):
    import pickle

    pytest.importorskip("onnxruntime")
    est = OnnxDepthEstimator(tiny_depth_model(tmp_path / "tiny.onnx"), input_size=(16, 16))
    est.estimate(_ramp())
    again = pickle.loads(pickle.dumps(est))
    assert np.array_equal(again.estimate(_ramp()).depth, est.estimate(_ramp()).depth)


def test_make_depth_estimator(tmp_path):
    assert isinstance(make_depth_estimator(AnalysisConfig(depth="none")), NoDepth)
    assert isinstance(make_depth_estimator(AnalysisConfig(depth="vanishing")), VanishingPointEstimator)
    est = make_depth_estimator(AnalysisConfig(depth="onnx", depth_model=str(tmp_path / "m.onnx"), depth_input_size=(64, 48)))
    assert isinstance(est, OnnxDepthEstimator) and est.input_size == (64, 48)


def test_region_normal_of_an_empty_result():
    assert region_normal(DepthResult(None, None, "none"), np.ones((3, 3), bool)) == (None, 0.0)
    assert math.isclose(focal_from_fov(640, 90.0), 320.0)
