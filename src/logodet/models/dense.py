"""Export-friendly inference graph of a torchvision FCOS detector.

``DenseFCOS`` maps a batch of ``[0, 1]`` images of a fixed size to decoded
boxes ``[B, A, 4]`` (input pixels) and per-class scores ``[B, A, K]``
(``sqrt(sigmoid(cls) * sigmoid(centerness))`` as in FCOS). Thresholding,
top-k and NMS happen afterwards in :mod:`logodet.inference.postprocess`, so
the PyTorch and ONNX Runtime backends share every step after the network.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.detection import FCOS
from torchvision.models.detection.image_list import ImageList

__all__ = ["DenseFCOS"]


class DenseFCOS(nn.Module):
    """Wrap ``model`` for dense inference at ``imgsz x imgsz`` inputs.

    Example:
        >>> from logodet.models.zoo import build_model
        >>> dense = DenseFCOS(build_model("fcos_efficientnet_lite0", num_classes=2, weights="none"), 320).eval()
        >>> boxes, scores = dense(torch.rand(1, 3, 320, 320))
        >>> boxes.shape[-1], scores.shape[-1]
        (4, 2)
    """

    def __init__(self, model: FCOS, imgsz: int) -> None:
        super().__init__()
        self.backbone = model.backbone
        self.head = model.head
        self.box_coder = model.box_coder
        mean = torch.tensor(model.transform.image_mean).view(1, 3, 1, 1)
        std = torch.tensor(model.transform.image_std).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("std", std, persistent=False)
        self.imgsz = int(imgsz)
        with torch.no_grad():
            probe = torch.zeros(1, 3, self.imgsz, self.imgsz)
            feats = list(self.backbone(probe).values())
            anchors = model.anchor_generator(ImageList(probe, [(self.imgsz, self.imgsz)]), feats)[0]
        self.register_buffer("anchors", anchors, persistent=False)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (images - self.mean) / self.std
        feats = list(self.backbone(x).values())
        out = self.head(feats)
        cls, reg, ctr = out["cls_logits"], out["bbox_regression"], out["bbox_ctrness"]
        b = cls.shape[0]
        anchors = self.anchors.unsqueeze(0).expand(b, -1, -1)
        boxes = self.box_coder.decode(reg.reshape(-1, 4), anchors.reshape(-1, 4)).reshape(b, -1, 4)
        boxes = boxes.clamp(min=0.0, max=float(self.imgsz))
        scores = torch.sqrt(torch.sigmoid(cls) * torch.sigmoid(ctr))
        return boxes, scores
