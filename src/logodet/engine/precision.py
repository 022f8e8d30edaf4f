"""bf16 on the CPU for the frozen part of the backbone: the one place where it is fast and safe.

On a CPU with native bf16 (AVX512-BF16 or AMX) a bf16 forward pass of the
EfficientNet backbone takes about half the float32 time. Autocasting the
trainable layers as well gave NaN weight gradients in oneDNN's bf16
convolution backward (FPN 1x1 convolutions, 64 px images), and box decoding
and the losses cannot hold pixel coordinates in bf16's 8-bit mantissa. So
:func:`autocast_modules` puts only the given modules (the frozen backbone
stages, which see no backward pass) under autocast and hands their outputs
on as float32: everything that trains stays float32.

Example:
    >>> stage = nn.Conv2d(3, 4, 3)
    >>> with autocast_modules([stage], "cpu"):
    ...     y = stage(torch.zeros(1, 3, 8, 8))
    >>> y.dtype
    torch.float32
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import nn

__all__ = ["autocast_modules", "cpu_has_bf16"]


@functools.cache  # asked once per training step; the CPU does not change within a process
def cpu_has_bf16() -> bool:
    """Whether this CPU runs bf16 matrix maths natively (AVX512-BF16 or AMX), so bf16 autocast is faster, not emulated."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without oneDNN
        return False


def _to_float32(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, dict):
        return type(value)((k, _to_float32(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(_to_float32(v) for v in value)
    return value


@contextlib.contextmanager
def autocast_modules(modules: Iterable[nn.Module], device_type: str) -> Iterator[None]:
    """Inside the block, each of ``modules`` runs under bf16 autocast and returns float32 tensors."""
    handles = []
    active: list[torch.autocast] = []

    def enter(module: nn.Module, args: Any) -> None:
        ctx = torch.autocast(device_type, dtype=torch.bfloat16)
        ctx.__enter__()
        active.append(ctx)

    def leave(module: nn.Module, args: Any, output: Any) -> Any:
        active.pop().__exit__(None, None, None)
        return _to_float32(output)

    try:
        for module in modules:
            handles += [module.register_forward_pre_hook(enter), module.register_forward_hook(leave)]
        yield
    finally:
        for h in handles:
            h.remove()
        while active:  # a forward pass that raised inside a module
            active.pop().__exit__(None, None, None)
