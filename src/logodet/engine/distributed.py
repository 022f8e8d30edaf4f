"""Multi-process training under ``torchrun``: process group from the environment, rank-0-only side effects.

``torchrun --nproc_per_node N -m logodet.cli.main train ...`` starts N copies
of the same command; each reads ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``
from the environment. On the CPU the processes talk over ``gloo``, on GPUs
over ``nccl``. Only rank 0 writes files (checkpoints, logs, plots) and runs
validation; the others wait for it at a barrier.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistInfo", "barrier", "broadcast_object", "cleanup", "setup"]


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device: torch.device) -> DistInfo:
    """Join the process group described by ``torchrun``'s environment (a single process without it)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(local)
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
    return DistInfo(rank, world, local)


def barrier(info: DistInfo) -> None:
    """Wait for every process (no-op for one process)."""
    if info.enabled and dist.is_initialized():
        dist.barrier()


def broadcast_object(info: DistInfo, value: object) -> object:
    """Rank 0's ``value`` on every process."""
    if not (info.enabled and dist.is_initialized()):
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def cleanup(info: DistInfo) -> None:
    """Leave the process group."""
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
