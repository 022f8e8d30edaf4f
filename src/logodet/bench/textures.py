"""Plain procedural textures: the 'no real photos' backgrounds of the benchmark's ablation.

Smooth noise, linear gradients, stripes and checkers in random colours, one
seeded generator per image, written as JPEG.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from logodet.io import atomic_write_bytes

__all__ = ["plain_texture", "write_textures"]


def plain_texture(rng: np.random.Generator, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """One ``uint8 [H, W, 3]`` texture of a random kind.

    Example:
        >>> plain_texture(np.random.default_rng(0), (64, 48)).shape
        (48, 64, 3)
    """
    w, h = size
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    kind = int(rng.integers(4))
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    if kind == 0:  # smooth noise
        small = rng.random((max(2, h // 32), max(2, w // 32))).astype(np.float32)
        t = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    elif kind == 1:  # linear gradient
        angle = rng.uniform(0, np.pi)
        t = xx * np.cos(angle) + yy * np.sin(angle)
    elif kind == 2:  # stripes
        period, angle = rng.uniform(8, 64), rng.uniform(0, np.pi)
        t = (np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period) > 0).astype(np.float32)
    else:  # checkers
        cell = int(rng.integers(8, 64))
        t = (((xx // cell) + (yy // cell)) % 2).astype(np.float32)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    img = a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_textures(folder: str | Path, n: int, seed: int = 0, size: tuple[int, int] = (640, 480)) -> list[Path]:
    """Write ``n`` textures as ``texture_000.jpg ...``; their paths."""
    folder = Path(folder)
    paths = []
    for i in range(n):
        img = plain_texture(np.random.default_rng([seed, i]), size)
        ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])
        if not ok:  # pragma: no cover - cv2 encodes any uint8 image
            raise RuntimeError("cannot encode a texture")
        path = folder / f"texture_{i:03d}.jpg"
        atomic_write_bytes(path, buf.tobytes())
        paths.append(path)
    return paths
