import pytest
import torch

from logodet.models.dense import DenseFCOS
from logodet.models.zoo import build_model, get_spec, list_models, register_model


def test_registry_lists_the_foundation_model():
    assert "fcos_efficientnet_lite0" in list_models()
    spec = get_spec("fcos_efficientnet_lite0")
    assert spec.backbone == "efficientnet_lite0" and spec.head == "fcos"
    assert spec.mean == (0.5, 0.5, 0.5)


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


def test_bad_arguments_are_rejected():
    with pytest.raises(KeyError, match="unknown model"):
        build_model("yolo_nothing", num_classes=2)
    with pytest.raises(ValueError, match="num_classes"):
        build_model("fcos_efficientnet_lite0", num_classes=0)
    with pytest.raises(ValueError, match="weights"):
        build_model("fcos_efficientnet_lite0", num_classes=2, weights="coco")
    with pytest.raises(ValueError, match="already registered"):
        register_model("fcos_efficientnet_lite0", backbone="x", head="y", fpn_channels=1, head_convs=1)(lambda **k: None)
