"""Galleries of the worst errors at an operating point: crops with context, drawn and tiled into a JPEG grid.

Both kinds come from the three-stage matching of
:func:`logodet.evaluation.confusion.match_at_threshold`:

* **false positives** — detections scoring at least the threshold that did not
  match a box of their class (background, a duplicate, a poorly placed box, or
  a box of another class), highest score first;
* **false negatives** — non-crowd ground-truth boxes no detection of their
  class matched (missed, or found as another class), largest box first (ties
  keep the ground-truth order). ``score`` is the best score of any detection
  of the box's class overlapping it with IoU >= the matching IoU, whatever its
  score (``None`` when there is none): a high value means the threshold, not
  the model, lost it.

Each crop is the box with half its longer side of context on every side (at
least 24 pixels), scaled into a square tile; ground-truth boxes are drawn in
white, detections in their class colour with their score, and a caption names
the error and the file. Images are read from the dataset's image folder; an
image that cannot be read is skipped and reported in ``Gallery.skipped``.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from logodet.evaluation.confusion import BACKGROUND, BELOW_THRESHOLD, CONFUSED, MATCHED, ThresholdMatch
from logodet.evaluation.matching import box_iou_xywh
from logodet.inference.draw import draw_detections
from logodet.io import ImageReadError, atomic_write_bytes, read_rgb
from logodet.types import Detections

__all__ = ["Gallery", "GalleryItem", "render_gallery", "save_galleries", "select_false_negatives", "select_false_positives"]

FALSE_POSITIVES = "false_positives"
FALSE_NEGATIVES = "false_negatives"
_CAPTION = 30
_GAP = 4


@dataclass(frozen=True)
class GalleryItem:
    """One error shown in a gallery.

    Attributes:
        kind: ``"false_positives"`` or ``"false_negatives"``.
        image_id: COCO image id.
        file_name: the image's file name, relative to the image folder.
        bbox: ``(x1, y1, x2, y2)`` of the detection (false positive) or the ground-truth box (false negative).
        class_name: the detection's class, or the missed box's class.
        score: detection score; for a false negative the best overlapping score of its class (``None`` if none).
        reason: ``background``, ``duplicate``, ``poor localisation``, ``other class: NAME`` (false positives),
            ``missed`` or ``found as NAME`` (false negatives).
        index: the detection's index in the results, or the box's index in the annotations.
    """

    kind: str
    image_id: int
    file_name: str
    bbox: tuple[float, float, float, float]
    class_name: str
    score: float | None
    reason: str
    index: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "kind": self.kind,
            "image_id": self.image_id,
            "file_name": self.file_name,
            "bbox": [round(v, 2) for v in self.bbox],
            "class_name": self.class_name,
            "score": None if self.score is None else round(float(self.score), 6),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Gallery:
    """The items of one kind, the grid written (``None`` when nothing could be drawn) and the skipped images."""

    kind: str
    items: list[GalleryItem]
    path: Path | None
    skipped: list[str] = field(default_factory=list)


def _xyxy(b: list[float]) -> tuple[float, float, float, float]:
    return (float(b[0]), float(b[1]), float(b[0] + b[2]), float(b[1] + b[3]))


def select_false_positives(gt: dict, results: list[dict], match: ThresholdMatch, limit: int = 24) -> list[GalleryItem]:
    """The ``limit`` highest-scoring detections at or above the threshold that matched no box of their class.

    ``gt`` and ``results`` must be the (normalised) inputs ``match`` was computed from.
    """
    files = {int(im["id"]): str(im.get("file_name", "")) for im in gt["images"]}
    anns = gt.get("annotations", [])
    by_image: dict[int, list[int]] = defaultdict(list)
    for g, a in enumerate(anns):
        if not a.get("iscrowd", 0):
            by_image[int(a["image_id"])].append(g)
    wrong = np.flatnonzero(np.isin(match.det_outcome, (BACKGROUND, CONFUSED)))
    wrong = wrong[np.argsort(-np.array([results[i]["score"] for i in wrong], np.float64), kind="mergesort")][: max(0, limit)]
    items = []
    for i in wrong.tolist():
        r = results[i]
        cls = int(match.det_class[i])
        if match.det_outcome[i] == CONFUSED:
            reason = f"other class: {match.class_names[match.gt_class[match.det_gt[i]]]}"
        else:
            same = [g for g in by_image.get(int(r["image_id"]), []) if match.gt_class[g] == cls]
            best = 0.0
            if same:
                boxes = np.array([anns[g]["bbox"] for g in same], np.float64)
                best = float(box_iou_xywh(np.array([r["bbox"]], np.float64), boxes, np.zeros(len(same), bool)).max())
            iou_thr = min(match.iou_threshold, 1 - 1e-10)
            reason = "duplicate" if best >= iou_thr else ("poor localisation" if best >= 0.1 else "background")
        iid = int(r["image_id"])
        items.append(GalleryItem(FALSE_POSITIVES, iid, files[iid], _xyxy(r["bbox"]), match.class_names[cls], float(r["score"]), reason, i))
    return items


def select_false_negatives(gt: dict, results: list[dict], match: ThresholdMatch, limit: int = 24) -> list[GalleryItem]:
    """The ``limit`` largest non-crowd boxes that no detection of their class matched at the threshold."""
    files = {int(im["id"]): str(im.get("file_name", "")) for im in gt["images"]}
    anns = gt.get("annotations", [])
    missed = [
        g for g in range(len(anns)) if not match.gt_crowd[g] and (match.gt_det[g] < 0 or match.det_outcome[match.gt_det[g]] != MATCHED)
    ]
    missed.sort(key=lambda g: -float(anns[g]["bbox"][2]) * float(anns[g]["bbox"][3]))
    missed = missed[: max(0, limit)]
    dets_by_image: dict[int, list[int]] = defaultdict(list)
    for i, r in enumerate(results):
        dets_by_image[int(r["image_id"])].append(i)
    iou_thr = min(match.iou_threshold, 1 - 1e-10)
    items = []
    for g in missed:
        a = anns[g]
        iid, cls = int(a["image_id"]), int(match.gt_class[g])
        same = [i for i in dets_by_image.get(iid, []) if match.det_class[i] == cls]
        score = None
        if same:
            ious = box_iou_xywh(
                np.array([results[i]["bbox"] for i in same], np.float64), np.array([a["bbox"]], np.float64), np.zeros(1, bool)
            )
            hits = [float(results[i]["score"]) for i, iou in zip(same, ious[:, 0].tolist(), strict=True) if iou >= iou_thr]
            score = max(hits) if hits else None
        d = int(match.gt_det[g])
        reason = "missed" if d < 0 else f"found as {match.class_names[match.det_class[d]]}"
        items.append(GalleryItem(FALSE_NEGATIVES, iid, files[iid], _xyxy(a["bbox"]), match.class_names[cls], score, reason, g))
    return items


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


def _fit_text(text: str, width: int, scale: float) -> str:
    text = _ascii(text)
    while text and cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] > width:
        text = text[:-2] + "~" if len(text) > 2 else ""
    return text


def _tile(
    image: np.ndarray, item: GalleryItem, gt_boxes: list[tuple[tuple[float, ...], str]], dets: Detections, names: list[str], size: int
) -> np.ndarray:
    """One tile: the crop around ``item.bbox`` scaled into ``size`` x ``size`` with boxes drawn, and a caption."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = item.bbox
    half = max(x2 - x1, y2 - y1, 24.0)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = max(0, math.floor(cx - half)), max(0, math.floor(cy - half))
    right, bottom = min(w, math.ceil(cx + half)), min(h, math.ceil(cy + half))
    if right <= left or bottom <= top:  # box outside the image: show the whole image
        left, top, right, bottom = 0, 0, w, h
    crop = image[top:bottom, left:right]
    scale = size / max(crop.shape[:2])
    cw, ch = max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))
    canvas = np.full((size, size, 3), 96, np.uint8)
    ox, oy = (size - cw) // 2, (size - ch) // 2
    canvas[oy : oy + ch, ox : ox + cw] = cv2.resize(crop, (cw, ch), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)

    def to_tile(box: tuple[float, ...]) -> tuple[int, int, int, int]:
        bx1, by1, bx2, by2 = box
        return (
            round((bx1 - left) * scale + ox),
            round((by1 - top) * scale + oy),
            round((bx2 - left) * scale + ox),
            round((by2 - top) * scale + oy),
        )

    for box, name in gt_boxes:  # ground truth in white
        if box[2] < left or box[0] > right or box[3] < top or box[1] > bottom:
            continue
        tx1, ty1, tx2, ty2 = to_tile(box)
        subject = item.kind == FALSE_NEGATIVES and box == item.bbox
        cv2.rectangle(canvas, (tx1, ty1), (tx2, ty2), (255, 255, 255), 2 if subject else 1)
        cv2.putText(
            canvas, _ascii(name), (tx1 + 2, min(size - 3, ty2 + 11)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1, cv2.LINE_AA
        )
    if len(dets):
        tiled = np.array([to_tile(tuple(b)) for b in dets.xyxy.tolist()], np.float32)
        canvas = draw_detections(canvas, Detections(tiled, dets.class_ids, dets.scores), [_ascii(n) for n in names], thickness=2)
    caption = np.full((_CAPTION, size, 3), 24, np.uint8)
    if item.kind == FALSE_POSITIVES:
        head = f"FP {item.class_name} {item.score:.2f} {item.reason}"
    else:
        head = f"FN {item.class_name} {item.reason}" + ("" if item.score is None else f", best {item.score:.2f}")
    for line, text in enumerate((head, item.file_name)):
        cv2.putText(
            caption, _fit_text(text, size - 4, 0.35), (2, 12 + 13 * line), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (235, 235, 235), 1, cv2.LINE_AA
        )
    return np.vstack([canvas, caption])


def render_gallery(tiles: list[np.ndarray], columns: int = 6) -> np.ndarray:
    """Arrange equally sized tiles in a grid (row-major) on a dark background."""
    if not tiles:
        raise ValueError("render_gallery: no tiles to arrange")
    th, tw = tiles[0].shape[:2]
    cols = max(1, min(columns, len(tiles)))
    rows = math.ceil(len(tiles) / cols)
    grid = np.full((rows * (th + _GAP) + _GAP, cols * (tw + _GAP) + _GAP, 3), 16, np.uint8)
    for n, t in enumerate(tiles):
        r, c = divmod(n, cols)
        y, x = _GAP + r * (th + _GAP), _GAP + c * (tw + _GAP)
        grid[y : y + th, x : x + tw] = t
    return grid


def save_galleries(
    gt: dict,
    results: list[dict],
    match: ThresholdMatch,
    image_dir: str | Path,
    out_dir: str | Path,
    *,
    limit: int = 24,
    columns: int = 6,
    tile_size: int = 160,
) -> dict[str, Gallery]:
    """Write ``false_positives.jpg`` and ``false_negatives.jpg`` under ``out_dir``.

    Args:
        gt: normalised COCO ground truth (``file_name`` relative to ``image_dir``).
        results: validated COCO results.
        match: their :class:`ThresholdMatch`.
        image_dir: folder holding the images.
        out_dir: output folder (created).
        limit: most errors shown per kind.
        columns: tiles per grid row.
        tile_size: side of a tile's image area in pixels.

    Returns:
        ``{"false_positives": Gallery, "false_negatives": Gallery}``; a kind with
        no error, or whose images could not be read, writes no file (``path`` ``None``).

    Example:
        >>> save_galleries(gt, results, match_at_threshold(gt, results, 0.4), "data/val/images", "runs/eval/galleries")  # doctest: +SKIP
    """
    image_dir, out_dir = Path(image_dir), Path(out_dir)
    names = match.class_names
    anns = gt.get("annotations", [])
    images = {int(im["id"]): im for im in gt["images"]}
    gt_by_image: dict[int, list[int]] = defaultdict(list)
    for g, a in enumerate(anns):
        if not a.get("iscrowd", 0):
            gt_by_image[int(a["image_id"])].append(g)
    kept_by_image: dict[int, list[int]] = defaultdict(list)
    for i in np.flatnonzero(match.det_outcome != BELOW_THRESHOLD).tolist():
        kept_by_image[int(results[i]["image_id"])].append(i)
    cache: dict[int, np.ndarray | str] = {}

    def load(iid: int) -> tuple[np.ndarray | None, float, float]:
        if iid not in cache:
            try:
                cache[iid] = read_rgb(image_dir / images[iid]["file_name"])
            except ImageReadError as exc:
                cache[iid] = str(exc)
        img = cache[iid]
        if isinstance(img, str):
            return None, 1.0, 1.0
        return img, img.shape[1] / float(images[iid]["width"]), img.shape[0] / float(images[iid]["height"])

    out: dict[str, Gallery] = {}
    for kind, items in (
        (FALSE_POSITIVES, select_false_positives(gt, results, match, limit)),
        (FALSE_NEGATIVES, select_false_negatives(gt, results, match, limit)),
    ):
        tiles, skipped = [], []
        for item in items:
            img, sx, sy = load(item.image_id)
            if img is None:
                msg = str(cache[item.image_id])
                if msg not in skipped:
                    skipped.append(msg)
                continue

            def scaled(b: tuple[float, ...], sx: float = sx, sy: float = sy) -> tuple[float, ...]:
                return (b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy)

            gts = [(scaled(_xyxy(anns[g]["bbox"])), names[match.gt_class[g]]) for g in gt_by_image.get(item.image_id, [])]
            if kind == FALSE_POSITIVES:
                idx = [item.index]
            else:
                idx = kept_by_image.get(item.image_id, [])
            dets = Detections(
                np.array([scaled(_xyxy(results[i]["bbox"])) for i in idx], np.float32).reshape(-1, 4),
                match.det_class[idx],
                np.array([results[i]["score"] for i in idx], np.float32),
            )
            subject = GalleryItem(
                item.kind, item.image_id, item.file_name, scaled(item.bbox), item.class_name, item.score, item.reason, item.index
            )
            tiles.append(_tile(img, subject, gts, dets, names, tile_size))
        path = None
        if tiles:
            buf = io.BytesIO()
            Image.fromarray(render_gallery(tiles, columns)).save(buf, format="JPEG", quality=88)
            path = out_dir / f"{kind}.jpg"
            atomic_write_bytes(path, buf.getvalue())
        out[kind] = Gallery(kind, items, path, skipped)
    return out
