"""Backbones: timm feature extractors with offline ImageNet weights, and the FPN every head sits on."""

from __future__ import annotations

from collections import OrderedDict

import timm
import torch
from torch import nn
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelP6P7

from logodet.models.weights import imagenet_state_dict

__all__ = ["BackboneFPN", "TimmFeatures", "efficientnet_lite_classifier"]


def _check_weights(weights: str) -> None:
    if weights not in ("imagenet", "none"):
        raise ValueError(f"weights must be 'imagenet' or 'none', got {weights!r}")


def efficientnet_lite_classifier(arch: str = "efficientnet_lite0", *, weights: str = "imagenet") -> nn.Module:
    """timm's full ImageNet classifier of ``arch`` with the packaged weights.

    Example:
        >>> model = efficientnet_lite_classifier("efficientnet_lite0")  # doctest: +SKIP
    """
    _check_weights(weights)
    model = timm.create_model(arch, pretrained=False)
    if weights == "imagenet":
        model.load_state_dict(imagenet_state_dict(arch, model.state_dict()), strict=False)
    return model


class TimmFeatures(nn.Module):
    """Multi-scale features (strides 8, 16, 32) of a timm backbone as an ordered dict.

    Args:
        arch: timm model name.
        weights: ``"imagenet"`` (offline, from the installed weights package) or ``"none"``
            (random initialisation: the "scratch" variant, which needs no weights package).
        out_indices: which timm feature levels to return.

    Example:
        >>> feats = TimmFeatures("efficientnet_lite0", weights="none")
        >>> feats.channels, feats.strides
        ([40, 112, 320], [8, 16, 32])
    """

    def __init__(self, arch: str, *, weights: str = "imagenet", out_indices: tuple[int, ...] = (2, 3, 4)) -> None:
        super().__init__()
        _check_weights(weights)
        self.body = timm.create_model(arch, pretrained=False, features_only=True, out_indices=out_indices)
        if weights == "imagenet":
            full = timm.create_model(arch, pretrained=False)
            state = imagenet_state_dict(arch, full.state_dict())
            own = self.body.state_dict()
            missing = [k for k in own if not k.endswith("num_batches_tracked") and k not in state]
            if missing:
                raise ValueError(f"ImageNet weights for {arch} do not cover {missing[:3]}...")
            self.body.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)
        self.channels: list[int] = list(self.body.feature_info.channels())
        self.strides: list[int] = list(self.body.feature_info.reduction())

    def stages(self) -> list[nn.Module]:
        """The backbone's modules in depth order (stem first), for freezing."""
        return [nn.ModuleList([self.body.conv_stem, self.body.bn1]), *list(self.body.blocks)]

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        feats = self.body(x)
        return OrderedDict((str(i), f) for i, f in enumerate(feats))


class BackboneFPN(nn.Module):
    """Backbone features → FPN (P3-P5) plus P6/P7 (strides 8 to 128), as the detection heads expect.

    Args:
        body: the feature extractor (kept as ``self.body``; the trainer freezes its :meth:`TimmFeatures.stages`).
        out_channels: width of every pyramid level.

    Example:
        >>> fpn = BackboneFPN(TimmFeatures("efficientnet_lite0", weights="none"), 64)
        >>> [tuple(f.shape[1:]) for f in fpn(torch.zeros(1, 3, 128, 128)).values()]
        [(64, 16, 16), (64, 8, 8), (64, 4, 4), (64, 2, 2), (64, 1, 1)]
    """

    def __init__(self, body: TimmFeatures, out_channels: int) -> None:
        super().__init__()
        self.body = body
        self.fpn = FeaturePyramidNetwork(body.channels, out_channels, extra_blocks=LastLevelP6P7(out_channels, out_channels))
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        return self.fpn(self.body(x))
