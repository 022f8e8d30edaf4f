"""Depth and surface orientation of a background behind one interface, :class:`DepthEstimator`.

Three estimators:

- :class:`OnnxDepthEstimator`: any monocular depth network exported to ONNX
  (MiDaS, DPT, Depth-Anything) from a local file; relative depth per pixel,
  planes are then fitted per region by RANSAC (:mod:`logodet.synth.plane`).
- :class:`VanishingPointEstimator`: weight-free; plane orientations from
  vanishing points of line segments (Manhattan world), no depth map.
- :class:`NoDepth`: nothing; logos go on fronto-parallel planes and the
  random perspective jitter of :mod:`logodet.synth.augment` does the rest.

Camera convention as in :mod:`logodet.synth.plane`: ``x`` right, ``y`` down,
``z`` away from the camera, principal point at the image centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np

if TYPE_CHECKING:
    from logodet.synth.analysis import AnalysisConfig

__all__ = [
    "DepthEstimator",
    "DepthResult",
    "NoDepth",
    "OnnxDepthEstimator",
    "VanishingPointEstimator",
    "focal_from_fov",
    "make_depth_estimator",
    "region_normal",
]


@dataclass
class DepthResult:
    """What a :class:`DepthEstimator` returns for one image.

    Attributes:
        depth: ``float32 [H, W]`` relative depth (larger = farther), or ``None``.
        focal: focal length in pixels of the analysed image, or ``None``.
        method: the estimator's name (``"onnx"``, ``"vanishing"``, ``"none"``).
        normals: ``float32 [K, 3]`` candidate plane normals (unit, facing the camera), or ``None``.
        plane_vps: ``int [K, 2]`` the two vanishing points spanning each candidate plane.
        vps: ``float64 [V, 3]`` vanishing directions in camera coordinates (unit; ``z = 0`` at infinity).
        segments: ``float32 [M, 4]`` line segments ``x1, y1, x2, y2`` in image pixels.
        segment_vp: ``int [M]`` the vanishing point each segment supports (``-1``: none).
    """

    depth: np.ndarray | None
    focal: float | None
    method: str
    normals: np.ndarray | None = None
    plane_vps: np.ndarray | None = None
    vps: np.ndarray | None = None
    segments: np.ndarray | None = None
    segment_vp: np.ndarray | None = None
    extra: dict = field(default_factory=dict)


class DepthEstimator(Protocol):
    """Anything with ``estimate(image) -> DepthResult`` for a ``uint8 [H, W, 3]`` RGB image."""

    def estimate(self, image: np.ndarray) -> DepthResult: ...


def focal_from_fov(width: int, fov_deg: float) -> float:
    """Focal length in pixels of a camera whose horizontal field of view is ``fov_deg`` over ``width`` pixels.

    Example:
        >>> round(focal_from_fov(640, 90.0), 1)
        320.0
    """
    return width / 2.0 / math.tan(math.radians(fov_deg) / 2.0)


class NoDepth:
    """No depth and no planes: fronto-parallel placement (perspective jitter comes from ``augment``).

    Example:
        >>> NoDepth().estimate(np.zeros((4, 4, 3), np.uint8)).depth is None
        True
    """

    def estimate(self, image: np.ndarray) -> DepthResult:
        return DepthResult(depth=None, focal=None, method="none")


class OnnxDepthEstimator:
    """A monocular depth network from a local ONNX file (MiDaS / DPT / Depth-Anything exports).

    The image is resized to ``input_size``, scaled to ``[0, 1]``, normalised by
    ``mean`` / ``std`` and fed as ``float32 [1, 3, h, w]`` RGB; the first output
    (``[h, w]``, ``[1, h, w]`` or ``[1, 1, h, w]``) is resized back to the image.
    A ``"disparity"`` output (larger = nearer, affine-invariant as in MiDaS) is
    normalised to ``[0, 1]`` and turned into relative depth ``1 / (0.05 + d)``;
    a ``"depth"`` output is used as it is. The focal length is guessed from
    ``fov_deg``: these networks do not give one.

    Args:
        path: the ``.onnx`` file.
        input_size: network input ``(width, height)``.
        mean: RGB mean after scaling to ``[0, 1]``.
        std: RGB std after scaling to ``[0, 1]``.
        output: ``"disparity"`` or ``"depth"``.
        fov_deg: horizontal field of view for the focal guess.
        threads: onnxruntime intra-op threads (``0``: its default).

    Raises:
        FileNotFoundError: the model file is missing (message names it).
        ValueError: the model's input is not ``[N, 3, H, W]``, or an unknown ``output``.

    Example:
        >>> est = OnnxDepthEstimator("midas_small.onnx", (256, 256))  # doctest: +SKIP
        >>> est.estimate(image).depth.shape == image.shape[:2]  # doctest: +SKIP
        True
    """

    def __init__(
        self,
        path: str | Path,
        input_size: tuple[int, int] = (256, 256),
        mean: tuple[float, float, float] = (0.485, 0.456, 0.406),
        std: tuple[float, float, float] = (0.229, 0.224, 0.225),
        output: str = "disparity",
        fov_deg: float = 60.0,
        threads: int = 1,
    ) -> None:
        if output not in ("disparity", "depth"):
            raise ValueError(f"{path}: output must be 'disparity' or 'depth', got {output!r}")
        self.path = Path(path)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.mean = np.asarray(mean, np.float32).reshape(1, 3, 1, 1)
        self.std = np.asarray(std, np.float32).reshape(1, 3, 1, 1)
        self.output = output
        self.fov_deg = fov_deg
        self.threads = threads
        self._session = None

    def _load(self):
        if self._session is not None:
            return self._session
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: depth model not found (analysis.depth_model)")
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if self.threads:
            opts.intra_op_num_threads = self.threads
            opts.inter_op_num_threads = 1
        try:
            sess = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ValueError(f"{self.path}: cannot load the depth model ({exc})") from exc
        shape = sess.get_inputs()[0].shape
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
            raise ValueError(f"{self.path}: depth model input must be [N, 3, H, W], got {shape}")
        self._session = sess
        return sess

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_session": None}  # sessions do not pickle; reload in the worker

    def estimate(self, image: np.ndarray) -> DepthResult:
        sess = self._load()
        h, w = image.shape[:2]
        x = cv2.resize(image, self.input_size, interpolation=cv2.INTER_AREA if w > self.input_size[0] else cv2.INTER_LINEAR)
        x = (x.astype(np.float32).transpose(2, 0, 1)[None] / 255.0 - self.mean) / self.std
        out = np.asarray(sess.run(None, {sess.get_inputs()[0].name: x.astype(np.float32)})[0], np.float32)
        out = np.squeeze(out)
        if out.ndim != 2:
            raise ValueError(f"{self.path}: depth model output must be [H, W] after squeezing, got {out.shape}")
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
        if self.output == "disparity":
            lo, hi = float(out.min()), float(out.max())
            d = (out - lo) / (hi - lo) if hi > lo else np.zeros_like(out)
            depth = 1.0 / (0.05 + d)
        else:
            depth = np.maximum(out, 1e-6)
        return DepthResult(depth=depth.astype(np.float32), focal=focal_from_fov(w, self.fov_deg), method="onnx")


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


def make_depth_estimator(cfg: AnalysisConfig) -> DepthEstimator:
    """The estimator named by ``cfg.depth``.

    Example:
        >>> from logodet.synth.analysis import AnalysisConfig
        >>> type(make_depth_estimator(AnalysisConfig(depth="none"))).__name__
        'NoDepth'
    """
    if cfg.depth == "none":
        return NoDepth()
    if cfg.depth == "onnx":
        return OnnxDepthEstimator(cfg.depth_model or "", cfg.depth_input_size, cfg.depth_mean, cfg.depth_std, cfg.depth_output, cfg.fov_deg)
    if cfg.depth == "vanishing":
        return VanishingPointEstimator(fov_deg=cfg.fov_deg)
    raise ValueError(f"analysis.depth: unknown method {cfg.depth!r}")


def region_normal(
    result: DepthResult, mask: np.ndarray, min_segments: int = 2, min_fraction: float = 0.3
) -> tuple[tuple[float, float, float] | None, float]:
    """The candidate plane a region's own line segments support, from a vanishing-point result.

    A candidate plane (spanned by two vanishing points) is supported by the
    region when at least ``min_segments`` segments whose midpoints lie in
    ``mask`` point to each of its two vanishing points; the best-supported
    plane (largest smaller support, by segment length) wins, provided its two
    vanishing points account for at least ``min_fraction`` of the region's
    segment length (clutter on natural scenes supports chance vanishing points
    with small fractions).

    Args:
        result: a :class:`DepthResult` with ``normals``, ``plane_vps``, ``segments`` and ``segment_vp``.
        mask: ``bool [H, W]`` the region, in the pixels of the analysed image.
        min_segments: segments needed per vanishing point.
        min_fraction: smallest share of the region's segment length supporting the plane.

    Returns:
        ``(normal, support)``: the normal (or ``None`` when no plane is supported)
        and the fraction of the region's segment length that supports it.

    Example:
        >>> region_normal(DepthResult(None, None, "none"), np.ones((4, 4), bool))
        (None, 0.0)
    """
    if result.normals is None or result.segments is None or result.segment_vp is None or len(result.normals) == 0:
        return None, 0.0
    seg = result.segments
    mx = np.clip(((seg[:, 0] + seg[:, 2]) / 2).astype(int), 0, mask.shape[1] - 1)
    my = np.clip(((seg[:, 1] + seg[:, 3]) / 2).astype(int), 0, mask.shape[0] - 1)
    inside = mask[my, mx]
    if not inside.any():
        return None, 0.0
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    vp = result.segment_vp[inside]
    ln = length[inside]
    total = float(ln.sum())
    best, best_score = None, 0.0
    for k, (a, b) in enumerate(np.asarray(result.plane_vps)):
        na, nb = int((vp == a).sum()), int((vp == b).sum())
        if na < min_segments or nb < min_segments:
            continue
        score = min(float(ln[vp == a].sum()), float(ln[vp == b].sum()))
        if score > best_score:
            best, best_score = k, score
    if best is None:
        return None, 0.0
    a, b = result.plane_vps[best]
    support = float(ln[(vp == a) | (vp == b)].sum()) / max(total, 1e-9)
    if support < min_fraction:
        return None, 0.0
    n = result.normals[best]
    return (float(n[0]), float(n[1]), float(n[2])), support
