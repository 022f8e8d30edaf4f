"""The lenient reading behind ``logodet data check``: a COCO file parsed field by field, every problem recorded.

:class:`CocoScan` never raises on bad content: each malformed field, unknown
or duplicate id, missing or unreadable image file, wrong size and box outside
its image becomes a :class:`Problem` naming the file and the JSON field path.
:mod:`logodet.datasets.check` drives it; :mod:`logodet.datasets.fix` writes
the corrected copy from what it found.
"""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from logodet.datasets.phash import phash
from logodet.io import ImageReadError, read_rgb

__all__ = ["BOX_TOLERANCE", "PROBLEM_CODES", "CocoScan", "Problem"]

PROBLEM_CODES: dict[str, tuple[str, str]] = {
    "invalid_json": ("error", "the annotations file is not valid JSON"),
    "malformed_field": ("error", "a field is missing or has the wrong type"),
    "format_error": ("error", "the dataset cannot be loaded in its format"),
    "missing_image": ("error", "an image file does not exist"),
    "corrupt_image": ("error", "an image file cannot be read"),
    "size_mismatch": ("error", "width/height differ from the image file"),
    "empty_box": ("error", "a box has zero or negative width or height"),
    "box_outside": ("error", "a box lies entirely outside its image"),
    "box_partly_outside": ("warning", "a box extends past the image border"),
    "unknown_category": ("error", "an annotation names a category id that does not exist"),
    "unknown_image": ("error", "an annotation names an image id that does not exist"),
    "duplicate_image_id": ("error", "two images share an id"),
    "duplicate_annotation_id": ("error", "two annotations share an id"),
    "duplicate_category_id": ("error", "two categories share an id"),
    "duplicate_category_name": ("error", "two categories share a name"),
    "duplicate_image": ("warning", "an image file has the same bytes as another of the dataset"),
    "near_duplicate_image": ("warning", "an image looks like another of the dataset (perceptual hash)"),
    "split_leak": ("error", "the same or a near-duplicate image is in two splits"),
}
BOX_TOLERANCE = 0.01  # pixels a box may pass the border by (rounding of stored coordinates)
_NUMBER = (int, float)


@dataclass(frozen=True)
class Problem:
    """One finding: ``file`` to open, ``where`` in it (field path or ``line N``), and a message."""

    severity: str
    code: str
    file: str
    where: str
    message: str


@dataclass
class _FileInfo:
    size: tuple[int, int] | None = None
    error: str | None = None
    missing: bool = False
    digest: bytes | None = None
    phash: int | None = None


def _inspect(path: Path, decode: bool, want_phash: bool) -> _FileInfo:
    """Header size, byte digest and (optionally) perceptual hash of one image file; errors are recorded, not raised."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _FileInfo(missing=True, error="file not found")
    except OSError as exc:
        return _FileInfo(error=f"cannot read file ({exc.strerror or exc})")
    info = _FileInfo(digest=hashlib.blake2b(data, digest_size=16).digest())
    try:
        with Image.open(io.BytesIO(data)) as im:
            info.size = (int(im.width), int(im.height))
            im.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        info.error = f"cannot read image header ({exc})"
        return info
    if decode or want_phash:
        try:
            rgb = read_rgb(path, None if decode else (64, 64))
        except ImageReadError as exc:
            info.error = str(exc).removeprefix(f"{path}: ")
            return info
        if want_phash:
            info.phash = phash(rgb)
    return info


class CocoScan:
    """The raw COCO dictionary of one dataset, parsed leniently; problems are collected, never raised."""

    def __init__(self, name: str, root: Path, source: Path, image_dir: Path, primary: bool, fmt: str = "coco") -> None:
        self.name, self.root, self.source, self.image_dir, self.primary, self.fmt = name, root, source, image_dir, primary, fmt
        self.problems: list[Problem] = []
        self.data: dict = {}
        self.img_ok: list[bool] = []  # entry usable (dict, valid id and file name, first of its id)
        self.img_file: list[str | None] = []
        self.img_wh: list[tuple[Any, Any]] = []
        self.img_id: dict[int, int] = {}  # image id -> first entry index
        self.real: dict[str, _FileInfo] = {}  # file name -> what the file holds
        self.dropped_images: dict[int, str] = {}  # entry index -> reason (for the fix)
        self.cat_known: dict[int, int] = {}  # category id -> canonical category id
        self.cat_keep: list[bool] = []
        self.ann_keep = np.zeros(0, bool)
        self.ann_img = np.zeros(0, np.int64)
        self.boxes = np.zeros((0, 4))
        self.ann_dup_ids: set[int] = set()
        self.missing: set[str] = set()  # top-level lists absent: references into them are not checked
        self.record_of: list[tuple[int, int]] | None = None  # annotation -> (image, box) for loaded (non-COCO) datasets

    def add(self, code: str, where: str, message: str, file: str | Path | None = None) -> None:
        self.problems.append(Problem(PROBLEM_CODES[code][0], code, str(file or self.source), where, message))

    def ann_where(self, k: int, key: str) -> str:
        if self.record_of is None:
            return f"annotations[{k}].{key}"
        i, j = self.record_of[k]
        return f"images[{i}].annotations[{j}].{key}"

    def ann_file(self, k: int) -> Path:
        if self.record_of is None:
            return self.source
        return self.image_dir / str(self.img_file[self.record_of[k][0]])

    # -- JSON structure -------------------------------------------------------------------------------------------
    def parse(self, data: Any) -> None:
        if not isinstance(data, dict):
            self.add("malformed_field", "", "top level must be an object")
            return
        self.data = data
        lists = {}
        for key in ("categories", "images", "annotations"):
            value = data.get(key, [] if key == "annotations" else None)
            if not isinstance(value, list):
                self.missing.add(key)
                self.add(
                    "malformed_field", key, f"missing field '{key}'" if value is None else f"expected a list, got {type(value).__name__}"
                )
                value = []
            lists[key] = value
        self._categories(lists["categories"])
        self._images(lists["images"])
        self._annotations(lists["annotations"])

    def _categories(self, cats: list) -> None:
        names: dict[str, int] = {}
        for j, c in enumerate(cats):
            cid, name = (c.get("id"), c.get("name")) if isinstance(c, dict) else (None, None)
            keep = False
            if type(cid) is not int:
                self.add("malformed_field", f"categories[{j}].id", f"expected an integer id, got {cid!r}")
            elif not isinstance(name, str) or not name:
                self.add("malformed_field", f"categories[{j}].name", f"expected a non-empty name, got {name!r}")
            elif cid in self.cat_known:
                self.add("duplicate_category_id", f"categories[{j}].id", f"category id {cid} ({name!r}) is already used")
            elif name in names:
                self.add(
                    "duplicate_category_name", f"categories[{j}].name", f"name {name!r} (id {cid}) is already used by id {names[name]}"
                )
                self.cat_known[cid] = names[name]
            else:
                names[name], self.cat_known[cid], keep = cid, cid, True
            self.cat_keep.append(keep)

    def _images(self, images: list) -> None:
        for i, im in enumerate(images):
            iid, fname = (im.get("id"), im.get("file_name")) if isinstance(im, dict) else (None, None)
            wh = (im.get("width"), im.get("height")) if isinstance(im, dict) else (None, None)
            ok = True
            if not isinstance(im, dict):
                self.add("malformed_field", f"images[{i}]", f"expected an object, got {type(im).__name__}")
                ok = False
            else:
                if type(iid) is not int:
                    self.add("malformed_field", f"images[{i}].id", f"expected an integer id, got {iid!r}")
                    ok = False
                if not isinstance(fname, str) or not fname:
                    self.add("malformed_field", f"images[{i}].file_name", f"expected a file name, got {fname!r}")
                    ok, fname = False, None
                for key, v in zip(("width", "height"), wh, strict=True):
                    if type(v) is not int or v <= 0:
                        self.add("malformed_field", f"images[{i}].{key}", f"expected a positive integer, got {v!r}")
            if ok and iid in self.img_id:
                self.add("duplicate_image_id", f"images[{i}].id", f"image id {iid} is already used by images[{self.img_id[iid]}]")
                self.dropped_images[i] = "duplicate image id"
            elif ok:
                self.img_id[iid] = i
            elif i not in self.dropped_images:
                self.dropped_images[i] = "malformed entry"
            self.img_ok.append(ok and i not in self.dropped_images)
            self.img_file.append(fname)
            self.img_wh.append(wh)

    def _annotations(self, anns: list) -> None:
        n = len(anns)
        keep, img, boxes = np.ones(n, bool), np.full(n, -1, np.int64), np.full((n, 4), np.nan)
        seen: dict[int, int] = {}
        img_id, cats = self.img_id, self.cat_known
        for k, a in enumerate(anns):
            if not isinstance(a, dict):
                self.add("malformed_field", f"annotations[{k}]", f"expected an object, got {type(a).__name__}", self.ann_file(k))
                keep[k] = False
                continue
            iid, cid, bbox, aid = a.get("image_id"), a.get("category_id"), a.get("bbox"), a.get("id")
            if type(iid) is int and iid in img_id:
                img[k] = img_id[iid]
            elif type(iid) is not int or "images" not in self.missing:
                keep[k] = False
                code = "unknown_image" if type(iid) is int else "malformed_field"
                msg = f"unknown image id {iid!r}" if code == "unknown_image" else f"expected an integer, got {iid!r}"
                self.add(code, self.ann_where(k, "image_id"), msg, self.ann_file(k))
            if type(cid) is not int or (cid not in cats and "categories" not in self.missing):
                keep[k] = False
                code = "unknown_category" if type(cid) is int else "malformed_field"
                msg = f"unknown category id {cid!r}" if code == "unknown_category" else f"expected an integer, got {cid!r}"
                self.add(code, self.ann_where(k, "category_id"), msg, self.ann_file(k))
            if type(bbox) is list and len(bbox) == 4 and all(type(v) in _NUMBER for v in bbox):
                boxes[k] = bbox
            else:
                keep[k] = False
                self.add("malformed_field", self.ann_where(k, "bbox"), f"expected [x, y, w, h] numbers, got {bbox!r:.80}", self.ann_file(k))
            if aid is not None:
                if type(aid) is not int:
                    self.add("malformed_field", f"annotations[{k}].id", f"expected an integer id, got {aid!r}")
                    self.ann_dup_ids.add(k)
                elif aid in seen:
                    self.add(
                        "duplicate_annotation_id",
                        f"annotations[{k}].id",
                        f"annotation id {aid} is already used by annotations[{seen[aid]}]",
                    )
                    self.ann_dup_ids.add(k)
                else:
                    seen[aid] = k
        bad = keep & ~np.isfinite(boxes).all(1)
        for k in np.flatnonzero(bad).tolist():
            self.add("malformed_field", self.ann_where(k, "bbox"), f"box values must be finite, got {anns[k]['bbox']!r}", self.ann_file(k))
        self.ann_keep, self.ann_img, self.boxes = keep & ~bad, img, boxes

    # -- image files and geometry ---------------------------------------------------------------------------------
    def inspect_files(self, pool: ThreadPoolExecutor, decode: bool, want_phash: bool) -> None:
        names = list(dict.fromkeys(f for f, ok in zip(self.img_file, self.img_ok, strict=True) if ok and f))
        paths = [self.image_dir / f for f in names]
        self.real = dict(zip(names, pool.map(lambda p: _inspect(p, decode, want_phash), paths), strict=True))
        first: dict[str, int] = {}
        for i, fname in enumerate(self.img_file):
            if not self.img_ok[i] or fname is None:
                continue
            info, path = self.real[fname], self.image_dir / fname
            if fname in first:
                self.add("duplicate_image", f"images[{i}].file_name", f"{fname} is also listed as images[{first[fname]}]", path)
                self.dropped_images[i] = "listed twice"
                continue
            first[fname] = i
            if info.missing:
                self.add("missing_image", f"images[{i}].file_name", f"{path}: file not found", None if self.record_of is None else path)
                self.dropped_images[i] = "missing file"
            elif info.error:
                self.add("corrupt_image", f"images[{i}]", info.error, path)
                self.dropped_images[i] = "corrupt file"
            if info.size is not None:
                swapped = " (width and height swapped: EXIF rotation?)" if tuple(self.img_wh[i]) == info.size[::-1] else ""
                for key, stored, true in zip(("width", "height"), self.img_wh[i], info.size, strict=True):
                    if type(stored) is int and stored > 0 and stored != true:
                        self.add("size_mismatch", f"images[{i}].{key}", f"{key} is {stored} but the file {fname} has {true}{swapped}")

    def image_sizes(self) -> np.ndarray:
        """``[n_images, 2]`` width, height per entry: the file's when known, else the stored one, else NaN."""
        wh = np.full((len(self.img_file), 2), np.nan)
        for i, (fname, stored) in enumerate(zip(self.img_file, self.img_wh, strict=True)):
            info = self.real.get(fname) if fname else None
            if info is not None and info.size is not None:
                wh[i] = info.size
            elif all(type(v) is int and v > 0 for v in stored):
                wh[i] = stored
        return wh

    def check_boxes(self) -> None:
        keep, boxes = self.ann_keep, self.boxes
        wh = self.image_sizes()[np.maximum(self.ann_img, 0)] if len(self.img_file) else np.full((len(boxes), 2), np.nan)
        x1, y1, w, h = boxes.T
        x2, y2, iw, ih = x1 + w, y1 + h, wh[:, 0], wh[:, 1]
        with np.errstate(invalid="ignore"):
            empty = keep & ((w <= 0) | (h <= 0))
            sized = keep & ~empty & np.isfinite(iw)
            outside = sized & ((x1 >= iw) | (y1 >= ih) | (x2 <= 0) | (y2 <= 0))
            t = BOX_TOLERANCE
            partly = sized & ~outside & ((x1 < -t) | (y1 < -t) | (x2 > iw + t) | (y2 > ih + t))
        for code, mask in (("empty_box", empty), ("box_outside", outside), ("box_partly_outside", partly)):
            for k in np.flatnonzero(mask).tolist():
                box = [round(float(v), 3) for v in boxes[k]]
                img = f"the {iw[k]:.0f}x{ih[k]:.0f} image {self.img_file[self.ann_img[k]]}"
                msg = {"empty_box": f"box {box} has zero or negative area", "box_outside": f"box {box} lies outside {img}"}
                self.add(code, self.ann_where(k, "bbox"), msg.get(code, f"box {box} extends past {img}"), self.ann_file(k))
