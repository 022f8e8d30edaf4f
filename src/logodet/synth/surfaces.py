"""What background analysis hands to placement: surface regions with a plane each.

Analysis (``segment.py`` regions, ``depth.py`` depth, ``plane.py`` RANSAC planes)
runs once per background and is cached; :func:`logodet.synth.compose.compose`
receives a :class:`BackgroundAnalysis` as ``analysis`` and places logos on its
regions, warped by the homography of each region's plane.

Coordinates are pixels of the analysed background (the full original image,
before the per-image crop).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["BackgroundAnalysis", "SurfaceRegion"]


@dataclass
class SurfaceRegion:
    """One region that can hold a logo.

    Attributes:
        label: the region's value in ``BackgroundAnalysis.labels``.
        area: pixels in the region.
        bbox: ``xyxy`` box of the region (right/bottom exclusive).
        center: ``(x, y)`` a point well inside the region (e.g. the distance-transform peak).
        inner_radius: distance in pixels from ``center`` to the region's border.
        normal: unit plane normal in camera coordinates (``z`` points away from the camera,
            so a fronto-parallel plane has normal ``(0, 0, -1)``), or ``None`` when no plane was fitted.
        plane_inliers: fraction of RANSAC inliers (``0`` without a plane).
        mean_color: mean RGB of the region, ``0..255``.
    """

    label: int
    area: int
    bbox: tuple[int, int, int, int]
    center: tuple[float, float]
    inner_radius: float
    normal: tuple[float, float, float] | None = None
    plane_inliers: float = 0.0
    mean_color: tuple[float, float, float] = (128.0, 128.0, 128.0)


@dataclass
class BackgroundAnalysis:
    """Regions, depth and planes of one background.

    Attributes:
        width / height: size of the analysed image.
        labels: ``int32 [H, W]`` region id per pixel (``0`` = no usable region).
        regions: the usable regions (after filtering), ``label`` matching ``labels``.
        focal: focal length in pixels used to back-project depth (``None`` without depth).
        depth: ``float32 [H, W]`` relative depth, or ``None``.
        method: how each part was made, e.g. ``{"regions": "hed", "depth": "vanishing", "planes": "ransac"}``.
        timings: seconds per stage.
    """

    width: int
    height: int
    labels: np.ndarray
    regions: list[SurfaceRegion]
    focal: float | None = None
    depth: np.ndarray | None = None
    method: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.labels.shape != (self.height, self.width):
            raise ValueError(f"BackgroundAnalysis.labels: shape {self.labels.shape} != ({self.height}, {self.width})")
        if self.depth is not None and self.depth.shape != (self.height, self.width):
            raise ValueError(f"BackgroundAnalysis.depth: shape {self.depth.shape} != ({self.height}, {self.width})")
