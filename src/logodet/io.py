"""File helpers: atomic writes and safe image decoding."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

__all__ = ["IMAGE_SUFFIXES", "ImageReadError", "atomic_write_bytes", "atomic_write_json", "list_images", "pil_to_rgb", "read_rgb"]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
MAX_IMAGE_PIXELS = 64_000_000


class ImageReadError(ValueError):
    """An image file could not be decoded; the message names the file."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A reader never sees a half-written file, and a crash leaves the old file.
    The file gets the usual permissions (``0o666`` less the umask), not the
    owner-only mode of a temporary file.

    Example:
        >>> atomic_write_bytes("/tmp/logodet-doc.txt", b"hello")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(f.fileno(), 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | Path, obj: Any, indent: int | None = None) -> None:
    """Serialise ``obj`` as JSON and write it atomically."""
    atomic_write_bytes(path, json.dumps(obj, indent=indent, ensure_ascii=False).encode("utf-8"))


def pil_to_rgb(im: Image.Image) -> np.ndarray:
    """``uint8 [H, W, 3]`` RGB of an open PIL image; 16-bit and float images are scaled by their maximum."""
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        arr = (arr / max(arr.max(), 1.0) * 255.0).astype(np.uint8)
        return np.repeat(arr[..., None], 3, axis=2)
    return np.asarray(im.convert("RGB"))


def read_rgb(path: str | Path, min_size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode an image file to ``uint8 [H, W, 3]`` RGB.

    Greyscale, palette, 16-bit and CMYK files are converted; the EXIF
    orientation is *not* applied, so pixel coordinates match the stored raster.
    With ``min_size`` ``(width, height)`` a JPEG may be decoded reduced by 2, 4
    or 8 as long as both sides stay at least that large.

    Raises:
        ImageReadError: the file is missing, corrupt, or too large.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise ImageReadError(f"{path}: image of {im.width}x{im.height} pixels exceeds the {MAX_IMAGE_PIXELS} limit")
            if min_size is not None and im.format == "JPEG":
                im.draft("RGB", (max(1, int(min_size[0])), max(1, int(min_size[1]))))
            return pil_to_rgb(im)
    except ImageReadError:
        raise
    except FileNotFoundError as exc:
        raise ImageReadError(f"{path}: file not found") from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageReadError(f"{path}: cannot decode image ({exc})") from exc


def list_images(folder: str | Path) -> list[Path]:
    """Image files under ``folder`` (recursive), sorted for reproducibility."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
