"""Exponential moving average of model weights (validated and saved instead of the raw weights)."""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

__all__ = ["ModelEMA"]


class ModelEMA:
    """``ema = d * ema + (1 - d) * model`` after every optimizer step, with ``d = decay * (1 - exp(-updates / tau))``.

    The ramp keeps early averages close to the current weights, so short CPU
    runs are not dragged back to the initial model. Buffers (BatchNorm
    statistics) are copied, not averaged.

    Example:
        >>> model = nn.Linear(2, 1)
        >>> ema = ModelEMA(model, decay=0.9, tau=1.0)
        >>> ema.update(model); ema.updates
        1
    """

    def __init__(self, model: nn.Module, decay: float = 0.9998, tau: float = 2000.0, updates: int = 0) -> None:
        self.module = copy.deepcopy(_unwrap(model)).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay, self.tau, self.updates = float(decay), float(tau), int(updates)
        self._params = {name for name, _ in self.module.named_parameters()}

    def current_decay(self) -> float:
        """The decay used by the next update."""
        return self.decay * (1.0 - math.exp(-(self.updates + 1) / self.tau))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Fold the current weights of ``model`` into the average."""
        d = self.current_decay()
        self.updates += 1
        src = _unwrap(model).state_dict()
        for name, value in self.module.state_dict().items():
            if name in self._params and value.dtype.is_floating_point:
                value.mul_(d).add_(src[name].detach(), alpha=1.0 - d)
            else:
                value.copy_(src[name])

    def state_dict(self) -> dict[str, Any]:
        """Weights and update count, for checkpoints."""
        return {"model": self.module.state_dict(), "updates": self.updates, "decay": self.decay, "tau": self.tau}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.module.load_state_dict(state["model"])
        self.updates = int(state["updates"])
        self.decay, self.tau = float(state.get("decay", self.decay)), float(state.get("tau", self.tau))


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
