"""``logodet data convert`` through a tiny typer app: the summary table, detected and named formats, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from PIL import Image
from typer.testing import CliRunner

from logodet.cli.data.convert import convert_cmd
from logodet.datasets.formats.coco import load_coco, save_coco
from logodet.datasets.formats.yolo import load_yolo
from logodet.types import Annotation, DetectionDataset, ImageRecord

runner = CliRunner(env={"COLUMNS": "240"})


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("convert")(convert_cmd)
    app.command("noop")(lambda: None)
    return app


def make(root: Path) -> Path:
    (root / "images" / "sub").mkdir(parents=True)
    for name in ("a.png", "sub/b c.png"):
        Image.fromarray(np.zeros((30, 50, 3), np.uint8)).save(root / "images" / name)
    recs = [
        ImageRecord("a.png", 50, 30, [Annotation((1.5, 2, 20, 29.25), 0, segmentation=[[1.5, 2, 20, 2, 20, 29.25]])], id=1),
        ImageRecord("sub/b c.png", 50, 30, [Annotation((0, 0, 10, 10), 1), Annotation((0, 0, 50, 30), 1, iscrowd=1)], id=2),
    ]
    save_coco(DetectionDataset(["acme", "globex"], recs, root / "images"), root)
    return root


def _row(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if f" {name} " in line)


def test_convert_prints_the_summary_and_what_was_dropped(tmp_path: Path) -> None:
    src = make(tmp_path / "coco")
    result = runner.invoke(_app(), ["convert", "--to", "yolo", str(src), str(tmp_path / "yolo")])
    assert result.exit_code == 0, result.output
    assert "coco -> yolo" in result.output
    assert _row(result.output, "images").split()[-2] == "2"
    assert _row(result.output, "boxes").split()[-2] == "2"
    assert _row(result.output, "masks").split()[-2] == "0"
    assert _row(result.output, "dropped").split()[-2] == "2"
    assert "annotation: crowd regions have no YOLO form" in result.output
    assert "mask: YOLO detect labels hold boxes only (use the segment task)" in result.output
    ds = load_yolo(tmp_path / "yolo")
    assert [len(r.annotations) for r in ds.images] == [1, 1]
    assert not (tmp_path / "yolo" / "images" / "a.png").is_symlink()


def test_named_formats_segment_task_and_symlinks(tmp_path: Path) -> None:
    src = make(tmp_path / "coco")
    args = ["convert", "--from", "coco", "--to", "yolo", "--yolo-task", "segment", "--images", "symlink", str(src), str(tmp_path / "y")]
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert _row(result.output, "masks").split()[-2] == "1"
    assert (tmp_path / "y" / "images" / "sub" / "b c.png").is_symlink()
    result = runner.invoke(_app(), ["convert", "--to", "coco", "--images", "none", str(tmp_path / "y"), str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert "yolo -> coco" in result.output and "Dropped" not in result.output
    back = load_coco(tmp_path / "c")
    assert back.images[0].annotations[0].segmentation is not None and not (tmp_path / "c" / "images").exists()


def test_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    src = make(tmp_path / "coco")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("x")
    cases = [
        (["--to", "yolo", str(src), str(tmp_path / "busy")], "not empty; pass overwrite"),
        (["--to", "xml", str(src), str(tmp_path / "o")], "to_fmt: expected one of"),
        (["--to", "yolo", "--images", "move", str(src), str(tmp_path / "o")], "images: expected one of"),
        (["--to", "yolo", str(src), str(src / "inside")], "must not be the source dataset folder"),
        (["--to", "coco", str(tmp_path / "busy"), str(tmp_path / "o")], "cannot tell the dataset format"),
    ]
    for args, message in cases:
        result = runner.invoke(_app(), ["convert", *args])
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.output and message in result.output.replace("\n", " ")
    assert (tmp_path / "busy" / "keep.txt").read_text() == "x" and not (tmp_path / "o").exists()
    result = runner.invoke(_app(), ["convert", "--to", "yolo", "--overwrite", str(src), str(tmp_path / "busy")])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "busy" / "keep.txt").exists() and (tmp_path / "busy" / "data.yaml").is_file()
