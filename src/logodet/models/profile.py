"""Size, compute and CPU latency of the registered detectors.

Everything is measured on the dense inference graph (:mod:`logodet.models.dense`):
backbone, FPN, head and box decoding, without letterboxing or NMS — the part
that is exported to ONNX.

Example:
    >>> from logodet.models.zoo import build_model
    >>> model = build_model("fcos_efficientnet_lite0", num_classes=2, weights="none")
    >>> count_parameters(model) > 3_000_000
    True
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from logodet.models.dense import DenseDetector, dense_model, eval_mode
from logodet.models.zoo import build_model, get_spec, list_models

__all__ = ["count_parameters", "gflops", "measure_latency", "profile_models"]


def count_parameters(model: nn.Module) -> int:
    """Number of parameters of ``model`` (shared tensors counted once, frozen ones included).

    Example:
        >>> count_parameters(nn.Linear(3, 2))
        8
    """
    return int(sum(p.numel() for p in model.parameters()))


def _as_dense(model_or_dense: nn.Module, imgsz: int) -> DenseDetector:
    if isinstance(model_or_dense, DenseDetector):
        if model_or_dense.imgsz != int(imgsz):
            raise ValueError(f"the dense graph was built for {model_or_dense.imgsz} px inputs, not {imgsz}")
        return model_or_dense
    return dense_model(model_or_dense, imgsz)


def _example(imgsz: int, device: torch.device) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    return torch.rand(1, 3, int(imgsz), int(imgsz), generator=gen).to(device)


def gflops(model_or_dense: nn.Module, imgsz: int) -> float:
    """Floating-point operations of one forward pass of the dense graph, batch 1, in units of 1e9.

    Counted with :class:`torch.utils.flop_counter.FlopCounterMode`, which counts a
    multiply-add as 2 FLOPs (so this is twice the "MACs" some tables list) and
    covers convolutions and matrix products; element-wise work (activations,
    normalisation, box decoding) is not counted.

    Args:
        model_or_dense: a detector from :func:`logodet.models.zoo.build_model` or its dense graph.
        imgsz: square input size.

    Example:
        >>> from logodet.models.zoo import build_model
        >>> round(gflops(build_model("fcos_efficientnet_lite0", num_classes=2, weights="none"), 128), 1) > 0
        True
    """
    dense = _as_dense(model_or_dense, imgsz)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), eval_mode(dense), counter:
        dense(_example(imgsz, dense.mean.device))
    return counter.get_total_flops() / 1e9


def measure_latency(dense: nn.Module, imgsz: int, runs: int = 10, warmup: int = 2, threads: int | None = None) -> dict[str, float]:
    """CPU latency at batch 1 of the dense graph ``dense`` (a detector is wrapped): ``{"median_ms", "p90_ms"}``.

    ``runs`` calls are timed under :func:`torch.inference_mode`, after ``warmup`` untimed ones;
    ``threads`` sets torch's intra-op threads for the measurement (restored afterwards).

    Example:
        >>> from logodet.models.zoo import build_model
        >>> dense = dense_model(build_model("fcos_efficientnet_lite0", num_classes=2, weights="none"), 128)
        >>> sorted(measure_latency(dense, 128, runs=2, warmup=1))
        ['median_ms', 'p90_ms']
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f"runs must be >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    dense = _as_dense(dense, imgsz)
    if dense.mean.device.type != "cpu":
        raise ValueError(f"measure_latency times CPU inference; the model is on {dense.mean.device}")
    x = _example(imgsz, torch.device("cpu"))
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        times = []
        with torch.inference_mode(), eval_mode(dense):
            for _ in range(warmup):
                dense(x)
            for _ in range(runs):
                start = time.perf_counter()
                dense(x)
                times.append((time.perf_counter() - start) * 1000.0)
    finally:
        torch.set_num_threads(previous)
    return {"median_ms": float(statistics.median(times)), "p90_ms": float(np.percentile(times, 90))}


def profile_models(
    names: Sequence[str] | None = None,
    imgsizes: Sequence[int] = (320, 640),
    *,
    runs: int = 10,
    warmup: int = 2,
    threads: int | None = None,
    latency: bool = True,
    num_classes: int = 27,
) -> list[dict[str, Any]]:
    """One row per model: metadata, parameters, and GFLOPs and CPU latency at each input size.

    Models are built with ``weights="none"`` (weights do not change size or speed)
    for ``num_classes`` classes (27, as FlickrLogos-27) under a fixed seed.

    Returns:
        Rows with ``name``, ``head``, ``backbone``, ``fpn_channels``, ``head_convs``,
        ``default_imgsz``, ``pretrained`` (ImageNet weights exist), ``pretrained_installed``,
        ``params``, and per size ``S``: ``gflops_S`` and, with ``latency``,
        ``latency_median_ms_S`` and ``latency_p90_ms_S``.

    Example:
        >>> rows = profile_models(["fcos_efficientnet_lite0"], [128], latency=False)
        >>> rows[0]["gflops_128"] > 0
        True
    """
    names = list_models() if names is None else list(names)
    sizes = [int(s) for s in imgsizes]
    if not sizes:
        raise ValueError("imgsizes is empty: give at least one input size")
    bad = [s for s in sizes if s < 32 or s % 32]
    if bad:
        raise ValueError(f"input sizes must be multiples of 32, got {bad}")
    specs = [get_spec(name) for name in names]  # unknown names fail before any work
    rows = []
    for name, spec in zip(names, specs, strict=True):
        torch.manual_seed(0)
        model = build_model(name, num_classes=num_classes, weights="none").eval()
        row: dict[str, Any] = {
            "name": name,
            "head": spec.head,
            "backbone": spec.backbone,
            "fpn_channels": spec.fpn_channels,
            "head_convs": spec.head_convs,
            "default_imgsz": spec.default_imgsz,
            "pretrained": spec.pretrained,
            "pretrained_installed": spec.pretrained_installed(),
            "params": count_parameters(model),
        }
        for size in sizes:
            dense = dense_model(model, size).eval()
            row[f"gflops_{size}"] = gflops(dense, size)
            if latency:
                lat = measure_latency(dense, size, runs=runs, warmup=warmup, threads=threads)
                row[f"latency_median_ms_{size}"] = lat["median_ms"]
                row[f"latency_p90_ms_{size}"] = lat["p90_ms"]
        rows.append(row)
    return rows
