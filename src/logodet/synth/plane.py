"""Planes: back-projection, RANSAC plane fits per region, and the homography of a logo on a plane.

Camera convention (pinhole, shared with :mod:`logodet.synth.surfaces`): ``x`` to
the right, ``y`` down, ``z`` away from the camera; a pixel ``(u, v)`` with depth
``Z`` is the point ``((u - cx) Z / f, (v - cy) Z / f, Z)`` for focal ``f`` and
principal point ``(cx, cy)`` (the image centre). Plane normals are unit vectors
facing the camera (``n_z < 0``): a fronto-parallel plane has normal ``(0, 0, -1)``.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from logodet.synth.surfaces import SurfaceRegion

if TYPE_CHECKING:
    from logodet.synth.analysis import AnalysisConfig

__all__ = ["backproject", "fit_plane_ransac", "fit_region_planes", "logo_homography", "tilt_deg"]

FRONTO = (0.0, 0.0, -1.0)


def _plane_basis(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """In-plane unit axes ``(u, v)``: ``u`` is the image ``x`` axis projected on the plane, ``v = u x n`` (roughly image-down)."""
    u = np.array([1.0, 0.0, 0.0]) - n[0] * n
    if np.linalg.norm(u) < 1e-6:  # plane edge-on to x: fall back to the image y axis
        u = np.cross(np.array([0.0, 1.0, 0.0]), n)
    u /= np.linalg.norm(u)
    v = np.cross(u, n)
    return u, v / np.linalg.norm(v)


def logo_homography(
    normal: tuple[float, float, float] | None,
    focal: float | None,
    center_xy: tuple[float, float],
    size_px: float,
    rotation_deg: float,
    logo_wh: tuple[int, int],
    *,
    principal: tuple[float, float] | None = None,
) -> np.ndarray:
    """The ``3x3`` homography from logo pixels to image pixels for a logo lying on a plane.

    The logo is centred on the plane point seen at ``center_xy``; its long side
    measures ``size_px`` image pixels when the plane faces the camera, and is
    foreshortened along the tilt axis when it does not (physical size fixed by
    ``size_px`` at that distance). ``rotation_deg`` turns the logo in its plane,
    counter-clockwise as seen on screen (the convention of
    :func:`logodet.synth.augment.logo_warp`); at zero rotation the logo's ``x``
    axis follows the image ``x`` axis projected onto the plane.

    Pixel convention: logo pixel centres are at integer coordinates (as for
    ``cv2.warpPerspective``), so the logo centre ``((w - 1) / 2, (h - 1) / 2)``
    maps exactly to ``center_xy``; both are in pixels of their own image.

    Camera: ``principal`` is the principal point in image pixels (usually the
    image centre ``(W / 2, H / 2)``). When it is ``None`` the viewing ray through
    ``center_xy`` is taken as the optical axis: the logo is seen head-on in
    direction and only the plane's tilt distorts it (no off-axis perspective).
    ``focal=None`` is the affine limit (weak perspective: foreshortening without
    convergence). ``normal=None`` or ``(0, 0, -1)`` gives a similarity (scale,
    rotation, translation) whatever the focal and principal point.

    Args:
        normal: unit plane normal in camera coordinates (its sign is ignored), or ``None`` for fronto-parallel.
        focal: focal length in pixels, or ``None`` for the affine limit.
        center_xy: image pixel where the logo centre lands.
        size_px: the logo long side in image pixels before foreshortening.
        rotation_deg: in-plane rotation, counter-clockwise on screen.
        logo_wh: logo ``(width, height)`` in pixels.
        principal: principal point in image pixels, or ``None`` (see above).

    Returns:
        ``float64 [3, 3]`` with ``H[2, 2] == 1``, for ``cv2.warpPerspective(logo, H, (W, H))``.

    Raises:
        ValueError: non-positive sizes or focal, a zero normal, or a plane seen edge-on.

    Example:
        >>> H = logo_homography(None, None, (50.0, 40.0), 20.0, 0.0, (10, 5))
        >>> (H @ [4.5, 2.0, 1.0]).round(3).tolist()
        [50.0, 40.0, 1.0]
    """
    w, h = logo_wh
    if w < 1 or h < 1 or size_px <= 0:
        raise ValueError(f"logo_homography: logo_wh {logo_wh} and size_px {size_px} must be positive")
    if focal is not None and focal <= 0:
        raise ValueError(f"logo_homography: focal must be positive, got {focal}")
    n = np.asarray(FRONTO if normal is None else normal, np.float64)
    norm = float(np.linalg.norm(n))
    if norm < 1e-9:
        raise ValueError(f"logo_homography: zero normal {normal}")
    n = n / norm
    if n[2] > 0:
        n = -n
    cx, cy = float(center_xy[0]), float(center_xy[1])
    px, py = (cx, cy) if principal is None else (float(principal[0]), float(principal[1]))
    t = math.radians(rotation_deg)
    u, v = _plane_basis(n)
    # counter-clockwise on screen (y down): logo x axis -> cos t u - sin t v
    ax, ay = math.cos(t) * u - math.sin(t) * v, math.sin(t) * u + math.cos(t) * v
    s = float(size_px) / max(w, h)  # image pixels per logo pixel at the centre, fronto-parallel
    c = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    if focal is None:  # affine limit: in-plane axes projected orthographically
        a = np.array([[ax[0], ay[0]], [ax[1], ay[1]]]) * s
        H = np.eye(3)
        H[:2, :2] = a
        H[:2, 2] = np.array([cx, cy]) - a @ c
        return H
    f = float(focal)
    p0 = np.array([(cx - px) / f, (cy - py) / f, 1.0])  # plane point at depth 1 on the ray of center_xy
    if abs(float(n @ p0)) < 1e-6 * np.linalg.norm(p0):
        raise ValueError(f"logo_homography: the plane with normal {tuple(n.round(3))} is seen edge-on at {center_xy}")
    k = s / f  # plane units per logo pixel: s image pixels at depth 1
    m = np.stack([k * ax, k * ay, p0 - k * (c[0] * ax + c[1] * ay)], axis=1)
    K = np.array([[f, 0.0, px], [0.0, f, py], [0.0, 0.0, 1.0]])
    H = K @ m
    return H / H[2, 2]


def backproject(
    depth: np.ndarray,
    focal: float,
    mask: np.ndarray | None = None,
    step: int = 1,
    principal: tuple[float, float] | None = None,
    origin: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """Camera-space points ``float32 [N, 3]`` of the pixels of ``depth`` on a ``step`` grid (inside ``mask``).

    Args:
        depth: ``[h, w]`` depth (larger = farther); non-finite or non-positive pixels are skipped.
        focal: focal length in pixels.
        mask: ``bool [h, w]`` pixels to use, or ``None`` for all.
        step: take every ``step``-th pixel along both axes.
        principal: principal point in pixels of the full image (``None``: the centre of ``depth``).
        origin: ``(x0, y0)`` of ``depth`` inside the full image, when ``depth`` is a crop.

    Example:
        >>> backproject(np.full((4, 4), 2.0, np.float32), 2.0, step=2, principal=(0.0, 0.0))[1].tolist()
        [2.0, 0.0, 2.0]
    """
    h, w = depth.shape
    cx, cy = (w / 2.0, h / 2.0) if principal is None else principal
    ys, xs = np.mgrid[0:h:step, 0:w:step]
    z = depth[::step, ::step]
    ok = np.isfinite(z) & (z > 0)
    if mask is not None:
        ok &= mask[::step, ::step]
    z = z[ok].astype(np.float64)
    u, v = xs[ok] + origin[0], ys[ok] + origin[1]
    return np.stack([(u - cx) * z / focal, (v - cy) * z / focal, z], axis=1).astype(np.float32)


def fit_plane_ransac(
    points: np.ndarray, rng: np.random.Generator, iterations: int = 64, threshold: float = 0.01, max_points: int = 4096
) -> tuple[np.ndarray, float, float]:
    """RANSAC plane ``n . X = offset`` through ``points`` (vectorised over hypotheses), refined by least squares.

    The normal is a unit vector facing the camera (the origin): ``offset < 0``
    for a plane in front of it. At most ``max_points`` points (drawn with
    ``rng``) are scored, which bounds the cost per region.

    Args:
        points: ``[N, 3]`` points, ``N >= 3``.
        rng: random generator (same seed, same plane).
        iterations: hypotheses (point triples).
        threshold: inlier distance to the plane, in the units of ``points``.
        max_points: points scored per hypothesis.

    Returns:
        ``(normal, offset, inlier_fraction)``; ``inlier_fraction`` is over all ``points``.

    Raises:
        ValueError: fewer than 3 points.

    Example:
        >>> pts = np.c_[np.random.default_rng(0).random((50, 2)), np.full(50, 2.0)]
        >>> n, d, frac = fit_plane_ransac(pts, np.random.default_rng(0))
        >>> (n.round(3) + 0.0).tolist(), round(d, 3), frac
        ([0.0, 0.0, -1.0], -2.0, 1.0)
    """
    pts = np.asarray(points, np.float64)
    if len(pts) < 3:
        raise ValueError(f"fit_plane_ransac: need at least 3 points, got {len(pts)}")
    sample = pts if len(pts) <= max_points else pts[rng.choice(len(pts), max_points, replace=False)]
    tri = sample[rng.integers(0, len(sample), (iterations, 3))]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    norm = np.linalg.norm(n, axis=1)
    good = norm > 1e-12
    if not good.any():  # all triples degenerate (collinear points)
        n, tri, norm = np.array([[0.0, 0.0, -1.0]]), tri[:1], np.ones(1)
    else:
        n, tri, norm = n[good], tri[good], norm[good]
    n = n / norm[:, None]
    off = np.einsum("kd,kd->k", n, tri[:, 0])
    dist = np.abs(sample @ n.T - off[None, :])  # [N, K]
    best = int(np.argmax((dist <= threshold).sum(axis=0)))
    normal, offset = n[best], off[best]
    inl = np.abs(sample @ normal - offset) <= threshold
    if inl.sum() >= 3:  # least-squares refinement on the inliers
        c = sample[inl].mean(axis=0)
        normal = np.linalg.svd(sample[inl] - c, full_matrices=False)[2][-1]
        offset = float(normal @ c)
    if offset > 0:
        normal, offset = -normal, -offset
    frac = float((np.abs(pts @ normal - offset) <= threshold).mean())
    return normal / np.linalg.norm(normal), float(offset), frac


def tilt_deg(normal: tuple[float, float, float] | np.ndarray) -> float:
    """Angle in degrees between ``normal`` and the fronto-parallel normal ``(0, 0, -1)`` (sign ignored).

    Example:
        >>> round(tilt_deg((0.0, 0.6, -0.8)), 2)
        36.87
    """
    n = np.asarray(normal, np.float64)
    return math.degrees(math.acos(min(1.0, abs(float(n[2])) / max(float(np.linalg.norm(n)), 1e-12))))


def fit_region_planes(
    labels: np.ndarray,
    regions: list[SurfaceRegion],
    depth: np.ndarray,
    focal: float,
    rng: np.random.Generator,
    cfg: AnalysisConfig,
    min_inliers: float = 0.5,
    timings: list[float] | None = None,
) -> list[SurfaceRegion]:
    """Fit a RANSAC plane per region; keep planar regions that face the camera.

    Each region's pixels (inside its bbox, on a ``cfg.subsample_step`` grid) are
    back-projected with ``focal`` and the principal point at the image centre; the
    inlier threshold is ``cfg.ransac_threshold`` times the region's median depth.
    Regions with fewer than 3 points or an inlier fraction below ``min_inliers``
    (not planar) and regions tilted more than ``cfg.max_tilt_deg`` are dropped.

    Args:
        labels: ``int32 [H, W]`` region ids.
        regions: the regions to fit.
        depth: ``float32 [H, W]`` depth (larger = farther).
        focal: focal length in pixels.
        rng: random generator.
        cfg: analysis settings (``ransac_*``, ``subsample_step``, ``max_tilt_deg``).
        min_inliers: smallest inlier fraction of a planar region.
        timings: when given, the seconds spent on each region are appended.

    Returns:
        Copies of the kept regions with ``normal`` and ``plane_inliers`` set.

    Example:
        >>> from logodet.synth.analysis import AnalysisConfig
        >>> reg = SurfaceRegion(1, 64, (0, 0, 8, 8), (4.0, 4.0), 4.0)
        >>> out = fit_region_planes(np.ones((8, 8), np.int32), [reg], np.ones((8, 8), np.float32), 8.0,
        ...                         np.random.default_rng(0), AnalysisConfig(subsample_step=1))
        >>> out[0].normal
        (0.0, 0.0, -1.0)
    """
    h, w = labels.shape
    principal = (w / 2.0, h / 2.0)
    step = cfg.subsample_step
    kept = []
    for reg in regions:
        t0 = time.perf_counter()
        x0, y0, x1, y1 = reg.bbox
        mask = labels[y0:y1, x0:x1] == reg.label
        pts = backproject(depth[y0:y1, x0:x1], focal, mask, step, principal, (x0, y0))
        out = None
        if len(pts) >= 3:
            thr = cfg.ransac_threshold * float(np.median(pts[:, 2]))
            n, _, frac = fit_plane_ransac(pts, rng, cfg.ransac_iterations, max(thr, 1e-9))
            if frac >= min_inliers and tilt_deg(n) <= cfg.max_tilt_deg:
                normal = tuple(round(float(c), 6) + 0.0 for c in n)
                out = replace(reg, normal=normal, plane_inliers=round(frac, 6))
        if timings is not None:
            timings.append(time.perf_counter() - t0)
        if out is not None:
            kept.append(out)
    return kept
