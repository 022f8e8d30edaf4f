"""Placing image files next to exported annotations: relative symlink, copy, or nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["IMAGE_MODES", "check_image_mode", "place_image"]

IMAGE_MODES = ("symlink", "copy", "none")


def check_image_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`IMAGE_MODES`, else a ``ValueError`` naming the choices."""
    if mode not in IMAGE_MODES:
        raise ValueError(f"images: expected one of {IMAGE_MODES}, got {mode!r}")
    return mode


def place_image(src: Path, dst: Path, mode: str) -> None:
    """Make ``dst`` show the image ``src``: a relative symlink (a copy where links fail), a copy, or nothing."""
    if mode == "none":
        return
    if not Path(src).is_file():
        raise FileNotFoundError(f"{src}: image file not found")
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_symlink() or dst.exists():
        if Path(src).resolve() == dst.resolve():
            return
        dst.unlink()
    if mode == "symlink":
        try:
            os.symlink(os.path.relpath(Path(src).resolve(), dst.parent.resolve()), dst)
            return
        except OSError:
            pass  # no symlinks on this file system: copy instead
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
