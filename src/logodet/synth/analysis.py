"""Background analysis: regions, depth and planes of one background, computed once and cached.

:func:`analyze_background` runs segmentation (``segment.py``), depth /
orientation (``depth.py``) and per-region plane fits (``plane.py``) and returns a
:class:`~logodet.synth.surfaces.BackgroundAnalysis`. :class:`AnalysisCache`
stores results on disk keyed by the SHA-1 of the image bytes plus the JSON of
the :class:`AnalysisConfig`, so each background is analysed once however many
images start from it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from logodet.io import atomic_write_bytes
from logodet.synth.surfaces import BackgroundAnalysis, SurfaceRegion

__all__ = ["AnalysisCache", "AnalysisConfig", "analyze_background", "config_key", "whole_image_region"]

CACHE_VERSION = 1

DEPTH_METHODS = ("vanishing", "onnx", "none")


@dataclass(frozen=True)
class AnalysisConfig:
    """Settings of background analysis.

    Attributes:
        enabled: run analysis at all (``False``: logos are placed without regions or planes).
        regions: segment the background into regions (``False``: one region covering the image).
        region_method: segmentation method passed to ``segment_regions`` (``None``: its default).
        region_cfg: a ``logodet.synth.segment.RegionConfig`` (``None``: its defaults).
        depth: ``"vanishing"`` (weight-free plane orientation from vanishing points),
            ``"onnx"`` (a monocular depth model from ``depth_model``) or ``"none"`` (fronto-parallel).
        depth_model: path of the ONNX depth model (``depth="onnx"``).
        depth_input_size: model input ``(width, height)``.
        depth_mean: per-channel RGB mean subtracted after scaling pixels to ``[0, 1]``.
        depth_std: per-channel RGB std divided by after the mean.
        depth_output: ``"disparity"`` (larger = nearer: MiDaS, DPT, Depth-Anything) or ``"depth"`` (larger = farther).
        planes: fit a plane per region (``False``: no normals; regions are fronto-parallel).
        ransac_iterations: RANSAC hypotheses per region.
        ransac_threshold: inlier distance as a fraction of the region's median depth.
        subsample_step: take every ``step``-th pixel (both axes) of a region for the fit.
        max_tilt_deg: keep regions whose normal is within this angle of facing the camera.
        fov_deg: horizontal field of view used to guess the focal length when it is not measured.
        max_side: working resolution: the image is downscaled so its long side is at most this.

    Example:
        >>> AnalysisConfig(depth="none").planes
        True
    """

    enabled: bool = True
    regions: bool = True
    region_method: str | None = None
    region_cfg: Any = None
    depth: str = "vanishing"
    depth_model: str | None = None
    depth_input_size: tuple[int, int] = (256, 256)
    depth_mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    depth_std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    depth_output: str = "disparity"
    planes: bool = True
    ransac_iterations: int = 64
    ransac_threshold: float = 0.01
    subsample_step: int = 4
    max_tilt_deg: float = 70.0
    fov_deg: float = 60.0
    max_side: int = 640

    def __post_init__(self) -> None:
        if self.depth not in DEPTH_METHODS:
            raise ValueError(f"analysis.depth: expected one of {list(DEPTH_METHODS)}, got {self.depth!r}")
        if self.depth == "onnx" and not self.depth_model:
            raise ValueError("analysis.depth_model: required when analysis.depth is 'onnx'")
        if self.depth_output not in ("disparity", "depth"):
            raise ValueError(f"analysis.depth_output: expected 'disparity' or 'depth', got {self.depth_output!r}")
        if len(self.depth_input_size) != 2 or min(self.depth_input_size) < 1:
            raise ValueError(f"analysis.depth_input_size: expected (width, height) >= 1, got {self.depth_input_size}")
        if len(self.depth_mean) != 3 or len(self.depth_std) != 3 or min(self.depth_std) <= 0:
            raise ValueError("analysis.depth_mean / depth_std: expected 3 values each, std > 0")
        if self.ransac_iterations < 1 or self.subsample_step < 1 or self.ransac_threshold <= 0:
            raise ValueError("analysis.ransac_iterations / subsample_step must be >= 1 and ransac_threshold > 0")
        if not 0 < self.max_tilt_deg <= 90:
            raise ValueError(f"analysis.max_tilt_deg: expected (0, 90], got {self.max_tilt_deg}")
        if not 1 < self.fov_deg < 179:
            raise ValueError(f"analysis.fov_deg: expected (1, 179), got {self.fov_deg}")
        if self.max_side < 16:
            raise ValueError(f"analysis.max_side: expected >= 16, got {self.max_side}")


def whole_image_region(image: np.ndarray) -> tuple[np.ndarray, list[SurfaceRegion]]:
    """One region (label ``1``) covering the whole image: the fallback without segmentation.

    Example:
        >>> labels, regions = whole_image_region(np.zeros((4, 6, 3), np.uint8))
        >>> regions[0].bbox, regions[0].center
        ((0, 0, 6, 4), (3.0, 2.0))
    """
    h, w = image.shape[:2]
    mean = tuple(float(c) for c in image.reshape(-1, image.shape[2] if image.ndim == 3 else 1).mean(axis=0))
    mean = (mean * 3)[:3] if len(mean) == 1 else mean[:3]
    region = SurfaceRegion(1, h * w, (0, 0, w, h), (w / 2.0, h / 2.0), min(w, h) / 2.0, mean_color=mean)
    return np.ones((h, w), np.int32), [region]


def _segment(image: np.ndarray, cfg: AnalysisConfig) -> tuple[np.ndarray, list[SurfaceRegion], str]:
    if not cfg.regions:
        return (*whole_image_region(image), "whole")
    try:
        from logodet.synth.segment import segment_regions
    except ImportError:
        warnings.warn("logodet.synth.segment is not available: one region covers the whole background", stacklevel=3)
        return (*whole_image_region(image), "whole")
    labels, regions = segment_regions(image, cfg.region_cfg, method=cfg.region_method)
    return np.asarray(labels, np.int32), list(regions), cfg.region_method or "default"


def _planes(labels, regions, result, rng, cfg: AnalysisConfig, per_region: list[float]) -> tuple[list[SurfaceRegion], str]:
    from logodet.synth.depth import region_normal
    from logodet.synth.plane import fit_region_planes, tilt_deg

    if not cfg.planes:
        return regions, "off"
    if result.depth is not None and result.focal:
        return fit_region_planes(labels, regions, result.depth, result.focal, rng, cfg, timings=per_region), "ransac"
    if result.normals is None:
        return regions, "none"
    kept = []
    for reg in regions:
        t0 = time.perf_counter()
        x0, y0, x1, y1 = reg.bbox
        mask = np.zeros(labels.shape, bool)
        mask[y0:y1, x0:x1] = labels[y0:y1, x0:x1] == reg.label
        normal, support = region_normal(result, mask)
        per_region.append(time.perf_counter() - t0)
        if normal is None:
            kept.append(reg)
        elif tilt_deg(normal) <= cfg.max_tilt_deg:
            kept.append(dataclasses.replace(reg, normal=normal, plane_inliers=round(support, 6)))
    return kept, "vanishing"


def _rescale(reg: SurfaceRegion, k: float, w: int, h: int) -> SurfaceRegion:
    x0, y0, x1, y1 = reg.bbox
    bbox = (max(0, math.floor(x0 * k)), max(0, math.floor(y0 * k)), min(w, math.ceil(x1 * k)), min(h, math.ceil(y1 * k)))
    return dataclasses.replace(
        reg, area=round(reg.area * k * k), bbox=bbox, center=(reg.center[0] * k, reg.center[1] * k), inner_radius=reg.inner_radius * k
    )


def analyze_background(image: np.ndarray, cfg: AnalysisConfig | None = None, seed: int = 0) -> BackgroundAnalysis:
    """Regions, depth and planes of one background (the uncached computation).

    The image is analysed at most ``cfg.max_side`` pixels on its long side; labels,
    depth, region geometry and focal are then scaled back to the full image.
    Regions come from :func:`logodet.synth.segment.segment_regions` (one region
    covering the image when ``cfg.regions`` is off or that module is missing),
    depth from :func:`logodet.synth.depth.make_depth_estimator`, planes from
    RANSAC on the back-projected depth (depth models) or from the vanishing
    points each region's segments support (``"vanishing"``).

    Args:
        image: ``uint8 [H, W, 3]`` RGB.
        cfg: analysis settings (default :class:`AnalysisConfig`).
        seed: seed of the RANSAC draws.

    Returns:
        A :class:`~logodet.synth.surfaces.BackgroundAnalysis` with ``method`` and ``timings``
        (``regions``, ``depth``, ``planes``, ``total`` seconds and ``plane_per_region``, the median per region).

    Example:
        >>> res = analyze_background(np.zeros((48, 64, 3), np.uint8), AnalysisConfig(regions=False, depth="none"))
        >>> res.method, len(res.regions)
        ({'regions': 'whole', 'depth': 'none', 'planes': 'none'}, 1)
    """
    from logodet.synth.depth import make_depth_estimator

    cfg = cfg or AnalysisConfig()
    t_start = time.perf_counter()
    h, w = image.shape[:2]
    scale = min(1.0, cfg.max_side / max(h, w))
    work = image
    if scale < 1.0:
        work = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    labels, regions, region_method = _segment(work, cfg)
    timings["regions"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = make_depth_estimator(cfg).estimate(work)
    timings["depth"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    per_region: list[float] = []
    regions, plane_method = _planes(labels, regions, result, np.random.default_rng(seed), cfg, per_region)
    timings["planes"] = time.perf_counter() - t0
    timings["plane_per_region"] = float(np.median(per_region)) if per_region else 0.0
    depth, focal = result.depth, result.focal
    if scale < 1.0:
        k = w / work.shape[1]
        labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
        depth = None if depth is None else cv2.resize(depth, (w, h), interpolation=cv2.INTER_LINEAR)
        focal = None if focal is None else focal * k
        regions = [_rescale(r, k, w, h) for r in regions]
    timings["total"] = time.perf_counter() - t_start
    return BackgroundAnalysis(
        width=w,
        height=h,
        labels=np.ascontiguousarray(labels, np.int32),
        regions=regions,
        focal=None if focal is None else float(focal),
        depth=None if depth is None else np.ascontiguousarray(depth, np.float32),
        method={"regions": region_method, "depth": result.method, "planes": plane_method},
        timings=timings,
    )


def config_key(cfg: Any) -> str:
    """Canonical JSON of a config dataclass (nested dataclasses included), used in cache keys.

    Example:
        >>> config_key(AnalysisConfig()) == config_key(AnalysisConfig())
        True
    """
    obj = dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else cfg
    return json.dumps(obj, sort_keys=True, default=str)


class AnalysisCache:
    """Background analyses on disk, keyed by the SHA-1 of the image bytes and the config's JSON.

    Each entry is ``<key>.npz`` (compressed ``labels`` and ``depth``) plus
    ``<key>.json`` (size, focal, regions, method, timings), each written
    atomically, the JSON last. A corrupt or unreadable entry is recomputed with a
    warning. The RANSAC seed is not part of the key: use one seed per cache.

    Args:
        folder: the cache folder (created on first write).

    Example:
        >>> cache = AnalysisCache("/tmp/logodet-doc-cache")
        >>> cfg = AnalysisConfig(regions=False, depth="none")
        >>> img = np.zeros((8, 8, 3), np.uint8)
        >>> cache.load_or_compute(img.tobytes(), cfg, lambda: analyze_background(img, cfg)).width
        8
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def key(self, image: str | Path | bytes, cfg: Any) -> str:
        """The entry name for an image file (or its bytes) and a config."""
        data = bytes(image) if isinstance(image, (bytes, bytearray, memoryview)) else Path(image).read_bytes()
        h = hashlib.sha1(data)
        h.update(f"|v{CACHE_VERSION}|".encode())
        h.update(config_key(cfg).encode())
        return h.hexdigest()

    def load_or_compute(self, image: str | Path | bytes, cfg: Any, compute: Callable[[], BackgroundAnalysis]) -> BackgroundAnalysis:
        """The cached analysis of ``image`` under ``cfg``, or ``compute()`` stored for next time.

        Args:
            image: an image file path or the bytes that identify the image.
            cfg: the analysis config (its JSON is part of the key).
            compute: called on a miss; returns the analysis to store.
        """
        key = self.key(image, cfg)
        npz, meta = self.folder / f"{key}.npz", self.folder / f"{key}.json"
        if meta.is_file():
            try:
                return self._load(npz, meta)
            except Exception as exc:  # any damage to an entry means: recompute it
                warnings.warn(f"{meta}: corrupt analysis cache entry ({type(exc).__name__}: {exc}); recomputing", stacklevel=2)
        result = compute()
        self._store(result, npz, meta)
        return result

    @staticmethod
    def _store(res: BackgroundAnalysis, npz: Path, meta: Path) -> None:
        arrays = {"labels": res.labels} if res.depth is None else {"labels": res.labels, "depth": res.depth}
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(npz, buf.getvalue())
        doc = {
            "version": CACHE_VERSION,
            "width": res.width,
            "height": res.height,
            "focal": res.focal,
            "regions": [dataclasses.asdict(r) for r in res.regions],
            "method": res.method,
            "timings": res.timings,
        }
        atomic_write_bytes(meta, json.dumps(doc).encode("utf-8"))

    @staticmethod
    def _load(npz: Path, meta: Path) -> BackgroundAnalysis:
        doc = json.loads(meta.read_text(encoding="utf-8"))
        if doc.get("version") != CACHE_VERSION:
            raise ValueError(f"version {doc.get('version')} != {CACHE_VERSION}")
        with np.load(npz, allow_pickle=False) as z:
            labels = np.asarray(z["labels"], np.int32)
            depth = np.asarray(z["depth"], np.float32) if "depth" in z.files else None
        regions = []
        for r in doc["regions"]:
            r = dict(r)
            for k in ("bbox", "center", "normal", "mean_color"):
                if r.get(k) is not None:
                    r[k] = tuple(r[k])
            regions.append(SurfaceRegion(**r))
        return BackgroundAnalysis(
            width=int(doc["width"]),
            height=int(doc["height"]),
            labels=labels,
            regions=regions,
            focal=doc["focal"],
            depth=depth,
            method=dict(doc["method"]),
            timings={k: float(v) for k, v in doc["timings"].items()},
        )
