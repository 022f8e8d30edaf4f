"""Learning-rate schedules: warm-up, cosine floor, step drops, one-cycle shape."""

from __future__ import annotations

import itertools
import math

import pytest

from logodet.engine.config import TrainConfig
from logodet.engine.schedules import lr_multiplier


def test_cosine_warms_up_then_decays_to_the_floor():
    f = lr_multiplier(TrainConfig(schedule="cosine", warmup_iters=10, min_lr_ratio=0.05), 110)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0) and f(60) == pytest.approx(0.05 + 0.95 * 0.5)
    assert f(109) == pytest.approx(0.05, abs=1e-3) and f(500) == pytest.approx(0.05)
    assert all(f(i) >= f(i + 1) for i in range(10, 109))


def test_step_drops_at_the_milestones():
    f = lr_multiplier(TrainConfig(schedule="step", warmup_iters=5, step_milestones=(0.5, 0.75), step_gamma=0.1), 100)
    assert [f(i) for i in (4, 5, 49)] == [1.0, 1.0, 1.0]
    assert f(50) == pytest.approx(0.1) and f(74) == pytest.approx(0.1) and f(75) == pytest.approx(0.01)


def test_onecycle_rises_to_the_peak_then_anneals():
    f = lr_multiplier(TrainConfig(schedule="onecycle", warmup_iters=0, onecycle_pct=0.3, min_lr_ratio=0.0), 100)
    assert f(0) == pytest.approx(1 / 25 + (1 - 1 / 25) / 30)
    assert f(29) == pytest.approx(1.0)
    values = [f(i) for i in range(100)]
    assert values.index(max(values)) in (29, 30) and values[-1] < 0.01
    assert all(a <= b for a, b in itertools.pairwise(values[:30]))


def test_constant_after_warm_up():
    f = lr_multiplier(TrainConfig(schedule="constant", warmup_iters=4), 50)
    assert [f(i) for i in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "kwargs,match",
    [({"schedule": "linear"}, "schedule"), ({"optimizer": "adam"}, "optimizer"), ({"step_milestones": (1.5,)}, "step_milestones")],
)
def test_bad_settings_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_warmup_longer_than_training_is_clamped():
    f = lr_multiplier(TrainConfig(warmup_iters=1000), 10)
    assert f(9) == pytest.approx(1.0) and not math.isnan(f(10))
