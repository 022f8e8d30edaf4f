"""``logodet bench realworld`` end to end on a miniature: demo logos as brands, synthetic 'real' photos, seconds of training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from logodet.bench.evaluate import input_sizes
from logodet.bench.profiles import ABLATIONS, PROFILES
from logodet.bench.realworld import RealWorldConfig, plan_runs, run_realworld, split_real
from logodet.bench.report import ABLATION_REFERENCE, ablation_lines, goal_lines
from logodet.bench.textures import write_textures
from logodet.datasets.formats.coco import load_coco

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "logos"


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    """simple-icons-like icons (the demo logos plus one distractor), textures as photos, a small 'real' test set."""
    from logodet.synth.config import resolve_synth_config
    from logodet.synth.pipeline import synthesize

    root = tmp_path_factory.mktemp("mini")
    icons = root / "icons"
    (icons / "icons").mkdir(parents=True)
    slugs = sorted(p.stem for p in EXAMPLES.glob("*.svg"))[:3]
    for slug in slugs:
        shutil.copy(EXAMPLES / f"{slug}.svg", icons / "icons" / f"{slug}.svg")
    other = sorted(p.stem for p in EXAMPLES.glob("*.svg"))[3]
    shutil.copy(EXAMPLES / f"{other}.svg", icons / "icons" / f"{other}.svg")
    (icons / "simple-icons.json").write_text(json.dumps([{"slug": s, "hex": "CC2200"} for s in slugs]))
    write_textures(root / "bgs", 6, seed=1, size=(96, 96))
    cfg = resolve_synth_config(size=(96, 96), overrides=["analysis.enabled=false", "max_logos=2", "empty_prob=0.2"])
    logos = root / "real-logos"
    logos.mkdir()
    for slug in slugs:
        shutil.copy(EXAMPLES / f"{slug}.svg", logos / f"{slug}.svg")
    synthesize(logos, root / "bgs", root / "real", 24, cfg, seed=9, progress=False, preview=False)
    return root, slugs


def _cfg(root: Path, slugs: list[str], **kw) -> RealWorldConfig:
    base = dict(
        out=str(root / "bench"),
        brands=tuple(slugs),
        icons=str(root / "icons"),
        backgrounds=str(root / "bgs"),
        test=str(root / "real"),
        real_train=str(root / "real"),
        shots=2,
        real_repeat=2,
        budget_minutes=0.01,
        ablation_minutes=0.01,
        synth_images=16,
        synth_size=(96, 96),
        synth_workers=1,
        synth_overrides=("analysis.max_side=96",),
        imgsz=64,
        batch=4,
        freeze=0,
        baselines=("naive",),
        ablations=("plain_textures",),
        train_overrides=("head_dropout=0.1",),
    )
    return RealWorldConfig(**(base | kw))


def test_split_never_trains_on_test_images(mini):
    root, slugs = mini
    val, test, shots, few_val, notes = split_real(_cfg(root, slugs))
    names = lambda ds: {r.file_name for r in ds.images}  # noqa: E731
    assert not names(shots) & names(test) and not names(val) & names(test) and not names(shots) & names(few_val)
    assert names(few_val) | names(shots) == names(val)
    assert len(names(val) | names(test)) == len(load_coco(root / "real"))
    assert any("no test image is trained on" in n for n in notes)


def test_end_to_end_report_and_resume(mini):
    root, slugs = mini
    crops_on = dict(shot_crops=True, shot_crop_share=0.5)
    report = run_realworld(_cfg(root, slugs, **crops_on))
    names = [r["name"] for r in report["rows"]]
    assert names[0].startswith("cold start") and names[1].startswith("few-shot") and names[2].startswith("baseline: naive")
    assert len(names) == 4
    for row in report["rows"]:
        assert 0.0 <= row["AP50"] <= 1.0 and 0.0 <= row["presence_f1"] <= 1.0
        assert set(row["per_brand_AP50"]) == set(slugs)
        assert row["input_size"] == 64 and row["input_sizes"] == [64], "64 px is the only size the default test scales give at 64"
        assert row["box_scale"] in RealWorldConfig.box_scales and any(f"boxes x{row['box_scale']:g}" in n for n in row["notes"])
    md = (root / "bench" / "report.md").read_text()
    assert "| box scale (val) |" in md
    assert "## Goals" in md and "cold start AP50" in md and "| brand |" in md
    assert "## Ablation" in md and "| cold start (SynthLogo) | 0.01 |" in md, "the cold run (same budget) is the ablations' reference"
    assert json.loads((root / "bench" / "report.json").read_text())["rows"][0]["name"] == names[0]
    assert (root / "bench" / "data" / "textures").is_dir()
    # the few-shot row pastes its shots' boxes as logo variants; the cold row never sees them
    shots = split_real(_cfg(root, slugs))[2]
    crops = sorted((root / "bench" / "logos-shots").glob("*/crop-*.png"))
    assert crops and {c.parent.name for c in crops} <= set(slugs)
    assert len(crops) <= sum(len(r.annotations) for r in shots.images)
    assert any("labelled boxes of the shots pasted as logo variants" in n for n in report["rows"][1]["notes"])
    cold_names = {c["name"] for c in json.loads((root / "bench" / "data" / "synthlogo" / "annotations.json").read_text())["categories"]}
    shot_data = json.loads((root / "bench" / "data" / "synthlogo-shots" / "annotations.json").read_text())
    assert {c["name"] for c in shot_data["categories"]} == cold_names, "crops add variants, not classes"
    assert any(a.get("source", "").startswith("crop-") for a in shot_data["annotations"]), "some synthetic logos are crops"
    share = lambda name: yaml.safe_load((root / "bench" / "data" / name / "synth_config.yaml").read_text())["crop_share"]  # noqa: E731
    assert share("synthlogo-shots") == 0.5 and share("synthlogo") is None, "shot_crop_share reaches the shots' synthesis only"
    saved = yaml.safe_load((root / "bench" / "runs" / "cold-start--synthlogo" / "train" / "train_config.yaml").read_text())
    assert saved["head_dropout"] == 0.1 and saved["freeze"] == 0, "train overrides reach the trainer"
    done = root / "bench" / "runs"
    stamps = {p: p.stat().st_mtime for p in done.glob("*/result.json")}
    again = run_realworld(_cfg(root, slugs, **crops_on))
    assert [r["AP50"] for r in again["rows"]] == [r["AP50"] for r in report["rows"]]
    assert stamps == {p: p.stat().st_mtime for p in done.glob("*/result.json")}, "finished runs are not redone"


def test_goal_lines_and_profiles():
    rows = [
        {"name": "cold start (SynthLogo)", "AP50": 0.55, "presence_f1": 0.5},
        {"name": "baseline: naive copy-paste", "AP50": 0.3},
        {"name": "baseline: YOLO11n on SynthLogo data", "AP50": 0.5},
    ]
    lines = goal_lines(rows)
    assert "cold start AP50: 0.550 (goal >= 0.5) — met" in lines[0]
    assert "missed by 0.100" in lines[1] and "few-shot AP50: not measured" in lines[2]
    assert "missed by 0.200" in lines[3] and "yes (0.550 vs 0.300)" in lines[4]
    assert set(ABLATIONS) < set(PROFILES) and not PROFILES["naive"].distractors


def test_plan_runs_adds_an_ablation_reference_at_the_ablation_budget():
    cfg = RealWorldConfig(budget_minutes=60, ablation_minutes=15, ablations=("all",), baselines=())
    specs = plan_runs(cfg, few_shot=True)
    assert [s.name for s in specs[:2]] == ["cold start (SynthLogo)", "few-shot K=5 (SynthLogo + real)"]
    assert specs[2].name == ABLATION_REFERENCE and specs[2].profile == "synthlogo" and specs[2].minutes == 15
    assert [s.profile for s in specs[3:]] == list(ABLATIONS) and all(s.minutes == 15 for s in specs[3:])
    same = plan_runs(RealWorldConfig(budget_minutes=15, ablation_minutes=15, ablations=("no_planes",), baselines=()), few_shot=False)
    assert [s.profile for s in same] == ["synthlogo", "no_planes"], "the cold run at the same budget is the reference"
    assert [s.name for s in plan_runs(RealWorldConfig(tracks=("fewshot",), baselines=()), few_shot=False)] == []


def test_ablation_lines_compare_with_the_reference():
    row = lambda name, ap50, minutes=15: {"name": name, "AP50": ap50, "AP": ap50 / 2, "presence_f1": 0.4, "budget_minutes": minutes}  # noqa: E731
    rows = [row("cold start (SynthLogo)", 0.3, 60), row(ABLATION_REFERENCE, 0.25), row("ablation: without planes", 0.2)]
    lines = ablation_lines(rows)
    assert ABLATION_REFERENCE in lines[2] and "| 0.200 | -0.050 |" in lines[3] and len(lines) == 4
    assert "| 0.200 | -0.100 |" in ablation_lines([row("cold start (SynthLogo)", 0.3), rows[2]])[3]
    assert "No SynthLogo run at 15 min" in ablation_lines([row("cold start (SynthLogo)", 0.3, 60), rows[2]])[-1]
    assert ablation_lines(rows[:2]) == []


def test_bad_train_overrides_and_box_scales_fail_before_anything_is_written(tmp_path):
    from logodet.config import ConfigError

    out = tmp_path / "bench"
    with pytest.raises(ConfigError, match="unfreez_epoch"):
        run_realworld(RealWorldConfig(out=str(out), train_overrides=("unfreez_epoch=5",)))
    with pytest.raises(ConfigError, match="ema"):
        run_realworld(RealWorldConfig(out=str(out), train_overrides=("ema=maybe",)))
    with pytest.raises(ValueError, match="box_scales"):
        run_realworld(RealWorldConfig(out=str(out), box_scales=(1.0, 0.0)))
    assert not out.exists(), "nothing is written before the overrides and box scales are checked"


def test_default_prediction_grid_reaches_below_the_training_size_and_beyond_x1_3():
    # flickrlogos27-dev chose the grid's edges (224 px, boxes x1.3) with 0.7-1.0 and x1.0-1.3 (benchmarks/RESULTS.md)
    cfg = RealWorldConfig()
    assert input_sizes(cfg.imgsz, cfg.test_scales) == [160, 192, 224, 256, 320]
    assert min(cfg.box_scales) == 1.0 and max(cfg.box_scales) >= 1.5
