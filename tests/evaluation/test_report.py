"""HTML / JSON evaluation report and the error galleries, on a tiny dataset whose images are made here."""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logodet.datasets.formats.coco import load_coco
from logodet.evaluation.confusion import confusion_matrix, match_at_threshold
from logodet.evaluation.detection import COCO_METRIC_NAMES, evaluate_coco
from logodet.evaluation.galleries import render_gallery, save_galleries, select_false_negatives, select_false_positives
from logodet.evaluation.presence import presence_metrics
from logodet.evaluation.report import write_report
from logodet.inference.draw import class_color

NAMES = ["acme", "<b>glob&ex</b>"]
FILES = {1: "a&1.jpg", 2: "b.jpg", 3: "neg.jpg"}
GT = {
    "images": [{"id": i, "file_name": f, "width": 96, "height": 80} for i, f in FILES.items()],
    "categories": [{"id": 1, "name": NAMES[0]}, {"id": 2, "name": NAMES[1]}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30], "area": 900, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [55, 20, 30, 30], "area": 900, "iscrowd": 0},
        {"id": 3, "image_id": 2, "category_id": 1, "bbox": [5, 5, 60, 50], "area": 3000, "iscrowd": 0},
    ],
}
PREDS = [
    {"image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30], "score": 0.9},  # correct
    {"image_id": 1, "category_id": 1, "bbox": [55, 20, 30, 30], "score": 0.8},  # globex taken for acme
    {"image_id": 1, "category_id": 1, "bbox": [12, 10, 30, 30], "score": 0.7},  # duplicate
    {"image_id": 3, "category_id": 2, "bbox": [20, 20, 20, 20], "score": 0.6},  # on an image without logos
    {"image_id": 2, "category_id": 1, "bbox": [5, 5, 60, 50], "score": 0.2},  # right box, below the threshold
]


def make_dataset(root: Path) -> Path:
    """``root/annotations.json`` and ``root/images/*`` with textured images made with numpy + PIL."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    for i, name in FILES.items():
        img = rng.integers(0, 120, (80, 96, 3), dtype=np.uint8)
        img[:, :, i % 3] += 100
        Image.fromarray(img).save(root / "images" / name, quality=95)
    (root / "annotations.json").write_text(json.dumps(GT), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = make_dataset(tmp_path_factory.mktemp("data"))
    out = tmp_path_factory.mktemp("report")
    gt, preds = copy.deepcopy(GT), copy.deepcopy(PREDS)
    metrics = evaluate_coco(gt, preds)
    path = write_report(gt, preds, metrics, out, dataset=load_coco(root), threshold=0.5, title="eval of <data>")
    assert gt == GT and preds == PREDS  # inputs untouched
    return path, json.loads((out / "report.json").read_text(encoding="utf-8")), metrics


def test_html_has_metrics_escaped_names_and_existing_images(report):
    path, _, _ = report
    text = path.read_text(encoding="utf-8")
    assert path.name == "report.html" and text.startswith("<!DOCTYPE html>")
    for name in COCO_METRIC_NAMES:
        assert f'<td class="l">{name}</td>' in text
    assert html.escape(NAMES[1]) in text and NAMES[1] not in text and "<b>glob" not in text
    assert "a&amp;1.jpg" in text and "a&1.jpg" not in text
    assert "eval of &lt;data&gt;" in text and "<style>" in text and "<link" not in text
    sources = re.findall(r'src="([^"]+)"', text)
    assert len(sources) == 6 and all(not s.startswith(("/", "http")) for s in sources)
    assert all((path.parent / html.unescape(s)).is_file() for s in sources)
    assert not [p for p in path.parent.rglob(".*")]  # no temporary files left behind


def test_json_sections(report):
    path, data, metrics = report
    assert data["threshold"] == 0.5 and data["threshold_source"] == "given"
    assert data["coco"] == {k: getattr(metrics, k) for k in COCO_METRIC_NAMES}
    acme = data["per_class"]["acme"]
    assert acme["AP"] == metrics.per_class["acme"]["AP"] and acme["instances"] == 2
    assert (acme["tp"], acme["fp"], acme["fn"]) == (1, 2, 1)
    assert acme["precision"] == pytest.approx(1 / 3) and acme["recall"] == 0.5
    glob = data["per_class"][NAMES[1]]
    assert (glob["instances"], glob["tp"], glob["fp"], glob["fn"]) == (1, 0, 1, 1)
    assert data["confusion"]["labels"] == [*NAMES, "background"]
    assert data["confusion"]["matrix"] == [[1, 0, 1], [1, 0, 0], [1, 1, 0]]
    assert data["confusion"]["matrix"] == confusion_matrix(GT, PREDS, 0.5).matrix.tolist()
    assert data["presence"] == presence_metrics(GT, PREDS, threshold=0.5).to_dict()
    assert data["presence"]["num_negative_images"] == 1 and data["presence"]["negative_brands_per_image"] == 1.0
    assert data["presence_best_in_sample"]["threshold"] == 0.2  # the low-scored acme on b.jpg completes recall
    for f in data["files"].values():
        assert (path.parent / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_galleries_in_report(report):
    path, data, _ = report
    fp, fn = data["galleries"]["false_positives"], data["galleries"]["false_negatives"]
    assert [(i["file_name"], i["score"], i["reason"]) for i in fp["items"]] == [
        ("a&1.jpg", 0.8, f"other class: {NAMES[1]}"),
        ("a&1.jpg", 0.7, "duplicate"),
        ("neg.jpg", 0.6, "background"),
    ]
    assert [(i["file_name"], i["class_name"], i["score"], i["reason"]) for i in fn["items"]] == [
        ("b.jpg", "acme", 0.2, "missed"),
        ("a&1.jpg", NAMES[1], None, "found as acme"),
    ]
    assert fp["file"] == "galleries/false_positives.jpg" and fp["skipped"] == [] and fn["skipped"] == []
    with Image.open(path.parent / fp["file"]) as im:
        assert im.format == "JPEG" and im.size == (3 * (160 + 4) + 4, 160 + 30 + 8)
        grid = np.asarray(im.convert("RGB")).astype(int)
    first = grid[4 : 4 + 160, 4 : 4 + 160]
    color = np.array(class_color(0))  # the acme detection is drawn in acme's colour
    assert np.any(np.abs(first - color).sum(axis=2) < 40)
    caption = grid[4 + 160 : 4 + 190, 4 : 4 + 160]
    assert caption.max() > 150  # caption text drawn on the dark strip


def test_default_threshold_without_images(tmp_path):
    metrics = evaluate_coco(GT, PREDS)
    path = write_report(GT, PREDS, metrics, tmp_path)
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["threshold"] == metrics.best_f1_threshold and data["threshold_source"] == "best_f1"
    assert data["galleries"] == {} and data["image_dir"] is None and not (tmp_path / "galleries").exists()
    assert "galleries were not drawn" in path.read_text(encoding="utf-8")
    # metrics read back from metrics.json give the same report
    write_report(GT, PREDS, json.loads(json.dumps(metrics.to_dict())), tmp_path / "again")
    assert json.loads((tmp_path / "again" / "report.json").read_text(encoding="utf-8")) == data


def test_dataset_as_ground_truth_and_missing_image(tmp_path):
    root = make_dataset(tmp_path / "data")
    (root / "images" / "b.jpg").unlink()
    ds = load_coco(root)
    results = copy.deepcopy(PREDS)
    path = write_report(ds, results, evaluate_coco(ds, results), tmp_path / "out", threshold=0.5)
    data = json.loads(path.with_name("report.json").read_text(encoding="utf-8"))
    fn = data["galleries"]["false_negatives"]
    assert len(fn["items"]) == 2 and len(fn["skipped"]) == 1 and "b.jpg" in fn["skipped"][0]
    with Image.open(path.parent / fn["file"]) as im:
        assert im.size == (160 + 8, 160 + 30 + 8)  # the one readable tile
    assert "Skipped:" in path.read_text(encoding="utf-8")


def test_bad_inputs(tmp_path):
    metrics = evaluate_coco(GT, PREDS)
    with pytest.raises(ValueError, match=r"\[0\]\.score"):
        write_report(GT, [{**PREDS[0], "score": "high"}], metrics, tmp_path)
    with pytest.raises(ValueError, match="threshold must be finite"):
        write_report(GT, PREDS, metrics, tmp_path, threshold=float("nan"))
    with pytest.raises(KeyError, match="missing keys"):
        write_report(GT, PREDS, {"AP": 1.0}, tmp_path)
    assert not (tmp_path / "report.html").exists()


def test_gallery_selection_limits_and_empty(tmp_path):
    match = match_at_threshold(GT, PREDS, 0.5)
    assert [i.index for i in select_false_positives(GT, PREDS, match, limit=2)] == [1, 2]
    assert [i.index for i in select_false_negatives(GT, PREDS, match, limit=1)] == [2]
    assert select_false_positives(GT, PREDS, match, limit=0) == []
    poor = [{"image_id": 2, "category_id": 1, "bbox": [35, 5, 60, 50], "score": 0.9}]  # IoU 30*50 / (6000 - 1500) = 0.33
    m2 = match_at_threshold(GT, poor, 0.5)
    assert select_false_positives(GT, poor, m2)[0].reason == "poor localisation"
    none = match_at_threshold(GT, [], 0.5)
    galleries = save_galleries(GT, [], none, tmp_path / "missing-folder", tmp_path / "g")
    assert galleries["false_positives"].items == [] and galleries["false_positives"].path is None
    assert len(galleries["false_negatives"].items) == 3 and galleries["false_negatives"].path is None  # no image readable
    assert all("file not found" in s for s in galleries["false_negatives"].skipped)
    with pytest.raises(ValueError, match="no tiles"):
        render_gallery([])


FLICKR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "flickrlogos27-dev"


def test_report_on_real_photos(tmp_path):
    if not (FLICKR / "annotations.json").is_file():
        pytest.skip(f"{FLICKR} is absent")
    from logodet.evaluation.predictions import load_ground_truth

    gt = load_ground_truth(FLICKR)
    rng = np.random.default_rng(0)
    cats = [c["id"] for c in gt["categories"]]
    preds = []
    for a in gt["annotations"][::2]:  # half the boxes found, some with the wrong brand, plus spurious boxes
        x, y, w, h = a["bbox"]
        cat = a["category_id"] if rng.random() < 0.8 else int(rng.choice(cats))
        preds.append({"image_id": a["image_id"], "category_id": cat, "bbox": [x + 2, y, w, h], "score": round(float(rng.random()), 3)})
    for im in gt["images"][::5]:
        preds.append({"image_id": im["id"], "category_id": int(rng.choice(cats)), "bbox": [4, 4, 60, 40], "score": 0.5})
    path = write_report(gt, preds, evaluate_coco(gt, preds), tmp_path, dataset=load_coco(FLICKR), threshold=0.3, gallery_limit=8)
    data = json.loads(path.with_name("report.json").read_text(encoding="utf-8"))
    assert len(data["per_class"]) == 21 and sum(v["instances"] for v in data["per_class"].values()) == 357
    for kind in ("false_positives", "false_negatives"):
        g = data["galleries"][kind]
        assert len(g["items"]) == 8 and g["skipped"] == []
        with Image.open(tmp_path / g["file"]) as im:
            assert im.size == (6 * 164 + 4, 2 * 194 + 4)
    assert data["presence"]["num_images"] == 324 and data["presence"]["num_negative_images"] == 110
