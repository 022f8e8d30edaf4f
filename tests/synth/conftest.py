"""Fixtures for synthesis: the example logo bank, a mixed bank, and backgrounds made in code."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from logodet.assets.logos import LogoBank, load_logo_folder

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "logos"


def smooth_backgrounds(n: int = 3, seed: int = 0, shape: tuple[int, int] = (120, 160)) -> list[np.ndarray]:
    """Blurred noise photos (``uint8 [H, W, 3]``)."""
    rng = np.random.default_rng(seed)
    return [cv2.GaussianBlur(rng.integers(0, 255, (*shape, 3), dtype=np.uint8), (0, 0), 4) for _ in range(n)]


def write_background_folder(folder: Path, with_broken: bool = True) -> Path:
    """JPEG, greyscale, palette, 16-bit and CMYK backgrounds (and a corrupt file)."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb, other = smooth_backgrounds(2, seed=3)
    Image.fromarray(rgb).save(folder / "a_rgb.jpg", quality=90)
    Image.fromarray(rgb[..., 1]).save(folder / "b_grey.png")
    Image.fromarray(other).convert("P", palette=Image.Palette.ADAPTIVE).save(folder / "c_palette.png")
    Image.fromarray(other[..., 0].astype(np.uint16) * 257).save(folder / "d_deep16.png")
    Image.fromarray(other).convert("CMYK").save(folder / "e_cmyk.jpg")
    if with_broken:
        (folder / "f_corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    return folder


@pytest.fixture(scope="session")
def bank() -> LogoBank:
    return load_logo_folder(EXAMPLES)


@pytest.fixture(scope="session")
def mixed_bank(tmp_path_factory: pytest.TempPathFactory) -> LogoBank:
    """A monochrome SVG class and a two-colour PNG class with two variants."""
    root = tmp_path_factory.mktemp("mixed_logos")
    (root / "mono.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M2 2h20v20H2z"/></svg>')
    brand = root / "duo"
    brand.mkdir()
    img = np.zeros((40, 60, 4), np.uint8)
    img[:, :30] = (220, 30, 30, 255)
    img[:, 30:] = (30, 30, 220, 255)
    Image.fromarray(img, "RGBA").save(brand / "wide.png")
    Image.fromarray(np.ascontiguousarray(img.transpose(1, 0, 2)), "RGBA").save(brand / "tall.png")
    return load_logo_folder(root, brand_colors={"mono": (0, 150, 60)})
