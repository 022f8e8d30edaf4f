"""Files written atomically get ordinary permissions, not a temporary file's owner-only mode."""

from __future__ import annotations

import os
import stat

from logodet.io import atomic_write_bytes, atomic_write_json


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_writes_follow_the_umask(tmp_path):
    expected = 0o666 & ~_umask()
    atomic_write_bytes(tmp_path / "a.txt", b"x")
    atomic_write_json(tmp_path / "b.json", {"k": 1})
    for name in ("a.txt", "b.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == expected
    assert expected != 0o600 or _umask() == 0o177  # the temporary file's mode would fail this test
