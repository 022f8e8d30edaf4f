"""Binary masks: COCO run-length encoding, tight boxes and areas.

The RLE here is the one COCO uses: runs counted in column-major (Fortran)
order starting with a run of zeros, compressed into an ASCII string with
pycocotools' LEB128-like scheme. ``rle_encode(m)["counts"].encode()`` equals
``pycocotools.mask.encode(np.asfortranarray(m.astype(np.uint8)))["counts"]``
byte for byte; pycocotools itself is not needed at run time.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mask_area", "mask_to_bbox", "rle_area", "rle_decode", "rle_encode", "rle_to_bbox"]


def _runs(mask: np.ndarray) -> np.ndarray:
    """Run lengths of ``mask`` in column-major order, the first run counting zeros.

    Only the mask's bounding box is scanned: padded with a zero row above and
    below, each of its columns starts and ends with 0, so every value change in
    it is a value change of the full column-major sequence (except at seams of
    full-height columns, handled below).
    """
    mask = np.asarray(mask, dtype=bool)
    h, w = mask.shape
    n = h * w
    box = mask_to_bbox(mask)
    if box is None:
        return np.array([n], np.int64)
    x0, y0, x1, y1 = box
    ch = y1 - y0
    padded = np.zeros((ch + 2, x1 - x0), bool)
    padded[1:-1] = mask[y0:y1, x0:x1]
    flat = padded.ravel(order="F")
    starts = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    col, row = np.divmod(starts, ch + 2)
    pos = (x0 + col) * h + (y0 - 1 + row)
    if ch == h:  # full-height columns: a run may continue into the next column; drop the end/start pair at the seam
        seam = np.flatnonzero(pos[1:] == pos[:-1])
        if seam.size:
            pos = np.delete(pos, np.concatenate((seam, seam + 1)))
    pos = pos[pos < n]  # a run ending at the last pixel ends the sequence; no change follows it
    return np.diff(np.concatenate(([0], pos, [n]))).astype(np.int64)


def _counts_to_string(counts: np.ndarray) -> str:
    """pycocotools' ``rleToString``, vectorised: delta-code counts, then 5-bit groups with a continuation bit."""
    x = counts.astype(np.int64).copy()
    if len(x) > 3:
        x[3:] -= counts[1:-2]
    width = int(np.abs(x).max()).bit_length() // 5 + 2  # enough 5-bit groups for the largest value and its sign
    shifts = np.arange(width, dtype=np.int64) * 5
    groups = (x[:, None] >> shifts) & 0x1F
    rest = x[:, None] >> (shifts + 5)
    more = np.where(groups & 0x10, rest != -1, rest != 0)
    n_groups = np.argmin(more, axis=1) + 1  # first group after which nothing is left
    j = np.arange(width)[None, :]
    chars = groups + 48 + np.where(j < n_groups[:, None] - 1, 0x20, 0)
    return chars[j < n_groups[:, None]].astype(np.uint8).tobytes().decode("ascii")


def _string_to_counts(s: str | bytes) -> list[int]:
    data = s.encode("ascii") if isinstance(s, str) else bytes(s)
    cnts: list[int] = []
    p, n = 0, len(data)
    while p < n:
        x, k, more = 0, 0, True
        while more:
            if p >= n:
                raise ValueError("RLE counts string ends in the middle of a number")
            c = data[p] - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(cnts) > 2:
            x += cnts[-2]
        cnts.append(x)
    return cnts


def rle_encode(mask: np.ndarray) -> dict:
    """COCO compressed RLE of a 2-D mask, JSON-ready (``counts`` is a ``str``).

    Args:
        mask: ``[H, W]`` array; non-zero pixels are foreground.

    Returns:
        ``{"size": [H, W], "counts": str}``.

    Example:
        >>> rle_encode(np.array([[0, 1], [1, 1]], bool))
        {'size': [2, 2], 'counts': '13'}
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"rle_encode: expected a 2-D mask, got shape {list(mask.shape)}")
    h, w = mask.shape
    return {"size": [int(h), int(w)], "counts": _counts_to_string(_runs(mask))}


def _rle_counts(rle: dict) -> tuple[int, int, list[int]]:
    try:
        h, w = (int(v) for v in rle["size"])
        counts = rle["counts"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"RLE must be a dict with 'size' [h, w] and 'counts', got {rle!r:.80}") from exc
    cnts = [int(c) for c in counts] if isinstance(counts, list) else _string_to_counts(counts)
    if any(c < 0 for c in cnts) or sum(cnts) != h * w:
        raise ValueError(f"RLE counts do not add up to the {h}x{w} mask size")
    return h, w, cnts


def rle_decode(rle: dict) -> np.ndarray:
    """Decode a COCO RLE (compressed ``str``/``bytes`` counts or a list of counts).

    Returns:
        ``bool [H, W]`` mask.

    Example:
        >>> rle_decode({"size": [2, 2], "counts": "13"}).astype(int).tolist()
        [[0, 1], [1, 1]]
    """
    h, w, cnts = _rle_counts(rle)
    values = np.zeros(len(cnts), bool)
    values[1::2] = True
    flat = np.repeat(values, cnts)
    return flat.reshape((w, h)).T.copy()


def rle_area(rle: dict) -> int:
    """Foreground pixel count of an RLE without decoding it.

    Example:
        >>> rle_area({"size": [2, 2], "counts": "13"})
        3
    """
    _, _, cnts = _rle_counts(rle)
    return int(sum(cnts[1::2]))


def mask_area(mask: np.ndarray) -> int:
    """Foreground pixel count of a mask.

    Example:
        >>> mask_area(np.eye(3, dtype=bool))
        3
    """
    return int(np.count_nonzero(mask))


def mask_to_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Tight ``xyxy`` box of a mask with exclusive right/bottom edges.

    ``x2 = last foreground column + 1``, so ``x2 - x1`` is the box width in
    pixels, matching COCO's ``toBbox``. An empty mask has no box.

    Example:
        >>> m = np.zeros((4, 5), bool); m[1:3, 2] = True
        >>> mask_to_bbox(m)
        (2, 1, 3, 3)
        >>> mask_to_bbox(np.zeros((2, 2), bool)) is None
        True
    """
    mask = np.asarray(mask, dtype=bool)
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size == 0:
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def rle_to_bbox(rle: dict) -> tuple[int, int, int, int] | None:
    """Tight exclusive ``xyxy`` box of an RLE mask (``None`` when empty).

    Example:
        >>> rle_to_bbox({"size": [2, 2], "counts": "13"})
        (0, 0, 2, 2)
    """
    return mask_to_bbox(rle_decode(rle))
