"""Where a logo goes: positions that respect the caps on truncation, overlap and visibility.

:class:`Occupancy` tracks the visible mask of every instance placed on one
image; :func:`choose_position` samples positions for a new warped mask until
one passes :meth:`Occupancy.check`. Scene-aware placement maps a background
analysis into the output frame (:func:`crop_analysis`), picks a region
(:func:`choose_region`) and checks that the warped logo stays inside it
(:func:`region_fraction`) and is neither too small nor too skewed
(:func:`warp_quality`); the same occupancy checks then accept or reject it.
Unlabelled placements (distractors) take part in the overlap caps of the
labelled ones but have no caps of their own.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass

import numpy as np

from logodet.synth.augment import apply_crop
from logodet.synth.blend import clip_window
from logodet.synth.config import SynthConfig
from logodet.synth.surfaces import BackgroundAnalysis, SurfaceRegion

__all__ = [
    "Occupancy",
    "PlacementCheck",
    "SceneView",
    "choose_position",
    "choose_region",
    "crop_analysis",
    "region_fraction",
    "warp_quality",
]


@dataclass(frozen=True)
class PlacementCheck:
    """Result of trying a mask at one position.

    Attributes:
        ok: all caps hold.
        truncation: fraction of the new mask outside the image.
        visibility: visible fraction of the new instance (its in-frame share).
        reason: why the position was rejected (empty when ``ok``).
    """

    ok: bool
    truncation: float = 0.0
    visibility: float = 0.0
    reason: str = ""


@dataclass
class _Placed:
    visible: np.ndarray  # bool [H, W], full frame
    visible_area: int
    inframe_area: int
    amodal_area: int
    labelled: bool = True


class Occupancy:
    """The instances placed on one image, newest on top.

    Example:
        >>> occ = Occupancy((8, 8))
        >>> m = np.ones((4, 4), bool)
        >>> occ.check(m, 0, 0, SynthConfig()).ok
        True
        >>> occ.add(m, 0, 0); occ.check(m, 1, 1, SynthConfig(max_overlap=0.2)).reason
        'covers 56% of instance 0 (cap 20%)'
    """

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self._placed: list[_Placed] = []

    def __len__(self) -> int:
        return len(self._placed)

    def _inframe(self, mask: np.ndarray, x: int, y: int) -> tuple[tuple[slice, slice, slice, slice] | None, np.ndarray | None]:
        win = clip_window(self.shape, mask.shape, x, y)
        if win is None:
            return None, None
        return win, mask[win[2], win[3]]

    def check(self, mask: np.ndarray, x: int, y: int, cfg: SynthConfig) -> PlacementCheck:
        """Whether ``mask`` (bool, top-left at ``(x, y)``) may go on top of the current instances."""
        total = int(np.count_nonzero(mask))
        if total == 0:
            return PlacementCheck(False, reason="empty mask")
        win, sub = self._inframe(mask, x, y)
        inframe = 0 if sub is None else int(np.count_nonzero(sub))
        trunc = 1.0 - inframe / total
        if trunc > cfg.max_truncation + 1e-9:
            return PlacementCheck(False, trunc, 1.0 - trunc, f"truncated {trunc:.0%} (cap {cfg.max_truncation:.0%})")
        if 1.0 - trunc < cfg.min_visibility or inframe < cfg.min_mask_px:
            return PlacementCheck(False, trunc, 1.0 - trunc, "too little of it inside the image")
        assert win is not None and sub is not None
        rows, cols = win[0], win[1]
        for i, p in enumerate(self._placed):
            if not p.labelled:
                continue  # distractors may be covered freely
            covered = int(np.count_nonzero(p.visible[rows, cols] & sub))
            if not covered:
                continue
            left = p.visible_area - covered
            occluded = 1.0 - left / p.inframe_area
            if occluded > cfg.max_overlap + 1e-9:
                return PlacementCheck(False, trunc, 1.0 - trunc, f"covers {occluded:.0%} of instance {i} (cap {cfg.max_overlap:.0%})")
            if left / p.amodal_area < cfg.min_visibility or left < cfg.min_mask_px:
                return PlacementCheck(False, trunc, 1.0 - trunc, f"leaves instance {i} too little visible")
        return PlacementCheck(True, trunc, 1.0 - trunc)

    def add(self, mask: np.ndarray, x: int, y: int, labelled: bool = True) -> None:
        """Put ``mask`` on top: earlier instances lose the pixels it covers (``labelled=False``: a distractor)."""
        win, sub = self._inframe(mask, x, y)
        full = np.zeros(self.shape, bool)
        if win is not None and sub is not None:
            rows, cols = win[0], win[1]
            full[rows, cols] = sub
            for p in self._placed:
                p.visible[rows, cols] &= ~sub
                p.visible_area = int(np.count_nonzero(p.visible))
        area = int(np.count_nonzero(full))
        self._placed.append(_Placed(full, area, area, int(np.count_nonzero(mask)), labelled))

    def covered(self, shape: tuple[int, int], x: int, y: int) -> np.ndarray:
        """``bool`` window of ``shape`` at ``(x, y)``: where a labelled instance is visible (distractors not counted)."""
        out = np.zeros(shape, bool)
        win = clip_window(self.shape, shape, x, y)
        if win is None:
            return out
        rows, cols, prows, pcols = win
        for p in self._placed:
            if p.labelled:
                out[prows, pcols] |= p.visible[rows, cols]
        return out

    def labelled(self, index: int) -> bool:
        """Whether placement ``index`` is a labelled instance (not a distractor)."""
        return self._placed[index].labelled

    def visible_masks(self) -> list[np.ndarray]:
        """Full-frame visible masks, in placement order."""
        return [p.visible for p in self._placed]

    def stats(self, index: int) -> tuple[float, float, float]:
        """``(visibility, occlusion, truncation)`` of instance ``index`` now."""
        p = self._placed[index]
        occlusion = 1.0 - p.visible_area / p.inframe_area if p.inframe_area else 1.0
        return p.visible_area / p.amodal_area, occlusion, 1.0 - p.inframe_area / p.amodal_area


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    cols = np.flatnonzero(mask.any(axis=0))
    rows = np.flatnonzero(mask.any(axis=1))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def choose_position(
    mask: np.ndarray,
    occupancy: Occupancy,
    rng: np.random.Generator,
    cfg: SynthConfig,
    analysis: object | None = None,
) -> tuple[int, int] | None:
    """A top-left ``(x, y)`` for ``mask`` that passes every cap, or ``None`` after ``cfg.placement_tries``.

    Positions are uniform over the image, extended by the allowed truncation
    on each side. ``analysis`` (a background analysis with candidate regions)
    is accepted for the scene-aware placement of the next stage and ignored here.

    Example:
        >>> choose_position(np.ones((4, 4), bool), Occupancy((16, 16)), np.random.default_rng(0), SynthConfig()) is not None
        True
    """
    if not mask.any():
        return None
    h, w = occupancy.shape
    bx0, by0, bx1, by1 = _box(mask)
    bw, bh = bx1 - bx0, by1 - by0
    mx, my = int(cfg.max_truncation * bw), int(cfg.max_truncation * bh)
    lo_x, hi_x = -mx, w - bw + mx
    lo_y, hi_y = -my, h - bh + my
    if hi_x < lo_x:
        lo_x = hi_x = (w - bw) // 2
    if hi_y < lo_y:
        lo_y = hi_y = (h - bh) // 2
    for _ in range(cfg.placement_tries):
        left = int(rng.integers(lo_x, hi_x + 1))
        top = int(rng.integers(lo_y, hi_y + 1))
        x, y = left - bx0, top - by0
        if occupancy.check(mask, x, y, cfg).ok:
            return x, y
    return None


@dataclass
class SceneView:
    """A background analysis mapped into the output frame of one composed image.

    Attributes:
        labels: ``int32 [H, W]`` region ids of the output frame (nearest-neighbour crop of the analysis labels).
        regions: the usable regions visible in the frame, with ``center``,
            ``inner_radius`` and ``bbox`` in output pixels.
        visible_area: output pixels of each region in ``regions``.
        focal: focal length in output pixels, or ``None``.
        principal: the analysed image's centre in output pixels.
    """

    labels: np.ndarray
    regions: list[SurfaceRegion]
    visible_area: list[int]
    focal: float | None
    principal: tuple[float, float]


def crop_analysis(analysis: BackgroundAnalysis, window: tuple[int, int, int, int], size: tuple[int, int]) -> SceneView:
    """Map ``analysis`` (of the uncropped background) through the crop ``window`` = ``(x0, y0, w, h)`` resized to ``size``.

    Example:
        >>> labels = np.zeros((40, 40), np.int32); labels[10:30, 10:30] = 1
        >>> reg = SurfaceRegion(1, 400, (10, 10, 30, 30), (19.5, 19.5), 10.0)
        >>> view = crop_analysis(BackgroundAnalysis(40, 40, labels, [reg]), (0, 0, 40, 40), (80, 80))
        >>> view.regions[0].inner_radius, view.visible_area
        (20.0, [1600])
    """
    x0, y0, cw, ch = window
    out_w, out_h = size
    sx, sy = out_w / cw, out_h / ch
    labels = apply_crop(np.ascontiguousarray(analysis.labels, np.int32), window, size, nearest=True)
    counts = np.bincount(labels.ravel(), minlength=max((r.label for r in analysis.regions), default=0) + 1)
    s = math.sqrt(sx * sy)
    regions, areas = [], []
    for r in analysis.regions:
        area = int(counts[r.label]) if 0 < r.label < len(counts) else 0
        if area == 0:
            continue
        bx0, by0, bx1, by1 = r.bbox
        box = (
            max(0, math.floor((bx0 - x0) * sx)),
            max(0, math.floor((by0 - y0) * sy)),
            min(out_w, math.ceil((bx1 - x0) * sx)),
            min(out_h, math.ceil((by1 - y0) * sy)),
        )
        center = ((r.center[0] + 0.5 - x0) * sx - 0.5, (r.center[1] + 0.5 - y0) * sy - 0.5)
        regions.append(SurfaceRegion(r.label, area, box, center, r.inner_radius * s, r.normal, r.plane_inliers, r.mean_color))
        areas.append(area)
    focal = None if analysis.focal is None else float(analysis.focal) * s
    principal = ((analysis.width / 2.0 - x0) * sx, (analysis.height / 2.0 - y0) * sy)
    return SceneView(labels, regions, areas, focal, principal)


def choose_region(view: SceneView, used: set[int], rng: np.random.Generator) -> SurfaceRegion | None:
    """A region of ``view``, area-weighted, among those whose label is not in ``used`` when any is left.

    Example:
        >>> labels = np.ones((10, 10), np.int32)
        >>> view = SceneView(labels, [SurfaceRegion(1, 100, (0, 0, 10, 10), (4.5, 4.5), 5.0)], [100], None, (5.0, 5.0))
        >>> choose_region(view, {1}, np.random.default_rng(0)).label
        1
    """
    if not view.regions:
        return None
    fresh = [i for i, r in enumerate(view.regions) if r.label not in used]
    pool = fresh or list(range(len(view.regions)))
    cumulative = list(itertools.accumulate(view.visible_area[i] for i in pool))
    pick = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
    return view.regions[pool[min(pick, len(pool) - 1)]]


def region_fraction(labels: np.ndarray, label: int, mask: np.ndarray, x: int, y: int) -> float:
    """Fraction of the in-frame pixels of ``mask`` (top-left at ``(x, y)``) whose region id is ``label``.

    Example:
        >>> labels = np.zeros((10, 10), np.int32); labels[:, :5] = 3
        >>> region_fraction(labels, 3, np.ones((2, 4), bool), 3, 0)
        0.5
    """
    win = clip_window(labels.shape, mask.shape, x, y)
    if win is None:
        return 0.0
    sub = mask[win[2], win[3]]
    total = int(np.count_nonzero(sub))
    return int(np.count_nonzero(labels[win[0], win[1]][sub] == label)) / total if total else 0.0


def warp_quality(matrix: np.ndarray, width: int, height: int) -> tuple[float, float]:
    """``(shortest side, anisotropy)`` of a ``width x height`` patch warped by the homography ``matrix``.

    The shortest side is that of the warped quadrilateral in pixels; the
    anisotropy is the largest ratio of the singular values of the warp's local
    Jacobian at the patch centre and corners (1 for a similarity).

    Example:
        >>> warp_quality(np.diag([2.0, 1.0, 1.0]), 10, 10)
        (10.0, 2.0)
    """
    (h00, h01, h02), (h10, h11, h12), (h20, h21, h22) = np.asarray(matrix, np.float64).tolist()
    x1, y1 = width - 0.5, height - 0.5  # pixel edges: the quad covers the whole patch
    pts = ((-0.5, -0.5), (x1, -0.5), (x1, y1), (-0.5, y1), ((width - 1) / 2, (height - 1) / 2))
    uv, worst = [], 1.0
    for px, py in pts:  # plain floats: this runs for every placement try
        w = h20 * px + h21 * py + h22
        if w <= 1e-9:
            return 0.0, math.inf  # a point behind the camera
        u, v = (h00 * px + h01 * py + h02) / w, (h10 * px + h11 * py + h12) / w
        uv.append((u, v))
        # local Jacobian of the projective map, singular values in closed form
        a, b, c, d = (h00 - u * h20) / w, (h01 - u * h21) / w, (h10 - v * h20) / w, (h11 - v * h21) / w
        frob, det = a * a + b * b + c * c + d * d, abs(a * d - b * c)
        root = math.sqrt(max(frob * frob - 4.0 * det * det, 0.0))
        s_max, s_min = math.sqrt((frob + root) / 2.0), math.sqrt(max(frob - root, 0.0) / 2.0)
        worst = max(worst, s_max / max(s_min, 1e-12))
    side = min(math.dist(uv[i], uv[(i + 1) % 4]) for i in range(4))
    return side, worst
