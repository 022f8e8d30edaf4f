"""COCO RLE of bool masks: byte-identical to pycocotools, plus tight boxes and areas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pycocotools import mask as coco_mask

from logodet.masks import mask_area, mask_to_bbox, rle_area, rle_decode, rle_encode, rle_to_bbox

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # inside pycocotools.mask.decode


def _reference(mask: np.ndarray) -> dict:
    return coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))


def _check_against_pycocotools(mask: np.ndarray) -> None:
    ours = rle_encode(mask)
    ref = _reference(mask)
    assert ours["size"] == list(ref["size"])
    assert isinstance(ours["counts"], str)
    assert ours["counts"].encode("ascii") == ref["counts"]
    assert np.array_equal(rle_decode(ours), mask.astype(bool))
    assert np.array_equal(coco_mask.decode(ours), mask.astype(np.uint8))
    assert rle_area(ours) == mask_area(mask) == int(coco_mask.area(ref))
    box = mask_to_bbox(mask)
    if box is None:
        assert not mask.any()
    else:
        x, y, w, h = coco_mask.toBbox(ref).tolist()
        assert box == (x, y, x + w, y + h)


def _edge_masks() -> dict[str, np.ndarray]:
    z = np.zeros((7, 5), bool)
    cases = {"empty": z.copy(), "full": ~z, "single_row": np.ones((1, 9), bool), "single_col": np.ones((9, 1), bool)}
    for name, (r, c) in {"first": (0, 0), "last": (6, 4), "top_right": (0, 4), "bottom_left": (6, 0)}.items():
        m = z.copy()
        m[r, c] = True
        cases[f"pixel_{name}"] = m
    m = z.copy()
    m[:, 1:3] = True  # full-height columns: runs continue across the column seam
    cases["full_height_band"] = m
    m = ~z
    m[3, 2] = False
    cases["full_with_hole"] = m
    m = z.copy()
    m[:, -1] = True
    cases["last_column"] = m
    big = np.zeros((300, 400), bool)
    big[10:290, 20:390] = True  # long runs need several 5-bit groups
    big[150, 200] = False
    cases["large_runs"] = big
    return cases


@pytest.mark.parametrize("name", list(_edge_masks()))
def test_edge_masks_match_pycocotools(name: str) -> None:
    _check_against_pycocotools(_edge_masks()[name])


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (1, 1)])
def test_degenerate_shapes(shape: tuple[int, int]) -> None:
    mask = np.zeros(shape, bool)
    assert rle_encode(mask)["counts"].encode() == _reference(mask)["counts"]


@pytest.mark.parametrize("seed", range(6))
def test_random_masks_match_pycocotools(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 80, 2))
    _check_against_pycocotools(rng.random((h, w)) < rng.random())


@settings(max_examples=60, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 24), st.integers(1, 24))))
def test_property_matches_pycocotools(mask: np.ndarray) -> None:
    _check_against_pycocotools(mask)


def test_decode_accepts_bytes_and_uncompressed_counts() -> None:
    mask = np.zeros((4, 3), bool)
    mask[1:3, 1] = True
    rle = rle_encode(mask)
    assert np.array_equal(rle_decode({"size": rle["size"], "counts": rle["counts"].encode()}), mask)
    assert np.array_equal(rle_decode({"size": [4, 3], "counts": [5, 2, 5]}), mask)
    assert rle_area({"size": [4, 3], "counts": [5, 2, 5]}) == 2


@pytest.mark.parametrize("bad", [{"size": [2, 2], "counts": [1, 1]}, {"counts": "13"}, {"size": [2, 2], "counts": "1\x7f"}])
def test_decode_rejects_bad_rle(bad: dict) -> None:
    with pytest.raises(ValueError, match="RLE"):
        rle_decode(bad)


def test_bbox_is_exclusive_and_empty_mask_has_none() -> None:
    mask = np.zeros((10, 12), bool)
    mask[2:5, 3:9] = True
    assert mask_to_bbox(mask) == (3, 2, 9, 5)
    assert rle_to_bbox(rle_encode(mask)) == (3, 2, 9, 5)
    assert mask_to_bbox(np.zeros((3, 3), bool)) is None
    assert rle_encode(np.zeros((3, 3), bool)) == {"size": [3, 3], "counts": "9"}


def test_encode_rejects_non_2d() -> None:
    with pytest.raises(ValueError, match="2-D"):
        rle_encode(np.zeros((2, 2, 2), bool))
