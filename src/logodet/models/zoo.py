"""Registered detector builders (keyword-only arguments, metadata attached).

Every registered model is a torchvision one-stage detector on an EfficientNet-Lite
backbone with an FPN (P3-P7, strides 8-128):

- ``fcos_efficientnet_lite{0,1,2}``: anchor-free FCOS head (one point per location).
- ``retinanet_efficientnet_lite{0,1,2}``: RetinaNet head, 9 anchors per location
  (3 scales x aspect ratios 0.5, 1, 2), sigmoid focal loss.

Every model accepts ``weights="imagenet"`` (backbone initialised from the offline
ImageNet weights of :mod:`logodet.models.weights`) and ``weights="none"`` (the
"scratch" variant: every layer randomly initialised, no weights package needed;
checkpoints are rebuilt this way before their own weights are loaded).

Widths: the FPN and heads are 64 channels wide for lite0 and lite1 (both
backbones end in the same 40/112/320-channel stages; lite1 is only deeper) and 96
for lite2 (its stages are 10 % wider, 48/120/352). The heads' GroupNorm needs a
multiple of 32, and at 640 px a 128-wide head would cost more than the lite2
backbone itself, so the pyramid stays small enough to train on a CPU. All heads
have 3 convolutions per tower.

Example:
    >>> from logodet.models.zoo import build_model, list_models
    >>> "fcos_efficientnet_lite0" in list_models()
    True
    >>> model = build_model("retinanet_efficientnet_lite0", num_classes=3, weights="none")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from torch import nn
from torchvision.models.detection import FCOS, RetinaNet
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.fcos import FCOSHead
from torchvision.models.detection.retinanet import RetinaNetHead

from logodet.models.backbones import BackboneFPN, TimmFeatures
from logodet.models.weights import WeightsNotInstalledError, weights_info

__all__ = ["ModelSpec", "build_model", "get_spec", "list_models", "register_model"]


@dataclass(frozen=True)
class ModelSpec:
    """What a registered builder makes and which weights it can start from.

    Attributes:
        name: the registry name.
        backbone: timm name of the backbone (also the key of its ImageNet weights).
        head: head family (``"fcos"`` or ``"retinanet"``).
        fpn_channels: width of the pyramid and of the head towers.
        head_convs: 3x3 convolutions per head tower.
        builder: ``builder(*, num_classes, weights, imgsz, head_dropout) -> nn.Module``.
        default_imgsz: the input size used when ``build_model`` gets none.
        weights: the accepted ``weights`` values; ``"none"`` (scratch) is always among them.
        mean, std: input normalisation of the backbone.
    """

    name: str
    backbone: str
    head: str
    fpn_channels: int
    head_convs: int
    builder: Callable[..., nn.Module]
    default_imgsz: int = 320
    weights: tuple[str, ...] = ("imagenet", "none")
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)

    @property
    def pretrained(self) -> bool:
        """Whether pretrained (ImageNet) backbone weights exist for this model."""
        return "imagenet" in self.weights

    def pretrained_installed(self) -> bool:
        """Whether the package holding the pretrained weights is installed (so ``weights="imagenet"`` works offline)."""
        if not self.pretrained:
            return False
        try:
            weights_info(self.backbone).file()
        except (KeyError, WeightsNotInstalledError):
            return False
        return True


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(name: str, **meta) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Register a builder under ``name`` with its metadata (the :class:`ModelSpec` fields)."""

    def wrap(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        spec = ModelSpec(name=name, builder=fn, **meta)
        if "none" not in spec.weights:
            raise ValueError(f"model {name!r}: every model must accept weights='none', got {spec.weights}")
        _REGISTRY[name] = spec
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


def build_model(
    name: str, *, num_classes: int, weights: str = "imagenet", imgsz: int | None = None, head_dropout: float = 0.0
) -> nn.Module:
    """Build the detector registered as ``name`` for ``num_classes`` classes.

    Args:
        name: a name from :func:`list_models`.
        num_classes: number of object classes (no background class).
        weights: ``"imagenet"`` (pretrained backbone) or ``"none"`` (scratch: random initialisation).
        imgsz: square training/inference size (default: the spec's ``default_imgsz``).
        head_dropout: channel dropout before the classification output of the head (0 = off; train mode only).

    Example:
        >>> model = build_model("fcos_efficientnet_lite1", num_classes=2, weights="none", head_dropout=0.1)
        >>> type(model).__name__
        'FCOS'
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    spec = get_spec(name)
    if weights not in spec.weights:
        raise ValueError(f"{name}: weights must be one of {spec.weights}, got {weights!r}")
    if not 0.0 <= head_dropout < 1.0:
        raise ValueError(f"{name}: head_dropout must be in [0, 1), got {head_dropout}")
    size = spec.default_imgsz if imgsz is None else int(imgsz)
    if size < 32:
        raise ValueError(f"{name}: imgsz must be >= 32, got {size}")
    return spec.builder(num_classes=num_classes, weights=weights, imgsz=size, head_dropout=head_dropout)


def _add_cls_dropout(cls_head: nn.Module, p: float) -> None:
    """Append channel dropout to the classification tower (no parameters, so state-dict keys stay the same)."""
    if p > 0:
        cls_head.conv.append(nn.Dropout2d(p))


def _fcos_efficientnet(
    *, arch: str, fpn_channels: int, head_convs: int, num_classes: int, weights: str, imgsz: int, head_dropout: float = 0.0
) -> FCOS:
    backbone = BackboneFPN(TimmFeatures(arch, weights=weights), fpn_channels)
    anchors = AnchorGenerator(sizes=((8,), (16,), (32,), (64,), (128,)), aspect_ratios=((1.0,),) * 5)
    head = FCOSHead(fpn_channels, anchors.num_anchors_per_location()[0], num_classes, num_convs=head_convs)
    _add_cls_dropout(head.classification_head, head_dropout)
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


def _retinanet_anchors(base: int = 3) -> AnchorGenerator:
    """Anchors on P3-P7: sizes ``base * stride * 2**(i/3)`` for i in 0..2, aspect ratios 0.5, 1, 2 (9 per location).

    ``base=3`` puts the smallest anchor at 24 px (logos are often small); the classic choice is 4.
    """
    sizes = tuple(tuple(int(base * stride * 2 ** (i / 3)) for i in range(3)) for stride in (8, 16, 32, 64, 128))
    return AnchorGenerator(sizes=sizes, aspect_ratios=((0.5, 1.0, 2.0),) * len(sizes))


def _retinanet_efficientnet(
    *, arch: str, fpn_channels: int, head_convs: int, num_classes: int, weights: str, imgsz: int, head_dropout: float = 0.0
) -> RetinaNet:
    backbone = BackboneFPN(TimmFeatures(arch, weights=weights), fpn_channels)
    anchors = _retinanet_anchors()
    head = RetinaNetHead(fpn_channels, anchors.num_anchors_per_location()[0], num_classes, norm_layer=partial(nn.GroupNorm, 32))
    for tower in (head.classification_head, head.regression_head):
        tower.conv = tower.conv[:head_convs]  # the towers are built with 4 (initialised) convolutions; keep the first ones
    _add_cls_dropout(head.classification_head, head_dropout)
    return RetinaNet(
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
        topk_candidates=1000,
    )


# backbone -> (FPN/head width, default input size): the classifier's native size scaled by 320/224, rounded up to 32
_BACKBONES = {"efficientnet_lite0": (64, 320), "efficientnet_lite1": (64, 352), "efficientnet_lite2": (96, 384)}
_HEADS = {"fcos": _fcos_efficientnet, "retinanet": _retinanet_efficientnet}
_HEAD_CONVS = 3


def _register_builtin() -> None:
    for head, builder in _HEADS.items():
        for arch, (width, size) in _BACKBONES.items():
            register_model(f"{head}_{arch}", backbone=arch, head=head, fpn_channels=width, head_convs=_HEAD_CONVS, default_imgsz=size)(
                partial(builder, arch=arch, fpn_channels=width, head_convs=_HEAD_CONVS)
            )


_register_builtin()
