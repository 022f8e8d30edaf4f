"""Backbones: timm feature extractors with offline ImageNet weights."""

from __future__ import annotations

from collections import OrderedDict

import timm
import torch
from torch import nn

from logodet.models.weights import imagenet_state_dict

__all__ = ["TimmFeatures", "efficientnet_lite_classifier"]


def efficientnet_lite_classifier(arch: str = "efficientnet_lite0", *, weights: str = "imagenet") -> nn.Module:
    """timm's full ImageNet classifier of ``arch`` with the packaged weights.

    Example:
        >>> model = efficientnet_lite_classifier("efficientnet_lite0")  # doctest: +SKIP
    """
    model = timm.create_model(arch, pretrained=False)
    if weights == "imagenet":
        model.load_state_dict(imagenet_state_dict(arch, model.state_dict()), strict=False)
    elif weights != "none":
        raise ValueError(f"weights must be 'imagenet' or 'none', got {weights!r}")
    return model


class TimmFeatures(nn.Module):
    """Multi-scale features (strides 8, 16, 32) of a timm backbone as an ordered dict.

    Args:
        arch: timm model name.
        weights: ``"imagenet"`` (offline, from the installed weights package) or ``"none"``.
        out_indices: which timm feature levels to return.
    """

    def __init__(self, arch: str, *, weights: str = "imagenet", out_indices: tuple[int, ...] = (2, 3, 4)) -> None:
        super().__init__()
        self.body = timm.create_model(arch, pretrained=False, features_only=True, out_indices=out_indices)
        if weights == "imagenet":
            full = timm.create_model(arch, pretrained=False)
            state = imagenet_state_dict(arch, full.state_dict())
            own = self.body.state_dict()
            missing = [k for k in own if not k.endswith("num_batches_tracked") and k not in state]
            if missing:
                raise ValueError(f"ImageNet weights for {arch} do not cover {missing[:3]}...")
            self.body.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)
        elif weights != "none":
            raise ValueError(f"weights must be 'imagenet' or 'none', got {weights!r}")
        self.channels: list[int] = list(self.body.feature_info.channels())
        self.strides: list[int] = list(self.body.feature_info.reduction())

    def stages(self) -> list[nn.Module]:
        """The backbone's modules in depth order (stem first), for freezing."""
        return [nn.ModuleList([self.body.conv_stem, self.body.bn1]), *list(self.body.blocks)]

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        feats = self.body(x)
        return OrderedDict((str(i), f) for i, f in enumerate(feats))
