"""``logodet synth`` through a tiny typer app wrapping ``synth``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer
import yaml
from PIL import Image
from typer.testing import CliRunner

from logodet.cli.synth import synth

runner = CliRunner(env={"COLUMNS": "200"})
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "logos"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("synth")(synth)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps "synth" a subcommand, as in the real app
        pass

    return app


def _backgrounds(folder: Path) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)).save(folder / f"bg{i}.jpg")
    return folder


def test_help_has_example() -> None:
    result = runner.invoke(_app(), ["synth", "--help"])
    assert result.exit_code == 0
    assert "Example: logodet synth" in result.output and "--key-white" in result.output


def test_synth_writes_dataset(tmp_path: Path) -> None:
    bg = _backgrounds(tmp_path / "bg")
    out = tmp_path / "ds"
    args = ["synth", "--logos", str(EXAMPLES), "--backgrounds", str(bg), "--out", str(out), "-n", "3", "--size", "64x48", "-q"]
    result = runner.invoke(_app(), [*args, "--seed", "3", "--set", "jpeg_quality=80", "--set", "empty_prob=0"])
    assert result.exit_code == 0, result.output
    assert "Wrote 3 images" in result.output
    data = json.loads((out / "annotations.json").read_text())
    assert len(data["images"]) == 3 and data["images"][0]["width"] == 64
    saved = yaml.safe_load((out / "synth_config.yaml").read_text())
    assert saved["size"] == [64, 48] and saved["jpeg_quality"] == 80
    again = runner.invoke(_app(), [*args, "--seed", "3", "--set", "jpeg_quality=80", "--set", "empty_prob=0"])
    assert again.exit_code == 0 and "0 new, 3 reused" in again.output
    changed = runner.invoke(_app(), [*args, "--seed", "4"])
    assert changed.exit_code == 2 and "other inputs or settings" in changed.output
    assert runner.invoke(_app(), [*args, "--seed", "4", "--overwrite"]).exit_code == 0


def test_empty_case_and_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "synth.yaml"
    cfg.write_text("size: [40, 40]\nmin_logos: 2\n")
    out = tmp_path / "empty"
    result = runner.invoke(
        _app(), ["synth", "--logos", str(EXAMPLES), "--out", str(out), "-n", "2", "--config", str(cfg), "--max-logos", "0", "-q"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "annotations.json").read_text())
    assert data["annotations"] == [] and len(data["images"]) == 2 and data["images"][0]["height"] == 40


def test_logo_without_alpha_needs_key_white(tmp_path: Path) -> None:
    logos = tmp_path / "logos"
    logos.mkdir()
    art = np.full((30, 30, 3), 255, np.uint8)
    art[8:22, 8:22] = (200, 0, 0)
    Image.fromarray(art).save(logos / "flat.png")
    base = ["synth", "--logos", str(logos), "--out", str(tmp_path / "ds"), "-n", "1", "--size", "48x48", "-q"]
    result = runner.invoke(_app(), base)
    assert result.exit_code == 2
    assert "flat.png" in result.output and "--key-white" in result.output
    assert runner.invoke(_app(), [*base, "--key-white"]).exit_code == 0


def test_bad_options_give_clear_errors(tmp_path: Path) -> None:
    base = ["synth", "--logos", str(EXAMPLES), "--out", str(tmp_path / "ds"), "-q"]
    bad_size = runner.invoke(_app(), [*base, "--size", "big"])
    assert bad_size.exit_code == 2 and "WIDTHxHEIGHT" in bad_size.output
    bad_key = runner.invoke(_app(), [*base, "--set", "nonsense=1"])
    assert bad_key.exit_code == 2 and "nonsense" in bad_key.output
    missing = runner.invoke(_app(), ["synth", "--logos", str(tmp_path / "nope"), "--out", str(tmp_path / "ds"), "-q"])
    assert missing.exit_code == 2 and "nope" in missing.output


def test_yolo_preview_and_input_problem_summary(tmp_path: Path) -> None:
    bg = _backgrounds(tmp_path / "bg")
    logos = tmp_path / "logos"
    (logos / "acme").mkdir(parents=True)
    (logos / "acme" / "good.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M2 2h20v20H2z"/></svg>')
    Image.fromarray(np.zeros((8, 8, 4), np.uint8), "RGBA").save(logos / "acme" / "blank.png")
    out = tmp_path / "ds"
    args = ["synth", "--logos", str(logos), "--backgrounds", str(bg), "--out", str(out), "-n", "2", "--size", "64x48", "-q"]
    result = runner.invoke(_app(), [*args, "--yolo", "--cache", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert "skipped logo" in result.output and "blank.png" in result.output and "1 skipped logo files" in result.output
    assert (out / "yolo" / "data.yaml").is_file() and (out / "preview.png").is_file()
    assert len(list((out / "yolo" / "labels").glob("*.txt"))) == 2
    other = tmp_path / "ds2"
    plain = runner.invoke(_app(), [*args[:5], "--out", str(other), "-n", "1", "--format", "coco,yolo", "--no-preview", "-q"])
    assert plain.exit_code == 0, plain.output
    assert (other / "yolo" / "data.yaml").is_file() and not (other / "preview.png").exists()


def test_bad_executor_and_format(tmp_path: Path) -> None:
    base = ["synth", "--logos", str(EXAMPLES), "--out", str(tmp_path / "ds"), "-n", "1", "-q"]
    bad_exec = runner.invoke(_app(), [*base, "--executor", "dask"])
    assert bad_exec.exit_code == 2 and "--executor" in bad_exec.output
    bad_fmt = runner.invoke(_app(), [*base, "--format", "voc"])
    assert bad_fmt.exit_code == 2 and "voc" in bad_fmt.output


def _labelled_photos(folder: Path, category: str) -> Path:
    """One 'real' photo with a striped box labelled ``category`` (COCO folder)."""
    (folder / "images").mkdir(parents=True)
    photo = np.full((40, 60, 3), 90, np.uint8)
    photo[10:30, 10:40:4] = 250
    Image.fromarray(photo).save(folder / "images" / "p.png")
    coco = {
        "images": [{"id": 1, "file_name": "p.png", "width": 60, "height": 40}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 20], "area": 600, "iscrowd": 0}],
        "categories": [{"id": 1, "name": category}],
    }
    (folder / "annotations.json").write_text(json.dumps(coco))
    return folder


def test_real_crops_become_variants_of_their_class(tmp_path: Path) -> None:
    bg = _backgrounds(tmp_path / "bg")
    photos = _labelled_photos(tmp_path / "photos", "nike")
    out = tmp_path / "ds"
    args = ["synth", "--logos", str(EXAMPLES), "--backgrounds", str(bg), "--out", str(out), "-n", "30", "--size", "96x96", "-q"]
    result = runner.invoke(_app(), [*args, "--real-crops", str(photos), "--set", "analysis.enabled=false", "--set", "empty_prob=0"])
    assert result.exit_code == 0, result.output
    assert "1 real crops added as logo variants (nike 1)" in result.output
    (crop,) = (out / "logo-crops" / "nike").glob("crop-*.png")
    assert np.asarray(Image.open(crop)).shape == (20, 30, 4)
    data = json.loads((out / "annotations.json").read_text())
    assert sorted(c["name"] for c in data["categories"]) == sorted(p.stem for p in EXAMPLES.glob("*.svg")), "no class added"
    names = {c["id"]: c["name"] for c in data["categories"]}
    sources = {a["source"] for a in data["annotations"] if names[a["category_id"]] == "nike"}
    assert sources == {crop.name, "nike.svg"}, "the crop and the artwork are both variants of nike"
    unknown = _labelled_photos(tmp_path / "other", "acme")
    none = runner.invoke(_app(), [*args[:5], "--out", str(tmp_path / "ds2"), "-n", "1", "--real-crops", str(unknown), "-q"])
    assert none.exit_code == 0 and "no crops added" in none.output
    missing = runner.invoke(_app(), [*args, "--real-crops", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "nope" in missing.output


def test_many_small_backgrounds_are_listed_ten_then_counted(tmp_path: Path) -> None:
    from logodet.cli.synth import SHOWN

    bg = tmp_path / "bg"
    bg.mkdir()
    rng = np.random.default_rng(0)
    for i in range(SHOWN + 4):
        Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).save(bg / f"tiny{i:02d}.jpg")
    args = ["synth", "--logos", str(EXAMPLES), "--backgrounds", str(bg), "--out", str(tmp_path / "ds"), "-n", "60", "--size", "64x48", "-q"]
    result = runner.invoke(_app(), args)
    assert result.exit_code == 0, result.output
    listed = [line for line in result.output.splitlines() if line.startswith("small background") and "tiny" in line]
    summary = [line for line in result.output.splitlines() if line.startswith("small background ... and")]
    assert len(listed) == SHOWN and len(summary) == 1, result.output
    assert "upscaled" in result.output.split("Input problems:")[1]
