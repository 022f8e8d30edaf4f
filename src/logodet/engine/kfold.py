"""k-fold cross-validation (``logodet train --kfold K``): K models, each validated on its held-out fold.

Folds come from :func:`logodet.datasets.split.kfold` (stratified by class,
seeded), so re-running the same command finds the same folds and, with
``resume``, continues the unfinished ones. Fold ``i`` trains in
``out/fold_i``; the summary (``out/kfold.json``, ``out/kfold.csv``) holds each
fold's best-epoch metrics and their mean and standard deviation.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from dataclasses import dataclass, replace
from pathlib import Path

from logodet.datasets.formats.coco import load_coco
from logodet.engine.config import TrainConfig
from logodet.engine.trainer import TrainResult, train
from logodet.io import atomic_write_bytes, atomic_write_json

__all__ = ["KFoldResult", "run_kfold", "summarize_folds"]


@dataclass
class KFoldResult:
    """Per-fold rows (the best epoch of each) and the mean / std of every numeric column."""

    folds: list[dict]
    mean: dict[str, float]
    std: dict[str, float]

    def to_dict(self) -> dict:
        return {"folds": self.folds, "mean": self.mean, "std": self.std}


def summarize_folds(rows: list[dict]) -> KFoldResult:
    """Mean and sample standard deviation (0 for one fold) of each numeric key present in every row.

    Example:
        >>> r = summarize_folds([{"fold": 0, "AP50": 0.5}, {"fold": 1, "AP50": 0.7}])
        >>> round(r.mean["AP50"], 6), round(r.std["AP50"], 6)
        (0.6, 0.141421)
    """
    keys = [k for k in (rows[0] if rows else {}) if k not in ("fold", "epoch")]
    keys = [k for k in keys if all(isinstance(r.get(k), (int, float)) and math.isfinite(r[k]) for r in rows)]
    mean = {k: statistics.fmean(r[k] for r in rows) for k in keys}
    std = {k: statistics.stdev([r[k] for r in rows]) if len(rows) > 1 else 0.0 for k in keys}
    return KFoldResult(rows, mean, std)


def _best_row(result: TrainResult, metric: str) -> dict:
    if not result.history:
        return {}
    scored = [h for h in result.history if metric in h]
    return dict(max(scored, key=lambda h: h[metric]) if scored else result.history[-1])


def run_kfold(cfg: TrainConfig, k: int, *, resume: bool = False, progress: bool = True) -> KFoldResult:
    """Train ``k`` models on the folds of ``cfg.data`` and summarise their validation metrics.

    Raises:
        ValueError: ``k < 2``, more folds than images, or ``cfg.val`` set (the folds are the validation data).
    """
    from logodet.datasets.split import kfold, subset

    if k < 2:
        raise ValueError(f"kfold: K must be >= 2, got {k}")
    if cfg.val:
        raise ValueError("kfold: each fold is validated on its held-out part of --data; do not pass --val")
    dataset = load_coco(cfg.data)
    if len(dataset) < k:
        raise ValueError(f"kfold: {cfg.data} has {len(dataset)} images, fewer than K={k} folds")
    out = Path(cfg.out)
    rows = []
    for i, (train_idx, val_idx) in enumerate(kfold(dataset, k=k, seed=cfg.seed)):
        fold_cfg = replace(cfg, out=str(out / f"fold_{i}"))
        again = resume and (Path(fold_cfg.out) / "last.pt").is_file()
        if progress:
            print(f"fold {i + 1}/{k}: {len(train_idx)} training images, {len(val_idx)} validation images")
        result = train(
            fold_cfg,
            resume=again,
            progress=progress,
            train_dataset=subset(dataset, train_idx),
            val_dataset=subset(dataset, val_idx),
        )
        rows.append({"fold": i, **_best_row(result, cfg.metric)})
    summary = summarize_folds(rows)
    atomic_write_json(out / "kfold.json", summary.to_dict())
    keys: list[str] = []
    for r in rows:
        keys += [key for key in r if key not in keys]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    writer.writerows(rows)
    writer.writerow({"fold": "mean", **summary.mean})
    writer.writerow({"fold": "std", **summary.std})
    atomic_write_bytes(out / "kfold.csv", buf.getvalue().encode())
    return summary
