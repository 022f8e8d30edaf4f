"""Run set-up helpers: freezing, parameter groups, device choice."""

from __future__ import annotations

import pytest
import torch

from logodet.engine.config import TrainConfig
from logodet.engine.setup import apply_freeze, build_optimizer, num_stages, param_groups, select_device, set_train_mode
from logodet.models.zoo import build_model


@pytest.fixture(scope="module")
def model():
    return build_model("fcos_efficientnet_lite0", num_classes=2, weights="none")


def test_freeze_flips_requires_grad_stage_by_stage(model):
    stages = list(model.backbone.body.stages())
    assert num_stages(model) == len(stages) > 2
    apply_freeze(model, 2)
    assert [all(not p.requires_grad for p in s.parameters()) for s in stages[:3]] == [True, True, False]
    apply_freeze(model, 0)
    assert all(p.requires_grad for p in model.parameters())


def test_param_groups_cover_every_parameter_once_and_spare_biases_from_decay(model):
    cfg = TrainConfig(data="d", lr=1e-3, weight_decay=0.05, backbone_lr_mult=0.1, weights="imagenet")
    groups = {g["name"]: g for g in param_groups(model, cfg)}
    assert set(groups) == {"backbone", "backbone_no_decay", "head", "head_no_decay"}
    assert sum(len(g["params"]) for g in groups.values()) == len(list(model.parameters()))
    assert groups["backbone"]["lr"] == pytest.approx(1e-4) and groups["head"]["lr"] == pytest.approx(1e-3)
    assert groups["head_no_decay"]["weight_decay"] == 0.0 and all(p.ndim == 1 for p in groups["head_no_decay"]["params"])
    assert isinstance(build_optimizer(model, TrainConfig(data="d", optimizer="sgd")), torch.optim.SGD)


def test_backbone_batchnorm_stays_in_eval_mode(model):
    set_train_mode(model)
    bns = [m for m in model.backbone.body.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert bns and not any(m.training for m in bns) and model.head.training


def test_cuda_without_a_gpu_is_an_error():
    assert select_device(TrainConfig(data="d", device="cpu")).type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no GPU"):
            select_device(TrainConfig(data="d", device="cuda"))
