"""Shards: layout, resume after SIGKILL with byte-identical output, partly written and torn shards."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logodet.synth.config import SynthConfig
from logodet.synth.pipeline import synthesize
from logodet.synth.shards import SHARDS_DIR, load_records, shard_ranges, valid_jpeg

from .conftest import EXAMPLES, smooth_backgrounds

CFG = SynthConfig(size=(96, 80), empty_prob=0.2, shard_size=4)


def _outputs(root: Path) -> dict[str, bytes]:
    """Images and annotations.json: what must be byte-identical after a resume."""
    files = {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "images").iterdir())}
    files["annotations.json"] = (root / "annotations.json").read_bytes()
    return files


@pytest.mark.parametrize(
    ("n", "size", "expected"),
    [(0, 4, []), (3, 4, [range(0, 3)]), (8, 4, [range(0, 4), range(4, 8)]), (9, 4, [range(0, 4), range(4, 8), range(8, 9)])],
)
def test_shard_ranges(n: int, size: int, expected: list[range]) -> None:
    assert shard_ranges(n, size) == expected


def test_shard_ranges_rejects_bad_size() -> None:
    with pytest.raises(ValueError, match="shard_size"):
        shard_ranges(3, 0)


def test_manifests_are_written_per_shard_and_shard_size_does_not_change_output(tmp_path: Path) -> None:
    bgs = smooth_backgrounds(2)
    a = synthesize(EXAMPLES, bgs, tmp_path / "a", 10, CFG, seed=3, progress=False)
    names = sorted(p.name for p in (tmp_path / "a" / SHARDS_DIR).glob("shard-*.json"))
    assert names == ["shard-000000-000004.json", "shard-000004-000008.json", "shard-000008-000010.json"]
    b = synthesize(EXAMPLES, bgs, tmp_path / "b", 10, dataclasses.replace(CFG, shard_size=256), seed=3, progress=False)
    assert _outputs(a.out_dir) == _outputs(b.out_dir)
    # the same folder accepts another shard size (it is left out of the fingerprint) and reuses everything
    again = synthesize(EXAMPLES, bgs, tmp_path / "a", 10, dataclasses.replace(CFG, shard_size=3), seed=3, progress=False)
    assert again.num_reused == 10 and again.num_generated == 0
    assert len(list((tmp_path / "a" / SHARDS_DIR).glob("shard-*.json"))) == 4


def test_partly_written_and_corrupt_shards_are_redone(tmp_path: Path) -> None:
    bgs = smooth_backgrounds(2)
    out = tmp_path / "ds"
    synthesize(EXAMPLES, bgs, out, 10, CFG, seed=1, progress=False)
    before = _outputs(out)
    manifests = sorted((out / SHARDS_DIR).glob("shard-*.json"))
    manifests[1].unlink()  # images 4..7 on disk, manifest missing: a shard killed before its manifest
    manifests[2].write_text('{"start": 8, "stop": ')  # a torn manifest
    (out / "annotations.json").unlink()
    (out / "images" / ".000005.jpg.abc.tmp").write_bytes(b"half")  # a write a kill interrupted
    report = synthesize(EXAMPLES, bgs, out, 10, CFG, seed=1, progress=False)
    assert report.num_reused == 4 and report.num_generated == 6
    assert _outputs(out) == before
    assert not list((out / "images").glob(".*.tmp"))


def test_load_records_checks_images(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    synthesize(EXAMPLES, smooth_backgrounds(1), out, 4, CFG, seed=0, progress=False)
    assert sorted(load_records(out, 4, 6)) == [0, 1, 2, 3]
    (out / "images" / "000002.jpg").write_bytes(b"\xff\xd8 torn")
    assert not valid_jpeg(out / "images" / "000002.jpg")
    assert sorted(load_records(out, 4, 6)) == [0, 1, 3]
    assert sorted(load_records(out, 2, 6)) == [0, 1]  # records past n are ignored
    assert load_records(tmp_path / "nothing", 4, 6) == {}


def _command(logos: Path, backgrounds: Path, out: Path, n: int) -> list[str]:
    return [
        sys.executable, "-m", "logodet.cli.main", "synth", "--logos", str(logos), "--backgrounds", str(backgrounds),
        "--out", str(out), "-n", str(n), "--size", "160x120", "--seed", "7", "--set", "shard_size=4", "-q", "--no-preview",
    ]  # fmt: skip


def test_sigkill_then_rerun_gives_byte_identical_dataset(tmp_path: Path) -> None:
    bg = tmp_path / "bg"
    bg.mkdir()
    for i, arr in enumerate(smooth_backgrounds(3, shape=(240, 320))):
        Image.fromarray(arr).save(bg / f"bg{i}.jpg", quality=90)
    n = 120
    env = {**os.environ, "LOGODET_CACHE": str(tmp_path / "cache")}
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_command(EXAMPLES, bg, killed, n), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list((killed / SHARDS_DIR).glob("shard-*.json")):
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited early"
        assert time.monotonic() < deadline, "no shard manifest after 60 s"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "annotations.json").exists(), "the run finished before the kill; make the job larger"
    done_before = len(list((killed / SHARDS_DIR).glob("shard-*.json")))
    assert done_before < n // 4
    resumed = subprocess.run(_command(EXAMPLES, bg, killed, n), env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{n} images" in resumed.stdout and "reused" in resumed.stdout
    reused = int(resumed.stdout.split(" new, ")[1].split(" reused")[0])
    assert reused >= 4 * done_before
    clean = tmp_path / "clean"
    full = subprocess.run(_command(EXAMPLES, bg, clean, n), env=env, capture_output=True, text=True, timeout=120)
    assert full.returncode == 0, full.stderr
    a, b = _outputs(killed), _outputs(clean)
    assert a.keys() == b.keys() and len(a) == n + 1
    assert all(a[k] == b[k] for k in a)
    assert json.loads(a["annotations.json"])["images"][-1]["file_name"] == f"{n - 1:06d}.jpg"
    assert np.array_equal(np.frombuffer(a["images/000000.jpg"], np.uint8), np.frombuffer(b["images/000000.jpg"], np.uint8))
