"""Core data types that every logodet stage passes around.

``Detections`` holds the boxes (and optionally scores and masks) of one image;
``Annotation`` / ``ImageRecord`` / ``DetectionDataset`` are the in-memory form
of a dataset folder (``annotations.json`` + ``images/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Annotation", "DetectionDataset", "Detections", "ImageRecord"]


def _as_array(value: Any, dtype: np.dtype, name: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Detections.{name}: cannot convert to {np.dtype(dtype).name}: {exc}") from exc


@dataclass
class Detections:
    """Boxes of one image, in absolute pixel ``xyxy`` coordinates.

    Attributes:
        xyxy: ``float32 [N, 4]`` boxes ``(x1, y1, x2, y2)``.
        class_ids: ``int64 [N]`` indices into the dataset's class names.
        scores: ``float32 [N]`` confidences, or ``None`` for ground truth.
        masks: ``bool [N, H, W]`` instance masks, or ``None``.

    Example:
        >>> d = Detections(xyxy=[[0, 0, 10, 10]], class_ids=[0], scores=[0.9])
        >>> len(d), d[d.scores > 0.5].xyxy.shape
        (1, (1, 4))
    """

    xyxy: np.ndarray
    class_ids: np.ndarray
    scores: np.ndarray | None = None
    masks: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.xyxy = _as_array(self.xyxy, np.float32, "xyxy").reshape(-1, 4) if np.size(self.xyxy) else np.zeros((0, 4), np.float32)
        n = len(self.xyxy)
        self.class_ids = _as_array(self.class_ids, np.int64, "class_ids").reshape(-1)
        if len(self.class_ids) != n:
            raise ValueError(f"Detections.class_ids: expected {n} entries, got {len(self.class_ids)}")
        if self.scores is not None:
            self.scores = _as_array(self.scores, np.float32, "scores").reshape(-1)
            if len(self.scores) != n:
                raise ValueError(f"Detections.scores: expected {n} entries, got {len(self.scores)}")
        if self.masks is not None:
            self.masks = _as_array(self.masks, bool, "masks")
            if self.masks.ndim != 3 or len(self.masks) != n:
                raise ValueError(f"Detections.masks: expected shape [{n}, H, W], got {list(self.masks.shape)}")
        if n and not np.all(np.isfinite(self.xyxy)):
            raise ValueError("Detections.xyxy: boxes must be finite")
        if n and np.any(self.xyxy[:, 2:] < self.xyxy[:, :2]):
            raise ValueError("Detections.xyxy: x2 < x1 or y2 < y1 in at least one box")

    @classmethod
    def empty(cls, with_scores: bool = True) -> Detections:
        """Detections with no boxes."""
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.zeros(0, np.float32) if with_scores else None)

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: Any) -> Detections:
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Detections(
            self.xyxy[index],
            self.class_ids[index],
            None if self.scores is None else self.scores[index],
            None if self.masks is None else self.masks[index],
        )

    @property
    def area(self) -> np.ndarray:
        """Box areas, ``float32 [N]``."""
        return (self.xyxy[:, 2] - self.xyxy[:, 0]) * (self.xyxy[:, 3] - self.xyxy[:, 1])


@dataclass
class Annotation:
    """One labelled object: an ``xyxy`` box, a class index and optional extras.

    ``segmentation`` is a COCO segmentation (RLE dict with string counts, or a
    list of polygons) and ``extra`` keeps fields the core does not interpret
    (for example ``visibility`` written by the synthesiser).
    """

    bbox: tuple[float, float, float, float]
    category: int
    segmentation: dict | list | None = None
    area: float | None = None
    iscrowd: int = 0
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.bbox) != 4:
            raise ValueError(f"Annotation.bbox: expected 4 numbers, got {self.bbox!r}")
        x1, y1, x2, y2 = (float(v) for v in self.bbox)
        if not all(np.isfinite([x1, y1, x2, y2])) or x2 < x1 or y2 < y1:
            raise ValueError(f"Annotation.bbox: invalid xyxy box {self.bbox!r}")
        self.bbox = (x1, y1, x2, y2)
        if self.category < 0:
            raise ValueError(f"Annotation.category: must be >= 0, got {self.category}")


@dataclass
class ImageRecord:
    """One image of a dataset and its annotations; ``file_name`` is relative to ``images/``."""

    file_name: str
    width: int
    height: int
    annotations: list[Annotation] = field(default_factory=list)
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.file_name:
            raise ValueError("ImageRecord.file_name: must not be empty")
        if int(self.width) <= 0 or int(self.height) <= 0:
            raise ValueError(f"ImageRecord {self.file_name!r}: width/height must be positive, got {self.width}x{self.height}")

    def to_detections(self, include_crowd: bool = False) -> Detections:
        """The record's boxes as ``Detections`` (no scores)."""
        anns = [a for a in self.annotations if include_crowd or not a.iscrowd]
        if not anns:
            return Detections.empty(with_scores=False)
        return Detections(np.array([a.bbox for a in anns], np.float32), np.array([a.category for a in anns], np.int64))


@dataclass
class DetectionDataset:
    """A dataset: class names, image records and the folder the images live in.

    Example:
        >>> ds = DetectionDataset(["acme"], [ImageRecord("a.jpg", 64, 48)])
        >>> ds.num_classes, len(ds)
        (1, 1)
    """

    class_names: list[str]
    images: list[ImageRecord]
    image_dir: Path | None = None

    def __post_init__(self) -> None:
        if len(set(self.class_names)) != len(self.class_names):
            raise ValueError(f"DetectionDataset.class_names: duplicate names in {self.class_names}")
        k = len(self.class_names)
        for rec in self.images:
            for ann in rec.annotations:
                if ann.category >= k:
                    raise ValueError(f"{rec.file_name}: category index {ann.category} is outside the {k} class names")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return len(self.images)

    def image_path(self, record: ImageRecord) -> Path:
        """Absolute path of ``record``'s image file."""
        if self.image_dir is None:
            raise ValueError("DetectionDataset.image_dir is not set")
        return self.image_dir / record.file_name
