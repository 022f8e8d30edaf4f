"""Whole datasets: byte-identical for one seed, valid COCO with RLE masks, resumable, the empty case."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from pycocotools.coco import COCO

from logodet.assets.backgrounds import BackgroundWarning
from logodet.assets.logos import LogoBank
from logodet.config import load_config
from logodet.datasets.formats.coco import load_coco
from logodet.io import read_rgb
from logodet.masks import mask_to_bbox, rle_decode
from logodet.synth.config import SynthConfig
from logodet.synth.pipeline import SynthError, synthesize

from .conftest import EXAMPLES, smooth_backgrounds, write_background_folder

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # inside pycocotools.mask.decode

CFG = SynthConfig(size=(96, 80), empty_prob=0.2)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _coco(path: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def test_same_seed_byte_identical_across_worker_counts(tmp_path: Path) -> None:
    bgs = smooth_backgrounds(3)
    one = synthesize(EXAMPLES, bgs, tmp_path / "w1", 10, CFG, seed=5, workers=1, progress=False)
    two = synthesize(EXAMPLES, bgs, tmp_path / "w2", 10, CFG, seed=5, workers=2, progress=False)
    assert one.num_generated == two.num_generated == 10
    a, b = _files(tmp_path / "w1"), _files(tmp_path / "w2")
    assert a.keys() == b.keys() and a == b
    assert {"annotations.json", "synth_config.yaml", "images/000000.jpg", "images/000009.jpg"} <= a.keys()
    other = synthesize(EXAMPLES, bgs, tmp_path / "s6", 10, CFG, seed=6, workers=1, progress=False)
    assert _files(other.out_dir)["images/000000.jpg"] != a["images/000000.jpg"]


def test_output_is_valid_coco_with_exact_masks(tmp_path: Path, bank: LogoBank) -> None:
    cfg = dataclasses.replace(CFG, empty_prob=0.1, max_logos=4)
    report = synthesize(bank, smooth_backgrounds(2), tmp_path / "ds", 12, cfg, seed=1, progress=False)
    data = json.loads(report.annotations.read_text())
    assert [c["name"] for c in data["categories"]] == bank.class_names == list(report.class_names)
    assert len(data["images"]) == 12 and report.num_instances == len(data["annotations"]) > 0
    coco = _coco(report.annotations)
    for ann in data["annotations"]:
        assert ann["iscrowd"] == 0 and 0.0 < ann["visibility"] <= 1.0
        mask = rle_decode(ann["segmentation"])
        assert np.array_equal(coco.annToMask(ann).astype(bool), mask)
        x1, y1, x2, y2 = mask_to_bbox(mask)
        assert ann["bbox"] == [x1, y1, x2 - x1, y2 - y1]
        assert ann["area"] == mask.sum()
    for img in data["images"]:
        pixels = read_rgb(tmp_path / "ds" / "images" / img["file_name"])
        assert pixels.shape == (80, 96, 3) and (img["width"], img["height"]) == (96, 80)
    ds = load_coco(tmp_path / "ds")
    assert ds.class_names == bank.class_names and len(ds) == 12
    assert load_config(SynthConfig, tmp_path / "ds" / "synth_config.yaml") == cfg
    assert report.num_empty == sum(1 for r in ds.images if not r.annotations)


def test_box_margin_grows_the_labelled_box_and_keeps_the_mask(tmp_path: Path, bank: LogoBank) -> None:
    cfg = dataclasses.replace(CFG, size=(160, 128), empty_prob=0.0, max_logos=3)

    def labels(out: str, margin: float) -> dict:
        c = dataclasses.replace(cfg, box_margin=margin)
        return json.loads(synthesize(bank, smooth_backgrounds(2), tmp_path / out, 6, c, seed=3, progress=False).annotations.read_text())

    tight, grown = labels("t", 0.0), labels("g", 0.25)
    assert len(tight["annotations"]) == len(grown["annotations"]) > 0
    widened = 0
    for a, b in zip(tight["annotations"], grown["annotations"], strict=True):
        assert a["segmentation"] == b["segmentation"] and a["area"] == b["area"]  # same scene, same exact mask
        x, y, w, h = a["bbox"]
        want = [max(0.0, x - 0.25 * w), max(0.0, y - 0.25 * h), min(160.0, x + 1.25 * w), min(128.0, y + 1.25 * h)]
        bx, by, bw, bh = b["bbox"]
        assert [bx, by, bx + bw, by + bh] == pytest.approx(want, abs=0.02)
        widened += bw > w
    assert widened > 0
    # a dataset made before box_margin existed (no such key in its fingerprint) still resumes at the neutral 0 ...
    fp_file = tmp_path / "t" / ".shards" / "fingerprint.json"
    fp = json.loads(fp_file.read_text())
    assert "box_margin" not in fp["config"] and "crop_share" not in fp["config"]
    assert synthesize(bank, smooth_backgrounds(2), tmp_path / "t", 6, cfg, seed=3, progress=False).num_reused == 6
    # ... while another margin is another dataset
    assert json.loads((tmp_path / "g" / ".shards" / "fingerprint.json").read_text())["config"]["box_margin"] == 0.25
    with pytest.raises(SynthError, match="other inputs or settings"):
        synthesize(bank, smooth_backgrounds(2), tmp_path / "t", 6, dataclasses.replace(cfg, box_margin=0.1), seed=3, progress=False)
    with pytest.raises(ValueError, match="box_margin"):
        SynthConfig(box_margin=-0.1)
    with pytest.raises(ValueError, match="box_margin"):
        SynthConfig(box_margin=1.5)


@pytest.mark.parametrize("cfg", [dataclasses.replace(CFG, min_logos=0, max_logos=0), dataclasses.replace(CFG, empty_prob=1.0)])
def test_empty_case_gives_valid_coco_without_annotations(tmp_path: Path, bank: LogoBank, cfg: SynthConfig) -> None:
    report = synthesize(bank, smooth_backgrounds(1), tmp_path / "empty", 4, cfg, progress=False)
    assert report.num_instances == 0 and report.num_empty == 4
    data = json.loads(report.annotations.read_text())
    assert data["annotations"] == [] and len(data["images"]) == 4 and len(data["categories"]) == bank.num_classes
    coco = _coco(report.annotations)
    assert len(coco.getImgIds()) == 4 and coco.getAnnIds() == []
    assert all(not r.annotations for r in load_coco(tmp_path / "empty").images)


def test_zero_images(tmp_path: Path, bank: LogoBank) -> None:
    report = synthesize(bank, smooth_backgrounds(1), tmp_path / "none", 0, CFG, progress=False)
    assert report.num_images == 0 and json.loads(report.annotations.read_text())["images"] == []


def test_rerun_reuses_and_repairs(tmp_path: Path, bank: LogoBank) -> None:
    bgs = smooth_backgrounds(2)
    out = tmp_path / "ds"
    synthesize(bank, bgs, out, 6, CFG, seed=2, progress=False)
    before = _files(out)
    again = synthesize(bank, bgs, out, 6, CFG, seed=2, progress=False)
    assert again.num_reused == 6 and again.num_generated == 0
    (out / "images" / "000003.jpg").unlink()
    (out / "images" / "000004.jpg").write_bytes(before["images/000004.jpg"][:100])  # torn write
    repaired = synthesize(bank, bgs, out, 6, CFG, seed=2, progress=False)
    assert repaired.num_generated == 2
    assert _files(out) == before
    grown = synthesize(bank, bgs, out, 8, CFG, seed=2, progress=False)
    assert grown.num_generated == 2 and _files(out)["images/000005.jpg"] == before["images/000005.jpg"]


def test_other_settings_into_used_folder(tmp_path: Path, bank: LogoBank) -> None:
    bgs = smooth_backgrounds(1)
    out = tmp_path / "ds"
    synthesize(bank, bgs, out, 2, CFG, seed=0, progress=False)
    with pytest.raises(SynthError, match="other inputs or settings") as err:
        synthesize(bank, bgs, out, 2, CFG, seed=1, progress=False)
    assert str(out) in str(err.value)
    report = synthesize(bank, bgs, out, 2, CFG, seed=1, progress=False, overwrite=True)
    assert report.num_generated == 2
    foreign = tmp_path / "foreign"
    (foreign / "images").mkdir(parents=True)
    (foreign / "images" / "x.jpg").write_bytes(b"x")
    with pytest.raises(SynthError):
        synthesize(bank, bgs, foreign, 1, CFG, progress=False)


def test_background_folder_of_every_mode_with_a_corrupt_file(tmp_path: Path, bank: LogoBank) -> None:
    folder = write_background_folder(tmp_path / "bg")
    with pytest.warns(BackgroundWarning, match="f_corrupt.jpg"):
        report = synthesize(bank, folder, tmp_path / "ds", 10, CFG, progress=False)
    assert len(report.skipped_backgrounds) == 1 and "f_corrupt.jpg" in report.skipped_backgrounds[0]
    assert report.num_images == 10


def test_demo_backgrounds_by_default(tmp_path: Path, bank: LogoBank) -> None:
    report = synthesize(bank, None, tmp_path / "ds", 2, CFG, progress=False)
    assert report.num_images == 2


def test_logo_folder_path_and_saved_config(tmp_path: Path) -> None:
    cfg = dataclasses.replace(CFG, jpeg_quality=70)
    report = synthesize(EXAMPLES, smooth_backgrounds(1), tmp_path / "ds", 1, cfg, progress=True)
    saved = yaml.safe_load((tmp_path / "ds" / "synth_config.yaml").read_text())
    assert saved["jpeg_quality"] == 70 and saved["size"] == [96, 80]
    assert report.images_per_second > 0


def test_bad_arguments(tmp_path: Path, bank: LogoBank) -> None:
    with pytest.raises(ValueError, match="n: expected"):
        synthesize(bank, smooth_backgrounds(1), tmp_path / "x", -1, CFG, progress=False)
    with pytest.raises(FileNotFoundError, match="nope"):
        synthesize(tmp_path / "nope", smooth_backgrounds(1), tmp_path / "x", 1, CFG, progress=False)


def test_yolo_export_matches_coco_boxes(tmp_path: Path, bank: LogoBank) -> None:
    from logodet.datasets.formats.yolo import load_yolo

    report = synthesize(bank, smooth_backgrounds(2), tmp_path / "ds", 6, CFG, seed=3, progress=False, formats=("coco", "yolo"))
    coco, yolo = load_coco(tmp_path / "ds"), load_yolo(tmp_path / "ds" / "yolo")
    assert tmp_path / "ds" / "yolo" / "data.yaml" in report.extra_outputs and yolo.class_names == coco.class_names
    got = {r.file_name: r for r in yolo.images}
    for rec in coco.images:
        assert len(got[rec.file_name].annotations) == len(rec.annotations)
        for a, b in zip(rec.annotations, got[rec.file_name].annotations, strict=True):
            assert a.category == b.category and np.allclose(a.bbox, b.bbox, rtol=1e-6, atol=1e-6 * 96)
    with pytest.raises(ValueError, match="formats"):
        synthesize(bank, smooth_backgrounds(1), tmp_path / "x", 1, CFG, progress=False, formats=("voc",))


def test_background_smaller_than_output_and_logo_is_upscaled_with_warning(tmp_path: Path, bank: LogoBank) -> None:
    from PIL import Image

    folder = tmp_path / "bg"
    folder.mkdir()
    Image.fromarray(smooth_backgrounds(1, shape=(12, 10))[0]).save(folder / "tiny.png")
    cfg = dataclasses.replace(CFG, empty_prob=0.0, scale=(0.5, 0.6))  # logos far larger than the 10x12 photo
    with pytest.warns(BackgroundWarning, match="tiny.png: 10x12 is smaller than the 96x80 output"):
        report = synthesize(bank, folder, tmp_path / "ds", 3, cfg, progress=False)
    assert report.num_images == 3 and report.num_instances > 0
    assert len(report.small_backgrounds) == 1 and report.input_issues == {"backgrounds smaller than the output (upscaled)": 1}


def test_many_small_backgrounds_give_one_warning_and_the_report_lists_all(tmp_path: Path, bank: LogoBank) -> None:
    from PIL import Image

    folder = tmp_path / "bg"
    folder.mkdir()
    for i, img in enumerate(smooth_backgrounds(5, shape=(12, 10))):
        Image.fromarray(img).save(folder / f"tiny{i}.png")
    with pytest.warns(BackgroundWarning) as caught:
        report = synthesize(bank, folder, tmp_path / "ds", 10, CFG, progress=False)
    small = [w for w in caught if "smaller than" in str(w.message)]
    assert len(small) == 1
    n = len(report.small_backgrounds)  # the photos the 10 images drew: more than the three the warning names
    assert n > 3 and str(small[0].message).startswith(f"{n} background(s) smaller than the output size were upscaled")
    assert f"+{n - 3} more" in str(small[0].message)
    with warnings.catch_warnings(record=True) as none:
        warnings.simplefilter("always")
        synthesize(bank, smooth_backgrounds(2), tmp_path / "ds-ok", 2, CFG, progress=False)
    assert not [w for w in none if "smaller than" in str(w.message)], "no small backgrounds: no warning"


@pytest.mark.parametrize(
    ("bad_name", "content", "reason"),
    [
        ("empty.png", "transparent", "fully transparent"),
        ("nosize.svg", '<svg xmlns="http://www.w3.org/2000/svg"><path d="M4 6h16v12H4z"/></svg>', "neither a viewBox"),
        ("broken.png", b"\x89PNG\r\n\x1a\nnot a png", "cannot decode"),
    ],
)
def test_bad_logo_variant_is_skipped_and_counted(tmp_path: Path, bad_name: str, content: str | bytes, reason: str) -> None:
    from PIL import Image

    from logodet.assets.logos import LogoError

    logos = tmp_path / "logos"
    (logos / "acme").mkdir(parents=True)
    (logos / "acme" / "good.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M2 2h20v20H2z"/></svg>')
    bad = logos / "acme" / bad_name
    if content == "transparent":
        Image.fromarray(np.zeros((16, 16, 4), np.uint8), "RGBA").save(bad)
    elif isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content)
    with pytest.warns(UserWarning, match=f"skipping logo {bad}: .*{reason}"):
        report = synthesize(logos, smooth_backgrounds(1), tmp_path / "ds", 3, CFG, progress=False)
    assert report.class_names == ("acme",) and report.input_issues == {"skipped logo files": 1}
    assert str(bad) in report.skipped_logos[0]
    (logos / "acme" / "good.svg").unlink()  # no usable artwork left: an error naming the file
    with pytest.raises(LogoError, match=f"no usable artwork for class\\(es\\) \\['acme'\\].*{bad_name}"):
        synthesize(logos, smooth_backgrounds(1), tmp_path / "ds2", 1, CFG, progress=False)


def test_every_background_mode_is_counted(tmp_path: Path, bank: LogoBank) -> None:
    folder = write_background_folder(tmp_path / "bg")
    with pytest.warns(BackgroundWarning, match="f_corrupt.jpg"):
        report = synthesize(bank, folder, tmp_path / "ds", 12, CFG, progress=False)
    assert report.input_issues == {"skipped background files": 1}  # greyscale, palette, 16-bit and CMYK all decode


def test_analysis_cache_default_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from logodet.synth.pipeline import default_cache_dir

    monkeypatch.setenv("LOGODET_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "analysis"
    monkeypatch.delenv("LOGODET_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "logodet" / "analysis"
