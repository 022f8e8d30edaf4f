"""Checkpoints: one file holding everything to resume training or to run the model.

A checkpoint is a dict with ``model`` (state dict), ``model_name``,
``class_names``, ``imgsz``, ``config`` (the resolved train config), and for
resuming ``optimizer``, ``scheduler``, ``epoch`` (epochs completed),
``step``, ``rng`` (python / numpy / torch states), ``best_metric`` and
``history``. Files are written atomically.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from logodet.io import atomic_write_bytes

__all__ = ["CheckpointError", "get_rng_state", "load_checkpoint", "model_from_checkpoint", "save_checkpoint", "set_rng_state"]

_REQUIRED = ("model", "model_name", "class_names", "imgsz")


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or lacks a field."""


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Serialise ``state`` with ``torch.save`` and write it atomically."""
    missing = [k for k in _REQUIRED if k not in state]
    if missing:
        raise CheckpointError(f"{path}: checkpoint state lacks {missing}")
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint ({exc})") from exc
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a logodet checkpoint")
    missing = [k for k in _REQUIRED if k not in state]
    if missing:
        raise CheckpointError(f"{path}: not a logodet checkpoint (missing {', '.join(missing)})")
    return state


def model_from_checkpoint(state: dict[str, Any]) -> nn.Module:
    """Rebuild the detector of a checkpoint (no pretrained weights are read) and load its weights."""
    from logodet.models.zoo import build_model

    model = build_model(state["model_name"], num_classes=len(state["class_names"]), weights="none", imgsz=int(state["imgsz"]))
    model.load_state_dict(state["model"])
    return model.eval()


def get_rng_state() -> dict[str, Any]:
    """Python, NumPy and torch RNG states."""
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore states from :func:`get_rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
