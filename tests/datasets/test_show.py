"""Contact sheets: masks from polygons and RLE, the seeded pick, the class filter, unreadable images, the command."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from logodet.cli.data.show import show_cmd
from logodet.datasets.formats.coco import save_coco
from logodet.datasets.show import annotation_mask, draw_record, pick_images, show_sheet, write_sheet
from logodet.inference.draw import class_color
from logodet.masks import rle_encode
from logodet.types import Annotation, DetectionDataset, ImageRecord

runner = CliRunner(env={"COLUMNS": "200"})


def _square_rle(w: int, h: int, box: tuple[int, int, int, int]) -> dict:
    m = np.zeros((h, w), bool)
    m[box[1] : box[3], box[0] : box[2]] = True
    return rle_encode(m)


def dataset(root: Path, n: int = 6) -> DetectionDataset:
    """``n`` 80x60 grey images; even ones hold an 'acme' polygon, odd ones a 'globex' RLE mask, the last none."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    recs = []
    for i in range(n):
        cv2.imwrite(str(root / "images" / f"im{i}.png"), np.full((60, 80, 3), 100 + 10 * i, np.uint8))
        if i == n - 1:
            anns = []
        elif i % 2 == 0:
            anns = [Annotation((10, 10, 40, 40), 0, segmentation=[[10, 10, 39, 10, 39, 39, 10, 39]])]
        else:
            anns = [Annotation((40, 20, 70, 50), 1, segmentation=_square_rle(80, 60, (40, 20, 70, 50)))]
        recs.append(ImageRecord(f"im{i}.png", 80, 60, anns, id=i + 1))
    ds = DetectionDataset(["acme", "globex"], recs, root / "images")
    save_coco(ds, root)
    return ds


@pytest.mark.parametrize("scale", [1.0, 0.5, 2.0])
def test_masks_from_polygon_and_rle(scale):
    poly = Annotation((2, 2, 6, 6), 0, segmentation=[[2, 2, 5, 2, 5, 5, 2, 5]])
    rle = Annotation((4, 0, 8, 4), 0, segmentation=_square_rle(8, 6, (4, 0, 8, 4)))
    pm, rm = annotation_mask(poly, 8, 6, scale), annotation_mask(rle, 8, 6, scale)
    assert pm.shape == rm.shape == (round(6 * scale), round(8 * scale))
    assert int(rm.sum()) == round(4 * scale) ** 2
    assert (3 * scale) ** 2 <= int(pm.sum()) <= (3 * scale + 1) ** 2  # a 3x3 polygon, filled with its edge pixels
    assert rm[0, -1] and not rm[-1, 0]


@pytest.mark.parametrize("seg", [None, [], [[1, 2, 3]], {"size": [6, 8], "counts": "garbage!"}, "text"])
def test_missing_or_malformed_masks_are_skipped(seg):
    assert annotation_mask(Annotation((0, 0, 2, 2), 0, segmentation=seg), 8, 6) is None


def test_draw_record_tints_the_mask_in_the_class_colour():
    rec = ImageRecord("a.png", 80, 60, [Annotation((10, 10, 40, 40), 1, segmentation=[[10, 10, 39, 10, 39, 39, 10, 39]])])
    out = draw_record(np.full((60, 80, 3), 100, np.uint8), rec, ["acme", "globex"], alpha=0.5)
    expected = np.round((np.float32(100) + np.float32(class_color(1))) / 2).astype(int)
    assert np.abs(out[25, 25].astype(int) - expected).max() <= 1  # inside the mask, away from the box and label
    assert out[55, 75].tolist() == [100, 100, 100]  # outside: untouched
    assert out[40, 25].tolist() == list(class_color(1))  # the box edge


def test_pick_is_seeded_and_filtered(tmp_path):
    ds = dataset(tmp_path / "d", n=12)
    a, b = pick_images(ds, 4, seed=1), pick_images(ds, 4, seed=1)
    assert a == b and a == sorted(a) and len(set(a)) == 4
    assert pick_images(ds, 4, seed=2) != a
    assert pick_images(ds, 50) == list(range(12))
    assert set(pick_images(ds, 3, class_name="globex")) <= {1, 3, 5, 7, 9}
    with pytest.raises(ValueError, match="'initech' is not a class"):
        pick_images(ds, 3, class_name="initech")
    empty = DetectionDataset(["acme", "globex"], [ImageRecord("x.png", 8, 8)], tmp_path)
    with pytest.raises(ValueError, match="no image has a box of class 'acme'"):
        pick_images(empty, 3, class_name="acme")


def test_sheet_layout_and_unreadable_image(tmp_path):
    ds = dataset(tmp_path / "d", n=5)
    (tmp_path / "d" / "images" / "im2.png").write_bytes(b"broken")
    sheet = show_sheet(ds, count=5, columns=3, tile=64, gap=4)
    assert sheet.shape == (2 * 68 + 4, 3 * 68 + 4, 3)
    cell = sheet[4 : 4 + 64, 4 + 2 * 68 : 4 + 2 * 68 + 64]  # third cell: im2, crossed out
    assert tuple(cell[10, 10]) == (200, 60, 60)
    assert show_sheet(DetectionDataset(["acme"], []), tile=32).shape == (40, 40, 3)


def test_write_sheet_is_deterministic(tmp_path):
    ds = dataset(tmp_path / "d", n=10)
    p1 = write_sheet(ds, tmp_path / "s1.png", count=4, columns=2, seed=0, tile=96)
    p2 = write_sheet(ds, tmp_path / "s2.png", count=4, columns=2, seed=0, tile=96)
    write_sheet(ds, tmp_path / "s3.png", count=4, columns=2, seed=7, tile=96)
    assert p1.read_bytes() == p2.read_bytes() != (tmp_path / "s3.png").read_bytes()
    assert cv2.imread(str(p1)).shape == (2 * 100 + 4, 2 * 100 + 4, 3)
    assert not list(tmp_path.glob(".*.tmp"))


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("show")(show_cmd)
    app.command("noop")(lambda: None)
    return app


def test_show_command(tmp_path):
    dataset(tmp_path / "d", n=6)
    out = tmp_path / "sheet.png"
    result = runner.invoke(_app(), ["show", str(tmp_path / "d"), "--out", str(out), "--count", "2", "--columns", "2", "--class", "acme"])
    assert result.exit_code == 0, result.output
    assert "2 of 6 images" in result.output and cv2.imread(str(out)).shape == (328, 652, 3)
    result = runner.invoke(_app(), ["show", str(tmp_path / "d"), "--out", str(out), "--class", "nope"])
    assert result.exit_code == 2 and "'nope' is not a class" in result.output
    result = runner.invoke(_app(), ["show", str(tmp_path / "missing"), "--out", str(out)])
    assert result.exit_code == 2 and "error:" in result.output
    assert json.loads((tmp_path / "d" / "annotations.json").read_text())["images"][0]["file_name"] == "im0.png"
