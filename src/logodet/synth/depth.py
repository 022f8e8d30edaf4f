"""Depth and surface orientation of a background behind one interface, :class:`DepthEstimator`.

Three estimators:

- :class:`OnnxDepthEstimator`: any monocular depth network exported to ONNX
  (MiDaS, DPT, Depth-Anything) from a local file; relative depth per pixel,
  planes are then fitted per region by RANSAC (:mod:`logodet.synth.plane`).
- :class:`~logodet.synth.vanishing.VanishingPointEstimator` (in its own
  module): weight-free; plane orientations from vanishing points of line
  segments (Manhattan world), no depth map.
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
        from logodet.synth.vanishing import VanishingPointEstimator

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
