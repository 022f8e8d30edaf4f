"""The order in which a run visits its training images: seeded per epoch, split across processes, resumable.

The permutation of epoch ``e`` is a pure function of ``(seed, e)``; process
``rank`` of ``world`` takes every ``world``-th index of it (padded by
wrapping so every process gets the same count), so the union of the
processes' ``i``-th batches is the single-process ``i``-th batch of
``batch * world`` images. ``start`` skips the batches a killed run already
did.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

__all__ = ["EpochSampler", "epoch_permutation"]


def epoch_permutation(n: int, seed: int, epoch: int) -> list[int]:
    """The shuffled indices ``0..n-1`` of ``epoch``.

    Example:
        >>> epoch_permutation(5, 0, 1) == epoch_permutation(5, 0, 1) != epoch_permutation(5, 0, 2)
        True
    """
    g = torch.Generator().manual_seed(int(seed) * 100_003 + int(epoch))
    return torch.randperm(n, generator=g).tolist()


class EpochSampler(Sampler[int]):
    """Indices of one process for one epoch, from position ``start`` (in this process's own sequence).

    Example:
        >>> a, b = EpochSampler(6, 0, 0, rank=0, world=2), EpochSampler(6, 0, 0, rank=1, world=2)
        >>> sorted(list(a) + list(b)) == list(range(6))
        True
    """

    def __init__(self, n: int, seed: int, epoch: int, rank: int = 0, world: int = 1, start: int = 0) -> None:
        if n < 1:
            raise ValueError("EpochSampler: the dataset is empty")
        perm = epoch_permutation(n, seed, epoch)
        per_rank = -(-n // world)
        perm += perm[: per_rank * world - n]  # wrap so every process has the same number of samples
        self.indices = perm[rank::world][start:]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)
