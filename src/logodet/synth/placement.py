"""Where a logo goes: positions that respect the caps on truncation, overlap and visibility.

:class:`Occupancy` tracks the visible mask of every instance placed on one
image; :func:`choose_position` samples positions for a new warped mask until
one passes :meth:`Occupancy.check`. The scene-aware placement of the next
stage (regions, planes) plugs in through ``analysis``: it proposes positions,
the same checks accept or reject them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from logodet.synth.blend import clip_window
from logodet.synth.config import SynthConfig

__all__ = ["Occupancy", "PlacementCheck", "choose_position"]


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

    def add(self, mask: np.ndarray, x: int, y: int) -> None:
        """Put ``mask`` on top: earlier instances lose the pixels it covers."""
        win, sub = self._inframe(mask, x, y)
        full = np.zeros(self.shape, bool)
        if win is not None and sub is not None:
            rows, cols = win[0], win[1]
            full[rows, cols] = sub
            for p in self._placed:
                p.visible[rows, cols] &= ~sub
                p.visible_area = int(np.count_nonzero(p.visible))
        area = int(np.count_nonzero(full))
        self._placed.append(_Placed(full, area, area, int(np.count_nonzero(mask))))

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
