"""Tiny logo and background files drawn in code, good and broken."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SQUARE_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M4 6h16v12H4z"/></svg>'
NO_SIZE_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><path d="M4 6h16v12H4z"/></svg>'


def rgba_disc(size: int = 40, color: tuple[int, int, int] = (200, 30, 30), margin: int = 5) -> np.ndarray:
    """A disc of ``color`` on a transparent square, ``margin`` pixels from each edge."""
    yy, xx = np.mgrid[:size, :size]
    r = size / 2 - margin
    inside = (xx - size / 2 + 0.5) ** 2 + (yy - size / 2 + 0.5) ** 2 <= r * r
    out = np.zeros((size, size, 4), np.uint8)
    out[..., :3] = color
    out[..., 3] = inside * 255
    return out


def two_colour_logo(size: int = 40) -> np.ndarray:
    """Left half red, right half blue, fully opaque inside a transparent border."""
    out = np.zeros((size, size, 4), np.uint8)
    out[4:-4, 4 : size // 2] = (220, 20, 20, 255)
    out[4:-4, size // 2 : -4] = (20, 20, 220, 255)
    return out


def write_logo_files(folder: Path) -> dict[str, Path]:
    """One file per case; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "svg": folder / "square.svg",
        "png": folder / "disc.png",
        "multi": folder / "multi.png",
        "no_alpha": folder / "flat.png",
        "jpg": folder / "photo.jpg",
        "transparent": folder / "empty.png",
        "corrupt": folder / "broken.png",
        "no_size_svg": folder / "nosize.svg",
        "bad_svg": folder / "bad.svg",
    }
    paths["svg"].write_text(SQUARE_SVG)
    Image.fromarray(rgba_disc(), "RGBA").save(paths["png"])
    Image.fromarray(two_colour_logo(), "RGBA").save(paths["multi"])
    on_white = np.full((40, 40, 3), 255, np.uint8)
    on_white[10:30, 8:32] = (0, 90, 200)
    Image.fromarray(on_white, "RGB").save(paths["no_alpha"])
    Image.fromarray(on_white, "RGB").save(paths["jpg"], quality=95)
    Image.fromarray(np.zeros((16, 16, 4), np.uint8), "RGBA").save(paths["transparent"])
    paths["corrupt"].write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 4)
    paths["no_size_svg"].write_text(NO_SIZE_SVG)
    paths["bad_svg"].write_text("<svg viewBox='0 0 10 10'><path d=")
    return paths


@pytest.fixture()
def logo_files(tmp_path: Path) -> dict[str, Path]:
    return write_logo_files(tmp_path / "files")


def write_background_files(folder: Path) -> dict[str, Path]:
    """Backgrounds in every colour mode Pillow reads, plus a corrupt and a truncated JPEG."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    grey = rng.integers(0, 255, (48, 64), dtype=np.uint8)
    paths = {
        "rgb": folder / "rgb.jpg",
        "grey": folder / "grey.png",
        "palette": folder / "palette.png",
        "deep16": folder / "deep16.png",
        "cmyk": folder / "cmyk.jpg",
        "rgba": folder / "rgba.png",
    }
    Image.fromarray(rgb).save(paths["rgb"], quality=90)
    Image.fromarray(grey, "L").save(paths["grey"])
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(paths["palette"])
    Image.fromarray(grey.astype(np.uint16) * 257).save(paths["deep16"])
    Image.fromarray(rgb).convert("CMYK").save(paths["cmyk"])
    Image.fromarray(np.dstack([rgb, np.full((48, 64), 128, np.uint8)]), "RGBA").save(paths["rgba"])
    return paths


def write_broken_backgrounds(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    corrupt = folder / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 garbage garbage garbage")
    full = folder / "_full.jpg"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(full, quality=90)
    truncated = folder / "truncated.jpg"
    truncated.write_bytes(full.read_bytes()[: len(full.read_bytes()) // 3])
    full.unlink()
    return {"corrupt": corrupt, "truncated": truncated}
