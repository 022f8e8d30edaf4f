"""Planes: back-projection and RANSAC on analytic depth of known poses, logo homographies, per-region cost."""

from __future__ import annotations

import math
import time

import cv2
import numpy as np
import pytest

from logodet.synth.analysis import AnalysisConfig
from logodet.synth.plane import backproject, fit_plane_ransac, fit_region_planes, logo_homography, tilt_deg
from logodet.synth.surfaces import SurfaceRegion

W, H = 640, 480
FOCAL = W / 2.0 / math.tan(math.radians(30.0))  # 60 degree field of view


def pose_rotation(rx: float, ry: float, rz: float = 0.0) -> np.ndarray:
    """Rotation ``Rx @ Ry @ Rz`` (degrees): a plane's local axes in camera coordinates."""
    rx, ry, rz = map(math.radians, (rx, ry, rz))
    cx, sx, cy, sy, cz, sz = math.cos(rx), math.sin(rx), math.cos(ry), math.sin(ry), math.cos(rz), math.sin(rz)
    Rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    Ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    Rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return Rx @ Ry @ Rz


def facing(n: np.ndarray) -> np.ndarray:
    return -n if n[2] > 0 else n


def angle_deg(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return math.degrees(math.acos(min(1.0, abs(float(a @ b)) / np.linalg.norm(a) / np.linalg.norm(b))))


def render_plane(rx, ry, rz=0.0, w=W, h=H, focal=FOCAL, texture="checker", tex=512, distance=2.5):
    """A textured square plane (2 units wide, ``distance`` ahead) at a known pose: ``(image, normal, mask)``."""
    K = np.array([[focal, 0, w / 2], [0, focal, h / 2], [0, 0, 1]])
    R = pose_rotation(rx, ry, rz)
    s = 2.0 / tex
    t = np.array([0.0, 0.0, distance])
    Hm = K @ np.stack([R[:, 0] * s, R[:, 1] * s, t - (R[:, 0] + R[:, 1]) * s * tex / 2], axis=1)
    yy, xx = np.mgrid[:tex, :tex]
    if texture == "checker":
        board = (((xx // 32) + (yy // 32)) % 2 * 180 + 40).astype(np.uint8)
    else:  # bricks: mortar lines, every other row shifted by half a brick
        row = yy // 24
        board = np.full((tex, tex), 170, np.uint8)
        board[(yy % 24) < 3] = 60
        board[((xx + (row % 2) * 32) % 64) < 3] = 60
    img = cv2.warpPerspective(np.dstack([board] * 3), Hm, (w, h), borderValue=(90, 90, 90))
    mask = cv2.warpPerspective(np.full((tex, tex), 255, np.uint8), Hm, (w, h)) > 0
    return img, facing(R[:, 2]), mask


def plane_depth(normal, distance=2.5, w=W, h=H, focal=FOCAL) -> np.ndarray:
    """Analytic depth of the plane through ``(0, 0, distance)`` with ``normal`` for a pinhole camera."""
    n = np.asarray(normal, np.float64)
    d = n @ np.array([0.0, 0.0, distance])
    v, u = np.mgrid[:h, :w]
    denom = n[0] * (u - w / 2) / focal + n[1] * (v - h / 2) / focal + n[2]
    return (d / denom).astype(np.float32)


POSES = [(0, 0), (30, 0), (0, -40), (25, 35), (-45, 20), (15, -55)]


@pytest.mark.parametrize("pose", POSES)
def test_ransac_recovers_known_pose_with_noise_and_outliers(pose):
    normal = facing(pose_rotation(*pose)[:, 2])
    depth = plane_depth(normal)
    rng = np.random.default_rng(1)
    depth = depth * (1 + rng.normal(0, 0.003, depth.shape)).astype(np.float32)  # 0.3% noise
    out = rng.random(depth.shape) < 0.2  # 20% outliers
    depth[out] = rng.uniform(1.0, 6.0, int(out.sum())).astype(np.float32)
    pts = backproject(depth, FOCAL, step=4)
    n, offset, frac = fit_plane_ransac(pts, np.random.default_rng(0), iterations=64, threshold=0.01 * float(np.median(pts[:, 2])))
    assert angle_deg(n, normal) < 10.0
    assert n[2] < 0 and offset < 0  # faces the camera
    assert 0.6 < frac < 0.9


def test_backproject_inverts_projection():
    depth = plane_depth(facing(pose_rotation(20, 30)[:, 2]))
    pts = backproject(depth, FOCAL, step=7).astype(np.float64)
    u = pts[:, 0] / pts[:, 2] * FOCAL + W / 2
    v = pts[:, 1] / pts[:, 2] * FOCAL + H / 2
    assert np.allclose(u, np.round(u), atol=1e-3) and np.allclose(v, np.round(v), atol=1e-3)
    assert (np.round(u) % 7 == 0).all() and (np.round(v) % 7 == 0).all()
    assert len(pts) == len(range(0, H, 7)) * len(range(0, W, 7))
    mask = np.zeros((H, W), bool)
    assert len(backproject(depth, FOCAL, mask, step=4)) == 0


def test_ransac_is_deterministic_and_needs_three_points():
    pts = backproject(plane_depth((0.3, 0.0, -0.95)), FOCAL, step=8)
    a = fit_plane_ransac(pts, np.random.default_rng(5))
    b = fit_plane_ransac(pts, np.random.default_rng(5))
    assert np.array_equal(a[0], b[0]) and a[1:] == b[1:]
    with pytest.raises(ValueError, match="at least 3"):
        fit_plane_ransac(pts[:2], np.random.default_rng(0))


def _regions_image():
    """Left half fronto-parallel, middle steep (80 degrees), right non-planar noise: labels 1, 2, 3."""
    labels = np.zeros((H, W), np.int32)
    labels[:, :200], labels[:, 200:420], labels[:, 420:] = 1, 2, 3
    depth = plane_depth((0, 0, -1.0))
    steep = plane_depth(facing(pose_rotation(0, 80)[:, 2]), distance=3.0)
    depth[:, 200:420] = steep[:, 200:420]
    depth[:, 420:] = np.random.default_rng(0).uniform(1, 5, (H, W - 420))
    regs = [
        SurfaceRegion(1, 200 * H, (0, 0, 200, H), (100.0, 240.0), 100.0),
        SurfaceRegion(2, 220 * H, (200, 0, 420, H), (310.0, 240.0), 110.0),
        SurfaceRegion(3, 220 * H, (420, 0, W, H), (530.0, 240.0), 110.0),
    ]
    return labels, depth, regs


def test_fit_region_planes_keeps_planar_regions_facing_the_camera():
    labels, depth, regs = _regions_image()
    depth = np.where(depth > 0, depth, 1.0).astype(np.float32)
    out = fit_region_planes(labels, regs, depth, FOCAL, np.random.default_rng(0), AnalysisConfig(max_tilt_deg=70))
    assert [r.label for r in out] == [1]
    assert angle_deg(out[0].normal, (0, 0, -1)) < 1.0 and out[0].plane_inliers > 0.99
    assert regs[0].normal is None  # inputs untouched
    assert fit_region_planes(labels, [], depth, FOCAL, np.random.default_rng(0), AnalysisConfig()) == []


def test_per_region_cost_is_reported():
    """Cost of one region's RANSAC on 640x480 (printed, no wall-clock assertion)."""
    labels = np.ones((H, W), np.int32)
    depth = plane_depth(facing(pose_rotation(20, 30)[:, 2]))
    reg = SurfaceRegion(1, H * W, (0, 0, W, H), (320.0, 240.0), 240.0)
    cfg = AnalysisConfig()
    fit_region_planes(labels, [reg], depth, FOCAL, np.random.default_rng(0), cfg)  # warm-up
    times: list[float] = []
    t0 = time.perf_counter()
    for _ in range(5):
        out = fit_region_planes(labels, [reg], depth, FOCAL, np.random.default_rng(0), cfg, timings=times)
    print(
        f"\nRANSAC per full-frame 640x480 region (step {cfg.subsample_step}, {cfg.ransac_iterations} iterations): "
        f"median {1000 * float(np.median(times)):.1f} ms, total {1000 * (time.perf_counter() - t0) / 5:.1f} ms"
    )
    assert len(times) == 5 and len(out) == 1


# --- logo homography ------------------------------------------------------------------------


def _apply(Hm, pts):
    p = np.c_[np.asarray(pts, float), np.ones(len(pts))] @ Hm.T
    return p[:, :2] / p[:, 2:]


@pytest.mark.parametrize("normal", [None, (0.0, 0.0, -1.0), (0.0, 0.0, 2.0)])
@pytest.mark.parametrize("focal,principal", [(None, None), (500.0, None), (500.0, (320.0, 240.0))])
@pytest.mark.parametrize("rot", [0.0, 30.0, -120.0])
def test_fronto_parallel_is_a_similarity(normal, focal, principal, rot):
    Hm = logo_homography(normal, focal, (100.0, 80.0), 60.0, rot, (40, 20), principal=principal)
    assert np.allclose(Hm[2], [0, 0, 1], atol=1e-12)
    A = Hm[:2, :2]
    assert np.allclose(A @ A.T, (60.0 / 40) ** 2 * np.eye(2), atol=1e-9)  # scale 1.5, orthogonal
    assert np.linalg.det(A) > 0
    assert np.allclose(_apply(Hm, [[19.5, 9.5]]), [[100.0, 80.0]])
    t = math.radians(rot)  # counter-clockwise on screen: the logo x axis goes to (cos, -sin)
    assert np.allclose(A[:, 0] / 1.5, [math.cos(t), -math.sin(t)], atol=1e-9)


@pytest.mark.parametrize("axis", ["x", "y"])
@pytest.mark.parametrize("focal", [None, 800.0])
def test_tilted_normal_foreshortens_along_the_tilt_axis(axis, focal):
    tilt = 50.0
    rot = pose_rotation(0, tilt) if axis == "y" else pose_rotation(tilt, 0)
    normal = tuple(facing(rot[:, 2]))
    Hm = logo_homography(normal, focal, (320.0, 240.0), 100.0, 0.0, (101, 101))
    left, right, top, bottom = _apply(Hm, [[0, 50], [100, 50], [50, 0], [50, 100]])
    width, height = np.linalg.norm(right - left), np.linalg.norm(bottom - top)
    short, long_ = (width, height) if axis == "y" else (height, width)
    assert long_ == pytest.approx(100 * 100 / 101, rel=0.03)
    assert short == pytest.approx(100 * 100 / 101 * math.cos(math.radians(tilt)), rel=0.05)
    assert np.allclose(_apply(Hm, [[50, 50]]), [[320, 240]])
    if focal is not None:
        assert abs(Hm[2, 0]) + abs(Hm[2, 1]) > 1e-6  # real perspective, not affine


def test_logo_homography_rejects_bad_input():
    with pytest.raises(ValueError, match="edge-on"):
        logo_homography((1.0, 0.0, 0.0), 500.0, (10.0, 10.0), 10.0, 0.0, (5, 5))
    with pytest.raises(ValueError, match="zero normal"):
        logo_homography((0.0, 0.0, 0.0), 500.0, (10.0, 10.0), 10.0, 0.0, (5, 5))
    with pytest.raises(ValueError, match="positive"):
        logo_homography(None, None, (10.0, 10.0), 0.0, 0.0, (5, 5))


def test_tilt_deg():
    assert tilt_deg((0, 0, -1)) == 0.0 and tilt_deg((0, 0, 1)) == 0.0
    assert tilt_deg((1, 0, -1)) == pytest.approx(45.0)
