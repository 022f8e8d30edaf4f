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

import json
import os
import re
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from logodet.datasets.formats.coco import ANNOTATIONS_FILE, IMAGES_DIR, dataset_to_coco, load_coco
from logodet.datasets.phash import connected_groups, hamming, near_duplicate_edges
from logodet.datasets.scan import PROBLEM_CODES, CocoScan, Problem
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

SPLIT_NAMES = ("train", "val", "valid", "validation", "dev", "test")


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


def _duplicates(scans: list[CocoScan], dup_distance: int | None) -> None:
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


def _load_scan(path: Path, name: str, primary: bool, fmt: str | None) -> CocoScan:
    json_path = _coco_json(path) if fmt in (None, "coco") else None
    if json_path is not None:
        image_dir = json_path.parent / IMAGES_DIR
        scan = CocoScan(name, path, json_path, image_dir if image_dir.is_dir() else json_path.parent, primary)
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
        scan = CocoScan(name, path, path, path, primary, fmt or "unknown")
        located = re.match(r"(?s)(.+?):(\d+): (.*)", str(exc))  # "file:line: message", as the format loaders write
        if located:
            scan.add("format_error", f"line {located[2]}", located[3], located[1])
        else:
            scan.add("format_error", "", str(exc))
        return scan
    return _scan_loaded(ds, name, path, primary, fmt or "loaded")


def _scan_loaded(ds: DetectionDataset, name: str, source: Path, primary: bool, fmt: str) -> CocoScan:
    scan = CocoScan(name, source, source, ds.image_dir or source, primary, fmt)
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
