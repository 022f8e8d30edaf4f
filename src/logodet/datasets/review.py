"""Human review round trip: model predictions out as LabelMe files, corrected labels back in.

1. :func:`export_for_review` picks images of a dataset (the most uncertain
   first, a seeded random sample, all, or an explicit list of image ids) and
   writes one LabelMe file per image, next to a copy of the image, with the
   model's predictions at or above ``conf`` as rectangles: the label is the
   class name and the shape's description reads ``score 0.873`` so the
   reviewer sees it. ``review_manifest.json`` maps each review file to its
   dataset image id and file name, and ``labels.txt`` lists the classes.
2. A person corrects the files in LabelMe (moves boxes, deletes false
   positives, adds missed objects, draws polygons).
3. :func:`import_reviewed` reads the corrected files back as a dataset with
   the dataset's image ids; every label must be a known class name.
4. :func:`apply_review` returns a new dataset in which each reviewed image's
   annotations are the reviewer's, and every other image is unchanged.

Image ids and category ids are those :func:`logodet.datasets.formats.coco.dataset_to_coco`
assigns: kept image ids (``1..N`` where missing), category id = class index + 1.
A review file holds the model's predictions only, so a reviewed image ends up
with exactly the objects the reviewer left or drew.

Example:
    >>> export_for_review(load_coco("data/new"), preds, "review", count=50)  # doctest: +SKIP
    >>> # ... correct review/*.json in LabelMe ...
    >>> done = apply_review(load_coco("data/new"), import_reviewed("review"))  # doctest: +SKIP
    >>> save_reviewed_dataset(done, "data/new_reviewed")  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from logodet.datasets.formats._files import check_image_mode, place_image
from logodet.datasets.formats.coco import IMAGES_DIR, dataset_to_coco, save_coco
from logodet.datasets.formats.labelme import LabelMeFormatError, read_labelme_file, save_labelme
from logodet.evaluation.predictions import validate_predictions
from logodet.io import atomic_write_json
from logodet.types import Annotation, DetectionDataset, ImageRecord

__all__ = [
    "MANIFEST_FILE",
    "STRATEGIES",
    "apply_review",
    "export_for_review",
    "image_ids",
    "import_reviewed",
    "save_reviewed_dataset",
    "select_for_review",
]

MANIFEST_FILE = "review_manifest.json"
MANIFEST_FORMAT = "logodet-review"
STRATEGIES = ("uncertain", "random", "all")
_SCORE_NOTE = re.compile(r"^score \d+(\.\d+)?$")


def image_ids(dataset: DetectionDataset) -> list[int]:
    """The image id of each record, in order, as ``dataset_to_coco`` assigns them.

    Example:
        >>> image_ids(DetectionDataset(["a"], [ImageRecord("x.jpg", 8, 8, id=7), ImageRecord("y.jpg", 8, 8)]))
        [7, 8]
    """
    stripped = DetectionDataset(dataset.class_names, [ImageRecord(r.file_name, r.width, r.height, id=r.id) for r in dataset.images])
    return [im["id"] for im in dataset_to_coco(stripped)["images"]]


def _uncertainty_key(scores: list[float]) -> tuple[float, float]:
    """Sort key, smallest first: the score nearest 0.5, then the lowest top score (no predictions: 0.5 and 0)."""
    if not scores:
        return 0.5, 0.0
    return min(abs(s - 0.5) for s in scores), max(scores)


def select_for_review(
    dataset: DetectionDataset,
    predictions: Sequence[dict],
    *,
    select: Iterable[int] | None = None,
    count: int | None = None,
    strategy: str = "uncertain",
    seed: int = 0,
) -> list[int]:
    """The image ids to review, in review order.

    Args:
        dataset: the dataset.
        predictions: validated COCO results (``image_id``, ``score`` used here).
        select: explicit image ids (duplicates dropped); ``strategy`` is then not used.
        count: keep at most this many (default: all).
        strategy: ``"uncertain"`` (the image whose prediction score is nearest 0.5
            first, ties broken by the lowest top score, then dataset order),
            ``"random"`` (a permutation seeded by ``seed``) or ``"all"`` (dataset order).
        seed: seed of the ``"random"`` strategy.

    Raises:
        ValueError: unknown strategy or image id, or a negative count.

    Example:
        >>> ds = DetectionDataset(["a"], [ImageRecord(f"{i}.jpg", 8, 8, id=i) for i in (1, 2, 3)])
        >>> preds = [{"image_id": 1, "score": 0.95}, {"image_id": 2, "score": 0.55}, {"image_id": 3, "score": 0.2}]
        >>> select_for_review(ds, preds, count=2)
        [2, 3]
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy: expected one of {STRATEGIES}, got {strategy!r}")
    if count is not None and count < 0:
        raise ValueError(f"count: must be >= 0, got {count}")
    ids = image_ids(dataset)
    if select is not None:
        known = set(ids)
        chosen = list(dict.fromkeys(int(i) for i in select))
        unknown = [i for i in chosen if i not in known]
        if unknown:
            raise ValueError(f"select: image ids {unknown[:10]} are not in the dataset")
    elif strategy == "all":
        chosen = ids
    elif strategy == "random":
        chosen = [ids[i] for i in np.random.default_rng(seed).permutation(len(ids))]
    else:
        scores: dict[int, list[float]] = {i: [] for i in ids}
        for p in predictions:
            scores[p["image_id"]].append(float(p["score"]))
        chosen = sorted(ids, key=lambda i: _uncertainty_key(scores[i]))
    return chosen if count is None else chosen[:count]


def export_for_review(
    dataset: DetectionDataset,
    predictions: Sequence[dict],
    out_dir: str | Path,
    *,
    select: Iterable[int] | None = None,
    count: int | None = None,
    strategy: str = "uncertain",
    conf: float = 0.25,
    seed: int = 0,
    images: str = "copy",
) -> Path:
    """Write LabelMe files with the model's predictions as pre-annotations for review; returns ``out_dir``.

    Args:
        dataset: the dataset whose images are reviewed (its ``image_dir`` must be set
            unless ``images="none"``).
        predictions: COCO results using the dataset's image and category ids.
        out_dir: a new or empty folder for the review files, image copies and manifest.
        select, count, strategy, seed: which images, see :func:`select_for_review`.
        conf: predictions below this score are not drawn (they still rank images).
        images: ``"copy"`` (default: the folder can move to the reviewer's machine),
            ``"symlink"`` or ``"none"`` (``imagePath`` points at the dataset's image).

    Raises:
        FileExistsError: ``out_dir`` exists and is not empty (a review in progress is never overwritten).
        ValueError: malformed predictions (naming the entry and field), bad options.

    Example:
        >>> export_for_review(ds, preds, "review", count=20, conf=0.3)  # doctest: +SKIP
        PosixPath('review')
    """
    check_image_mode(images)
    if not 0.0 <= conf <= 1.0:
        raise ValueError(f"conf: must be within [0, 1], got {conf}")
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out}: already exists and is not empty; choose a new folder for the review")
    results = validate_predictions(list(predictions), dataset_to_coco(dataset), "predictions")
    chosen = select_for_review(dataset, results, select=select, count=count, strategy=strategy, seed=seed)
    ids = image_ids(dataset)
    by_id = {i: rec for i, rec in zip(ids, dataset.images, strict=True)}
    shown: dict[int, list[dict]] = {i: [] for i in chosen}
    top: dict[int, float] = {}
    for p in results:
        if p["image_id"] in shown:
            top[p["image_id"]] = max(top.get(p["image_id"], p["score"]), p["score"])
            if p["score"] >= conf:
                shown[p["image_id"]].append(p)
    records, entries = [], []
    for iid in chosen:
        rec = by_id[iid]
        anns = []
        for p in sorted(shown[iid], key=lambda p: -p["score"]):
            x, y, w, h = p["bbox"]
            box = (
                min(max(x, 0.0), rec.width),
                min(max(y, 0.0), rec.height),
                min(max(x + w, 0.0), rec.width),
                min(max(y + h, 0.0), rec.height),
            )
            anns.append(Annotation(box, p["category_id"] - 1, extra={"description": f"score {p['score']:.3f}"}))
        records.append(ImageRecord(rec.file_name, rec.width, rec.height, anns, id=iid))
        entries.append(
            {
                "review_file": Path(rec.file_name).with_suffix(".json").as_posix(),
                "image_id": iid,
                "file_name": rec.file_name,
                "width": int(rec.width),
                "height": int(rec.height),
                "shown_predictions": len(anns),
                "max_score": top.get(iid),
            }
        )
    save_labelme(DetectionDataset(list(dataset.class_names), records, dataset.image_dir), out, images=images)
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "class_names": list(dataset.class_names),
        "source_image_dir": None if dataset.image_dir is None else str(Path(dataset.image_dir).resolve()),
        "images": images,
        "strategy": "select" if select is not None else strategy,
        "conf": conf,
        "seed": seed,
        "files": entries,
    }
    atomic_write_json(out / MANIFEST_FILE, manifest, indent=1)
    return out


def _manifest_field(obj: Any, key: str, kind: type, where: str) -> Any:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _read_manifest(review_dir: Path) -> dict:
    path = review_dir / MANIFEST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no review manifest (write the review folder with export_for_review)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path}: not a logodet review manifest (format must be {MANIFEST_FORMAT!r})")
    names = _manifest_field(data, "class_names", list, str(path))
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise ValueError(f"{path}: class_names: expected distinct strings")
    for i, entry in enumerate(_manifest_field(data, "files", list, str(path))):
        where = f"{path}: files[{i}]"
        for key, kind in (("review_file", str), ("image_id", int), ("file_name", str), ("width", int), ("height", int)):
            _manifest_field(entry, key, kind, where)
    return data


def import_reviewed(review_dir: str | Path) -> DetectionDataset:
    """Read the corrected LabelMe files of a review folder as a dataset of the reviewed images.

    Records carry the dataset's image ids and file names from the manifest;
    ``score ...`` descriptions left from the pre-annotations are dropped.

    Raises:
        FileNotFoundError: no manifest, or a review file is missing.
        LabelMeFormatError: a malformed file, or a label that is not a known class name
            (naming the file and the shape, ``shapes[2].label``).
        ValueError: a malformed manifest, or a file whose image size differs from the dataset's.

    Example:
        >>> reviewed = import_reviewed("review")  # doctest: +SKIP
    """
    root = Path(review_dir)
    manifest = _read_manifest(root)
    names = manifest["class_names"]
    index = {n: i for i, n in enumerate(names)}
    records = []
    for entry in manifest["files"]:
        f = read_labelme_file(root / entry["review_file"])
        if (f.width, f.height) != (entry["width"], entry["height"]):
            raise ValueError(
                f"{f.path}: imageWidth/imageHeight {f.width}x{f.height} differ from the dataset's {entry['width']}x{entry['height']}"
            )
        anns = []
        for obj in f.objects:
            if obj.label not in index:
                raise LabelMeFormatError(
                    f"{f.path}: {obj.where}.label: {obj.label!r} is not a class name of the dataset ({', '.join(names)})"
                )
            ann = obj.to_annotation(index[obj.label])
            if _SCORE_NOTE.match(str(ann.extra.get("description", ""))):
                del ann.extra["description"]
            anns.append(ann)
        records.append(ImageRecord(entry["file_name"], entry["width"], entry["height"], anns, id=entry["image_id"]))
    source = manifest.get("source_image_dir")
    image_dir = root if manifest.get("images") != "none" else (Path(source) if isinstance(source, str) else None)
    return DetectionDataset(list(names), records, image_dir)


def apply_review(dataset: DetectionDataset, reviewed: DetectionDataset) -> DetectionDataset:
    """A new dataset whose reviewed images carry the reviewer's annotations; the input is not changed.

    Every record of the result has its image id set (as ``dataset_to_coco``
    assigns them), so ids stay stable through a save. Classes are matched by name.

    Raises:
        ValueError: a reviewed image id is not in the dataset, its file name or size differ,
            or a reviewed class name is not one of the dataset's.

    Example:
        >>> new = apply_review(load_coco("data/new"), import_reviewed("review"))  # doctest: +SKIP
    """
    index = {n: i for i, n in enumerate(dataset.class_names)}
    unknown = [n for n in reviewed.class_names if n not in index]
    if unknown:
        raise ValueError(f"review: class names {unknown} are not in the dataset ({', '.join(dataset.class_names)})")
    remap = [index[n] for n in reviewed.class_names]
    ids = image_ids(dataset)
    position = {iid: k for k, iid in enumerate(ids)}
    replaced: dict[int, list[Annotation]] = {}
    for rec in reviewed.images:
        if rec.id not in position:
            raise ValueError(f"review: image id {rec.id} ({rec.file_name}) is not in the dataset")
        if rec.id in replaced:
            raise ValueError(f"review: image id {rec.id} ({rec.file_name}) is reviewed twice")
        target = dataset.images[position[rec.id]]
        if (target.file_name, target.width, target.height) != (rec.file_name, rec.width, rec.height):
            raise ValueError(
                f"review: image id {rec.id} is {rec.file_name} ({rec.width}x{rec.height}) in the review "
                f"but {target.file_name} ({target.width}x{target.height}) in the dataset"
            )
        anns = copy.deepcopy(rec.annotations)
        for ann in anns:
            ann.category = remap[ann.category]
        replaced[rec.id] = anns
    images = []
    for iid, rec in zip(ids, dataset.images, strict=True):
        anns = replaced[iid] if iid in replaced else copy.deepcopy(rec.annotations)
        images.append(ImageRecord(rec.file_name, rec.width, rec.height, anns, id=iid))
    return DetectionDataset(list(dataset.class_names), images, dataset.image_dir)


def save_reviewed_dataset(dataset: DetectionDataset, out_dir: str | Path, *, images: str = "symlink") -> Path:
    """Write ``dataset`` as a new COCO dataset folder (``annotations.json`` + ``images/``); returns the json path.

    Args:
        dataset: the dataset (its ``image_dir`` must be set unless ``images="none"``).
        out_dir: a new or empty folder; an existing non-empty one is refused, so the
            input dataset is never overwritten.
        images: ``"symlink"`` (relative links, copies where links fail), ``"copy"`` or ``"none"``.

    Raises:
        FileExistsError: ``out_dir`` exists and is not empty.

    Example:
        >>> save_reviewed_dataset(new, "data/new_reviewed")  # doctest: +SKIP
        PosixPath('data/new_reviewed/annotations.json')
    """
    check_image_mode(images)
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out}: already exists and is not empty; choose a new folder for the reviewed dataset")
    for rec in dataset.images:
        rel = Path(rec.file_name)
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(f"{rec.file_name}: an image path must stay inside the image folder to be saved")
        if images != "none":
            place_image(dataset.image_path(rec), out / IMAGES_DIR / rel, images)
    return save_coco(dataset, out)
