"""Where synthesis work runs: in-process, a local process pool, or Ray tasks.

An executor maps a module-level function ``fn(job, unit)`` over work units
(lists of image or background indices) and yields ``(unit, result)`` as units
finish, in any order. The job (logo bank, backgrounds, settings) is sent once
per worker (local pool) or put once into the Ray object store. Outputs never
depend on the executor: every image draws from ``default_rng([seed, index])``.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Executor", "LocalExecutor", "RayExecutor", "make_executor"]

Unit = Any
WorkFn = Callable[[Any, Unit], Any]


class Executor(Protocol):
    """Maps ``fn(job, unit)`` over ``units``, yielding ``(unit, result)`` as each finishes."""

    def map(self, fn: WorkFn, job: Any, units: Sequence[Unit]) -> Iterator[tuple[Unit, Any]]: ...


_WORKER_JOB: Any = None


def _init_worker(job: Any) -> None:
    import cv2

    global _WORKER_JOB
    cv2.setNumThreads(1)
    _WORKER_JOB = job


def _call(fn: WorkFn, unit: Unit) -> Any:
    assert _WORKER_JOB is not None, "worker not initialised"
    return fn(_WORKER_JOB, unit)


@dataclass(frozen=True)
class LocalExecutor:
    """``workers`` processes started with ``spawn`` (in-process when ``workers <= 1``).

    A script that uses more than one worker needs the ``if __name__ == "__main__":`` guard.

    Example:
        >>> ex = LocalExecutor(workers=1)
        >>> sorted(r for _, r in ex.map(lambda job, u: job + u, 10, [1, 2]))
        [11, 12]
    """

    workers: int = 1

    def map(self, fn: WorkFn, job: Any, units: Sequence[Unit]) -> Iterator[tuple[Unit, Any]]:
        if self.workers <= 1 or len(units) <= 1:
            for unit in units:
                yield unit, fn(job, unit)
            return
        ctx = multiprocessing.get_context("spawn")
        workers = min(self.workers, len(units))
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(job,)) as pool:
            queue = iter(units)
            pending: dict[Future, Unit] = {}
            for unit in queue:
                pending[pool.submit(_call, fn, unit)] = unit
                if len(pending) >= workers * 3:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    unit = pending.pop(fut)
                    yield unit, fut.result()
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending[pool.submit(_call, fn, nxt)] = nxt


@dataclass(frozen=True)
class RayExecutor:
    """Units as Ray tasks on an existing cluster (``address``) or the one already initialised.

    With ``address=None`` and Ray not initialised, ``ray.init()`` starts a local
    instance. Workers write images to the output folder, so on a multi-node
    cluster it must be on a shared file system. Needs the ``ray`` extra
    (``pip install logodet[ray]``).

    Example:
        >>> RayExecutor(address="auto").num_cpus  # doctest: +SKIP
        1.0
    """

    address: str | None = None
    num_cpus: float = 1.0

    def map(self, fn: WorkFn, job: Any, units: Sequence[Unit]) -> Iterator[tuple[Unit, Any]]:
        try:
            import ray
        except ImportError as exc:
            raise RuntimeError("--executor ray needs Ray: pip install 'logodet[ray]' (or pip install ray)") from exc
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        remote = ray.remote(num_cpus=self.num_cpus)(_ray_call)
        job_ref = ray.put(job)
        pending = {remote.remote(fn, job_ref, unit): unit for unit in units}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                unit = pending.pop(ref)
                yield unit, ray.get(ref)


def _ray_call(fn: WorkFn, job: Any, unit: Unit) -> Any:
    import cv2

    cv2.setNumThreads(1)
    return fn(job, unit)


def make_executor(name: str = "local", workers: int = 1, address: str | None = None) -> Executor:
    """The executor called ``name`` (``"local"`` or ``"ray"``).

    Example:
        >>> make_executor("local", workers=2)
        LocalExecutor(workers=2)
    """
    if name == "local":
        return LocalExecutor(workers=max(1, int(workers)))
    if name == "ray":
        return RayExecutor(address=address)
    raise ValueError(f"executor: expected 'local' or 'ray', got {name!r}")
