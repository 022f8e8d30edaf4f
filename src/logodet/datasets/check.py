"""Dataset validation: every problem of a dataset at once, and a corrected copy.

A COCO folder (``annotations.json`` + ``images/``) is checked from its raw JSON,
so that one run reports every malformed field, unknown or duplicate id, box
outside its image, missing or corrupt image file, wrong image size, duplicate
image (same bytes, or a perceptual hash within ``dup_distance`` bits) and image
shared between splits. Other formats are loaded through
``logodet.datasets.convert.load_dataset`` and get the checks that do not depend
on the file layout. Each finding is a :class:`Problem` whose ``where`` is the
JSON field path (``annotations[17].bbox``) or ``line N``; for formats other
than COCO it is the path in the loaded dataset (``images[3].annotations[1].bbox``).

:func:`logodet.datasets.fix.fix_dataset` writes a corrected COCO copy
(images placed as symlinks) and never touches the input.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from logodet.datasets.formats.coco import ANNOTATIONS_FILE, IMAGES_DIR, dataset_to_coco, load_coco
from logodet.datasets.phash import connected_groups, hamming, near_duplicate_edges, phash
from logodet.io import ImageReadError, read_rgb
from logodet.types import DetectionDataset

__all__ = [
    "PROBLEM_CODES",
    "SPLIT_NAMES",
    "CheckReport",
    "DatasetSummary",
    "Problem",
    "check_dataset",
    "open_dataset",
    "split_folders",
]

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
SPLIT_NAMES = ("train", "val", "valid", "validation", "dev", "test")
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


@dataclass(frozen=True)
class DatasetSummary:
    """One checked dataset (a split, a ``--split-of`` dataset, or the dataset itself)."""

    name: str
    root: str
    format: str
    images: int
    annotations: int
    categories: int
    primary: bool = True


@dataclass
class CheckReport:
    """All problems of one check, and what was checked.

    Example:
        >>> report = check_dataset("../shared/data/flickrlogos27-dev")  # doctest: +SKIP
        >>> report.ok, report.counts()  # doctest: +SKIP
        (True, {'duplicate_image': 2, 'near_duplicate_image': 1})
    """

    problems: list[Problem]
    datasets: list[DatasetSummary]
    settings: dict[str, Any] = field(default_factory=dict)
    _scans: list[Any] = field(default_factory=list, repr=False, compare=False)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """No errors (warnings allowed)."""
        return not any(p.severity == "error" for p in self.problems)

    def counts(self) -> dict[str, int]:
        """Number of problems per code, in :data:`PROBLEM_CODES` order."""
        n: dict[str, int] = defaultdict(int)
        for p in self.problems:
            n[p.code] += 1
        return {code: n[code] for code in PROBLEM_CODES if n[code]}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: summary, counts per code and every problem."""
        return {
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "counts": self.counts(),
            "settings": self.settings,
            "datasets": [asdict(d) for d in self.datasets],
            "problems": [asdict(p) for p in self.problems],
        }


def _coco_json(path: Path) -> Path | None:
    if path.is_file() and path.suffix.lower() == ".json":
        return path
    return path / ANNOTATIONS_FILE if (path / ANNOTATIONS_FILE).is_file() else None


def open_dataset(path: str | Path, fmt: str | None = None) -> DetectionDataset:
    """Load a dataset: COCO folders directly, other formats through ``logodet.datasets.convert``.

    Example:
        >>> ds = open_dataset("../shared/data/flickrlogos27-dev")  # doctest: +SKIP
    """
    path = Path(path)
    if fmt == "coco" or (fmt is None and _coco_json(path) is not None):
        return load_coco(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such dataset folder or file")
    try:
        from logodet.datasets.convert import load_dataset
    except ImportError as exc:
        raise ValueError(f"{path}: not a COCO dataset (no {ANNOTATIONS_FILE}) and no loader for other formats is installed") from exc
    return load_dataset(path, fmt)


def split_folders(path: str | Path) -> list[Path]:
    """The split sub-folders of ``path`` (``train/``, ``val/``, ...), or ``[]`` when ``path`` is one dataset.

    Sub-folders holding ``annotations.json`` count as splits; failing those, the
    ones named in :data:`SPLIT_NAMES`. Known split names come first, in that order.
    """
    path = Path(path)
    if not path.is_dir() or _coco_json(path) is not None:
        return []
    subs = sorted(p for p in path.iterdir() if p.is_dir())
    found = [p for p in subs if (p / ANNOTATIONS_FILE).is_file()] or [p for p in subs if p.name in SPLIT_NAMES]
    rank = {n: i for i, n in enumerate(SPLIT_NAMES)}
    return sorted(found, key=lambda p: (rank.get(p.name, len(rank)), p.name))


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


class _Scan:
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


def _duplicates(scans: list[_Scan], dup_distance: int | None) -> None:
    """Same-byte and near-duplicate images within a dataset (warnings) and across datasets (split leaks)."""
    nodes = []  # (scan index, entry index, file name, info), in dataset then entry order
    for s, scan in enumerate(scans):
        seen = set()
        for i, fname in enumerate(scan.img_file):
            info = scan.real.get(fname) if fname else None
            usable = scan.img_ok[i] and scan.dropped_images.get(i) != "corrupt file"
            if usable and info is not None and info.digest is not None and fname not in seen:
                seen.add(fname)
                nodes.append((s, i, fname, info))
    by_digest: dict[bytes, int] = {}
    edges, exact = [], set()
    for n, node in enumerate(nodes):
        first = by_digest.setdefault(node[3].digest, n)
        if first != n:
            edges.append((first, n))
            exact.add(n)
    if dup_distance is not None and dup_distance >= 0:
        hashed = [n for n, node in enumerate(nodes) if node[3].phash is not None and n not in exact]
        near = near_duplicate_edges([nodes[n][3].phash for n in hashed], dup_distance)
        edges += [(hashed[i], hashed[j]) for i, j in near]
    roots = connected_groups(len(nodes), edges)
    firsts: dict[int, dict[int, int]] = defaultdict(dict)  # group -> dataset -> its first member
    for n, root in enumerate(roots):
        s, i, fname, info = nodes[n]
        seen, twin = firsts[root], by_digest[info.digest]  # twin: the first file with the same bytes
        other = next((m for ds, m in seen.items() if ds != s), None)
        same = seen.setdefault(s, n)
        if twin != n and nodes[twin][0] == s:
            scans[s].dropped_images.setdefault(i, "same bytes as an earlier image")
        target = twin if twin != n and (nodes[twin][0] != s or other is None) else other if other is not None else same
        if target == n:
            continue
        ts, ti, tname, tinfo = nodes[target]
        exact = tinfo.digest == info.digest
        how = "has the same bytes as" if exact else f"is a near duplicate (phash distance {hamming(info.phash, tinfo.phash)}) of"
        scan, tscan = scans[s], scans[ts]
        path = scan.image_dir / fname
        if ts != s:
            msg = f"{path} ({scan.name}) {how} {tscan.image_dir / tname} ({tscan.name}, images[{ti}])"
            scan.add("split_leak", f"images[{i}]", msg, path)
        else:
            scan.add("duplicate_image" if exact else "near_duplicate_image", f"images[{i}]", f"{fname} {how} {tname} (images[{ti}])", path)


def _load_scan(path: Path, name: str, primary: bool, fmt: str | None) -> _Scan:
    json_path = _coco_json(path) if fmt in (None, "coco") else None
    if json_path is not None:
        image_dir = json_path.parent / IMAGES_DIR
        scan = _Scan(name, path, json_path, image_dir if image_dir.is_dir() else json_path.parent, primary)
        try:
            data = json.loads(json_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            scan.add("invalid_json", f"line {exc.lineno}", f"not valid JSON: {exc.msg} (column {exc.colno})")
            return scan
        except UnicodeDecodeError as exc:
            scan.add("invalid_json", f"byte {exc.start}", f"not UTF-8 text ({exc.reason})")
            return scan
        scan.parse(data)
        return scan
    try:
        ds = open_dataset(path, fmt)
    except ValueError as exc:
        scan = _Scan(name, path, path, path, primary, fmt or "unknown")
        located = re.match(r"(?s)(.+?):(\d+): (.*)", str(exc))  # "file:line: message", as the format loaders write
        if located:
            scan.add("format_error", f"line {located[2]}", located[3], located[1])
        else:
            scan.add("format_error", "", str(exc))
        return scan
    return _scan_loaded(ds, name, path, primary, fmt or "loaded")


def _scan_loaded(ds: DetectionDataset, name: str, source: Path, primary: bool, fmt: str) -> _Scan:
    scan = _Scan(name, source, source, ds.image_dir or source, primary, fmt)
    scan.record_of = [(i, j) for i, rec in enumerate(ds.images) for j in range(len(rec.annotations))]
    scan.parse(dataset_to_coco(ds))
    return scan


def check_dataset(
    path: str | Path | DetectionDataset,
    *,
    split_of: Sequence[str | Path] = (),
    fmt: str | None = None,
    dup_distance: int | None = 4,
    decode: bool = False,
    workers: int | None = None,
) -> CheckReport:
    """Check a dataset (or a folder of split datasets) and report every problem at once.

    Args:
        path: a dataset folder (COCO, or any format ``logodet.datasets.convert`` reads), a COCO json
            file, a folder of split sub-folders (``train/``, ``val/``, ``test/``), or a loaded dataset.
        split_of: other splits of the same data; an image shared with them is a ``split_leak`` error.
        fmt: the format of ``path`` and ``split_of`` (default: detected).
        dup_distance: largest perceptual-hash distance (bits) of near duplicates; ``None`` checks same bytes only.
        decode: fully decode every image (slower; finds damage past the header). Images are otherwise decoded
            only at reduced size for the perceptual hash, or not at all when ``dup_distance`` is ``None``.
        workers: threads reading image files (default: up to 8, one per CPU).

    Example:
        >>> report = check_dataset("data", split_of=["data_test"])  # doctest: +SKIP
        >>> [p.code for p in report.errors]  # doctest: +SKIP
        ['split_leak']
    """
    if isinstance(path, DetectionDataset):
        source = Path(path.image_dir or ".")
        scans, split_mode = [_scan_loaded(path, "dataset", source, True, "loaded")], False
    else:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such dataset folder or file")
        splits = split_folders(path)
        split_mode = bool(splits)
        scans = [_load_scan(p, p.name, True, fmt) for p in splits] or [_load_scan(path, path.name, True, fmt)]
    for other in split_of:
        other = Path(other)
        if not other.exists():
            raise FileNotFoundError(f"{other}: no such dataset folder or file")
        scans.append(_load_scan(other, other.name if other.name not in {s.name for s in scans} else str(other), False, fmt))
    want_phash = dup_distance is not None and dup_distance >= 0
    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        for scan in scans:
            scan.inspect_files(pool, decode, want_phash)
            scan.check_boxes()
    _duplicates(scans, dup_distance)
    summaries = [DatasetSummary(s.name, str(s.root), s.fmt, len(s.img_file), len(s.ann_keep), len(s.cat_keep), s.primary) for s in scans]
    settings = {"dup_distance": dup_distance, "decode": decode, "splits": [s.name for s in scans if s.primary] if split_mode else []}
    return CheckReport([p for s in scans for p in s.problems], summaries, settings, scans)
