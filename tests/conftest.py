"""Shared fixtures: tiny datasets drawn in code and one tiny trained run."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from logodet.datasets.formats.coco import save_coco
from logodet.types import Annotation, DetectionDataset, ImageRecord

SHAPES = ["disc", "square", "triangle"]
COLORS = [(230, 40, 40), (40, 200, 60), (40, 80, 230)]


def make_shapes_dataset(root: Path, n: int = 24, size: int = 128, seed: int = 0, empty_every: int = 6) -> DetectionDataset:
    """A dataset folder of coloured shapes on noise; every ``empty_every``-th image has no object."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    records = []
    for i in range(n):
        img = rng.integers(60, 200, (size, size, 3), dtype=np.uint8)
        img = cv2.GaussianBlur(img, (0, 0), 3)
        anns = []
        count = 0 if empty_every and i % empty_every == empty_every - 1 else int(rng.integers(1, 3))
        for _ in range(count):
            c = int(rng.integers(0, len(SHAPES)))
            s = int(rng.integers(size // 5, size // 3))
            x, y = (int(v) for v in rng.integers(0, size - s, 2))
            if c == 0:
                cv2.circle(img, (x + s // 2, y + s // 2), s // 2, COLORS[c], -1)
            elif c == 1:
                cv2.rectangle(img, (x, y), (x + s - 1, y + s - 1), COLORS[c], -1)
            else:
                pts = np.array([[x + s // 2, y], [x, y + s - 1], [x + s - 1, y + s - 1]], np.int32)
                cv2.fillPoly(img, [pts], COLORS[c])
            anns.append(Annotation((x, y, x + s, y + s), c))
        name = f"img_{i:03d}.png"
        cv2.imwrite(str(root / "images" / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        records.append(ImageRecord(name, size, size, anns, id=i + 1))
    ds = DetectionDataset(list(SHAPES), records, root / "images")
    save_coco(ds, root)
    return ds


@pytest.fixture(scope="session", autouse=True)
def _private_analysis_cache(tmp_path_factory):
    """Keep the background-analysis cache of the tests out of the user's home folder."""
    os.environ["LOGODET_CACHE"] = str(tmp_path_factory.mktemp("logodet-cache"))


@pytest.fixture(scope="session")
def shapes_data(tmp_path_factory) -> tuple[Path, Path]:
    """(train, val) dataset folders of shapes."""
    base = tmp_path_factory.mktemp("shapes")
    make_shapes_dataset(base / "train", n=48, seed=1)
    make_shapes_dataset(base / "val", n=12, seed=2)
    return base / "train", base / "val"


@pytest.fixture(scope="session")
def trained_run(shapes_data, tmp_path_factory) -> Path:
    """A run folder with best.pt of a small model trained on shapes."""
    from logodet.engine.config import TrainConfig
    from logodet.engine.trainer import train

    out = tmp_path_factory.mktemp("run") / "shapes"
    train_dir, val_dir = shapes_data
    cfg = TrainConfig(
        data=str(train_dir), val=str(val_dir), out=str(out), epochs=6, imgsz=128, batch=8, lr=3e-3, warmup_iters=5, freeze=2, seed=0
    )
    train(cfg, progress=False)
    return out
