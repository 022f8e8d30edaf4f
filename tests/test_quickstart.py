"""The quickstart wires every stage together (tiny settings; the full run is `make demo`)."""

import json

from logodet.quickstart import QuickstartSettings, default_logos_dir, run_quickstart


def test_quickstart_writes_the_whole_report(tmp_path):
    settings = QuickstartSettings(train_images=12, val_images=6, imgsz=96, epochs=1, batch=4, workers=1)
    metrics = run_quickstart(tmp_path / "qs", settings=settings, progress=False)
    out = tmp_path / "qs"
    report = out / "report"
    saved = json.loads((report / "metrics.json").read_text())
    assert saved["AP50"] == metrics["AP50"]
    assert set(saved["per_class"]) == {"adidas", "apple", "bmw", "mcdonalds", "nike", "starbucks"}
    for name in ("learning_curve.png", "metrics.csv", "pr_curve.png", "f1_curve.png", "summary.md"):
        assert (report / name).is_file(), name
    assert len(list((report / "examples").glob("*.jpg"))) == 8  # 3 demo photos + 5 validation images
    assert (out / "model.onnx").is_file() and (out / "run" / "best.pt").is_file()
    assert (out / "predictions" / "predictions.jsonl").read_text().count("\n") == 8
    assert "model.onnx" in (report / "summary.md").read_text()


def test_bundled_demo_logos_are_found():
    logos = default_logos_dir()
    assert len(list(logos.glob("*.svg"))) >= 5
