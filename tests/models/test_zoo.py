import hashlib

import numpy as np
import pytest
import torch
from torch import nn

from logodet.inference.predictor import Predictor
from logodet.models.dense import DenseFCOS
from logodet.models.zoo import build_model, get_spec, list_models, register_model

ALL = [
    "fcos_efficientnet_lite0",
    "fcos_efficientnet_lite1",
    "fcos_efficientnet_lite2",
    "retinanet_efficientnet_lite0",
    "retinanet_efficientnet_lite1",
    "retinanet_efficientnet_lite2",
]


def test_registry_lists_the_foundation_model():
    assert "fcos_efficientnet_lite0" in list_models()
    spec = get_spec("fcos_efficientnet_lite0")
    assert spec.backbone == "efficientnet_lite0" and spec.head == "fcos"
    assert spec.mean == (0.5, 0.5, 0.5)


def test_registry_holds_both_head_families_on_three_backbones():
    assert list_models() == ALL
    table = {n: (s.head, s.backbone, s.fpn_channels, s.head_convs, s.default_imgsz) for n in ALL for s in [get_spec(n)]}
    assert table == {
        "fcos_efficientnet_lite0": ("fcos", "efficientnet_lite0", 64, 3, 320),
        "fcos_efficientnet_lite1": ("fcos", "efficientnet_lite1", 64, 3, 352),
        "fcos_efficientnet_lite2": ("fcos", "efficientnet_lite2", 96, 3, 384),
        "retinanet_efficientnet_lite0": ("retinanet", "efficientnet_lite0", 64, 3, 320),
        "retinanet_efficientnet_lite1": ("retinanet", "efficientnet_lite1", 64, 3, 352),
        "retinanet_efficientnet_lite2": ("retinanet", "efficientnet_lite2", 96, 3, 384),
    }
    for name in ALL:
        spec = get_spec(name)
        assert spec.weights == ("imagenet", "none") and spec.pretrained and spec.pretrained_installed()


def test_foundation_model_keeps_its_exact_parameter_names_and_shapes():
    """Existing checkpoints of fcos_efficientnet_lite0 must keep loading: golden key/shape digest and size."""
    model = build_model("fcos_efficientnet_lite0", num_classes=3, weights="none")
    keys = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    assert len(keys) == 334 and sum(p.numel() for p in model.parameters()) == 3_400_840
    assert hashlib.sha256(repr(keys).encode()).hexdigest() == "f3d7c41b6c7d7886976cb535c9a3c7520235056bda31309d2e523964e96575f0"
    assert model.transform.min_size == (320,) and model.transform.max_size == 320


@pytest.mark.parametrize("num_classes", [1, 5])
def test_dense_outputs_have_one_score_per_class(num_classes):
    model = build_model("fcos_efficientnet_lite0", num_classes=num_classes, weights="none").eval()
    with torch.inference_mode():
        boxes, scores = DenseFCOS(model, 128)(torch.rand(2, 3, 128, 128))
    assert boxes.shape[:2] == scores.shape[:2] and boxes.shape[0] == 2
    assert scores.shape[-1] == num_classes
    assert float(scores.min()) >= 0 and float(scores.max()) <= 1
    assert float(boxes.min()) >= 0 and float(boxes.max()) <= 128


def test_training_forward_accepts_images_without_boxes():
    model = build_model("fcos_efficientnet_lite0", num_classes=2, weights="none", imgsz=128).train()
    targets = [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)}] * 2
    losses = model([torch.rand(3, 128, 128)] * 2, targets)
    assert set(losses) == {"classification", "bbox_regression", "bbox_ctrness"}
    assert all(torch.isfinite(v) for v in losses.values())


LOSSES = {"fcos": {"classification", "bbox_regression", "bbox_ctrness"}, "retinanet": {"classification", "bbox_regression"}}


@pytest.mark.parametrize("name", ALL)
def test_scratch_model_trains_one_step_and_predicts(name):
    torch.manual_seed(0)
    model = build_model(name, num_classes=2, weights="none", imgsz=128).train()
    assert model.transform.min_size == (128,)
    images = [torch.rand(3, 128, 128) for _ in range(2)]
    targets = [
        {"boxes": torch.tensor([[10.0, 12.0, 60.0, 70.0], [64.0, 64.0, 120.0, 100.0]]), "labels": torch.tensor([0, 1])},
        {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.int64)},
    ]
    losses = model(images, targets)
    assert set(losses) == LOSSES[get_spec(name).head]
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    sum(losses.values()).backward()
    cls_grad = model.head.classification_head.cls_logits.weight.grad
    reg_grad = model.head.regression_head.bbox_reg.weight.grad  # both families name their box output bbox_reg
    assert cls_grad is not None and float(cls_grad.abs().sum()) > 0 and torch.isfinite(cls_grad).all()
    assert reg_grad is not None and float(reg_grad.abs().sum()) > 0
    assert model.backbone.body.body.conv_stem.weight.grad is not None

    model.eval()
    with torch.inference_mode():
        (out,) = model([torch.rand(3, 128, 128)])
    assert set(out) == {"boxes", "scores", "labels"} and out["boxes"].shape[1] == 4
    image = (np.random.default_rng(0).random((96, 160, 3)) * 255).astype(np.uint8)
    (dets,) = Predictor.from_model(model, ["a", "b"], 128, conf=0.001, max_det=50).predict([image])
    assert 0 < len(dets) <= 50 and set(dets.class_ids.tolist()) <= {0, 1}
    assert float(dets.xyxy[:, [0, 2]].max()) <= 160 + 1e-3 and float(dets.xyxy[:, [1, 3]].max()) <= 96 + 1e-3


def test_default_imgsz_comes_from_the_spec():
    model = build_model("retinanet_efficientnet_lite1", num_classes=1, weights="none")
    assert model.transform.min_size == (352,) and model.transform.max_size == 352


def test_imagenet_weights_reach_the_detector_backbone():
    from logodet.models.backbones import efficientnet_lite_classifier

    full = efficientnet_lite_classifier("efficientnet_lite0", weights="imagenet")
    for name in ("fcos_efficientnet_lite0", "retinanet_efficientnet_lite0"):
        body = build_model(name, num_classes=2, weights="imagenet").backbone.body.body
        assert torch.equal(body.blocks[5][0].conv_pw.weight, full.blocks[5][0].conv_pw.weight)
        assert torch.equal(body.bn1.running_var, full.bn1.running_var)


@pytest.mark.parametrize("name", ["fcos_efficientnet_lite0", "retinanet_efficientnet_lite0"])
def test_head_dropout_is_a_parameterless_layer_before_the_class_output(name):
    torch.manual_seed(0)
    plain = build_model(name, num_classes=2, weights="none")
    torch.manual_seed(0)
    dropped = build_model(name, num_classes=2, weights="none", head_dropout=0.3)
    assert list(plain.state_dict()) == list(dropped.state_dict())
    tower = dropped.head.classification_head.conv
    assert isinstance(tower[-1], nn.Dropout2d) and tower[-1].p == 0.3
    assert not any(isinstance(m, nn.Dropout2d) for m in plain.modules())
    assert not any(isinstance(m, nn.Dropout2d) for m in dropped.head.regression_head.modules())
    dropped.load_state_dict(plain.state_dict())
    feats = [torch.rand(1, 64, 8, 8)]
    plain.eval(), dropped.eval()
    with torch.no_grad():
        torch.testing.assert_close(dropped.head(feats)["cls_logits"], plain.head(feats)["cls_logits"])
        dropped.train()
        assert not torch.allclose(dropped.head(feats)["cls_logits"], plain.head(feats)["cls_logits"])


def test_bad_arguments_are_rejected():
    with pytest.raises(KeyError, match="unknown model"):
        build_model("yolo_nothing", num_classes=2)
    with pytest.raises(ValueError, match="num_classes"):
        build_model("fcos_efficientnet_lite0", num_classes=0)
    with pytest.raises(ValueError, match="weights"):
        build_model("fcos_efficientnet_lite0", num_classes=2, weights="coco")
    with pytest.raises(ValueError, match="head_dropout"):
        build_model("retinanet_efficientnet_lite0", num_classes=2, weights="none", head_dropout=1.0)
    with pytest.raises(ValueError, match="imgsz"):
        build_model("retinanet_efficientnet_lite0", num_classes=2, weights="none", imgsz=16)
    with pytest.raises(ValueError, match="already registered"):
        register_model("fcos_efficientnet_lite0", backbone="x", head="y", fpn_channels=1, head_convs=1)(lambda **k: None)
    with pytest.raises(ValueError, match="weights='none'"):
        register_model("only_pretrained", backbone="x", head="y", fpn_channels=1, head_convs=1, weights=("imagenet",))(lambda **k: None)
    assert "only_pretrained" not in list_models()


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in ALL if not n.endswith("lite0")])
def test_larger_backbones_build_with_imagenet_weights(name):
    from logodet.models.weights import weights_info

    spec = get_spec(name)
    source = torch.load(weights_info(spec.backbone).file(), map_location="cpu", weights_only=True)
    model = build_model(name, num_classes=2, weights="imagenet", imgsz=128).eval()
    body = model.backbone.body.body
    assert torch.equal(body.conv_stem.weight, source["_conv_stem.weight"])
    assert torch.equal(body.blocks[3][0].conv_pw.weight, source[f"_blocks.{_first_block_of_stage(source, 3)}._expand_conv.weight"])
    with torch.inference_mode():
        (out,) = model([torch.rand(3, 128, 128)])
    assert out["boxes"].shape[1] == 4


def _first_block_of_stage(source: dict, stage: int) -> int:
    """Index of the first block of ``stage`` in the package's flat block list (a stage starts where the width changes)."""
    widths = []
    i = 0
    while f"_blocks.{i}._project_conv.weight" in source:
        widths.append(source[f"_blocks.{i}._project_conv.weight"].shape[0])
        i += 1
    starts = [0] + [j for j in range(1, len(widths)) if widths[j] != widths[j - 1]]
    return starts[stage]
