"""``--kfold K``: K runs on disjoint validation folds, summarised as mean and std of every metric; resumable."""

from __future__ import annotations

import csv
import json
import statistics

import pytest
from conftest import make_shapes_dataset

from logodet.engine.config import TrainConfig
from logodet.engine.kfold import run_kfold, summarize_folds


def test_three_folds_cover_the_data_and_are_summarised(tmp_path):
    make_shapes_dataset(tmp_path / "d", n=9, size=64, seed=2)
    small = dict(epochs=1, imgsz=64, batch=4, warmup_iters=1, weights="none", freeze=0)
    cfg = TrainConfig(data=str(tmp_path / "d"), out=str(tmp_path / "cv"), **small)
    res = run_kfold(cfg, 3, progress=False)
    assert [r["fold"] for r in res.folds] == [0, 1, 2]
    for key in ("AP50", "AP", "train_loss"):
        values = [r[key] for r in res.folds]
        assert res.mean[key] == pytest.approx(statistics.fmean(values))
        assert res.std[key] == pytest.approx(statistics.stdev(values))
    val_files = []
    for i in range(3):
        state_cfg = (tmp_path / "cv" / f"fold_{i}" / "train_config.yaml").read_text()
        assert "epochs: 1" in state_cfg
        rows = list(csv.DictReader((tmp_path / "cv" / f"fold_{i}" / "metrics.csv").open()))
        assert len(rows) == 1 and "AP50" in rows[0]
    from logodet.datasets.formats.coco import load_coco
    from logodet.datasets.split import kfold

    for _, val_idx in kfold(load_coco(tmp_path / "d"), k=3, seed=0):
        val_files += val_idx
    assert sorted(val_files) == list(range(9))
    saved = json.loads((tmp_path / "cv" / "kfold.json").read_text())
    assert saved["mean"]["AP50"] == pytest.approx(res.mean["AP50"])
    rows = list(csv.DictReader((tmp_path / "cv" / "kfold.csv").open()))
    assert [r["fold"] for r in rows] == ["0", "1", "2", "mean", "std"]
    again = run_kfold(cfg, 3, resume=True, progress=False)  # every fold finished: nothing retrains
    assert again.mean == res.mean


def test_kfold_refuses_bad_requests(tmp_path):
    make_shapes_dataset(tmp_path / "d", n=3, size=64, seed=2)
    cfg = TrainConfig(data=str(tmp_path / "d"), out=str(tmp_path / "cv"))
    with pytest.raises(ValueError, match="K must be >= 2"):
        run_kfold(cfg, 1)
    with pytest.raises(ValueError, match="fewer than K=4"):
        run_kfold(cfg, 4)
    with pytest.raises(ValueError, match="--val"):
        run_kfold(TrainConfig(data=cfg.data, val=cfg.data), 2)


def test_summary_of_one_fold_has_zero_std():
    res = summarize_folds([{"fold": 0, "epoch": 3, "AP50": 0.4, "note": "x"}])
    assert res.mean == {"AP50": 0.4} and res.std == {"AP50": 0.0}
