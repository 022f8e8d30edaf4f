"""Merging datasets (e.g. real photos and synthetic images) into one.

Categories are matched by name after an optional rename map; file names that
occur in more than one source get the source's name as a folder prefix
(``real/img1.jpg``), or all do with ``prefix=True``; image ids are renumbered
``1..N`` (source annotation ids are dropped) and each annotation records its
source in ``extra["source"]``.

The merged dataset is a :class:`MergedDataset`: a :class:`DetectionDataset` that
remembers where each image file lives, so ``image_path`` works on it as on any
dataset (and so do :func:`logodet.datasets.split.subset` and ``write_splits``),
and :func:`write_merged` can place images gathered from several folders.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from logodet.datasets.split import write_dataset
from logodet.types import Annotation, DetectionDataset, ImageRecord

__all__ = ["MergedDataset", "dataset_name", "merge_datasets", "write_merged"]


@dataclass
class MergedDataset(DetectionDataset):
    """A dataset whose images come from several folders.

    Attributes:
        source_paths: merged ``file_name`` -> absolute path of the source image.
        source_roots: the source dataset folders (outputs must stay outside them).
        source_names: the name of each merged dataset, in order (as in ``extra["source"]``).
    """

    source_paths: dict[str, Path] = field(default_factory=dict)
    source_roots: list[Path] = field(default_factory=list)
    source_names: list[str] = field(default_factory=list)

    def image_path(self, record: ImageRecord) -> Path:
        """The source image file of ``record``."""
        path = self.source_paths.get(record.file_name)
        if path is None and self.image_dir is None:
            raise ValueError(f"{record.file_name}: its source dataset has no image folder")
        return path if path is not None else super().image_path(record)


def dataset_name(dataset: DetectionDataset, default: str = "dataset") -> str:
    """A short name for a dataset: its folder name (the parent of ``images/``), else ``default``."""
    if dataset.image_dir is None:
        return default
    d = Path(dataset.image_dir)
    return (d.parent.name if d.name == "images" else d.name) or default


def _unique_names(datasets: Sequence[DetectionDataset], names: Sequence[str] | None) -> list[str]:
    if names is None:
        names = [dataset_name(ds, f"dataset{i}") for i, ds in enumerate(datasets)]
    elif len(names) != len(datasets):
        raise ValueError(f"names: expected {len(datasets)} names, one per dataset, got {len(names)}")
    out: list[str] = []
    for i, name in enumerate(names):
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise ValueError(f"names[{i}]: {name!r} is not usable as a folder name")
        unique, k = name, 2
        while unique in out:
            unique, k = f"{name}_{k}", k + 1
        out.append(unique)
    return out


def merge_datasets(
    datasets: Sequence[DetectionDataset],
    names: Sequence[str] | None = None,
    category_map: Mapping[str, str] | None = None,
    prefix: bool = False,
) -> MergedDataset:
    """Merge datasets into one; the inputs are not modified.

    Args:
        datasets: the datasets, in order; categories keep their order of first appearance.
        names: a name per dataset (default: folder names, made unique); used as the
            file-name prefix and stored in each annotation's ``extra["source"]``.
        category_map: renames applied to every dataset's class names before matching,
            e.g. ``{"Coca-Cola": "cocacola"}``; classes renamed to the same name merge.
        prefix: prefix every file name with its dataset name, not only colliding ones.

    Raises:
        ValueError: no datasets, a rename of a class no dataset has, or a file name
            repeated inside one dataset.

    Example:
        >>> a = DetectionDataset(["Coca-Cola"], [ImageRecord("1.jpg", 8, 8, [Annotation((0, 0, 2, 2), 0)])])
        >>> b = DetectionDataset(["pepsi", "cocacola"], [ImageRecord("1.jpg", 8, 8)])
        >>> m = merge_datasets([a, b], names=["real", "synth"], category_map={"Coca-Cola": "cocacola"})
        >>> m.class_names, [r.file_name for r in m.images], m.images[0].annotations[0].extra["source"]
        (['cocacola', 'pepsi'], ['real/1.jpg', 'synth/1.jpg'], 'real')
    """
    if not datasets:
        raise ValueError("merge: give at least one dataset")
    names = _unique_names(datasets, names)
    category_map = dict(category_map or {})
    unused = set(category_map) - {n for ds in datasets for n in ds.class_names}
    if unused:
        raise ValueError(f"category_map: no dataset has a class named {', '.join(repr(n) for n in sorted(unused))}")
    classes: list[str] = []
    for ds in datasets:
        for n in ds.class_names:
            new = category_map.get(n, n)
            if new not in classes:
                classes.append(new)

    seen_in: dict[str, int] = {}
    for name, ds in zip(names, datasets, strict=True):
        own: set[str] = set()
        for rec in ds.images:
            if rec.file_name in own:
                raise ValueError(f"{name}: file name {rec.file_name!r} appears more than once")
            own.add(rec.file_name)
            seen_in[rec.file_name] = seen_in.get(rec.file_name, 0) + 1

    records: list[ImageRecord] = []
    paths: dict[str, Path] = {}
    used: set[str] = set()
    for name, ds in zip(names, datasets, strict=True):
        remap = [classes.index(category_map.get(n, n)) for n in ds.class_names]
        for rec in ds.images:
            file_name = rec.file_name
            if prefix or seen_in[file_name] > 1 or file_name in used:
                file_name = str(PurePosixPath(name) / file_name)
            if file_name in used:
                raise ValueError(f"{name}: file name {rec.file_name!r} collides with {file_name!r} of another dataset even with a prefix")
            used.add(file_name)
            anns = [
                Annotation(
                    a.bbox,
                    remap[a.category],
                    copy.deepcopy(a.segmentation),
                    a.area,
                    a.iscrowd,
                    {**{k: copy.deepcopy(v) for k, v in a.extra.items() if k != "id"}, "source": name},
                )
                for a in rec.annotations
            ]
            records.append(ImageRecord(file_name, rec.width, rec.height, anns, id=len(records) + 1))
            if ds.image_dir is not None:
                paths[file_name] = ds.image_path(rec)
    roots: list[Path] = []
    for ds in datasets:
        if ds.image_dir is not None:
            d = Path(ds.image_dir)
            root = d.parent if d.name == "images" else d
            if root not in roots:
                roots.append(root)
    return MergedDataset(classes, records, None, source_paths=paths, source_roots=roots, source_names=names)


def write_merged(merged: MergedDataset, out_dir: str | Path, images: str = "symlink") -> Path:
    """Write a merged dataset as a COCO folder, gathering images from their source folders.

    ``images`` is ``symlink`` (relative links), ``copy`` or ``none``; ``out_dir``
    must lie outside every source dataset folder.

    Returns:
        The path of the written ``annotations.json``.
    """
    return write_dataset(merged, out_dir, images)
