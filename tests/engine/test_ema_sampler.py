"""Weight EMA and the resumable, rank-aware epoch sampler."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from logodet.engine.ema import ModelEMA
from logodet.engine.sampler import EpochSampler, epoch_permutation


def test_ema_follows_the_ramped_decay():
    model = nn.Linear(3, 1)
    ema = ModelEMA(model, decay=0.9, tau=2.0)
    start = ema.module.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    d = 0.9 * (1 - math.exp(-1 / 2.0))
    ema.update(model)
    torch.testing.assert_close(ema.module.weight, d * start + (1 - d) * model.weight.detach())
    assert ema.updates == 1 and not ema.module.weight.requires_grad


def test_ema_copies_buffers_and_restores_state():
    model = nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2))
    ema = ModelEMA(model, decay=0.5, tau=1.0)
    model[1].running_mean.fill_(3.0)
    ema.update(model)
    assert torch.equal(ema.module[1].running_mean, torch.full((2,), 3.0))
    other = ModelEMA(model)
    other.load_state_dict(ema.state_dict())
    assert other.updates == 1 and other.decay == 0.5
    torch.testing.assert_close(other.module[0].weight, ema.module[0].weight)


def test_permutation_depends_on_seed_and_epoch_only():
    assert epoch_permutation(10, 3, 2) == epoch_permutation(10, 3, 2)
    assert epoch_permutation(10, 3, 2) != epoch_permutation(10, 3, 1)
    assert sorted(epoch_permutation(10, 3, 2)) == list(range(10))


@pytest.mark.parametrize("n,world", [(10, 2), (11, 2), (7, 3)])
def test_ranks_cover_the_epoch_and_interleave_the_global_batches(n, world):
    parts = [list(EpochSampler(n, 0, 5, rank=r, world=world)) for r in range(world)]
    assert len({len(p) for p in parts}) == 1
    assert set().union(*parts) == set(range(n))
    perm = epoch_permutation(n, 0, 5)
    for r, p in enumerate(parts):
        assert p[: n // world] == perm[r::world][: n // world]


def test_start_skips_what_was_done():
    full = list(EpochSampler(12, 1, 0))
    assert list(EpochSampler(12, 1, 0, start=5)) == full[5:]
    with pytest.raises(ValueError, match="empty"):
        EpochSampler(0, 0, 0)
