"""Export-friendly inference graphs of the registered detectors, one per head family.

A dense graph maps a batch of ``[0, 1]`` images of a fixed size to decoded
boxes ``[B, A, 4]`` (input pixels, clipped to the image) and per-class scores
``[B, A, K]``, one row per anchor (FCOS: one point per location; RetinaNet: 9
anchors per location), levels P3 to P7 in order. Thresholding, top-k and NMS
happen afterwards in :mod:`logodet.inference.postprocess`, so the PyTorch and
ONNX Runtime backends share every step after the network.

- :class:`DenseFCOS`: scores ``sqrt(sigmoid(cls) * sigmoid(centerness))`` as in FCOS.
- :class:`DenseRetinaNet`: scores ``sigmoid(cls)``; boxes decoded from the anchors.

:func:`dense_model` picks the graph for a model.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator

import torch
from torch import nn
from torchvision.models.detection import FCOS, RetinaNet
from torchvision.models.detection.image_list import ImageList

__all__ = ["DenseDetector", "DenseFCOS", "DenseRetinaNet", "dense_model", "eval_mode"]


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Put every submodule of ``module`` in eval mode, then restore each one's own mode.

    Restoring per submodule keeps deliberate mixtures (e.g. frozen BatchNorm layers in eval mode inside a
    training model) intact, which ``module.train(was_training)`` would not.
    """
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, training in modes:
            m.training = training


class DenseDetector(nn.Module, ABC):
    """Shared part of the dense graphs: input normalisation, the backbone, the head and the fixed anchors.

    Args:
        model: a torchvision one-stage detector built by :func:`logodet.models.zoo.build_model`.
        imgsz: the square input size; the anchors are computed once for it.
    """

    def __init__(self, model: FCOS | RetinaNet, imgsz: int) -> None:
        super().__init__()
        self.imgsz = int(imgsz)
        if self.imgsz < 32:
            raise ValueError(f"imgsz must be >= 32, got {imgsz}")
        self.backbone = model.backbone
        self.head = model.head
        self.box_coder = model.box_coder
        device = next(model.parameters()).device
        mean = torch.tensor(model.transform.image_mean, device=device).view(1, 3, 1, 1)
        std = torch.tensor(model.transform.image_std, device=device).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)
        with torch.no_grad(), eval_mode(model):  # eval mode leaves BatchNorm statistics untouched
            probe = torch.zeros(1, 3, self.imgsz, self.imgsz, device=device)
            feats = list(self.backbone(probe).values())
            anchors = model.anchor_generator(ImageList(probe, [(self.imgsz, self.imgsz)]), feats)[0]
        self.register_buffer("anchors", anchors, persistent=False)

    def _head_outputs(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (images - self.mean) / self.std
        return self.head(list(self.backbone(x).values()))

    @abstractmethod
    def _decode(self, reg: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
        """Boxes ``[N, 4]`` (xyxy) from regression outputs and anchors, both ``[N, 4]``."""

    @abstractmethod
    def _scores(self, out: dict[str, torch.Tensor]) -> torch.Tensor:
        """Per-class scores ``[B, A, K]`` in ``[0, 1]`` from the head outputs."""

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self._head_outputs(images)
        reg = out["bbox_regression"]
        b = reg.shape[0]
        anchors = self.anchors.unsqueeze(0).expand(b, -1, -1).reshape(-1, 4)
        boxes = self._decode(reg.reshape(-1, 4), anchors).reshape(b, -1, 4)
        return boxes.clamp(min=0.0, max=float(self.imgsz)), self._scores(out)


class DenseFCOS(DenseDetector):
    """Wrap an FCOS ``model`` for dense inference at ``imgsz x imgsz`` inputs.

    Example:
        >>> from logodet.models.zoo import build_model
        >>> dense = DenseFCOS(build_model("fcos_efficientnet_lite0", num_classes=2, weights="none"), 320).eval()
        >>> boxes, scores = dense(torch.rand(1, 3, 320, 320))
        >>> boxes.shape[-1], scores.shape[-1]
        (4, 2)
    """

    def _decode(self, reg: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
        return self.box_coder.decode(reg, anchors)

    def _scores(self, out: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.sqrt(torch.sigmoid(out["cls_logits"]) * torch.sigmoid(out["bbox_ctrness"]))


class DenseRetinaNet(DenseDetector):
    """Wrap a RetinaNet ``model`` for dense inference at ``imgsz x imgsz`` inputs.

    Example:
        >>> from logodet.models.zoo import build_model
        >>> dense = DenseRetinaNet(build_model("retinanet_efficientnet_lite0", num_classes=2, weights="none"), 128).eval()
        >>> boxes, scores = dense(torch.rand(1, 3, 128, 128))
        >>> tuple(boxes.shape), tuple(scores.shape)  # 9 anchors x (16² + 8² + 4² + 2² + 1²) locations
        ((1, 3069, 4), (1, 3069, 2))
    """

    def _decode(self, reg: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
        return self.box_coder.decode_single(reg, anchors)

    def _scores(self, out: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.sigmoid(out["cls_logits"])


_DENSE: tuple[tuple[type[nn.Module], type[DenseDetector]], ...] = ((FCOS, DenseFCOS), (RetinaNet, DenseRetinaNet))


def dense_model(model: nn.Module, imgsz: int) -> DenseDetector:
    """The dense inference graph of ``model`` (chosen by its head family) at ``imgsz x imgsz`` inputs.

    Example:
        >>> from logodet.models.zoo import build_model
        >>> type(dense_model(build_model("retinanet_efficientnet_lite0", num_classes=1, weights="none"), 128)).__name__
        'DenseRetinaNet'
    """
    for kind, dense in _DENSE:
        if isinstance(model, kind):
            return dense(model, imgsz)
    raise TypeError(f"no dense inference graph for {type(model).__name__}; supported: {', '.join(k.__name__ for k, _ in _DENSE)}")
