"""Background folders, every colour mode, corrupt files, and the scikit-image demo photos."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logodet.assets.backgrounds import (
    DEMO_BACKGROUNDS,
    BackgroundSet,
    BackgroundWarning,
    as_background_set,
    demo_background_paths,
    demo_backgrounds,
    load_background,
    scan_backgrounds,
)
from logodet.io import ImageReadError

from .conftest import write_background_files, write_broken_backgrounds


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("mode", ["rgb", "grey", "palette", "deep16", "cmyk", "rgba"])
def test_every_colour_mode_loads_as_rgb(tmp_path: Path, mode: str) -> None:
    path = write_background_files(tmp_path)[mode]
    img = load_background(path)
    assert img.dtype == np.uint8 and img.shape == (48, 64, 3)
    assert img.std() > 10  # real content, not a blank conversion


def test_scan_skips_broken_files_with_warnings(tmp_path: Path) -> None:
    good = write_background_files(tmp_path)
    broken = write_broken_backgrounds(tmp_path / "sub")
    with pytest.warns(BackgroundWarning) as record:
        bgs = scan_backgrounds(tmp_path)
    messages = " ".join(str(w.message) for w in record)
    assert str(broken["corrupt"]) in messages and str(broken["truncated"]) in messages
    assert len(bgs.skipped) == 2
    assert len(bgs) == len(good)
    assert all(isinstance(p, Path) and p.exists() for p in bgs.items)


def test_scan_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing"):
        scan_backgrounds(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageReadError, match="no usable background") as err:
        scan_backgrounds(tmp_path / "empty")
    assert str(tmp_path / "empty") in str(err.value)
    broken = write_broken_backgrounds(tmp_path / "broken")
    with pytest.warns(BackgroundWarning), pytest.raises(ImageReadError, match="2 could not be decoded"):
        scan_backgrounds(broken["corrupt"].parent)


def test_load_background_errors_name_the_file(tmp_path: Path) -> None:
    broken = write_broken_backgrounds(tmp_path)
    for path in broken.values():
        with pytest.raises(ImageReadError) as err:
            load_background(path)
        assert str(path) in str(err.value)
    with pytest.raises(ImageReadError, match="file not found"):
        load_background(tmp_path / "nope.jpg")


def test_jpeg_draft_decode_keeps_min_size(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (600, 800, 3), dtype=np.uint8)).save(path)
    small = load_background(path, min_size=(190, 140))
    assert small.shape == (150, 200, 3)  # decoded at 1/4 scale, still >= min_size
    assert load_background(path).shape == (600, 800, 3)
    assert load_background(path, min_size=(1000, 1000)).shape == (600, 800, 3)


def test_demo_backgrounds_ship_with_scikit_image(no_network: None) -> None:
    import skimage.data

    paths = demo_background_paths()
    assert [p.name for p in paths] == list(DEMO_BACKGROUNDS)
    assert all(p.parent == Path(skimage.data.data_dir) for p in paths)
    images = demo_backgrounds()
    assert len(images) == len(paths) >= 4
    for img in images:
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and min(img.shape[:2]) >= 256
        assert np.abs(img[..., 0].astype(int) - img[..., 2]).mean() > 3  # colour photos, not grey


def test_background_set_from_arrays_and_sources(tmp_path: Path) -> None:
    grey = np.full((10, 12), 7, np.uint8)
    rgba = np.zeros((5, 6, 4), np.uint8)
    bgs = as_background_set([grey, rgba])
    assert bgs.load(0).shape == (10, 12, 3) and bgs.load(1).shape == (5, 6, 3)
    assert bgs.name(0) == "array[0]"
    assert len(as_background_set(grey)) == 1
    assert as_background_set(bgs) is bgs
    assert len(as_background_set(None)) == len(DEMO_BACKGROUNDS)
    files = write_background_files(tmp_path / "bg")
    assert len(as_background_set(files["cmyk"])) == 1
    assert len(as_background_set(tmp_path / "bg")) == len(files)
    assert bgs.fingerprint() != as_background_set([grey]).fingerprint()
    with pytest.raises(ValueError, match="uint8"):
        BackgroundSet((np.zeros((4, 4, 3), np.float32),))
    with pytest.raises(ValueError, match="no backgrounds"):
        BackgroundSet(())
