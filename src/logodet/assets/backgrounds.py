"""Background photos: folders of images, in-memory arrays, and demo photos.

A :class:`BackgroundSet` is an indexable list of backgrounds (files or
arrays) that decodes one on demand, as ``uint8 [H, W, 3]`` RGB. Greyscale,
palette, 16-bit and CMYK files are converted; corrupt files are skipped with
a warning naming them when a folder is scanned. JPEGs can be decoded at a
reduced scale (libjpeg's DCT scaling) when the caller only needs a minimum
size, which is what makes synthesis fast on large photos.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from logodet.io import ImageReadError, list_images, read_rgb

__all__ = [
    "DEMO_BACKGROUNDS",
    "BackgroundSet",
    "BackgroundWarning",
    "as_background_set",
    "demo_background_paths",
    "demo_backgrounds",
    "load_background",
    "scan_backgrounds",
]

# Colour photos shipped inside the scikit-image wheel (skimage/data/), no download needed.
DEMO_BACKGROUNDS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "hubble_deep_field.jpg",
)


class BackgroundWarning(UserWarning):
    """A background file was skipped; the message names it."""


def load_background(path: str | Path, min_size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode a background photo to ``uint8 [H, W, 3]`` RGB.

    Args:
        path: the image file.
        min_size: ``(width, height)``; a JPEG may then be decoded reduced by
            2, 4 or 8 as long as both sides stay at least this large.

    Raises:
        ImageReadError: missing, corrupt or too large file (the message names it).

    Example:
        >>> load_background(demo_background_paths()[0], min_size=(128, 128)).shape  # doctest: +SKIP
        (512, 512, 3)
    """
    return read_rgb(path, min_size=min_size)


def _as_rgb_array(arr: np.ndarray, index: int) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype != np.uint8:
        raise ValueError(f"background array {index}: expected uint8, got {arr.dtype}")
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or min(arr.shape[:2]) < 1:
        raise ValueError(f"background array {index}: expected [H, W, 3] RGB, got shape {list(arr.shape)}")
    return np.ascontiguousarray(arr[..., :3])


@dataclass(frozen=True, eq=False)
class BackgroundSet:
    """An indexable set of backgrounds, each a file path or an RGB array.

    Attributes:
        items: paths or ``uint8 [H, W, 3]`` arrays.
        skipped: ``"path: reason"`` for files left out when the set was scanned.

    Example:
        >>> bgs = BackgroundSet((np.zeros((8, 8, 3), np.uint8),))
        >>> len(bgs), bgs.load(0).shape
        (1, (8, 8, 3))
    """

    items: tuple[Path | np.ndarray, ...]
    skipped: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("BackgroundSet: no backgrounds")
        items = tuple(Path(x) if isinstance(x, (str, Path)) else _as_rgb_array(x, i) for i, x in enumerate(self.items))
        object.__setattr__(self, "items", items)

    def __len__(self) -> int:
        return len(self.items)

    def name(self, index: int) -> str:
        """The file name of background ``index`` (``array[i]`` for arrays)."""
        item = self.items[index]
        return str(item) if isinstance(item, Path) else f"array[{index}]"

    def load(self, index: int, min_size: tuple[int, int] | None = None) -> np.ndarray:
        """Background ``index`` as ``uint8 [H, W, 3]`` (see :func:`load_background` for ``min_size``)."""
        item = self.items[index]
        return load_background(item, min_size) if isinstance(item, Path) else item

    def fingerprint(self) -> str:
        """A hash of the backgrounds' names and sizes (files) or pixels (arrays)."""
        h = hashlib.sha256()
        for i, item in enumerate(self.items):
            if isinstance(item, Path):
                st = item.stat() if item.exists() else None
                h.update(f"{i}|{item.name}|{st.st_size if st else -1}".encode())
            else:
                h.update(f"{i}|{item.shape}".encode())
                h.update(item.tobytes())
        return h.hexdigest()


def scan_backgrounds(folder: str | Path, verify: bool = True) -> BackgroundSet:
    """All images under ``folder`` (recursive, sorted), skipping files that do not decode.

    Each skipped file raises a :class:`BackgroundWarning` naming it and is
    listed in ``BackgroundSet.skipped``. JPEGs are checked with a fast
    reduced-scale decode.

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        ImageReadError: no usable image in ``folder``.

    Example:
        >>> bgs = scan_backgrounds("../shared/data/backgrounds")  # doctest: +SKIP
        >>> len(bgs)  # doctest: +SKIP
        270
    """
    folder = Path(folder)
    paths = list_images(folder)
    good: list[Path] = []
    skipped: list[str] = []
    for p in paths:
        if verify:
            try:
                load_background(p, min_size=(1, 1))
            except ImageReadError as exc:
                warnings.warn(f"skipping background {exc}", BackgroundWarning, stacklevel=2)
                skipped.append(str(exc))
                continue
        good.append(p)
    if not good:
        detail = f" ({len(skipped)} could not be decoded)" if skipped else ""
        raise ImageReadError(f"{folder}: no usable background images found{detail}")
    return BackgroundSet(tuple(good), tuple(skipped))


def demo_background_paths() -> list[Path]:
    """Paths of the colour demo photos inside the installed scikit-image package.

    They are located through ``skimage.data.data_dir`` and never downloaded.

    Example:
        >>> [p.name for p in demo_background_paths()][:2]  # doctest: +SKIP
        ['astronaut.png', 'chelsea.png']
    """
    import skimage.data

    data_dir = Path(skimage.data.data_dir)
    paths = [data_dir / name for name in DEMO_BACKGROUNDS if (data_dir / name).is_file()]
    if not paths:
        raise FileNotFoundError(f"{data_dir}: none of the scikit-image demo photos {list(DEMO_BACKGROUNDS)} is installed")
    return paths


def demo_backgrounds() -> list[np.ndarray]:
    """The scikit-image demo colour photos as ``uint8 [H, W, 3]`` RGB arrays (no network).

    Example:
        >>> demo_backgrounds()[0].shape  # doctest: +SKIP
        (512, 512, 3)
    """
    return [load_background(p) for p in demo_background_paths()]


def as_background_set(source: str | Path | BackgroundSet | Sequence[str | Path | np.ndarray] | None) -> BackgroundSet:
    """A :class:`BackgroundSet` from a folder, a list of files or arrays, or ``None`` (the demo photos).

    Example:
        >>> len(as_background_set([np.zeros((4, 4, 3), np.uint8)]))
        1
    """
    if source is None:
        return BackgroundSet(tuple(demo_background_paths()))
    if isinstance(source, BackgroundSet):
        return source
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_file():
            load_background(path, min_size=(1, 1))
            return BackgroundSet((path,))
        return scan_backgrounds(path)
    if isinstance(source, np.ndarray) and source.ndim in (2, 3) and source.dtype == np.uint8:
        return BackgroundSet((source,))
    return BackgroundSet(tuple(source))
