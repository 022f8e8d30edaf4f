"""Executors: in-process, local process pool and Ray give the same results and byte-identical datasets."""

from __future__ import annotations

import operator
import time
from pathlib import Path

import pytest

from logodet.synth.config import SynthConfig
from logodet.synth.executors import LocalExecutor, RayExecutor, make_executor
from logodet.synth.pipeline import synthesize

from .conftest import EXAMPLES, smooth_backgrounds

CFG = SynthConfig(size=(96, 80), empty_prob=0.2, shard_size=3)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and ".shards" not in p.parts}


@pytest.mark.parametrize("workers", [1, 2])
def test_local_executor_maps_every_unit(workers: int) -> None:
    got = dict(LocalExecutor(workers).map(operator.add, 100, [1, 2, 3, 4, 5]))
    assert got == {1: 101, 2: 102, 3: 103, 4: 104, 5: 105}
    assert list(LocalExecutor(workers).map(operator.add, 0, [])) == []


def test_make_executor() -> None:
    assert make_executor("local", workers=0) == LocalExecutor(1)
    assert make_executor("ray", address="auto") == RayExecutor(address="auto")
    with pytest.raises(ValueError, match="'local' or 'ray'"):
        make_executor("dask")


def test_worker_count_does_not_change_output(tmp_path: Path) -> None:
    bgs = smooth_backgrounds(2)
    one = synthesize(EXAMPLES, bgs, tmp_path / "w1", 8, CFG, seed=4, workers=1, progress=False, formats=("coco", "yolo"))
    two = synthesize(EXAMPLES, bgs, tmp_path / "w2", 8, CFG, seed=4, workers=2, progress=True, formats=("coco", "yolo"))
    assert one.num_generated == two.num_generated == 8
    assert _files(one.out_dir) == _files(two.out_dir)


def test_ray_executor_matches_local(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    bgs = smooth_backgrounds(2)
    local = synthesize(EXAMPLES, bgs, tmp_path / "local", 8, CFG, seed=9, workers=1, progress=False)
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        init_s = time.perf_counter() - start
        remote = synthesize(EXAMPLES, bgs, tmp_path / "ray", 8, CFG, seed=9, executor="ray", progress=False)
    finally:
        ray.shutdown()
    print(f"ray.init {init_s:.1f} s, ray run {time.perf_counter() - start - init_s:.1f} s")
    assert remote.num_generated == 8
    assert _files(local.out_dir) == _files(remote.out_dir)
