"""Head families: RetinaNet's structure, and the dense graphs against torchvision's own post-processing."""

import pytest
import torch
from torch import nn
from torchvision.models.detection import FCOS, RetinaNet

from logodet.models.dense import DenseDetector, DenseFCOS, DenseRetinaNet, dense_model
from logodet.models.zoo import build_model


def _spread_scores(model: nn.Module) -> None:
    """Random-init heads give every score ~0.01; wider class weights spread them so the ranking is unambiguous."""
    gen = torch.Generator().manual_seed(1)
    w = model.head.classification_head.cls_logits.weight
    with torch.no_grad():
        w.copy_(torch.randn(w.shape, generator=gen) * 0.1)


def test_retinanet_has_nine_anchors_per_location_on_p3_to_p7():
    model = build_model("retinanet_efficientnet_lite0", num_classes=4, weights="none", imgsz=128)
    assert isinstance(model, RetinaNet)
    gen = model.anchor_generator
    assert gen.num_anchors_per_location() == [9] * 5
    assert gen.sizes == ((24, 30, 38), (48, 60, 76), (96, 120, 152), (192, 241, 304), (384, 483, 609))
    assert gen.aspect_ratios == ((0.5, 1.0, 2.0),) * 5
    head = model.head
    assert head.classification_head.cls_logits.out_channels == 9 * 4
    assert head.regression_head.bbox_reg.out_channels == 9 * 4
    assert len(head.classification_head.conv) == 3 and len(head.regression_head.conv) == 3
    assert all(isinstance(block[1], nn.GroupNorm) for block in head.classification_head.conv)
    # the focal-loss prior: every class starts at probability 0.01
    assert torch.allclose(torch.sigmoid(head.classification_head.cls_logits.bias), torch.full((36,), 0.01))


def _assert_same_top(boxes: torch.Tensor, scores: torch.Tensor, ref: dict, k: int) -> None:
    """The ``k`` best (box, class, score) of torchvision's output are entries of the dense output, within 1e-4."""
    num_classes = scores.shape[-1]
    assert len(ref["scores"]) == boxes.shape[0] * num_classes  # every (anchor, class) pair survived
    top = ref["scores"].argsort(descending=True)[:k]
    ref_scores, ref_boxes, ref_labels = ref["scores"][top], ref["boxes"][top], ref["labels"][top]
    mine, idx = scores.reshape(-1).topk(k)
    torch.testing.assert_close(mine, ref_scores, atol=1e-4, rtol=0)
    assert float(ref_scores[0] - ref_scores[-1]) > 0.05  # a real ranking, not a plateau
    my_boxes, my_labels = boxes[idx // num_classes], idx % num_classes
    for i in range(k):  # ties may order differently, so match each reference entry to any dense entry
        same = (my_labels == ref_labels[i]) & ((mine - ref_scores[i]).abs() < 1e-4)
        same &= (my_boxes - ref_boxes[i]).abs().amax(dim=1) < 1e-4
        assert bool(same.any()), f"reference detection {i} ({ref_boxes[i].tolist()}, {float(ref_scores[i]):.4f}) not in the dense output"


def _reference_without_thresholds(model: nn.Module, x: torch.Tensor) -> list[dict]:
    model.score_thresh, model.nms_thresh = 0.0, 1.0  # no score threshold; NMS at IoU > 1 keeps everything
    model.topk_candidates, model.detections_per_img = 10**6, 10**6
    with torch.inference_mode():
        return model(list(x))


def test_retinanet_dense_graph_matches_torchvision_postprocessing():
    torch.manual_seed(0)
    model = build_model("retinanet_efficientnet_lite0", num_classes=3, weights="none", imgsz=128).eval()
    _spread_scores(model)
    x = torch.rand(2, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    reference = _reference_without_thresholds(model, x)
    with torch.inference_mode():
        boxes, scores = DenseRetinaNet(model, 128)(x)
    num_anchors = 9 * (16 * 16 + 8 * 8 + 4 * 4 + 2 * 2 + 1)
    assert boxes.shape == (2, num_anchors, 4) and scores.shape == (2, num_anchors, 3)
    for b in range(2):
        _assert_same_top(boxes[b], scores[b], reference[b], 200)


def test_fcos_dense_graph_matches_torchvision_postprocessing():
    """FCOS ranks by sqrt(class * centerness) in both graphs."""
    torch.manual_seed(0)
    model = build_model("fcos_efficientnet_lite0", num_classes=2, weights="none", imgsz=128).eval()
    _spread_scores(model)
    x = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    (ref,) = _reference_without_thresholds(model, x)
    with torch.inference_mode():
        boxes, scores = DenseFCOS(model, 128)(x)
    _assert_same_top(boxes[0], scores[0], ref, 100)


@pytest.mark.parametrize(("name", "kind"), [("fcos_efficientnet_lite0", DenseFCOS), ("retinanet_efficientnet_lite0", DenseRetinaNet)])
def test_dense_model_picks_the_graph_and_keeps_the_model_mode(name, kind):
    model = build_model(name, num_classes=2, weights="none").train()
    model.backbone.body.body.bn1.eval()  # a deliberately frozen BatchNorm, as the trainer keeps them
    before = model.backbone.body.body.bn1.running_mean.clone()
    dense = dense_model(model, 64)
    assert isinstance(dense, kind) and dense.imgsz == 64
    assert model.training and model.head.training and not model.backbone.body.body.bn1.training
    assert torch.equal(model.backbone.body.body.bn1.running_mean, before)
    assert dense.anchors.shape[0] == (9 if kind is DenseRetinaNet else 1) * (8 * 8 + 4 * 4 + 2 * 2 + 1 + 1)


def test_dense_model_rejects_other_models():
    with pytest.raises(TypeError, match="no dense inference graph for Linear"):
        dense_model(nn.Linear(2, 2), 128)
    with pytest.raises(ValueError, match="imgsz"):
        dense_model(build_model("fcos_efficientnet_lite0", num_classes=1, weights="none"), 16)
    with pytest.raises(TypeError, match="abstract"):
        DenseDetector(build_model("fcos_efficientnet_lite0", num_classes=1, weights="none"), 64)
    assert issubclass(DenseFCOS, DenseDetector) and not issubclass(FCOS, DenseDetector)
