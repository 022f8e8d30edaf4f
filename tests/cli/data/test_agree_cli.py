"""``logodet data agree`` through a tiny typer app: pair table, Fleiss' kappa, gold scores, JSON, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from logodet.cli.data.agree import agree_cmd
from logodet.datasets.formats.coco import save_coco
from logodet.types import Annotation, DetectionDataset, ImageRecord

runner = CliRunner(env={"COLUMNS": "240"})
CLASSES = ["acme", "globex"]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("agree")(agree_cmd)
    app.command("noop")(lambda: None)
    return app


def write(root: Path, images: dict[str, list[tuple[int, tuple[float, float, float, float]]]]) -> Path:
    recs = [ImageRecord(f, 100, 100, [Annotation(b, c) for c, b in anns], id=i + 1) for i, (f, anns) in enumerate(images.items())]
    save_coco(DetectionDataset(CLASSES, recs), root)
    return root


@pytest.fixture
def labels(tmp_path) -> dict[str, Path]:
    gold = {"1.jpg": [(0, (0, 0, 10, 10))], "2.jpg": [(0, (0, 0, 10, 10)), (1, (50, 50, 60, 60))]}
    return {
        "gold": write(tmp_path / "gold", gold),
        "ann": write(tmp_path / "ann", gold),
        "bob": write(tmp_path / "bob", {"1.jpg": [(0, (1, 0, 11, 10))], "2.jpg": [(0, (0, 0, 10, 10))]}),
        "cho": write(tmp_path / "cho.json", {"1.jpg": [(0, (0, 0, 10, 10)), (0, (60, 60, 70, 70))], "2.jpg": []}),
    }


def _cells(output: str, start: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith("│ " + start))
    return [c.strip() for c in line.split("│") if c.strip()]


def test_three_annotators_with_gold_and_json(labels, tmp_path):
    report = tmp_path / "report.json"
    args = ["agree", str(labels["ann"]), str(labels["bob"]), str(labels["cho"]), "--gold", str(labels["gold"]), "--json", str(report)]
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    # ann/bob: 2 matched, 1 only ann -> agreement 4/5; presence items 1011 vs 1010 -> po 3/4, pe 1/2, kappa 0.5
    assert _cells(result.output, "ann / bob") == ["ann / bob", "2", "2", "1", "0", "0.800", f"{(90 / 110 + 1) / 2:.3f}", "0.500"]
    # present counts per (image, class) item: 3, 0, 2, 1 of 3 raters -> P 2/3, Pe 1/2, kappa 1/3
    assert "Fleiss' kappa (class presence, all annotators): 0.333" in result.output
    data = json.loads(report.read_text())
    assert [(p["a"], p["b"]) for p in data["agreement"]["pairs"]] == [("ann", "bob"), ("ann", "cho"), ("bob", "cho")]
    assert data["agreement"]["fleiss_kappa"] == pytest.approx(1 / 3)
    assert data["gold"]["ann"]["overall"]["f1"] == 1.0
    bob = data["gold"]["bob"]["overall"]
    assert (bob["tp"], bob["fp"], bob["fn"], bob["precision"], bob["recall"]) == (2, 0, 1, 1.0, pytest.approx(2 / 3))
    assert "bob against gold (2 images)" in result.output


def test_one_annotator_against_gold(labels):
    result = runner.invoke(_app(), ["agree", str(labels["bob"]), "--gold", str(labels["gold"]), "--iou", "0.9"])
    assert result.exit_code == 0, result.output
    assert "Agreement per pair" not in result.output
    # at IoU 0.9 the shifted box (IoU 0.82) no longer counts
    assert _cells(result.output, "all") == ["all", "1", "1", "2", "0.500", "0.333", "0.400", "1.000"]


def test_missing_images_are_warned(labels, tmp_path):
    short = write(tmp_path / "short", {"1.jpg": [(0, (0, 0, 10, 10))]})
    result = runner.invoke(_app(), ["agree", str(labels["ann"]), str(short)])
    assert result.exit_code == 0, result.output
    assert "short did not label 1 images, e.g. 2.jpg" in result.output
    assert _cells(result.output, "ann / short")[:2] == ["ann / short", "1"]


@pytest.mark.parametrize(
    "args,msg",
    [
        (lambda p: [str(p["ann"])], "at least two annotators"),
        (lambda p: [str(p["ann"]), str(p["bob"]), "--iou", "0"], "iou: expected a threshold"),
        (lambda p: [str(p["ann"]), str(p["ann"].parent / "nope")], "no COCO annotations file"),
    ],
)
def test_errors(labels, args, msg):
    result = runner.invoke(_app(), ["agree", *args(labels)])
    assert result.exit_code == 2, result.output
    assert msg in result.output and "Traceback" not in result.output
