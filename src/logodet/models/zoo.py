"""Registered detector builders (keyword-only arguments, metadata attached).

Example:
    >>> from logodet.models.zoo import build_model, list_models
    >>> "fcos_efficientnet_lite0" in list_models()
    True
    >>> model = build_model("fcos_efficientnet_lite0", num_classes=3, weights="none")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from torch import nn
from torchvision.models.detection import FCOS
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.fcos import FCOSHead
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelP6P7

from logodet.models.backbones import TimmFeatures

__all__ = ["ModelSpec", "build_model", "get_spec", "list_models", "register_model"]


@dataclass(frozen=True)
class ModelSpec:
    """What a registered builder makes and which weights it can start from."""

    name: str
    backbone: str
    head: str
    fpn_channels: int
    head_convs: int
    builder: Callable[..., nn.Module]
    weights: tuple[str, ...] = ("imagenet", "none")
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(name: str, **meta) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Register a builder under ``name`` with its metadata."""

    def wrap(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        _REGISTRY[name] = ModelSpec(name=name, builder=fn, **meta)
        return fn

    return wrap


def list_models() -> list[str]:
    """Names of the registered detectors."""
    return sorted(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` registered under ``name``."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    return _REGISTRY[name]


def build_model(name: str, *, num_classes: int, weights: str = "imagenet", imgsz: int = 320) -> nn.Module:
    """Build the detector registered as ``name`` for ``num_classes`` classes."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    spec = get_spec(name)
    if weights not in spec.weights:
        raise ValueError(f"{name}: weights must be one of {spec.weights}, got {weights!r}")
    return spec.builder(num_classes=num_classes, weights=weights, imgsz=imgsz)


class _BackboneFPN(nn.Module):
    """Backbone features → FPN (P3-P5) plus P6/P7, as torchvision's detectors expect."""

    def __init__(self, body: TimmFeatures, out_channels: int) -> None:
        super().__init__()
        self.body = body
        self.fpn = FeaturePyramidNetwork(body.channels, out_channels, extra_blocks=LastLevelP6P7(out_channels, out_channels))
        self.out_channels = out_channels

    def forward(self, x):
        return self.fpn(self.body(x))


def _fcos_efficientnet(*, arch: str, fpn_channels: int, head_convs: int, num_classes: int, weights: str, imgsz: int) -> FCOS:
    backbone = _BackboneFPN(TimmFeatures(arch, weights=weights), fpn_channels)
    anchors = AnchorGenerator(sizes=((8,), (16,), (32,), (64,), (128,)), aspect_ratios=((1.0,),) * 5)
    head = FCOSHead(fpn_channels, anchors.num_anchors_per_location()[0], num_classes, num_convs=head_convs)
    return FCOS(
        backbone,
        num_classes,
        min_size=imgsz,
        max_size=imgsz,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
        anchor_generator=anchors,
        head=head,
        score_thresh=0.05,
        nms_thresh=0.6,
        detections_per_img=100,
    )


register_model(
    "fcos_efficientnet_lite0",
    backbone="efficientnet_lite0",
    head="fcos",
    fpn_channels=64,
    head_convs=3,
)(partial(_fcos_efficientnet, arch="efficientnet_lite0", fpn_channels=64, head_convs=3))
