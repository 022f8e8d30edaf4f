"""Learning-rate schedules as multipliers of the peak rate per optimizer step (for ``LambdaLR``).

Every schedule starts with a linear warm-up over ``warmup_iters`` steps; the
multiplier is a pure function of the step, so a resumed run continues on the
same curve.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable

from logodet.engine.config import TrainConfig

__all__ = ["lr_multiplier"]


def lr_multiplier(cfg: TrainConfig, total_steps: int) -> Callable[[int], float]:
    """The multiplier of ``cfg.lr`` at each optimizer step (0-based) of a run of ``total_steps`` steps.

    Example:
        >>> f = lr_multiplier(TrainConfig(schedule="step", warmup_iters=0, step_milestones=(0.5,), step_gamma=0.1), 100)
        >>> f(0), f(49), round(f(50), 6)
        (1.0, 1.0, 0.1)
    """
    total = max(1, int(total_steps))
    warm = min(cfg.warmup_iters, total)
    floor = cfg.min_lr_ratio

    def cosine(progress: float) -> float:
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, max(0.0, progress))))

    def fn(step: int) -> float:
        if cfg.schedule == "onecycle":
            peak = max(warm, round(cfg.onecycle_pct * total))
            if step < peak:  # warm-up is the rising half of the cycle
                return 1.0 / 25.0 + (1.0 - 1.0 / 25.0) * (step + 1) / max(1, peak)
            return cosine((step - peak) / max(1, total - peak))
        if step < warm:
            return (step + 1) / warm
        if cfg.schedule == "cosine":
            return cosine((step - warm) / max(1, total - warm))
        if cfg.schedule == "step":
            marks = sorted(round(m * total) for m in cfg.step_milestones)
            return cfg.step_gamma ** bisect.bisect_right(marks, step)
        return 1.0

    return fn
