"""Parameters, FLOPs and CPU latency of the registered detectors."""

import pytest
import torch
from torch import nn

from logodet.models.dense import dense_model
from logodet.models.profile import count_parameters, gflops, measure_latency, profile_models
from logodet.models.zoo import build_model


def test_count_parameters_is_the_hand_count():
    assert count_parameters(nn.Linear(3, 2)) == 3 * 2 + 2
    shared = nn.Linear(4, 4)
    assert count_parameters(nn.Sequential(shared, nn.ReLU(), shared)) == 20  # a shared layer counts once
    model = build_model("fcos_efficientnet_lite0", num_classes=3, weights="none")
    for p in model.backbone.body.parameters():
        p.requires_grad_(False)  # frozen parameters still count
    assert count_parameters(model) == sum(p.numel() for p in model.parameters()) == 3_400_840


def test_gflops_difference_between_heads_is_the_hand_count():
    """RetinaNet lite0 and FCOS lite0 share backbone, FPN and tower widths; only their output convs differ.

    At 128 px with K=2 the pyramid has 16² + 8² + 4² + 2² + 1² = 341 locations; each 3x3 conv over 64 input
    channels costs 2 * 64 * 9 FLOPs per output value. RetinaNet outputs 9 * (K + 4) = 54 values per location,
    FCOS K + 4 + 1 = 7 (towers: 6 convs each, the same in both).
    """
    retina = gflops(build_model("retinanet_efficientnet_lite0", num_classes=2, weights="none"), 128)
    fcos = gflops(build_model("fcos_efficientnet_lite0", num_classes=2, weights="none"), 128)
    assert (retina - fcos) * 1e9 == pytest.approx(341 * 2 * 64 * 9 * (54 - 7), abs=1)


def test_gflops_grow_with_backbone_and_input_size():
    small = gflops(build_model("fcos_efficientnet_lite0", num_classes=2, weights="none"), 128)
    large = gflops(build_model("fcos_efficientnet_lite2", num_classes=2, weights="none"), 128)
    assert 0.1 < small < large
    dense = dense_model(build_model("fcos_efficientnet_lite0", num_classes=2, weights="none"), 256)
    assert gflops(dense, 256) == pytest.approx(4 * small, rel=1e-6)  # every conv output has 4x the pixels
    with pytest.raises(ValueError, match="built for 256 px"):
        gflops(dense, 128)


def test_measure_latency_reports_median_and_p90_and_restores_threads():
    dense = dense_model(build_model("fcos_efficientnet_lite0", num_classes=2, weights="none").train(), 64)
    threads = torch.get_num_threads()
    lat = measure_latency(dense, 64, runs=3, warmup=1, threads=1)
    assert set(lat) == {"median_ms", "p90_ms"} and 0 < lat["median_ms"] <= lat["p90_ms"]
    assert torch.get_num_threads() == threads
    assert dense.training  # the model's own mode is left as it was
    with pytest.raises(ValueError, match="runs"):
        measure_latency(dense, 64, runs=0)
    with pytest.raises(ValueError, match="threads"):
        measure_latency(dense, 64, threads=0)


def test_profile_models_rows():
    names = ["fcos_efficientnet_lite0", "retinanet_efficientnet_lite0"]
    rows = profile_models(names, [64, 96], runs=1, warmup=0, num_classes=5)
    assert [r["name"] for r in rows] == names
    for row in rows:
        model = build_model(row["name"], num_classes=5, weights="none")
        assert row["params"] == sum(p.numel() for p in model.parameters())
        assert row["gflops_64"] == pytest.approx(gflops(model, 64))
        assert row["gflops_96"] > row["gflops_64"]
        assert 0 < row["latency_median_ms_64"] <= row["latency_p90_ms_64"]
        assert row["backbone"] == "efficientnet_lite0" and row["pretrained"] is True and row["fpn_channels"] == 64
    assert rows[0]["head"] == "fcos" and rows[1]["head"] == "retinanet"
    (no_latency,) = profile_models(names[:1], [64], latency=False)
    assert not any(k.startswith("latency") for k in no_latency)


@pytest.mark.parametrize(("sizes", "match"), [([], "empty"), ([100], "multiples of 32"), ([0], "multiples of 32")])
def test_profile_models_rejects_bad_sizes(sizes, match):
    with pytest.raises(ValueError, match=match):
        profile_models(["fcos_efficientnet_lite0"], sizes, latency=False)


def test_profile_models_rejects_unknown_names():
    with pytest.raises(KeyError, match="unknown model"):
        profile_models(["nope"], [64], latency=False)
