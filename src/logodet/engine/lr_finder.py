"""Learning-rate range test (``logodet train --find-lr``): loss against an exponentially growing rate.

The model, optimizer and data are those ``train`` would use. The rate grows
from ``start_lr`` to ``end_lr`` over ``steps`` optimizer steps (no warm-up,
no schedule); the loss is smoothed with an exponential moving average
(bias-corrected) and the test stops early once the smoothed loss exceeds
``diverge`` times its minimum. The suggestion is the rate where the smoothed
loss falls fastest (steepest negative slope against log rate), searched
before the minimum: a rate on the descending part of the curve. Nothing is
saved to the run's checkpoints.
"""

from __future__ import annotations

import io
import math
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from logodet.engine.config import TrainConfig
from logodet.io import atomic_write_bytes, atomic_write_json
from logodet.progress import make_progress

__all__ = ["LRFinderResult", "find_lr", "suggest_lr"]


@dataclass
class LRFinderResult:
    """The range test's curve and the suggested rate."""

    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    suggestion: float | None = None
    stopped_early: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def suggest_lr(lrs: list[float], smoothed: list[float], skip_start: int = 3) -> float | None:
    """The rate of steepest descent of ``smoothed`` loss over log rate, before the loss minimum.

    Example:
        >>> lrs = [10 ** (-6 + i / 10) for i in range(50)]
        >>> loss = [1.0 / (1 + math.exp(4 * (math.log10(lr) + 3))) + 0.1 for lr in lrs]  # falls around 1e-3
        >>> 5e-4 < suggest_lr(lrs, loss) < 2e-3
        True
    """
    if len(lrs) < skip_start + 3:
        return None
    lo = min(skip_start, len(lrs) - 3)
    hi = int(np.argmin(smoothed[lo:])) + lo
    if hi - lo < 2:
        return None
    x = np.log10(np.asarray(lrs[lo : hi + 1]))
    y = np.asarray(smoothed[lo : hi + 1])
    slope = np.gradient(y, x)
    return float(lrs[lo + int(np.argmin(slope))])


def find_lr(
    cfg: TrainConfig,
    *,
    start_lr: float = 1e-6,
    end_lr: float = 1.0,
    steps: int = 100,
    beta: float = 0.9,
    diverge: float = 4.0,
    out: str | Path | None = None,
    progress: bool = True,
) -> LRFinderResult:
    """Run the range test with ``cfg``'s model and data; write ``lr_find.png`` and ``lr_find.json`` to ``out``.

    Args:
        cfg: training settings (model, data, batch, freeze, optimizer...).
        start_lr / end_lr: the first and last rates tried (for the head; pretrained layers keep their multiplier).
        steps: optimizer steps (batches cycle when the data is shorter).
        beta: smoothing of the loss curve.
        diverge: stop once the smoothed loss is this many times its minimum.
        out: folder for the plot and the json (default ``cfg.out``).
        progress: show a progress bar.
    """
    from logodet.engine.setup import set_train_mode
    from logodet.engine.trainer import Trainer, _NullProgress

    if not 0 < start_lr < end_lr:
        raise ValueError(f"find_lr: need 0 < start_lr < end_lr, got {start_lr}, {end_lr}")
    if steps < 5:
        raise ValueError(f"find_lr: steps must be >= 5, got {steps}")
    folder = Path(out or cfg.out)
    scratch = folder / ".lr_find"
    shutil.rmtree(scratch, ignore_errors=True)
    trainer = Trainer(replace(cfg, out=str(scratch), ema=False, warmup_iters=0, schedule="constant", loggers=()))
    base = [g["lr"] / cfg.lr for g in trainer.optimizer.param_groups]  # per-group multipliers of the head rate
    gamma = (end_lr / start_lr) ** (1.0 / (steps - 1))
    result = LRFinderResult()
    best, avg = math.inf, 0.0
    set_train_mode(trainer.net)
    batches = iter(())
    with make_progress() if progress else _NullProgress() as bar:
        task = bar.add_task("lr range test", total=steps)
        for i in range(steps):
            lr = start_lr * gamma**i
            for g, m in zip(trainer.optimizer.param_groups, base, strict=True):
                g["lr"] = lr * m
            batch = next(batches, None)
            if batch is None:
                trainer.epoch += 1
                batches = iter(trainer._loader())
                batch = next(batches)
            loss = trainer._optimizer_step([batch])["loss"]
            trainer.step += 1
            avg = beta * avg + (1 - beta) * loss
            smooth = avg / (1 - beta ** (i + 1))
            result.lrs.append(lr)
            result.losses.append(loss)
            result.smoothed.append(smooth)
            best = min(best, smooth)
            bar.update(task, advance=1)
            if i > 5 and (not math.isfinite(smooth) or smooth > diverge * best):
                result.stopped_early = True
                break
    result.suggestion = suggest_lr(result.lrs, result.smoothed)
    shutil.rmtree(scratch, ignore_errors=True)
    atomic_write_json(folder / "lr_find.json", result.to_dict())
    _plot(result, folder / "lr_find.png")
    return result


def _plot(result: LRFinderResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.subplots()
    ax.plot(result.lrs, result.losses, alpha=0.3, label="loss")
    ax.plot(result.lrs, result.smoothed, label="smoothed loss")
    if result.suggestion is not None:
        ax.axvline(result.suggestion, color="tab:red", linestyle="--", label=f"suggested {result.suggestion:.2e}")
    ax.set(xscale="log", xlabel="learning rate", ylabel="loss", title="learning-rate range test")
    finite = [v for v in result.smoothed if math.isfinite(v)]
    if finite:
        ax.set_ylim(min(finite) * 0.9, min(max(finite), 4 * min(finite)) * 1.1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    atomic_write_bytes(path, buf.getvalue())
