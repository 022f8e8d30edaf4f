"""Logo artwork: PNG/JPG with alpha, SVG rasterised in-process, brand colours.

A :class:`LogoAsset` is one artwork file of one class; a :class:`LogoBank` is
the set of classes a detector learns, each with one or more variants (icon,
wordmark, inverted ...). Rasters are cropped tight to their alpha so a
rendered logo fills its box. SVGs are rendered with ``resvg_py`` at the size
a placement needs (power-of-two renders are cached per asset and resized
exactly), so small and large placements are both sharp.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from logodet.assets.brands import load_brand_colors, parse_hex_color
from logodet.io import MAX_IMAGE_PIXELS, pil_to_rgb

__all__ = ["LOGO_SUFFIXES", "LogoAsset", "LogoBank", "LogoError", "is_monochrome", "load_logo", "load_logo_folder"]

LOGO_SUFFIXES = {".svg", ".png", ".jpg", ".jpeg", ".webp"}
BRANDS_FILE = "brands.json"
_MIN_RENDER, _MAX_RENDER = 32, 4096
_CACHE_SIZE = 12  # render levels and their alpha planes, per asset


class LogoError(ValueError):
    """A logo file cannot be used; the message names the file and the reason."""


def _svg_aspect(text: str, path: Path) -> tuple[float, float]:
    """Intrinsic ``(width, height)`` of an SVG from its viewBox or width/height attributes."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise LogoError(f"{path}: not a valid SVG file ({exc})") from exc
    if not root.tag.endswith("svg"):
        raise LogoError(f"{path}: root element is <{root.tag}>, not <svg>")
    box = root.get("viewBox") or root.get("viewbox")
    if box:
        try:
            parts = [float(v) for v in box.replace(",", " ").split()]
        except ValueError:
            parts = []
        if len(parts) != 4 or parts[2] <= 0 or parts[3] <= 0:
            raise LogoError(f"{path}: invalid viewBox {box!r}")
        return parts[2], parts[3]
    try:
        w = float(str(root.get("width", "")).removesuffix("px"))
        h = float(str(root.get("height", "")).removesuffix("px"))
    except ValueError:
        w = h = 0.0
    if w > 0 and h > 0:
        return w, h
    raise LogoError(f'{path}: SVG has neither a viewBox nor a width and height in pixels; add viewBox="0 0 W H"')


def _render_svg(text: str, path: Path, long_side: int, aspect: tuple[float, float]) -> np.ndarray:
    import io

    import resvg_py

    kwargs = {"width": long_side} if aspect[0] >= aspect[1] else {"height": long_side}
    try:
        png = resvg_py.svg_to_bytes(svg_string=text, skip_system_fonts=True, **kwargs)
        with Image.open(io.BytesIO(png)) as im:
            return np.asarray(im.convert("RGBA"))
    except (ValueError, OSError) as exc:
        raise LogoError(f"{path}: cannot render SVG ({exc})") from exc


def _key_white(rgb: np.ndarray) -> np.ndarray:
    """RGBA from an RGB logo on white: alpha grows with the distance from white, colours are un-blended."""
    f = rgb.astype(np.float32)
    alpha = np.clip((255.0 - f.min(axis=2) - 10.0) / 40.0, 0.0, 1.0)
    fg = (f - (1.0 - alpha)[..., None] * 255.0) / np.maximum(alpha, 1e-3)[..., None]
    out = np.empty((*rgb.shape[:2], 4), np.uint8)
    out[..., :3] = np.clip(fg + 0.5, 0, 255).astype(np.uint8)
    out[..., 3] = np.round(alpha * 255.0).astype(np.uint8)
    return out


def _read_raster(path: Path, key_white: bool) -> np.ndarray:
    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise LogoError(f"{path}: image of {im.width}x{im.height} pixels is too large")
            if im.has_transparency_data:
                return np.asarray(im.convert("RGBA"))
            if not key_white:
                raise LogoError(
                    f"{path}: {im.format} logo without an alpha channel; save it as PNG with transparency, "
                    "or pass --key-white (key_white=True) to make white pixels transparent"
                )
            return _key_white(pil_to_rgb(im))
    except LogoError:
        raise
    except FileNotFoundError as exc:
        raise LogoError(f"{path}: file not found") from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise LogoError(f"{path}: cannot decode image ({exc})") from exc


def _alpha_box(rgba: np.ndarray) -> tuple[int, int, int, int] | None:
    alpha = rgba[..., 3] > 0
    cols = np.flatnonzero(alpha.any(axis=0))
    if cols.size == 0:
        return None
    rows = np.flatnonzero(alpha.any(axis=1))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _is_monochrome(rgba: np.ndarray) -> tuple[bool, tuple[int, int, int]]:
    """Whether all clearly opaque pixels share one colour, and that colour (median)."""
    opaque = rgba[rgba[..., 3] >= 128][:, :3]
    if len(opaque) == 0:
        opaque = rgba[rgba[..., 3] > 0][:, :3]
    lo, hi = np.percentile(opaque, [1, 99], axis=0)
    median = tuple(int(v) for v in np.median(opaque, axis=0))
    return bool(np.max(hi - lo) <= 24), median  # type: ignore[return-value]


def is_monochrome(rgba: np.ndarray) -> bool:
    """Whether ``load_logo`` treats this ``uint8 [H, W, 4]`` artwork as a one-colour icon (painted, not kept)."""
    return _is_monochrome(rgba)[0]


def _premultiply(rgba: np.ndarray) -> np.ndarray:
    f = rgba.astype(np.float32) * (1.0 / 255.0)
    f[..., :3] *= f[..., 3:4]
    return f


@dataclass(eq=False)
class LogoAsset:
    """One artwork file of one class.

    Attributes:
        class_name: the class (brand slug) this artwork belongs to.
        path: the source file (the variant).
        rgba: ``uint8 [H, W, 4]`` straight-alpha raster, cropped to its alpha
            (for an SVG, rendered at the ``size`` given to :func:`load_logo`).
        is_monochrome: every opaque pixel has the same colour (icons that get tinted).
        brand_color: ``(r, g, b)`` brand colour, or ``None``.
    """

    class_name: str
    path: Path
    rgba: np.ndarray = field(repr=False)
    is_monochrome: bool = False
    brand_color: tuple[int, int, int] | None = None
    svg_text: str | None = field(default=None, repr=False)
    _aspect: tuple[float, float] = field(default=(1.0, 1.0), repr=False)
    _fill: float = field(default=1.0, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def aspect(self) -> float:
        """Width over height of the cropped artwork."""
        return self.rgba.shape[1] / self.rgba.shape[0]

    def _source(self, long_side: int) -> np.ndarray:
        """Premultiplied float raster with a long side in ``[long_side, 1.42 * long_side)`` when possible (cached).

        Levels are spaced by a factor of sqrt(2) (SVG renders, or area-downscaled
        copies of a raster), so the final resize in :meth:`render` is a cheap
        bilinear one over less than sqrt(2).
        """
        if self.svg_text is not None:
            need = long_side / max(self._fill, 1e-6)
            level = max(0, math.ceil(2.0 * math.log2(max(need, 1.0) / _MIN_RENDER) - 1e-9))
            size = min(round(_MIN_RENDER * 2.0 ** (level / 2.0)), _MAX_RENDER)
        else:
            full = max(self.rgba.shape[:2])
            level = max(0, math.floor(2.0 * math.log2(full / max(long_side, 1)) + 1e-9))
            size = max(1, math.ceil(full / 2.0 ** (min(level, 16) / 2.0)))
        hit = self._cache.get(size)
        if hit is not None:
            return hit
        if self.svg_text is not None:
            raw = _render_svg(self.svg_text, self.path, size, self._aspect)
            box = _alpha_box(raw)
            if box is None:
                raise LogoError(f"{self.path}: SVG renders fully transparent at {size} px")
            src = _premultiply(raw[box[1] : box[3], box[0] : box[2]])
        else:
            src = _premultiply(self.rgba)
            h, w = src.shape[:2]
            if size < max(h, w):
                dsize = (max(1, round(w * size / max(h, w))), max(1, round(h * size / max(h, w))))
                src = cv2.resize(src, dsize, interpolation=cv2.INTER_AREA)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[size] = src
        return src

    def render_shape(self, long_side: int) -> tuple[int, int]:
        """``(width, height)`` of :meth:`render` at ``long_side``, without rendering.

        Example:
            >>> asset = load_logo("examples/logos/nike.svg")  # doctest: +SKIP
            >>> asset.render_shape(64)  # doctest: +SKIP
            (64, 22)
        """
        long_side = max(1, int(long_side))
        h, w = self.rgba.shape[:2]
        return (long_side, max(1, round(long_side * h / w))) if w >= h else (max(1, round(long_side * w / h)), long_side)

    def render(self, long_side: int, alpha_only: bool = False) -> np.ndarray:
        """The artwork with its long side exactly ``long_side`` pixels.

        Args:
            long_side: the long side in pixels.
            alpha_only: return only the coverage (cheaper: placement tests and
                monochrome icons need nothing else).

        Returns:
            ``float32 [h, w, 4]`` premultiplied RGBA in ``[0, 1]``, or ``float32
            [h, w]`` alpha with ``alpha_only`` (the same values as channel 3).

        Example:
            >>> asset = load_logo("examples/logos/nike.svg")  # doctest: +SKIP
            >>> asset.render(64).shape  # doctest: +SKIP
            (22, 64, 4)
        """
        long_side = max(1, int(long_side))
        src = self._source(long_side)
        if alpha_only:
            key = ("alpha", src.shape)
            alpha = self._cache.get(key)
            if alpha is None:
                alpha = self._cache[key] = np.ascontiguousarray(src[..., 3])
            src = alpha
        size = self.render_shape(long_side)
        if (src.shape[1], src.shape[0]) == size:
            return src.copy()
        interp = cv2.INTER_AREA if size[0] * 1.5 < src.shape[1] else cv2.INTER_LINEAR  # area only past the top level
        out = cv2.resize(src, size, interpolation=interp)
        np.clip(out, 0.0, 1.0, out=out)
        return out


def load_logo(
    path: str | Path,
    size: int = 256,
    key_white: bool = False,
    class_name: str | None = None,
    brand_color: tuple[int, int, int] | str | None = None,
) -> LogoAsset:
    """Load one logo file (``.svg``, ``.png``, ``.jpg``, ``.webp``).

    Args:
        path: the artwork file.
        size: long side in pixels at which an SVG is rendered for ``rgba``
            (later renders use the size each placement needs).
        key_white: for files without alpha, make white pixels transparent
            instead of raising.
        class_name: the class; defaults to the file stem.
        brand_color: ``(r, g, b)`` or ``"#RRGGBB"`` used to tint monochrome icons.

    Raises:
        LogoError: missing or corrupt file, no alpha (without ``key_white``),
            fully transparent artwork, SVG without a size or viewBox.

    Example:
        >>> logo = load_logo("examples/logos/nike.svg", brand_color="111111")  # doctest: +SKIP
        >>> logo.class_name, logo.is_monochrome  # doctest: +SKIP
        ('nike', True)
    """
    path = Path(path)
    if not path.is_file():
        raise LogoError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix not in LOGO_SUFFIXES:
        raise LogoError(f"{path}: unsupported logo type {suffix!r}; use one of {sorted(LOGO_SUFFIXES)}")
    try:
        color = parse_hex_color(brand_color, f"{path}: brand colour") if isinstance(brand_color, str) else brand_color
    except ValueError as exc:
        raise LogoError(str(exc)) from exc
    svg_text, aspect, fill = None, (1.0, 1.0), 1.0
    if suffix == ".svg":
        try:
            svg_text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LogoError(f"{path}: cannot read SVG ({exc})") from exc
        aspect = _svg_aspect(svg_text, path)
        raw = _render_svg(svg_text, path, int(size), aspect)
    else:
        raw = _read_raster(path, key_white)
    box = _alpha_box(raw)
    if box is None:
        hint = (
            "; SVG <text> is not rendered (no system fonts, for reproducibility): convert text to paths"
            if "<text" in (svg_text or "")
            else ""
        )
        raise LogoError(f"{path}: logo is fully transparent (alpha is 0 everywhere){hint}")
    rgba = np.ascontiguousarray(raw[box[1] : box[3], box[0] : box[2]])
    if suffix == ".svg":
        fill = max(box[2] - box[0], box[3] - box[1]) / max(raw.shape[:2])
    mono, _ = _is_monochrome(rgba)
    return LogoAsset(class_name or path.stem, path, rgba, mono, color, svg_text, aspect, fill)


@dataclass(eq=False)
class LogoBank:
    """The classes to detect and their artwork variants.

    Example:
        >>> bank = load_logo_folder("examples/logos")  # doctest: +SKIP
        >>> bank.class_names[:2], len(bank.variants(0)) >= 1  # doctest: +SKIP
        (['adidas', 'apple'], True)
    """

    class_names: list[str]
    assets: list[LogoAsset]

    def __post_init__(self) -> None:
        if not self.class_names:
            raise LogoError("LogoBank: no classes")
        if len(set(self.class_names)) != len(self.class_names):
            raise LogoError(f"LogoBank: duplicate class names in {self.class_names}")
        index = {n: i for i, n in enumerate(self.class_names)}
        self._by_class: list[list[LogoAsset]] = [[] for _ in self.class_names]
        for a in self.assets:
            if a.class_name not in index:
                raise LogoError(f"{a.path}: class {a.class_name!r} is not one of the bank's classes")
            self._by_class[index[a.class_name]].append(a)
        missing = [n for n, v in zip(self.class_names, self._by_class, strict=True) if not v]
        if missing:
            raise LogoError(f"LogoBank: no artwork for class(es) {missing}")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def variants(self, class_index: int) -> list[LogoAsset]:
        """The artwork variants of class ``class_index``."""
        return self._by_class[class_index]

    def fingerprint(self) -> str:
        """A hash of class names and artwork pixels and colours (changes when any input changes)."""
        h = hashlib.sha256(json.dumps(self.class_names).encode())
        for a in self.assets:
            h.update(f"{a.class_name}|{a.path.name}|{a.brand_color}|{a.rgba.shape}".encode())
            h.update(a.rgba.tobytes())
            h.update((a.svg_text or "").encode())
        return h.hexdigest()


def _logo_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in LOGO_SUFFIXES and not p.name.startswith("."))


def load_logo_folder(
    folder: str | Path,
    size: int = 256,
    key_white: bool = False,
    brand_colors: dict[str, tuple[int, int, int]] | None = None,
) -> LogoBank:
    """Load every logo under ``folder`` into a :class:`LogoBank` (classes sorted by name).

    Two layouts, which may be mixed: ``folder/<class>.svg|png|jpg`` (class =
    file stem) and ``folder/<class>/<variant files>`` (class = sub-folder name;
    all its files are variants of one class). ``folder/brands.json`` (see
    :func:`load_brand_colors`) gives brand colours; ``brand_colors`` overrides it.

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        LogoError: no logo file found, or a file cannot be used (the message names it).

    Example:
        >>> bank = load_logo_folder("examples/logos")  # doctest: +SKIP
        >>> bank.num_classes  # doctest: +SKIP
        6
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: logo folder not found")
    try:
        colors = load_brand_colors(folder / BRANDS_FILE) if (folder / BRANDS_FILE).is_file() else {}
    except ValueError as exc:
        raise LogoError(str(exc)) from exc
    colors.update(brand_colors or {})
    by_class: dict[str, list[Path]] = {}
    for p in _logo_files(folder):
        by_class.setdefault(p.stem, []).append(p)
    for sub in sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")):
        files = _logo_files(sub)
        if not files:
            warnings.warn(f"{sub}: sub-folder holds no logo files; ignored", stacklevel=2)
            continue
        by_class.setdefault(sub.name, []).extend(files)
    if not by_class:
        raise LogoError(f"{folder}: no logo files ({', '.join(sorted(LOGO_SUFFIXES))}) found")
    names = sorted(by_class)
    assets = [
        load_logo(p, size=size, key_white=key_white, class_name=name, brand_color=colors.get(name))
        for name in names
        for p in by_class[name]
    ]
    return LogoBank(names, assets)
