"""Perceptual hashes: stable under resizing and re-encoding, far apart for different photos; grouping is transitive."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from logodet.datasets.phash import hamming, near_duplicate_groups, near_duplicate_pairs, phash, phash_file
from logodet.io import ImageReadError


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]


@pytest.mark.parametrize("name", ["astronaut", "chelsea", "coffee"])
def test_copies_stay_close_and_other_photos_far(name):
    img = getattr(data, name)()
    h = phash(img)
    assert hamming(h, phash(cv2.resize(img, (img.shape[1] // 3, img.shape[0] // 3)))) <= 2
    assert hamming(h, phash(_jpeg(img, 40))) <= 8
    others = [getattr(data, o)() for o in ("astronaut", "chelsea", "coffee") if o != name]
    assert all(hamming(h, phash(o)) >= 20 for o in others)


def test_grey_and_colour_give_the_same_hash():
    img = data.astronaut()
    assert phash(img) == phash(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))


def test_phash_file_names_a_corrupt_file(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageReadError, match=r"broken\.jpg"):
        phash_file(bad)
    good = tmp_path / "cat.png"
    cv2.imwrite(str(good), data.chelsea()[..., ::-1])
    assert phash_file(good) == phash(data.chelsea())


def test_pairs_and_groups_are_transitive_and_ordered():
    hashes = [0b0, 0b111, 0xFFFF_FFFF_FFFF_FFFF, 0b111111, 0xFFFF_FFFF_FFFF_FFF0]
    assert near_duplicate_pairs(hashes, max_distance=3) == [(0, 1, 3), (1, 3, 3)]
    # 0-1 and 1-3 are within 3 bits, 0-3 is not: still one group
    assert near_duplicate_groups(hashes, max_distance=3) == [0, 0, 1, 0, 2]
    assert near_duplicate_groups(hashes, max_distance=4) == [0, 0, 1, 0, 1]
    assert near_duplicate_groups([]) == []


def test_pairs_across_chunks():
    rng = np.random.default_rng(0)
    hashes = [int(v) for v in rng.integers(0, 2**63, 50, dtype=np.int64)]
    hashes[49] = hashes[3] ^ 0b1
    assert (3, 49, 1) in near_duplicate_pairs(hashes, max_distance=1, chunk=7)
    assert near_duplicate_pairs(hashes, max_distance=1, chunk=7) == near_duplicate_pairs(hashes, max_distance=1)
