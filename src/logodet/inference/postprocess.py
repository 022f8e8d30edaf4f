"""Turn dense network outputs into per-image detections: threshold, top-k, class-wise NMS; optional box growth."""

from __future__ import annotations

import numpy as np
import torch
from torchvision.ops import batched_nms

from logodet.types import Detections

__all__ = ["grow_boxes", "postprocess"]


def postprocess(
    boxes: np.ndarray | torch.Tensor,
    scores: np.ndarray | torch.Tensor,
    *,
    conf: float = 0.25,
    iou: float = 0.6,
    topk: int = 1000,
    max_det: int = 100,
) -> list[Detections]:
    """Select detections from dense outputs ``boxes [B, A, 4]`` and ``scores [B, A, K]``.

    Every (anchor, class) pair above ``conf`` is a candidate; the ``topk`` best
    go through class-wise NMS at ``iou``; at most ``max_det`` are kept.

    Example:
        >>> b = np.array([[[0, 0, 10, 10], [1, 1, 10, 10]]], np.float32)
        >>> s = np.array([[[0.9], [0.8]]], np.float32)
        >>> len(postprocess(b, s, conf=0.5)[0])
        1
    """
    boxes_t = torch.as_tensor(np.asarray(boxes) if not isinstance(boxes, torch.Tensor) else boxes).float()
    scores_t = torch.as_tensor(np.asarray(scores) if not isinstance(scores, torch.Tensor) else scores).float()
    out = []
    num_classes = scores_t.shape[-1]
    for b, s in zip(boxes_t, scores_t, strict=True):
        flat = s.reshape(-1)
        keep = torch.nonzero(flat > conf).squeeze(1)
        if keep.numel() > topk:
            keep = keep[flat[keep].topk(topk).indices]
        cand_scores = flat[keep]
        anchor_idx = torch.div(keep, num_classes, rounding_mode="floor")
        labels = keep % num_classes
        cand_boxes = b[anchor_idx]
        valid = (cand_boxes[:, 2] > cand_boxes[:, 0]) & (cand_boxes[:, 3] > cand_boxes[:, 1])
        cand_boxes, cand_scores, labels = cand_boxes[valid], cand_scores[valid], labels[valid]
        kept = batched_nms(cand_boxes, cand_scores, labels, iou)[:max_det]
        out.append(Detections(cand_boxes[kept].numpy(), labels[kept].numpy(), cand_scores[kept].numpy()))
    return out


def grow_boxes(xyxy: np.ndarray, factor: float, width: int, height: int) -> np.ndarray:
    """``xyxy`` boxes scaled by ``factor`` about their centres, clipped to a ``width`` x ``height`` image.

    Matches a model's boxes to a labelling convention: hand-drawn boxes in real
    photos often leave a margin around the logo that a model trained on tight
    synthetic boxes does not predict (``logodet bench realworld`` picks the
    factor on its validation split).

    Example:
        >>> grow_boxes(np.array([[10.0, 10.0, 30.0, 20.0]]), 1.5, 100, 100).tolist()
        [[5.0, 7.5, 35.0, 22.5]]
        >>> grow_boxes(np.array([[0.0, 0.0, 10.0, 10.0]]), 2.0, 12, 12).tolist()
        [[0.0, 0.0, 12.0, 12.0]]
    """
    if not factor > 0:
        raise ValueError(f"box scale: expected a factor > 0, got {factor}")
    xyxy = np.asarray(xyxy)
    dtype = xyxy.dtype if xyxy.dtype.kind == "f" else np.float64
    boxes = xyxy.astype(np.float64).reshape(-1, 4)
    if factor == 1.0 or len(boxes) == 0:
        return xyxy.astype(dtype)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    half = (boxes[:, 2:] - boxes[:, :2]) * (factor / 2.0)
    out = np.concatenate([centre - half, centre + half], axis=1)
    out[:, 0::2] = out[:, 0::2].clip(0.0, float(width))
    out[:, 1::2] = out[:, 1::2].clip(0.0, float(height))
    return out.astype(dtype)
