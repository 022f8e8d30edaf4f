"""Prediction at several input sizes, merged: one model, a few scales, one set of boxes.

A logo can be easier to find at one input size than another (small logos at
a larger size, large ones at a smaller size). :class:`MultiSizePredictor`
runs the same checkpoint at each size, pools the detections of every size in
original pixel coordinates and keeps the best of overlapping same-class boxes
with class-wise NMS (:func:`merge_detections`). It costs one forward pass per
size. ``logodet bench realworld`` tries the merge beside the single sizes and
keeps it only when the validation split says so (benchmarks/RESULTS.md).

Example:
    >>> p = Predictor.from_path("runs/exp/best.pt", imgsz=[192, 224, 256])  # doctest: +SKIP
    >>> isinstance(p, MultiSizePredictor)  # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torchvision.ops import batched_nms

from logodet.inference.postprocess import grow_boxes
from logodet.inference.predictor import Predictor
from logodet.types import Detections

__all__ = ["MultiSizePredictor", "check_sizes", "merge_detections", "nms_keep"]


def check_sizes(sizes: Sequence[int], minimum: int = 32) -> tuple[int, ...]:
    """Distinct input sizes, ascending; refuses an empty list and sizes below ``minimum``.

    Example:
        >>> check_sizes([256, 192, 256])
        (192, 256)
    """
    out = tuple(sorted({int(s) for s in sizes}))
    if not out or out[0] < minimum:
        raise ValueError(f"input sizes: need one or more sizes >= {minimum}, got {list(sizes)}")
    return out


def merge_detections(dets: Sequence[Detections], *, iou: float = 0.6, max_det: int = 100) -> Detections:
    """One image's detections from several predictions, overlapping same-class boxes resolved by NMS at ``iou``.

    The ``max_det`` best survivors are kept, best first.

    Example:
        >>> a = Detections([[0, 0, 10, 10]], [0], [0.9])
        >>> b = Detections([[1, 1, 10, 10], [50, 50, 60, 60]], [0, 0], [0.8, 0.7])
        >>> [round(float(s), 2) for s in merge_detections([a, b]).scores]
        [0.9, 0.7]
    """
    parts = [d for d in dets if len(d)]
    if not parts:
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.zeros(0, np.float32))
    if any(d.scores is None for d in parts):
        raise ValueError("merge_detections: every input needs scores")
    boxes = np.concatenate([d.xyxy for d in parts])
    scores = np.concatenate([d.scores for d in parts])
    labels = np.concatenate([d.class_ids for d in parts])
    kept = nms_keep(boxes, scores, labels, iou=iou, max_det=max_det)
    return Detections(boxes[kept], labels[kept], scores[kept])


def nms_keep(xyxy: np.ndarray, scores: np.ndarray, labels: np.ndarray, *, iou: float, max_det: int) -> np.ndarray:
    """Indices of the boxes that class-wise NMS at ``iou`` keeps, best score first, at most ``max_det``.

    Example:
        >>> nms_keep(np.array([[0, 0, 10, 10], [1, 1, 10, 10]]), np.array([0.5, 0.9]), np.array([0, 0]), iou=0.6, max_det=10)
        array([1])
    """
    if len(xyxy) == 0:
        return np.zeros(0, np.int64)
    boxes = torch.as_tensor(np.asarray(xyxy, np.float64).reshape(-1, 4))
    kept = batched_nms(boxes, torch.as_tensor(np.asarray(scores, np.float64)), torch.as_tensor(np.asarray(labels, np.int64)), float(iou))
    return kept[: int(max_det)].numpy()


class MultiSizePredictor(Predictor):
    """A :class:`Predictor` that runs one model at several input sizes and merges the detections.

    Args:
        predictors: one predictor per size, over the same model (same classes).
        conf, iou, max_det, box_scale: as :class:`Predictor`; ``iou`` also merges the sizes,
            and ``box_scale`` grows the merged boxes.
    """

    def __init__(
        self,
        predictors: Sequence[Predictor],
        *,
        conf: float = 0.25,
        iou: float = 0.6,
        max_det: int = 100,
        box_scale: float = 1.0,
    ) -> None:
        if len(predictors) < 2:
            raise ValueError(f"MultiSizePredictor: needs two or more sizes, got {len(predictors)}")
        names = list(predictors[0].class_names)
        if any(list(p.class_names) != names for p in predictors):
            raise ValueError("MultiSizePredictor: the predictors disagree on the class names")
        self.predictors = sorted(predictors, key=lambda p: p.imgsz)
        self.sizes = tuple(p.imgsz for p in self.predictors)
        check_sizes(self.sizes)
        if len(set(self.sizes)) != len(self.sizes):
            raise ValueError(f"MultiSizePredictor: input sizes repeat: {list(self.sizes)}")
        super().__init__(self.predictors[-1].backend, names, self.sizes[-1], conf=conf, iou=iou, max_det=max_det, box_scale=box_scale)
        for p in self.predictors:
            p.conf, p.iou, p.max_det, p.box_scale = self.conf, self.iou, self.max_det, 1.0

    @classmethod
    def from_checkpoint(cls, path: str, sizes: Sequence[int], **kwargs) -> MultiSizePredictor:
        """Load a ``.pt`` checkpoint once and build its dense graph at each of ``sizes``."""
        from logodet.engine.checkpoint import load_checkpoint, model_from_checkpoint

        sizes = check_sizes(sizes)
        state = load_checkpoint(path)
        model = model_from_checkpoint(state)
        return cls([Predictor.from_model(model, state["class_names"], s) for s in sizes], **kwargs)

    def predict(self, images: Sequence[np.ndarray], batch_size: int = 8) -> list[Detections]:
        """Detections for each ``uint8 [H, W, 3]`` RGB image: every size's, merged, then grown by ``box_scale``."""
        per_size = [p.predict(images, batch_size) for p in self.predictors]
        results = []
        for k, img in enumerate(images):
            d = merge_detections([dets[k] for dets in per_size], iou=self.iou, max_det=self.max_det)
            if self.box_scale != 1.0:
                d.xyxy = grow_boxes(d.xyxy, self.box_scale, img.shape[1], img.shape[0])
            results.append(d)
        return results
