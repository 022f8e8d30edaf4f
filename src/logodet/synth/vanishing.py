"""Weight-free surface orientation: vanishing points of line segments (Manhattan world).

:class:`VanishingPointEstimator` is the default ``DepthEstimator`` of
background analysis (``analysis.depth: vanishing``): it needs no weights and
no depth map. It finds up to three vanishing points among the image's line
segments, recovers the focal length from an orthogonal pair when it can, and
proposes one plane per pair of vanishing points;
:func:`logodet.synth.depth.region_normal` then gives each region the plane
its own segments support.

Limits: it needs straight lines (buildings, boxes, signs, tiles). Natural
scenes without them (foliage, sky, water) yield no planes, and their regions
stay fronto-parallel with random perspective jitter. Curved surfaces get the
orientation of their dominant straight edges, if any.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from logodet.synth.depth import DepthResult, focal_from_fov

__all__ = ["VanishingPointEstimator"]


class VanishingPointEstimator:
    """Weight-free plane orientations from vanishing points of line segments (Manhattan world).

    Steps: line segments (OpenCV's LSD, else probabilistic Hough on Canny
    edges); up to ``max_vps`` vanishing points found one after another by
    RANSAC over segment pairs (a segment supports a point when the line from its
    midpoint to the point is within ``angle_tol_deg`` of the segment), each
    refined by least squares on its supporters; the focal length from two
    orthogonal finite vanishing points when that gives a plausible value, else
    from ``fov_deg``; then one candidate plane per pair of vanishing points,
    with normal ``d_i x d_j`` of their 3D directions. :func:`region_normal`
    assigns a region the plane whose two vanishing points its own segments support.

    Limits: it needs straight, parallel edges (buildings, rooms, boxes, text,
    tiles); on natural scenes (foliage, faces, sky) it finds few consistent
    segments and regions stay fronto-parallel (normal ``None``). Curved surfaces
    get no plane. Normals assume the principal point at the image centre, square
    pixels and no lens distortion, and assume the two directions spanning a plane
    are orthogonal in 3D (the Manhattan assumption) only through the focal
    estimate; with one vanishing point at infinity the focal is not observable
    and the ``fov_deg`` guess sets the tilt's magnitude. A region supported by a
    single vanishing point gets no plane. No depth map is produced.

    Args:
        fov_deg: field of view used when the focal length cannot be measured.
        max_vps: vanishing points to look for.
        angle_tol_deg: angle between a segment and the line to a vanishing point for support.
        min_length: shortest segment kept, as a fraction of the image diagonal.
        min_support: segments a vanishing point needs (and at least 3x what a random point collects).
        hypotheses: RANSAC segment pairs drawn per vanishing point.
        seed: seed of the RANSAC draws (same image, same seed, same result).

    Example:
        >>> res = VanishingPointEstimator().estimate(np.zeros((64, 64, 3), np.uint8))
        >>> res.method, len(res.normals)
        ('vanishing', 0)
    """

    def __init__(
        self,
        fov_deg: float = 60.0,
        max_vps: int = 3,
        angle_tol_deg: float = 1.5,
        min_length: float = 0.02,
        min_support: int = 5,
        hypotheses: int = 300,
        seed: int = 0,
    ) -> None:
        self.fov_deg, self.max_vps, self.angle_tol = fov_deg, max_vps, math.radians(angle_tol_deg)
        self.min_length, self.min_support, self.hypotheses, self.seed = min_length, min_support, hypotheses, seed

    def estimate(self, image: np.ndarray) -> DepthResult:
        h, w = image.shape[:2]
        seg = _segments(image, self.min_length * math.hypot(w, h))
        scale = max(w, h) / 2.0
        c = np.array([w / 2.0, h / 2.0])
        p1 = np.c_[(seg[:, :2] - c) / scale, np.ones(len(seg))]
        p2 = np.c_[(seg[:, 2:] - c) / scale, np.ones(len(seg))]
        lines = np.cross(p1, p2)
        lines /= np.maximum(np.linalg.norm(lines[:, :2], axis=1, keepdims=True), 1e-12)
        mids = (p1 + p2) / 2
        length = np.linalg.norm(p2 - p1, axis=1)
        rng = np.random.default_rng(self.seed)
        seg_vp = np.full(len(seg), -1, np.int64)
        vps: list[np.ndarray] = []
        for k in range(self.max_vps):
            free = np.flatnonzero(seg_vp < 0)
            if len(free) < self.min_support:
                break
            vp, inl = _ransac_vp(lines[free], mids[free], length[free], rng, self.hypotheses, self.angle_tol)
            chance = 3.0 * len(seg) * 2 * self.angle_tol / math.pi  # 3x the segments a random point collects
            if vp is None or inl.sum() < max(self.min_support, chance):
                break
            seg_vp[free[inl]] = k
            vps.append(vp)
        focal = _focal_from_vps(vps, scale) or focal_from_fov(w, self.fov_deg)
        dirs = np.array([_direction(v, focal / scale) for v in vps]).reshape(-1, 3)
        normals, pairs = [], []
        for i in range(len(dirs)):
            for j in range(i + 1, len(dirs)):
                n = np.cross(dirs[i], dirs[j])
                if np.linalg.norm(n) < 0.1:  # nearly parallel directions span no plane
                    continue
                n /= np.linalg.norm(n)
                normals.append(-n if n[2] > 0 else n)
                pairs.append((i, j))
        return DepthResult(
            depth=None,
            focal=float(focal),
            method="vanishing",
            normals=np.asarray(normals, np.float32).reshape(-1, 3),
            plane_vps=np.asarray(pairs, np.int64).reshape(-1, 2),
            vps=dirs,
            segments=seg.astype(np.float32),
            segment_vp=seg_vp,
        )


def _segments(image: np.ndarray, min_len: float) -> np.ndarray:
    """``float64 [M, 4]`` line segments of at least ``min_len`` pixels."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    try:
        found = cv2.createLineSegmentDetector().detect(gray)[0]
    except (AttributeError, cv2.error):  # builds without LSD
        edges = cv2.Canny(gray, 50, 150)
        found = cv2.HoughLinesP(edges, 1, np.pi / 360, 30, minLineLength=max(int(min_len), 5), maxLineGap=3)
    seg = np.zeros((0, 4)) if found is None else np.asarray(found, np.float64).reshape(-1, 4)
    return seg[np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]) >= min_len]


def _support(lines: np.ndarray, mids: np.ndarray, vps: np.ndarray, tol: float) -> np.ndarray:
    """``bool [V, M]``: segment ``m`` points at vanishing point ``v`` within ``tol`` radians."""
    to_vp = np.cross(mids[None, :, :], vps[:, None, :])  # line through each midpoint and each vp
    to_vp = to_vp[..., :2] / np.maximum(np.linalg.norm(to_vp[..., :2], axis=-1, keepdims=True), 1e-12)
    cos = np.abs(np.einsum("vmk,mk->vm", to_vp, lines[:, :2]))
    return cos >= math.cos(tol)


def _ransac_vp(lines: np.ndarray, mids: np.ndarray, length: np.ndarray, rng: np.random.Generator, hyps: int, tol: float):
    """Best vanishing point (homogeneous, normalised coordinates) and its supporting segments."""
    m = len(lines)
    i, j = rng.integers(0, m, hyps), rng.integers(0, m, hyps)
    keep = i != j
    cand = np.cross(lines[i[keep]], lines[j[keep]])
    norm = np.linalg.norm(cand, axis=1)
    cand = cand[norm > 1e-9] / norm[norm > 1e-9, None]
    if len(cand) == 0:
        return None, np.zeros(m, bool)
    score = _support(lines, mids, cand, tol) @ length
    vp = cand[int(np.argmax(score))]
    inl = _support(lines, mids, vp[None], tol)[0]
    if inl.sum() >= 2:  # least squares: the point closest to all supporting lines
        vp = np.linalg.svd(lines[inl] * np.sqrt(length[inl, None]))[2][-1]
        inl = _support(lines, mids, vp[None], tol)[0]
    return vp, inl


def _focal_from_vps(vps: list[np.ndarray], scale: float) -> float | None:
    """Focal length in pixels from orthogonal finite vanishing points (median over plausible pairs), or ``None``."""
    found = []
    for a in range(len(vps)):
        for b in range(a + 1, len(vps)):
            va, vb = vps[a], vps[b]
            if abs(va[2]) < 1e-3 or abs(vb[2]) < 1e-3:
                continue
            xa, xb = va[:2] / va[2], vb[:2] / vb[2]
            f2 = -float(xa @ xb)  # d_a . d_b = 0 with d = (x, y, f)
            if f2 > 0 and 0.6 <= math.sqrt(f2) <= 4.0:  # horizontal field of view ~28..118 degrees
                found.append(math.sqrt(f2) * scale)
    return float(np.median(found)) if found else None


def _direction(vp: np.ndarray, f_norm: float) -> np.ndarray:
    """Unit 3D direction of a vanishing point given in coordinates normalised by ``scale`` (focal ``f_norm`` there)."""
    d = np.array([vp[0], vp[1], vp[2] * f_norm], np.float64)
    return d / np.linalg.norm(d)
