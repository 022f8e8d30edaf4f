"""Contact sheet: grid size, boxes drawn in the class colour, the empty case, written by synthesize."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from logodet.inference.draw import class_color
from logodet.synth.config import SynthConfig
from logodet.synth.pipeline import synthesize
from logodet.synth.preview import _pick, contact_sheet, write_preview
from logodet.types import Annotation, DetectionDataset, ImageRecord

from .conftest import EXAMPLES, smooth_backgrounds


@pytest.mark.parametrize(("n", "count", "expected"), [(0, 16, []), (3, 16, [0, 1, 2]), (5, 3, [0, 2, 4]), (9, 1, [0])])
def test_pick_spreads_indices(n: int, count: int, expected: list[int]) -> None:
    assert _pick(n, count) == expected


def _dataset(tmp_path: Path, n: int) -> DetectionDataset:
    images = tmp_path / "images"
    images.mkdir()
    records = []
    for i in range(n):
        cv2.imwrite(str(images / f"{i}.png"), np.full((50, 100, 3), 90, np.uint8))
        records.append(ImageRecord(f"{i}.png", 100, 50, [Annotation((10, 10, 60, 40), 1)]))
    return DetectionDataset(["a", "b"], records, images)


def test_contact_sheet_grid_and_boxes(tmp_path: Path) -> None:
    ds = _dataset(tmp_path, 6)
    sheet = contact_sheet(ds, count=16, columns=4, tile=100, gap=4)
    assert sheet.shape == (2 * 104 + 4, 4 * 104 + 4, 3)
    color = np.array(class_color(1), np.uint8)
    assert np.all(sheet[4 + 25, 4 + 10] == color)  # left edge of the first box, at full scale
    assert np.all(sheet[4 + 30, 4 + 80] == 90)  # image pixel outside the box
    path = write_preview(ds, tmp_path / "out" / "preview.png", tile=100)
    assert cv2.imread(str(path)).shape == sheet.shape


def test_contact_sheet_of_empty_dataset() -> None:
    assert contact_sheet(DetectionDataset(["a"], []), tile=32, gap=4).shape == (40, 40, 3)


def test_synthesize_writes_preview(tmp_path: Path) -> None:
    report = synthesize(EXAMPLES, smooth_backgrounds(1), tmp_path / "ds", 5, SynthConfig(size=(96, 80)), progress=False)
    assert tmp_path / "ds" / "preview.png" in report.extra_outputs
    assert cv2.imread(str(tmp_path / "ds" / "preview.png")).shape[0] > 0
    synthesize(EXAMPLES, smooth_backgrounds(1), tmp_path / "np", 2, SynthConfig(size=(96, 80)), progress=False, preview=False)
    assert not (tmp_path / "np" / "preview.png").exists()
