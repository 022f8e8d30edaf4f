"""Perceptual image hashes and near-duplicate groups.

``phash`` is the DCT hash: the image is reduced to 32x32 grey, its 2-D DCT
taken, and the 8x8 lowest frequencies (DC excluded from the median) give 64
bits, one per coefficient above the median. Re-encoded, resized or slightly
recoloured copies of an image stay within a few bits of each other; unrelated
photos differ in about 32 (a JPEG at quality 40 moves 4-6 bits). ``near_duplicate_groups`` joins every pair within
``max_distance`` bits into one group (union-find), which is what duplicate
checks and group-aware splits need.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from logodet.io import read_rgb

__all__ = [
    "connected_groups",
    "hamming",
    "near_duplicate_edges",
    "near_duplicate_groups",
    "near_duplicate_pairs",
    "phash",
    "phash_file",
]

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def phash(image: np.ndarray) -> int:
    """64-bit DCT perceptual hash of an ``HxWx3`` (or ``HxW``) uint8 image.

    Example:
        >>> from skimage import data
        >>> img = data.astronaut()
        >>> hamming(phash(img), phash(cv2.resize(img, (200, 150)))), hamming(phash(img), phash(data.chelsea()))
        (0, 32)
    """
    if image.ndim == 3:
        grey = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    else:
        grey = image
    small = cv2.resize(grey.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA)
    low = cv2.dct(small)[:8, :8].reshape(-1)
    bits = low > np.median(low[1:])
    return int(np.packbits(bits.astype(np.uint8)).view(">u8")[0])


def phash_file(path: str | Path) -> int:
    """``phash`` of an image file (decoded with logodet's reader; errors name the file)."""
    return phash(read_rgb(path))


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes."""
    return int((int(a) ^ int(b)).bit_count())


def _distances(block: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    x = np.bitwise_xor(block[:, None], hashes[None, :])
    return _POPCOUNT[x.view(np.uint8).reshape(*x.shape, 8)].sum(-1, dtype=np.int32)


def near_duplicate_pairs(hashes: Sequence[int], max_distance: int = 8, chunk: int = 1024) -> list[tuple[int, int, int]]:
    """All pairs ``(i, j, distance)`` with ``i < j`` whose hashes differ in at most ``max_distance`` bits."""
    h = np.array([int(v) & 0xFFFFFFFFFFFFFFFF for v in hashes], np.uint64)
    pairs: list[tuple[int, int, int]] = []
    for start in range(0, len(h), chunk):
        d = _distances(h[start : start + chunk], h)
        rows, cols = np.nonzero(d <= max_distance)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            if i < c:
                pairs.append((i, c, int(d[r, c])))
    return pairs


def near_duplicate_edges(hashes: Sequence[int], max_distance: int = 8, pairwise_limit: int = 4096) -> list[tuple[int, int]]:
    """Pairs that connect every two hashes within ``max_distance`` bits (enough for grouping; not every pair).

    Small sets use :func:`near_duplicate_pairs`. Large ones find candidates by the
    pigeonhole principle: two 64-bit hashes within ``d`` bits agree exactly on at
    least one of ``d + 1`` disjoint bit bands, so only hashes sharing a band value
    are compared. Identical hashes are chained, not paired, to stay linear.
    """
    if len(hashes) <= pairwise_limit or max_distance > 15:
        return [(i, j) for i, j, _ in near_duplicate_pairs(hashes, max_distance)]
    h = np.array([int(v) & 0xFFFFFFFFFFFFFFFF for v in hashes], np.uint64)
    uniq, inverse = np.unique(h, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    same = np.flatnonzero(inverse[order][1:] == inverse[order][:-1])
    edges = list(zip(order[same].tolist(), order[same + 1].tolist(), strict=True))
    rep = np.full(len(uniq), -1, np.int64)
    rep[inverse[::-1]] = np.arange(len(h))[::-1]  # first index holding each unique hash
    bounds = np.linspace(0, 64, max_distance + 2).astype(int)
    for lo, hi in itertools.pairwise(bounds):
        key = (uniq >> np.uint64(lo)) & np.uint64((1 << int(hi - lo)) - 1)
        srt = np.argsort(key, kind="stable")
        ks = key[srt]
        for offset in range(1, len(ks)):  # pairs `offset` apart in sorted order; stops once no bucket is that large
            same = np.flatnonzero(ks[offset:] == ks[:-offset])
            if not same.size:
                break
            i, j = srt[same], srt[same + offset]
            close = np.bitwise_count(uniq[i] ^ uniq[j]) <= max_distance
            edges += list(zip(rep[i[close]].tolist(), rep[j[close]].tolist(), strict=True))
    return edges


def connected_groups(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """The smallest member index of each item's connected component (union-find over ``edges``).

    Example:
        >>> connected_groups(4, [(1, 3), (3, 2)])
        [0, 1, 1, 1]
    """
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in edges:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return [find(i) for i in range(n)]


def near_duplicate_groups(hashes: Sequence[int], max_distance: int = 8) -> list[int]:
    """A group index per hash: images within ``max_distance`` bits (transitively) share a group.

    Groups are numbered ``0..G-1`` in order of their first member, so the result is deterministic.

    Example:
        >>> near_duplicate_groups([0b0, 0b1, 0xFFFF_FFFF_FFFF_FFFF], max_distance=2)
        [0, 0, 1]
    """
    roots = connected_groups(len(hashes), near_duplicate_edges(hashes, max_distance))
    labels: dict[int, int] = {}
    return [labels.setdefault(r, len(labels)) for r in roots]
