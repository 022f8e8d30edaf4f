"""Annotation quality: agreement between annotators and scores against gold labels.

Several annotators label the same images (matched by file name; classes by name).
For a pair of annotators, boxes are matched one to one per image: same class and
IoU >= ``iou``, greedily by IoU, highest first. Their *agreement* is the F1 of one
against the other, ``2 * matched / (boxes of A + boxes of B)``, overall and per
class, with the mean IoU of the matched boxes. *Presence kappa* asks, for every
(image, class) pair, whether each annotator marked the class present: Cohen's
kappa for each pair, Fleiss' kappa across all annotators when there are three or
more. Values that are undefined (no boxes at all, or kappa with one answer
throughout) are ``None``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from logodet.types import DetectionDataset, ImageRecord

__all__ = ["AgreementReport", "PairAgreement", "annotator_agreement", "cohen_kappa", "fleiss_kappa", "match_boxes", "score_against_gold"]


def cohen_kappa(a: Sequence, b: Sequence) -> float | None:
    """Cohen's kappa of two raters' labels of the same items; ``None`` when chance agreement is 1.

    Example:
        >>> # 50 items: both yes 20, only A yes 5, only B yes 10, both no 15 -> po 0.7, pe 0.5
        >>> cohen_kappa([1] * 25 + [0] * 25, [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15)
        0.4
    """
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa: {len(a)} and {len(b)} labels; expected the same items")
    if not len(a):
        return None
    cats = sorted(set(a) | set(b), key=str)
    index = {c: i for i, c in enumerate(cats)}
    table = np.zeros((len(cats), len(cats)))
    for x, y in zip(a, b, strict=True):
        table[index[x], index[y]] += 1
    table /= table.sum()
    po = float(np.trace(table))
    pe = float(table.sum(1) @ table.sum(0))
    return None if pe >= 1 - 1e-12 else round((po - pe) / (1 - pe), 12)


def fleiss_kappa(counts: np.ndarray | Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa from an ``[items, categories]`` table of how many raters chose each category.

    Every item must have the same number of raters (at least two). ``None`` when
    chance agreement is 1 (one category throughout) or there are no items.

    Example:
        >>> round(fleiss_kappa([[2, 0], [0, 2], [1, 1]]), 4)
        0.3333
    """
    t = np.asarray(counts, float)
    if t.ndim != 2:
        raise ValueError(f"fleiss_kappa: expected an [items, categories] table, got shape {list(t.shape)}")
    if not len(t):
        return None
    n = t.sum(1)
    if np.any(n != n[0]) or n[0] < 2:
        raise ValueError("fleiss_kappa: every item needs the same number of raters, at least two")
    r = n[0]
    p_item = ((t * t).sum(1) - r) / (r * (r - 1))
    p_cat = t.sum(0) / t.sum()
    pe = float((p_cat**2).sum())
    return None if pe >= 1 - 1e-12 else round((float(p_item.mean()) - pe) / (1 - pe), 12)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_boxes(boxes_a: np.ndarray, classes_a: Sequence[int], boxes_b: np.ndarray, classes_b: Sequence[int], iou: float = 0.5) -> list:
    """One-to-one matches ``(i, j, iou)`` of same-class boxes with IoU >= ``iou``, greedy by IoU (highest first).

    Example:
        >>> match_boxes(np.array([[0, 0, 10, 10]]), [0], np.array([[0, 0, 10, 8], [0, 0, 10, 10]]), [0, 0])
        [(0, 1, 1.0)]
    """
    a, b = np.asarray(boxes_a, float).reshape(-1, 4), np.asarray(boxes_b, float).reshape(-1, 4)
    if not len(a) or not len(b):
        return []
    m = _iou(a, b)
    m[np.asarray(classes_a)[:, None] != np.asarray(classes_b)[None, :]] = -1.0
    rows, cols = np.nonzero(m >= iou)
    order = np.lexsort((cols, rows, -m[rows, cols]))
    used_a, used_b, out = set(), set(), []
    for k in order.tolist():
        i, j = int(rows[k]), int(cols[k])
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            out.append((i, j, float(m[i, j])))
    return out


def _by_file(name: str, ds: DetectionDataset) -> dict[str, ImageRecord]:
    out: dict[str, ImageRecord] = {}
    for rec in ds.images:
        if rec.file_name in out:
            raise ValueError(f"{name}: file name {rec.file_name!r} appears more than once")
        out[rec.file_name] = rec
    return out


def _boxes(rec: ImageRecord, names: Sequence[str], classes: list[str]) -> tuple[np.ndarray, list[int]]:
    boxes = np.array([a.bbox for a in rec.annotations], float).reshape(-1, 4)
    return boxes, [classes.index(names[a.category]) for a in rec.annotations]


def _compare(
    a: DetectionDataset, b: DetectionDataset, files: Sequence[str], recs_a: dict, recs_b: dict, classes: list[str], iou: float
) -> np.ndarray:
    """Per-class ``[K, 4]``: matched, unmatched of a, unmatched of b, sum of matched IoU."""
    stats = np.zeros((len(classes), 4))
    for f in files:
        ba, ca = _boxes(recs_a[f], a.class_names, classes)
        bb, cb = _boxes(recs_b[f], b.class_names, classes)
        matches = match_boxes(ba, ca, bb, cb, iou)
        np.add.at(stats[:, 1], ca, 1)
        np.add.at(stats[:, 2], cb, 1)
        for i, _, v in matches:
            stats[ca[i]] += (1, -1, -1, v)
    return stats


def _f1(matched: float, only_a: float, only_b: float) -> float | None:
    total = 2 * matched + only_a + only_b
    return None if total == 0 else float(2 * matched / total)


def _presence(rec: ImageRecord, names: Sequence[str], classes: list[str]) -> np.ndarray:
    p = np.zeros(len(classes), bool)
    for a in rec.annotations:
        p[classes.index(names[a.category])] = True
    return p


@dataclass
class PairAgreement:
    """Agreement of annotators ``a`` and ``b`` on the images both labelled."""

    a: str
    b: str
    images: int
    matched: int
    only_a: int
    only_b: int
    agreement: float | None
    mean_iou: float | None
    kappa: float | None
    per_class: dict[str, dict] = field(default_factory=dict)


@dataclass
class AgreementReport:
    """Pairwise box agreement and presence kappa of several annotators.

    Attributes:
        annotators: annotator names, in input order.
        classes: the union of their class names.
        images: images labelled by every annotator.
        missing: annotator -> file names other annotators labelled but this one did not.
        pairs: one :class:`PairAgreement` per pair of annotators.
        fleiss_kappa: presence kappa across all annotators (three or more), else ``None``.
        iou: the IoU threshold of a match.
    """

    annotators: list[str]
    classes: list[str]
    images: int
    missing: dict[str, list[str]]
    pairs: list[PairAgreement]
    fleiss_kappa: float | None
    iou: float

    def to_dict(self) -> dict:
        """A JSON-ready dictionary."""
        return asdict(self)


def _class_row(s: np.ndarray) -> dict:
    matched, only_a, only_b, iou_sum = s
    return {
        "matched": int(matched),
        "only_a": int(only_a),
        "only_b": int(only_b),
        "agreement": _f1(matched, only_a, only_b),
        "mean_iou": float(iou_sum / matched) if matched else None,
    }


def _check_iou(iou: float) -> None:
    if not 0 < iou <= 1:
        raise ValueError(f"iou: expected a threshold in (0, 1], got {iou}")


def annotator_agreement(datasets: Mapping[str, DetectionDataset], iou: float = 0.5) -> AgreementReport:
    """Agreement of annotators who labelled the same images.

    Args:
        datasets: annotator name -> their dataset; images are matched by file name, classes by name.
        iou: IoU a pair of same-class boxes needs to count as the same object.

    Raises:
        ValueError: fewer than two annotators, a bad threshold, or a file name repeated in one dataset.

    Example:
        >>> from logodet.types import Annotation
        >>> ds = DetectionDataset(["acme"], [ImageRecord("1.jpg", 8, 8, [Annotation((0, 0, 4, 4), 0)])])
        >>> annotator_agreement({"ann": ds, "bob": ds}).pairs[0].agreement
        1.0
    """
    _check_iou(iou)
    names = list(datasets)
    if len(names) < 2:
        raise ValueError(f"annotator_agreement: need at least two annotators, got {len(names)}")
    classes: list[str] = []
    for ds in datasets.values():
        classes += [c for c in ds.class_names if c not in classes]
    recs = {n: _by_file(n, ds) for n, ds in datasets.items()}
    every = list(dict.fromkeys(f for n in names for f in recs[n]))
    missing = {n: [f for f in every if f not in recs[n]] for n in names}
    pairs = []
    for x, y in itertools.combinations(names, 2):
        files = [f for f in every if f in recs[x] and f in recs[y]]
        s = _compare(datasets[x], datasets[y], files, recs[x], recs[y], classes, iou)
        tot = s.sum(0)
        px = np.concatenate([_presence(recs[x][f], datasets[x].class_names, classes) for f in files]) if files else np.zeros(0)
        py = np.concatenate([_presence(recs[y][f], datasets[y].class_names, classes) for f in files]) if files else np.zeros(0)
        pairs.append(
            PairAgreement(
                x,
                y,
                len(files),
                int(tot[0]),
                int(tot[1]),
                int(tot[2]),
                _f1(*tot[:3]),
                float(tot[3] / tot[0]) if tot[0] else None,
                cohen_kappa(px.astype(int).tolist(), py.astype(int).tolist()),
                {c: _class_row(s[k]) for k, c in enumerate(classes) if s[k, :3].any()},
            )
        )
    common = [f for f in every if all(f in recs[n] for n in names)]
    fleiss = None
    if len(names) >= 3 and common and classes:
        present = sum(np.concatenate([_presence(recs[n][f], datasets[n].class_names, classes) for f in common]).astype(int) for n in names)
        fleiss = fleiss_kappa(np.stack([len(names) - present, present], axis=1))
    return AgreementReport(names, classes, len(common), missing, pairs, fleiss, iou)


def _prf(tp: float, fp: float, fn: float, iou_sum: float) -> dict:
    return {
        "tp": int(tp),
        "fp": int(fp),
        "fn": int(fn),
        "precision": float(tp / (tp + fp)) if tp + fp else None,
        "recall": float(tp / (tp + fn)) if tp + fn else None,
        "f1": _f1(tp, fp, fn),
        "mean_iou": float(iou_sum / tp) if tp else None,
    }


def score_against_gold(annotator: DetectionDataset, gold: DetectionDataset, iou: float = 0.5) -> dict:
    """Precision, recall, F1 and mean IoU of an annotator's boxes against gold boxes, overall and per class.

    Images are matched by file name and classes by name; images only one side
    labelled are left out and listed (``missing``: gold images the annotator
    skipped, ``extra``: images not in gold). Per-class rows cover classes with any box.

    Example:
        >>> from logodet.types import Annotation
        >>> gold = DetectionDataset(["acme"], [ImageRecord("1.jpg", 8, 8, [Annotation((0, 0, 4, 4), 0), Annotation((4, 4, 8, 8), 0)])])
        >>> ann = DetectionDataset(["acme"], [ImageRecord("1.jpg", 8, 8, [Annotation((0, 0, 4, 4), 0)])])
        >>> r = score_against_gold(ann, gold)["overall"]
        >>> r["precision"], r["recall"], round(r["f1"], 3)
        (1.0, 0.5, 0.667)
    """
    _check_iou(iou)
    recs_a, recs_g = _by_file("annotator", annotator), _by_file("gold", gold)
    classes = list(gold.class_names) + [c for c in annotator.class_names if c not in gold.class_names]
    files = [f for f in recs_g if f in recs_a]
    s = _compare(annotator, gold, files, recs_a, recs_g, classes, iou)
    return {
        "iou": iou,
        "images": len(files),
        "missing": [f for f in recs_g if f not in recs_a],
        "extra": [f for f in recs_a if f not in recs_g],
        "overall": _prf(*s.sum(0)),
        "per_class": {c: _prf(*s[k]) for k, c in enumerate(classes) if s[k, :3].any()},
    }
