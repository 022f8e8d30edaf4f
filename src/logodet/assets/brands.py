"""Brand colours: the ``brands.json`` catalogue and the tint a monochrome icon gets.

Monochrome icons (simple-icons are black single paths) are painted with their
brand colour; a near-black or near-white brand colour, or none, becomes black
or white, whichever stands out from the background it lands on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["choose_tint", "contrast_ratio", "load_brand_colors", "parse_hex_color"]


def parse_hex_color(text: str, where: str = "colour") -> tuple[int, int, int]:
    """``"#RRGGBB"``, ``"RRGGBB"`` or ``"#RGB"`` as an ``(r, g, b)`` tuple.

    Example:
        >>> parse_hex_color("#0066B1")
        (0, 102, 177)
    """
    s = text.strip().removeprefix("#")
    if len(s) == 3:
        s = "".join(c * 2 for c in s)
    try:
        if len(s) != 6:
            raise ValueError
        return int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16)
    except ValueError:
        raise ValueError(f"{where}: invalid hex colour {text!r}; expected RRGGBB") from None


def _luminance(rgb: tuple[float, float, float] | np.ndarray) -> float:
    c = np.asarray(rgb, np.float64) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(c @ np.array([0.2126, 0.7152, 0.0722]))


def contrast_ratio(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG contrast ratio (1..21) between two sRGB colours.

    Example:
        >>> round(contrast_ratio((0, 0, 0), (255, 255, 255)), 1)
        21.0
    """
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def choose_tint(
    brand_color: tuple[int, int, int] | None,
    background: tuple[float, float, float],
    rng: np.random.Generator | None = None,
    neutral_prob: float = 0.0,
) -> tuple[int, int, int]:
    """The colour to paint a monochrome icon with, over a background of mean colour ``background``.

    A chromatic brand colour is used unless it nearly vanishes on the background
    (contrast below 1.25) or, with probability ``neutral_prob``, a neutral
    (black/white) version is drawn instead. A near-black or near-white brand
    colour, or none, gives a dark or light tint: whichever contrasts more with
    the background (a near-black brand colour is its own dark tint).

    Example:
        >>> choose_tint((0, 102, 177), (255, 255, 255))
        (0, 102, 177)
        >>> choose_tint(None, (10, 10, 10))
        (255, 255, 255)
    """
    draw = rng.random() if rng is not None else 1.0
    dark, light = (0, 0, 0), (255, 255, 255)
    if brand_color is not None:
        chroma = (max(brand_color) - min(brand_color)) / 255.0
        lum = _luminance(brand_color)
        if chroma < 0.15 and lum < 0.1:
            dark = tuple(int(v) for v in brand_color)  # type: ignore[assignment]
        elif chroma < 0.15 and lum > 0.7:
            light = tuple(int(v) for v in brand_color)  # type: ignore[assignment]
        elif draw >= neutral_prob and contrast_ratio(brand_color, background) >= 1.25:
            return tuple(int(v) for v in brand_color)  # type: ignore[return-value]
    return dark if contrast_ratio(dark, background) >= contrast_ratio(light, background) else light


def load_brand_colors(path: str | Path) -> dict[str, tuple[int, int, int]]:
    """Brand colours from a ``brands.json``: ``{slug: {"hex": "RRGGBB", ...}}`` or ``{slug: "#RRGGBB"}``.

    Example:
        >>> load_brand_colors("examples/logos/brands.json")["bmw"]  # doctest: +SKIP
        (0, 102, 177)
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read brand colours ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object mapping brand slug to colour")
    out = {}
    for slug, entry in data.items():
        value = entry.get("hex") if isinstance(entry, dict) else entry
        if value is None:
            continue
        out[str(slug)] = parse_hex_color(str(value), f"{path}: {slug}.hex")
    return out
