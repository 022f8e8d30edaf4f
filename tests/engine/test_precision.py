"""bf16 for the frozen backbone stages on the CPU, float32 for what trains; channels-last layout."""

from __future__ import annotations

import pytest
import torch
from conftest import make_shapes_dataset
from torch import nn

from logodet.engine.checkpoint import load_checkpoint
from logodet.engine.config import TrainConfig
from logodet.engine.precision import autocast_modules, cpu_has_bf16
from logodet.engine.trainer import Trainer

needs_bf16 = pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bf16")


class Probe(nn.Module):
    """Records whether autocast was on while it ran; returns a float tensor, a dict and an integer tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.seen: list[bool] = []

    def forward(self, x):
        self.seen.append(torch.is_autocast_enabled("cpu"))
        y = self.conv(x)
        return {"y": y, "inner": [y * 2], "count": torch.tensor([3])}


def test_only_the_given_modules_run_under_autocast_and_hand_on_float32():
    inside, outside = Probe(), Probe()
    x = torch.rand(1, 3, 4, 4)
    with autocast_modules([inside], "cpu"):
        out = inside(x)
        outside(x)
        assert not torch.is_autocast_enabled("cpu")  # only inside the module's own call
    assert inside.seen == [True] and outside.seen == [False]
    assert out["y"].dtype == out["inner"][0].dtype == torch.float32 and out["count"].dtype == torch.int64
    assert not torch.equal(out["y"], inside.conv(x))  # computed in bf16: not bit-equal to float32
    torch.testing.assert_close(out["y"], inside.conv(x), atol=0.05, rtol=0.02)
    inside(x)
    assert inside.seen == [True, False], "hooks are removed when the block ends"


def test_a_forward_pass_that_raises_leaves_autocast_off_and_no_hooks():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("bad input")

    boom = Boom()
    with pytest.raises(ValueError, match="bad input"), autocast_modules([boom], "cpu"):
        boom(torch.zeros(1))
    assert not torch.is_autocast_enabled("cpu")
    assert not boom._forward_pre_hooks and not boom._forward_hooks


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    make_shapes_dataset(root / "d", n=4, size=64, seed=2)
    return root / "d"


def _one_step(tmp_path, shapes, **kw) -> dict[str, list]:
    """Train one step; which backbone stages saw autocast, and the dtype the FPN received."""
    cfg = TrainConfig(data=str(shapes), out=str(tmp_path / "run"), epochs=1, imgsz=64, batch=4, weights="none", seed=0, **kw)
    trainer = Trainer(cfg)
    seen: dict[str, list] = {"stages": [], "fpn_input": []}
    for i, block in enumerate(trainer.net.backbone.body.body.blocks):
        first_conv = next(m for m in block.modules() if isinstance(m, nn.Conv2d))
        first_conv.register_forward_hook(lambda m, a, o, i=i: seen["stages"].append((i, torch.is_autocast_enabled("cpu"))))
    trainer.net.backbone.fpn.register_forward_pre_hook(lambda m, a: seen["fpn_input"].extend(v.dtype for v in a[0].values()))
    result = trainer.fit(progress=False)
    assert result.epochs_done == 1 and torch.isfinite(torch.tensor(trainer.last_losses["loss"]))
    seen["trainer"] = [trainer]
    return seen


@needs_bf16
def test_trainer_runs_frozen_stages_in_bf16_and_trainable_ones_in_float32(tmp_path, shapes):
    seen = _one_step(tmp_path, shapes, freeze=3)  # stem + blocks 0 and 1 frozen
    on = dict(seen["stages"])  # one training step, no validation set (and the EMA copy carries no probes)
    assert [on[i] for i in sorted(on)] == [True, True] + [False] * (len(on) - 2)
    assert set(seen["fpn_input"]) == {torch.float32}


def test_amp_off_keeps_every_stage_in_float32(tmp_path, shapes):
    seen = _one_step(tmp_path, shapes, freeze=3, amp=False)
    assert seen["stages"] and not any(flag for _, flag in seen["stages"])


def test_channels_last_layout_on_the_cpu_and_checkpoints_load_into_a_plain_model(tmp_path, shapes):
    trainer = _one_step(tmp_path, shapes, freeze=-1)["trainer"][0]
    conv = trainer.net.head.classification_head.cls_logits
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) and not conv.weight.is_contiguous()
    assert trainer.ema.module.head.classification_head.cls_logits.weight.is_contiguous(memory_format=torch.channels_last)
    plain = _one_step(tmp_path / "plain", shapes, freeze=-1, channels_last=False)["trainer"][0].net
    assert plain.head.classification_head.cls_logits.weight.is_contiguous()
    plain.load_state_dict(load_checkpoint(tmp_path / "run" / "last.pt")["model"])
    for (name, a), (_, b) in zip(plain.state_dict().items(), trainer.ema.module.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
