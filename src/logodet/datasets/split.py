"""Train/val/test splits, k-fold, few-shot subsets, and writing splits as dataset folders.

Every split function is pure: it returns image indices (sorted, into ``dataset.images``)
and is deterministic for a seed. Stratification is multi-label *iterative
stratification* (Sechidis, Tsoumakas and Vlahavas, ECML PKDD 2011): the images of
the label with the fewest unassigned images go first, each to the split that most
lacks that label; a split that has no image of a label yet is served first, so a
class with at least one image per split reaches every split that has room.
Images without boxes are spread by ratio afterwards. Split sizes are whole
numbers within one image of ``ratio * N`` (largest remainders), enforced as
capacities, so without groups the sizes are exact.

With ``groups`` (a label per image, e.g. from :func:`near_duplicate_groups_of`)
the unit of assignment is the group: images sharing a group never straddle splits.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import warnings
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from logodet.datasets.formats._files import check_image_mode, place_image
from logodet.datasets.formats.coco import save_coco
from logodet.datasets.phash import near_duplicate_groups, phash_file
from logodet.io import atomic_write_json
from logodet.types import DetectionDataset

__all__ = [
    "DEFAULT_RATIOS",
    "class_counts",
    "few_shot",
    "few_shot_split",
    "kfold",
    "near_duplicate_groups_of",
    "scarce_classes",
    "split_dataset",
    "subset",
    "write_dataset",
    "write_splits",
]

DEFAULT_RATIOS: dict[str, float] = {"train": 0.8, "val": 0.1, "test": 0.1}


def _check_ratios(ratios: Mapping[str, float]) -> dict[str, float]:
    if not ratios:
        raise ValueError("ratios: give at least one split, e.g. {'train': 0.8, 'val': 0.2}")
    out: dict[str, float] = {}
    for name, r in ratios.items():
        if not isinstance(name, str) or not name or name.startswith("/") or ".." in PurePosixPath(name).parts:
            raise ValueError(f"ratios: split name {name!r} must be a non-empty relative name")
        if not isinstance(r, (int, float)) or isinstance(r, bool) or not math.isfinite(r) or r < 0:
            raise ValueError(f"ratios[{name!r}]: expected a number >= 0, got {r!r}")
        out[name] = float(r)
    total = sum(out.values())
    if abs(total - 1.0) > 1e-3:
        raise ValueError(f"ratios: must sum to 1, got {total:.4g} for {out}")
    return out


def _targets(ratios: Sequence[float], n: int) -> np.ndarray:
    """Whole split sizes summing to ``n``, each within one of ``ratio * n`` (largest remainder)."""
    exact = np.asarray(ratios, float) * n
    base = np.floor(exact + 1e-9).astype(int)
    order = np.argsort(-(exact - base), kind="stable")
    base[order[: n - int(base.sum())]] += 1
    return base


def _units(dataset: DetectionDataset, groups: Sequence[Hashable] | None) -> list[list[int]]:
    if groups is None:
        return [[i] for i in range(len(dataset))]
    if len(groups) != len(dataset):
        raise ValueError(f"groups: expected one group per image ({len(dataset)}), got {len(groups)}")
    index: dict[Hashable, int] = {}
    units: list[list[int]] = []
    for i, g in enumerate(groups):
        if g not in index:
            index[g] = len(units)
            units.append([])
        units[index[g]].append(i)
    return units


def _image_labels(dataset: DetectionDataset) -> np.ndarray:
    """``[N, K]`` 0/1: image ``i`` holds a box of class ``k``."""
    labels = np.zeros((len(dataset), dataset.num_classes), np.int64)
    for i, rec in enumerate(dataset.images):
        for a in rec.annotations:
            labels[i, a.category] = 1
    return labels


def _assign(units: list[list[int]], labels: np.ndarray, ratios: Sequence[float], rng: np.random.Generator, stratify: bool) -> np.ndarray:
    """The split of each unit (iterative stratification under per-split image capacities)."""
    n_splits = len(ratios)
    ratio = np.asarray(ratios, float)
    cap = _targets(ratio, int(labels.shape[0])).astype(float)
    sizes = np.array([len(u) for u in units], float)
    unit_labels = np.stack([labels[u].sum(0) for u in units]) if units else np.zeros((0, labels.shape[1]), np.int64)
    if not stratify:
        unit_labels = np.zeros_like(unit_labels)
    active = ratio > 0
    want = ratio[:, None] * unit_labels.sum(0)[None, :]
    have = np.zeros_like(want)
    present = unit_labels > 0
    remaining = present.sum(0)
    coverable = remaining >= active.sum()
    split_of = np.full(len(units), -1)

    def choose(u: int, label: int | None) -> int:
        fits = active & (cap >= sizes[u])
        if not fits.any():
            fits = active & (cap > 0) if (active & (cap > 0)).any() else active
        cand = fits
        keys = [rng.random(n_splits), cap]
        if label is not None:
            lacking = cand & (have[:, label] == 0)
            if coverable[label] and lacking.any():
                cand = lacking
            keys.append(want[:, label] - have[:, label])
        order = np.lexsort(keys)[::-1]  # last key is primary; highest first
        return int(next(j for j in order if cand[j]))

    def put(u: int, j: int) -> None:
        split_of[u] = j
        cap[j] -= sizes[u]
        have[j] += unit_labels[u]
        remaining[present[u]] -= 1

    while (remaining > 0).any():
        rarest = np.flatnonzero(remaining == remaining[remaining > 0].min())
        label = int(rarest[rng.integers(len(rarest))])
        for u in rng.permutation(np.flatnonzero(present[:, label] & (split_of < 0))):
            put(int(u), choose(int(u), label))
    rest = np.flatnonzero(split_of < 0)
    rest = rest[rng.permutation(len(rest))]
    for u in rest[np.argsort(-sizes[rest], kind="stable")]:
        put(int(u), choose(int(u), None))
    return split_of


def split_dataset(
    dataset: DetectionDataset,
    ratios: Mapping[str, float] | None = None,
    seed: int = 0,
    stratify: bool = True,
    groups: Sequence[Hashable] | None = None,
) -> dict[str, list[int]]:
    """Split image indices into named parts, stratified by class and group-aware.

    Args:
        dataset: the dataset to split.
        ratios: split name -> fraction, summing to 1 (default ``train 0.8, val 0.1, test 0.1``).
        seed: seed of every random choice; the same seed gives the same split.
        stratify: balance each class across splits (multi-label iterative stratification).
        groups: a group label per image; images of one group land in the same split.

    Returns:
        Split name -> sorted image indices; every image is in exactly one split.

    Example:
        >>> from logodet.types import Annotation, ImageRecord
        >>> recs = [ImageRecord(f"{i}.jpg", 8, 8, [Annotation((0, 0, 4, 4), i % 2)]) for i in range(10)]
        >>> parts = split_dataset(DetectionDataset(["a", "b"], recs), {"train": 0.6, "val": 0.4})
        >>> len(parts["train"]), len(parts["val"])
        (6, 4)
    """
    ratios = _check_ratios(DEFAULT_RATIOS if ratios is None else ratios)
    units = _units(dataset, groups)
    split_of = _assign(units, _image_labels(dataset), list(ratios.values()), np.random.default_rng(seed), stratify)
    parts: dict[str, list[int]] = {name: [] for name in ratios}
    names = list(ratios)
    for u, j in zip(units, split_of.tolist(), strict=True):
        parts[names[j]].extend(u)
    return {name: sorted(idx) for name, idx in parts.items()}


def kfold(
    dataset: DetectionDataset, k: int = 5, seed: int = 0, stratify: bool = True, groups: Sequence[Hashable] | None = None
) -> list[tuple[list[int], list[int]]]:
    """``k`` (train, val) index pairs; every image is in exactly one val fold.

    Folds are stratified and group-aware as in :func:`split_dataset`.

    Raises:
        ValueError: ``k < 2`` or fewer images (groups) than folds.

    Example:
        >>> from logodet.types import ImageRecord
        >>> folds = kfold(DetectionDataset([], [ImageRecord(f"{i}.jpg", 8, 8) for i in range(6)]), k=3)
        >>> sorted(i for _, val in folds for i in val)
        [0, 1, 2, 3, 4, 5]
    """
    if k < 2:
        raise ValueError(f"kfold: k must be >= 2, got {k}")
    n_units = len(_units(dataset, groups))
    if n_units < k:
        raise ValueError(f"kfold: {n_units} {'groups' if groups is not None else 'images'} cannot fill {k} folds")
    parts = split_dataset(dataset, {f"fold_{i}": 1.0 / k for i in range(k)}, seed=seed, stratify=stratify, groups=groups)
    folds = list(parts.values())
    return [(sorted(i for j, f in enumerate(folds) if j != v for i in f), folds[v]) for v in range(k)]


def near_duplicate_groups_of(dataset: DetectionDataset, max_distance: int = 8) -> list[int]:
    """A group per image: images whose perceptual hashes are within ``max_distance`` bits share one.

    Pass the result as ``groups=`` so near-duplicates never straddle splits.

    Raises:
        ImageReadError: an image cannot be read (the message names the file).
    """
    return near_duplicate_groups([phash_file(dataset.image_path(r)) for r in dataset.images], max_distance)


def class_counts(dataset: DetectionDataset, indices: Sequence[int] | None = None) -> list[int]:
    """Images holding each class, among ``indices`` (default: all images)."""
    labels = _image_labels(dataset)
    if indices is not None:
        labels = labels[list(indices)]
    return labels.sum(0).astype(int).tolist()


def scarce_classes(dataset: DetectionDataset, shots: int) -> dict[str, int]:
    """Classes with fewer than ``shots`` annotated images: name -> images available."""
    return {n: c for n, c in zip(dataset.class_names, class_counts(dataset), strict=True) if c < shots}


def few_shot(dataset: DetectionDataset, shots: int = 5, seed: int = 0) -> list[int]:
    """Sorted image indices giving every class at least ``shots`` annotated images, with few images overall.

    Greedy: the class with the fewest candidate images goes first, and among its
    images the one that serves the most still-needed classes is taken (ties in a
    seeded random order). Classes with fewer than ``shots`` images get all of
    them, with a ``UserWarning`` naming them (see :func:`scarce_classes`).

    Example:
        >>> from logodet.types import Annotation, ImageRecord
        >>> box = (0, 0, 4, 4)
        >>> recs = [ImageRecord("ab.jpg", 8, 8, [Annotation(box, 0), Annotation(box, 1)]),
        ...         ImageRecord("a.jpg", 8, 8, [Annotation(box, 0)]), ImageRecord("b.jpg", 8, 8, [Annotation(box, 1)])]
        >>> few_shot(DetectionDataset(["a", "b"], recs), shots=1)
        [0]
    """
    if shots < 1:
        raise ValueError(f"few_shot: shots must be >= 1, got {shots}")
    scarce = scarce_classes(dataset, shots)
    if scarce:
        listed = ", ".join(f"{n} ({c})" for n, c in scarce.items())
        warnings.warn(f"few_shot: fewer than {shots} images of {listed}; taking all of them", UserWarning, stacklevel=2)
    labels = _image_labels(dataset).astype(bool)
    rank = np.random.default_rng(seed).permutation(len(dataset))
    need = np.minimum(labels.sum(0), shots)
    free = np.ones(len(dataset), bool)
    avail = labels.sum(0)
    chosen: list[int] = []
    while (need > 0).any():
        needed = np.flatnonzero(need > 0)
        c = int(needed[np.argmin(avail[needed])])
        cand = np.flatnonzero(labels[:, c] & free)
        gain = (labels[cand] & (need > 0)).sum(1)
        best = int(cand[np.lexsort((rank[cand], -gain))[0]])
        chosen.append(best)
        free[best] = False
        avail[labels[best]] -= 1
        need[labels[best]] = np.maximum(need[labels[best]] - 1, 0)
    return sorted(chosen)


def few_shot_split(
    dataset: DetectionDataset,
    shots: int,
    ratios: Mapping[str, float] | None = None,
    seed: int = 0,
    stratify: bool = True,
    groups: Sequence[Hashable] | None = None,
) -> dict[str, list[int]]:
    """A few-shot training split plus held-out splits of the remaining images.

    The first split of ``ratios`` gets :func:`few_shot` images; the others share
    the remaining images in proportion to their ratios (stratified as in
    :func:`split_dataset`), or they all go to ``"rest"`` when ``ratios`` names one
    split. With ``groups``, images sharing a group with a few-shot image are left
    out of every split, so no near-duplicate of a training image is evaluated.
    """
    ratios = _check_ratios(DEFAULT_RATIOS if ratios is None else ratios)
    names = list(ratios)
    train = few_shot(dataset, shots, seed)
    taken = set(train)
    if groups is not None:
        if len(groups) != len(dataset):
            raise ValueError(f"groups: expected one group per image ({len(dataset)}), got {len(groups)}")
        used = {groups[i] for i in train}
        taken |= {i for i, g in enumerate(groups) if g in used}
    rest = [i for i in range(len(dataset)) if i not in taken]
    others = {n: ratios[n] for n in names[1:]}
    total = sum(others.values())
    if not others or total <= 0:
        return {names[0]: train, "rest": rest}
    part = split_dataset(
        subset(dataset, rest),
        {n: r / total for n, r in others.items()},
        seed=seed,
        stratify=stratify,
        groups=None if groups is None else [groups[i] for i in rest],
    )
    return {names[0]: train, **{n: [rest[i] for i in idx] for n, idx in part.items()}}


def subset(dataset: DetectionDataset, indices: Sequence[int]) -> DetectionDataset:
    """A copy of ``dataset`` holding only the images at ``indices`` (in that order); the input is not modified.

    Example:
        >>> from logodet.types import ImageRecord
        >>> ds = DetectionDataset(["a"], [ImageRecord(f"{i}.jpg", 8, 8) for i in range(3)])
        >>> [r.file_name for r in subset(ds, [2, 0]).images]
        ['2.jpg', '0.jpg']
    """
    idx = [int(i) for i in indices]
    seen: set[int] = set()
    for i in idx:
        if not 0 <= i < len(dataset):
            raise ValueError(f"subset: index {i} is outside the {len(dataset)} images")
        if i in seen:
            raise ValueError(f"subset: index {i} appears more than once")
        seen.add(i)
    return dataclasses.replace(dataset, class_names=list(dataset.class_names), images=[copy.deepcopy(dataset.images[i]) for i in idx])


def _roots(dataset: DetectionDataset) -> list[Path]:
    """Folders holding the dataset's sources (a merged dataset names several)."""
    roots = getattr(dataset, "source_roots", None)
    if roots:
        return [Path(r).resolve() for r in roots]
    if dataset.image_dir is None:
        return []
    d = Path(dataset.image_dir).resolve()
    return [d.parent if d.name == "images" else d]


def _refuse_overlap(folder: Path, roots: Sequence[Path]) -> None:
    target = folder.resolve()
    for root in roots:
        if target.is_relative_to(root) or root.is_relative_to(target):
            raise ValueError(f"{folder}: output folder overlaps the source dataset folder {root}; write the output elsewhere")


def write_dataset(dataset: DetectionDataset, out_dir: str | Path, images: str = "symlink") -> Path:
    """Write ``dataset`` as a COCO folder: ``out_dir/annotations.json`` and ``out_dir/images/``.

    Images keep their sub-folders and are placed by ``images`` (``symlink``, ``copy``
    or ``none``); annotations are written atomically after the images. The
    output folder must not overlap the source dataset's folder.

    Returns:
        The path of the written ``annotations.json``.
    """
    out_dir = Path(out_dir)
    check_image_mode(images)
    _refuse_overlap(out_dir, _roots(dataset))
    img_dir = out_dir / "images"
    for rec in dataset.images:
        rel = PurePosixPath(rec.file_name)
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(f"{rec.file_name}: image file name must be relative to images/ without '..'")
        if images != "none":
            if dataset.image_dir is None and not getattr(dataset, "source_paths", None):
                raise ValueError(f"{out_dir}: the dataset has no image folder to place images from; use images='none'")
            place_image(dataset.image_path(rec), img_dir / rel, images)
    out = DetectionDataset(list(dataset.class_names), dataset.images, img_dir)
    return save_coco(out, out_dir)


def write_splits(
    dataset: DetectionDataset,
    splits: Mapping[str, Sequence[int]],
    out_dir: str | Path,
    images: str = "symlink",
    *,
    seed: int | None = None,
    ratios: Mapping[str, float] | None = None,
    method: str = "split",
) -> Path:
    """Write each split as ``out_dir/<name>/`` (annotations.json + images/) and ``out_dir/splits.json``.

    Split names may hold ``/`` (``fold_0/train``). ``splits.json`` records
    ``method``, ``seed``, ``ratios`` and the file names of each split.

    Raises:
        ValueError: ``out_dir`` (or a split folder) overlaps the source dataset folder, or a bad split name.

    Returns:
        The path of ``splits.json``.
    """
    out_dir = Path(out_dir)
    check_image_mode(images)
    roots = _roots(dataset)
    _refuse_overlap(out_dir, [r for r in roots if not r.is_relative_to(out_dir.resolve())])
    for name in splits:
        _check_ratios({name: 1.0})
        _refuse_overlap(out_dir / name, roots)
    for name, idx in splits.items():
        write_dataset(subset(dataset, idx), out_dir / name, images)
    info = {
        "method": method,
        "seed": seed,
        "ratios": dict(ratios) if ratios is not None else None,
        "counts": {name: len(idx) for name, idx in splits.items()},
        "splits": {name: [dataset.images[i].file_name for i in idx] for name, idx in splits.items()},
    }
    path = out_dir / "splits.json"
    atomic_write_json(path, info, indent=1)
    return path
