"""Training data: letterboxed images with box-aware augmentation (torchvision transforms v2)."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from logodet.inference.preprocess import PAD_VALUE, letterbox
from logodet.io import read_rgb
from logodet.types import DetectionDataset

__all__ = ["DetectionTrainData", "collate", "train_transforms"]


def train_transforms(imgsz: int, *, scale: tuple[float, float] = (0.6, 1.3), translate: float = 0.1, degrees: float = 5.0) -> v2.Compose:
    """Box-aware augmentation for letterboxed ``imgsz`` inputs.

    Logos are not mirror-symmetric (text, marks), so there is no horizontal flip.
    """
    return v2.Compose(
        [
            v2.RandomPhotometricDistort(p=0.5),
            v2.RandomAffine(degrees=degrees, translate=(translate, translate), scale=scale, fill=PAD_VALUE),
            v2.RandomGrayscale(p=0.05),
            v2.ClampBoundingBoxes(),
            v2.SanitizeBoundingBoxes(min_size=2.0),
        ]
    )


class DetectionTrainData(Dataset):
    """A :class:`DetectionDataset` as ``(image [3, S, S] float in [0, 1], target)`` pairs.

    ``target`` holds ``boxes`` (``xyxy`` in letterboxed pixels) and ``labels``
    (class indices); crowd regions are left out. Images without boxes are
    kept: they teach the model what is not a logo.

    The augmentation of an image is a pure function of ``(seed, epoch,
    index)``: the same in any process, data-loader worker or resumed run.
    Call :meth:`set_epoch` before each epoch.
    """

    def __init__(self, dataset: DetectionDataset, imgsz: int, *, augment: bool = False, seed: int = 0) -> None:
        self.dataset = dataset
        self.imgsz = int(imgsz)
        self.transforms = train_transforms(self.imgsz) if augment else None
        self.seed, self.epoch = int(seed), 0

    def set_epoch(self, epoch: int) -> None:
        """Draw the augmentations of ``epoch``."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        rec = self.dataset.images[index]
        image, lb = letterbox(read_rgb(self.dataset.image_path(rec)), self.imgsz)
        det = rec.to_detections()
        boxes = det.xyxy * lb.scale if len(det) else np.zeros((0, 4), np.float32)
        img_t = tv_tensors.Image(torch.from_numpy(image).permute(2, 0, 1).contiguous())
        target = {
            "boxes": tv_tensors.BoundingBoxes(torch.from_numpy(boxes), format="XYXY", canvas_size=(self.imgsz, self.imgsz)),
            "labels": torch.from_numpy(det.class_ids),
        }
        if self.transforms is not None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed((self.seed * 1_000_003 + self.epoch) * 10_000_019 + index)
                img_t, target = self.transforms(img_t, target)
        out_target = {"boxes": target["boxes"].as_subclass(torch.Tensor).float(), "labels": target["labels"].long()}
        return img_t.as_subclass(torch.Tensor).float() / 255.0, out_target


def collate(batch: list) -> tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]:
    """Keep images and targets as lists (torchvision detectors take lists)."""
    images, targets = zip(*batch, strict=True)
    return list(images), list(targets)
