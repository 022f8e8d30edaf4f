"""Shard layout of a synthetic dataset folder: resume after a crash, merge at the end.

Images ``[k * S, (k + 1) * S)`` form shard ``k`` (``S`` = ``SynthConfig.shard_size``).
When every image of a shard is written, the shard's label records go to
``.shards/shard-<start>-<stop>.json`` atomically, so a manifest on disk means
its images are complete. A run killed at any point (even ``SIGKILL``) and
started again with the same command skips the finished shards, redoes the
partly written one, and merges all manifests into ``annotations.json``; the
result is byte-identical to an uninterrupted run because image ``i`` depends
only on ``(seed, i)``.

Layout::

    out/images/000000.jpg ...        the images
    out/.shards/fingerprint.json     hash of the inputs and settings
    out/.shards/shard-000000-000256.json   {"start", "stop", "records": [...]}
    out/annotations.json             written last, from the manifests
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from logodet.io import atomic_write_json

__all__ = [
    "FINGERPRINT_FILE",
    "IMAGES_DIR",
    "SHARDS_DIR",
    "ShardError",
    "fingerprint",
    "image_name",
    "load_records",
    "prepare_output",
    "shard_ranges",
    "valid_jpeg",
    "write_shard",
]

IMAGES_DIR, SHARDS_DIR, FINGERPRINT_FILE = "images", ".shards", "fingerprint.json"
_LEGACY_DIRS = (".parts",)


class ShardError(RuntimeError):
    """The output folder cannot be used; the message names it."""


def shard_ranges(n: int, shard_size: int) -> list[range]:
    """Index ranges of the shards of an ``n``-image dataset.

    Example:
        >>> shard_ranges(5, 2)
        [range(0, 2), range(2, 4), range(4, 5)]
    """
    if shard_size < 1:
        raise ValueError(f"shard_size: expected >= 1, got {shard_size}")
    return [range(s, min(s + shard_size, n)) for s in range(0, n, shard_size)]


def image_name(index: int, digits: int) -> str:
    """File name of image ``index``.

    Example:
        >>> image_name(7, 6)
        '000007.jpg'
    """
    return f"{index:0{digits}d}.jpg"


def valid_jpeg(path: Path) -> bool:
    """Whether ``path`` starts with a JPEG SOI and ends with an EOI marker (catches torn writes).

    Example:
        >>> valid_jpeg(Path("/nonexistent.jpg"))
        False
    """
    try:
        with path.open("rb") as f:
            head = f.read(2)
            f.seek(-2, os.SEEK_END)
            return head == b"\xff\xd8" and f.read(2) == b"\xff\xd9"
    except OSError:
        return False


def _shard_path(out: Path, rng: range) -> Path:
    return out / SHARDS_DIR / f"shard-{rng.start:06d}-{rng.stop:06d}.json"


def write_shard(out: Path, rng: range, records: list[dict]) -> Path:
    """Write the manifest of finished shard ``rng`` (its images must already be on disk).

    Example:
        >>> write_shard(Path("/tmp/logodet-doc-ds"), range(0, 0), [])  # doctest: +SKIP
    """
    records = sorted(records, key=lambda r: r["index"])
    if [r["index"] for r in records] != list(rng):
        raise ValueError(f"shard {rng.start}-{rng.stop}: records for {[r['index'] for r in records][:5]}... do not match")
    path = _shard_path(out, rng)
    atomic_write_json(path, {"start": rng.start, "stop": rng.stop, "records": records})
    return path


def load_records(out: Path, n: int, digits: int) -> dict[int, dict]:
    """Label records of finished images, from every readable manifest, keyed by index.

    A record is kept only when its image file is a complete JPEG, so a manifest
    whose images were deleted or torn afterwards yields just the good ones.

    Example:
        >>> load_records(Path("/nonexistent"), 10, 6)
        {}
    """
    folder = out / SHARDS_DIR
    found: dict[int, dict] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("shard-*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            records = data["records"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # unreadable manifest: its shard is redone
        for rec in records if isinstance(records, list) else []:
            i = rec.get("index") if isinstance(rec, dict) else None
            if isinstance(i, int) and 0 <= i < n and i not in found and rec.get("file_name") == image_name(i, digits):
                found[i] = rec
    return {i: r for i, r in sorted(found.items()) if valid_jpeg(out / IMAGES_DIR / r["file_name"])}


def fingerprint(parts: dict) -> dict:
    """``parts`` plus ``hash``, the SHA-256 of their canonical JSON.

    Example:
        >>> len(fingerprint({"seed": 0})["hash"])
        64
    """
    return {**parts, "hash": hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()}


def prepare_output(out: Path, fp: dict, overwrite: bool, extra_outputs: Iterable[str] = ()) -> None:
    """Check that ``out`` is empty or holds an earlier run with fingerprint ``fp``; record ``fp``.

    Args:
        out: the dataset folder.
        fp: the job's fingerprint (see :func:`fingerprint`).
        overwrite: clear a folder made with other inputs or settings instead of raising.
        extra_outputs: other files or folders of the dataset, removed with ``overwrite``.

    Raises:
        ShardError: ``out`` holds another dataset and ``overwrite`` is false.

    Example:
        >>> prepare_output(Path("/tmp/logodet-doc-ds"), fingerprint({"seed": 0}), overwrite=True)  # doctest: +SKIP
    """
    fp_path = out / SHARDS_DIR / FINGERPRINT_FILE
    old = None
    if fp_path.is_file():
        try:
            old = json.loads(fp_path.read_text(encoding="utf-8")).get("hash")
        except (OSError, ValueError, AttributeError):
            old = None
    images = out / IMAGES_DIR
    has_data = (images.is_dir() and any(images.iterdir())) or (out / "annotations.json").exists()
    if old != fp["hash"] and (has_data or old is not None):
        if not overwrite:
            raise ShardError(
                f"{out}: holds a dataset made from other inputs or settings ({fp_path if old else 'no fingerprint'}); "
                "choose another output folder or overwrite it (overwrite=True, --overwrite)"
            )
        for sub in (IMAGES_DIR, SHARDS_DIR, *_LEGACY_DIRS, *extra_outputs):
            target = out / sub
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        (out / "annotations.json").unlink(missing_ok=True)
    images.mkdir(parents=True, exist_ok=True)
    for sub in (images, out / SHARDS_DIR):
        for tmp in sub.glob(".*.tmp") if sub.is_dir() else ():
            tmp.unlink(missing_ok=True)  # left by a write a kill interrupted
    atomic_write_json(fp_path, fp, indent=1)
