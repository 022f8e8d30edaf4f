"""Dataset statistics, their plots, and the distribution gap between two datasets.

:func:`compute_stats` counts instances and images per class, boxes per image,
COCO box sizes (box area below 32², below 96², else), and summarises the
relative box size ``sqrt(box area / image area)``, aspect ratios (width /
height), image sizes and box centres (normalised to the image). :func:`compare_stats`
measures how far two datasets (say synthetic and real) are apart, feature by
feature, with the 1-D Wasserstein distance and the two-sample KS statistic: box
geometry over all boxes, and colour statistics (mean and standard deviation of
each RGB and HSV channel, in ``[0, 1]``; hue compared as a plain number) of
whole images and of box crops over a seeded sample of images.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from logodet.io import ImageReadError, atomic_write_bytes, atomic_write_json, read_rgb
from logodet.types import DetectionDataset

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "COLOUR_CHANNELS",
    "DISTANCES",
    "GEOMETRY_FEATURES",
    "box_features",
    "colour_features",
    "compare_stats",
    "compute_stats",
    "ks_statistic",
    "wasserstein",
    "write_comparison",
    "write_stats",
]

SMALL, MEDIUM = 32**2, 96**2
GEOMETRY_FEATURES = ("relative_size", "aspect_ratio", "centre_x", "centre_y", "boxes_per_image")
COLOUR_CHANNELS = ("R", "G", "B", "H", "S", "V")
CENTRE_GRID = 10


def box_features(dataset: DetectionDataset) -> dict[str, np.ndarray]:
    """Per-box and per-image arrays of ``dataset`` (crowd regions included).

    Per box: ``width``, ``height``, ``area``, ``relative_size``, ``aspect_ratio``
    (NaN where the height is 0), ``centre_x``, ``centre_y`` (fractions of the
    image) and ``category``. Per image: ``boxes_per_image``, ``image_width``,
    ``image_height``.

    Example:
        >>> from logodet.types import Annotation, ImageRecord
        >>> ds = DetectionDataset(["acme"], [ImageRecord("a.jpg", 100, 50, [Annotation((0, 0, 20, 10), 0)])])
        >>> f = box_features(ds)
        >>> float(f["relative_size"][0]), float(f["aspect_ratio"][0]), float(f["centre_x"][0])
        (0.2, 2.0, 0.1)
    """
    recs = dataset.images
    n_boxes = np.array([len(r.annotations) for r in recs], np.int64)
    boxes = np.array([a.bbox for r in recs for a in r.annotations], np.float64).reshape(-1, 4)
    size = np.repeat(np.array([(r.width, r.height) for r in recs], np.float64).reshape(-1, 2), n_boxes, axis=0)
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        aspect = np.where(h > 0, w / h, np.nan)
    return {
        "width": w,
        "height": h,
        "area": w * h,
        "relative_size": np.sqrt(w * h / (size[:, 0] * size[:, 1])),
        "aspect_ratio": aspect,
        "centre_x": (boxes[:, 0] + boxes[:, 2]) / 2 / size[:, 0],
        "centre_y": (boxes[:, 1] + boxes[:, 3]) / 2 / size[:, 1],
        "category": np.array([a.category for r in recs for a in r.annotations], np.int64),
        "boxes_per_image": n_boxes,
        "image_width": np.array([r.width for r in recs], np.int64),
        "image_height": np.array([r.height for r in recs], np.int64),
    }


def _summary(values: np.ndarray) -> dict[str, float | int | None]:
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if not v.size:
        return {"count": 0, "mean": None, "std": None, "min": None, "p05": None, "median": None, "p95": None, "max": None}
    p05, median, p95 = np.percentile(v, [5, 50, 95])
    values_ = (v.mean(), v.std(), v.min(), p05, median, p95, v.max())
    return {
        "count": int(v.size),
        **{k: round(float(x), 6) for k, x in zip(("mean", "std", "min", "p05", "median", "p95", "max"), values_, strict=True)},
    }


def compute_stats(dataset: DetectionDataset) -> dict[str, Any]:
    """Counts and distributions of a dataset, JSON-ready.

    Example:
        >>> from logodet.types import Annotation, ImageRecord
        >>> ds = DetectionDataset(["acme"], [ImageRecord("a.jpg", 100, 100, [Annotation((0, 0, 40, 40), 0)]), ImageRecord("b.jpg", 64, 64)])
        >>> s = compute_stats(ds)
        >>> s["box_sizes"], s["boxes_per_image"]["histogram"], s["per_class"][0]["instances"]
        ({'small': 0, 'medium': 1, 'large': 0}, [1, 1], 1)
    """
    f = box_features(dataset)
    k = dataset.num_classes
    instances = np.bincount(f["category"], minlength=k)
    images_with = np.zeros(k, np.int64)
    for rec in dataset.images:
        images_with[sorted({a.category for a in rec.annotations})] += 1
    area, n = f["area"], f["boxes_per_image"]
    sizes, counts = np.unique(np.stack([f["image_width"], f["image_height"]], 1).reshape(-1, 2), axis=0, return_counts=True)
    top = np.argsort(-counts, kind="stable")[:10]
    grid, _, _ = np.histogram2d(
        np.clip(f["centre_y"], 0, 1), np.clip(f["centre_x"], 0, 1), bins=CENTRE_GRID, range=[[0, 1], [0, 1]]
    )  # rows: y from the top
    return {
        "images": len(dataset),
        "annotations": int(n.sum()),
        "classes": k,
        "empty_images": int((n == 0).sum()),
        "crowd": sum(a.iscrowd > 0 for r in dataset.images for a in r.annotations),
        "per_class": [
            {"name": name, "instances": int(instances[c]), "images": int(images_with[c])} for c, name in enumerate(dataset.class_names)
        ],
        "boxes_per_image": {**_summary(n), "histogram": np.bincount(n).tolist() if n.size else []},
        "box_sizes": {
            "small": int((area < SMALL).sum()),
            "medium": int(((area >= SMALL) & (area < MEDIUM)).sum()),
            "large": int((area >= MEDIUM).sum()),
        },
        "box_width": _summary(f["width"]),
        "box_height": _summary(f["height"]),
        "relative_size": _summary(f["relative_size"]),
        "aspect_ratio": _summary(f["aspect_ratio"]),
        "image_width": _summary(f["image_width"]),
        "image_height": _summary(f["image_height"]),
        "image_sizes": [{"width": int(sizes[i, 0]), "height": int(sizes[i, 1]), "images": int(counts[i])} for i in top],
        "centre_x": _summary(f["centre_x"]),
        "centre_y": _summary(f["centre_y"]),
        "centre_grid": grid.astype(int).tolist(),
    }


def _channel_stats(rgb: np.ndarray) -> np.ndarray:
    """Means then standard deviations of R, G, B, H, S, V (in ``[0, 1]``) of a ``uint8 [H, W, 3]`` RGB image: 12 numbers."""
    rgb = np.ascontiguousarray(rgb)
    (m1, s1), (m2, s2) = cv2.meanStdDev(rgb), cv2.meanStdDev(cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL))
    return np.concatenate([m1.ravel(), m2.ravel(), s1.ravel(), s2.ravel()]) / 255.0


def colour_features(dataset: DetectionDataset, sample: int = 200, seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Colour statistics of a seeded sample of images and of their box crops.

    Returns ``(features, info)``: ``features["image_mean_R"]`` holds one value per
    sampled image, ``features["box_std_V"]`` one per box crop, and so on for every
    channel of :data:`COLOUR_CHANNELS`; ``info`` counts the sampled, read and unreadable images.
    JPEGs are decoded at reduced size (at least 256 pixels a side) for speed.
    """
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(len(dataset), size=min(sample, len(dataset)), replace=False)) if len(dataset) else []
    whole, crops, unreadable = [], [], 0
    for i in picked:
        rec = dataset.images[int(i)]
        try:
            img = read_rgb(dataset.image_path(rec), min_size=(256, 256))
        except ImageReadError:
            unreadable += 1
            continue
        whole.append(_channel_stats(img))
        sy, sx = img.shape[0] / rec.height, img.shape[1] / rec.width
        for a in rec.annotations:
            x1, y1 = max(0, int(a.bbox[0] * sx)), max(0, int(a.bbox[1] * sy))
            x2, y2 = min(img.shape[1], max(x1 + 1, round(a.bbox[2] * sx))), min(img.shape[0], max(y1 + 1, round(a.bbox[3] * sy)))
            if x2 > x1 and y2 > y1:
                crops.append(_channel_stats(img[y1:y2, x1:x2]))
    names = [f"{stat}_{c}" for stat in ("mean", "std") for c in COLOUR_CHANNELS]
    features = {}
    for prefix, rows in (("image", whole), ("box", crops)):
        table = np.array(rows, np.float64).reshape(-1, len(names))
        features.update({f"{prefix}_{name}": table[:, j] for j, name in enumerate(names)})
    return features, {"sampled": len(picked), "read": len(whole), "unreadable": unreadable, "boxes": len(crops)}


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    """1-D earth mover's distance between two samples, in the feature's own units; 0 for equal distributions.

    Example:
        >>> wasserstein(np.array([0.0, 1.0]), np.array([1.0, 2.0]))
        1.0
    """
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(a, b))


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two CDFs, in ``[0, 1]``.

    Example:
        >>> ks_statistic(np.array([0.0, 1.0]), np.array([2.0, 3.0]))
        1.0
    """
    from scipy.stats import ks_2samp

    return float(ks_2samp(a, b, method="asymp").statistic)  # the statistic does not depend on the p-value method


DISTANCES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {"wasserstein": wasserstein, "ks": ks_statistic}


def _gap(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    out: dict[str, Any] = {"n_a": int(a.size), "n_b": int(b.size)}
    for name, fn in DISTANCES.items():
        out[name] = round(fn(a, b), 6) if a.size and b.size else None
    out["mean_a"] = round(float(a.mean()), 6) if a.size else None
    out["mean_b"] = round(float(b.mean()), 6) if b.size else None
    return out


def _compare(a: DetectionDataset, b: DetectionDataset, sample: int, seed: int, colour: bool) -> tuple[dict, dict[str, tuple]]:
    fa, fb = box_features(a), box_features(b)
    samples = {name: (fa[name].astype(np.float64), fb[name].astype(np.float64)) for name in GEOMETRY_FEATURES}
    info = {}
    if colour:
        (ca, info_a), (cb, info_b) = colour_features(a, sample, seed), colour_features(b, sample, seed)
        samples.update({name: (ca[name], cb[name]) for name in ca})
        info = {"a": info_a, "b": info_b}
    ca_names, cb_names = set(a.class_names), set(b.class_names)
    result = {
        "features": {name: _gap(*pair) for name, pair in samples.items()},
        "classes": {
            "common": [c for c in a.class_names if c in cb_names],
            "only_a": [c for c in a.class_names if c not in cb_names],
            "only_b": [c for c in b.class_names if c not in ca_names],
        },
        "sample": {"size": sample, "seed": seed, **info},
    }
    return result, samples


def compare_stats(a: DetectionDataset, b: DetectionDataset, *, sample: int = 200, seed: int = 0, colour: bool = True) -> dict[str, Any]:
    """The distribution gap between datasets ``a`` and ``b``, feature by feature, JSON-ready.

    Each feature gets the Wasserstein distance, the KS statistic, the sample sizes and
    both means; the class sets are compared by name. Colour features read ``sample``
    images of each dataset (the same seeded choice every time; ``colour=False`` skips them).

    Example:
        >>> gap = compare_stats(load_coco("runs/synth"), load_coco("data/real"))  # doctest: +SKIP
        >>> gap["features"]["relative_size"]["wasserstein"]  # doctest: +SKIP
        0.042
    """
    return _compare(a, b, sample, seed, colour)[0]


# -- plots ------------------------------------------------------------------------------------------------------------
def _figure(title: str, xlabel: str, ylabel: str, size: tuple[float, float] = (6.4, 4.2)) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    ax = fig.add_subplot()
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    return fig


def _save(fig: Figure, path: Path, tight: bool = True) -> Path:
    if tight:
        fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    atomic_write_bytes(path, buf.getvalue())
    return path


def write_stats(dataset: DetectionDataset, out: str | Path) -> dict[str, Any]:
    """:func:`compute_stats` as ``out/stats.json`` plus five PNG plots; the statistics.

    Plots: ``class_counts.png``, ``box_sizes.png`` (side ``sqrt(area)`` in pixels, with
    the 32 and 96 COCO limits), ``aspect_ratios.png``, ``centre_heatmap.png`` and ``image_sizes.png``.

    Example:
        >>> write_stats(load_coco("data/real"), "runs/stats")["annotations"]  # doctest: +SKIP
        357
    """
    out = Path(out)
    stats, f = compute_stats(dataset), box_features(dataset)
    atomic_write_json(out / "stats.json", stats, indent=1)
    k = len(stats["per_class"])
    fig = _figure("Instances per class", "", "boxes", (max(6.4, 0.3 * k + 2), 4.2))
    ax = fig.axes[0]
    ax.bar(range(k), [c["instances"] for c in stats["per_class"]], color="tab:blue")
    ax.set_xticks(range(k), [c["name"] for c in stats["per_class"]], rotation=70, fontsize=7)
    _save(fig, out / "class_counts.png")
    fig = _figure("Box size", "sqrt(box area) [px]", "boxes")
    side = np.sqrt(np.maximum(f["area"], 0))
    fig.axes[0].hist(side, bins=40 if side.size else 1, color="tab:green")
    for limit in (32, 96):
        fig.axes[0].axvline(limit, color="black", linestyle="--", linewidth=1)
    _save(fig, out / "box_sizes.png")
    fig = _figure("Aspect ratio", "width / height (log scale)", "boxes")
    aspect = f["aspect_ratio"][np.isfinite(f["aspect_ratio"]) & (f["aspect_ratio"] > 0)]
    if aspect.size:
        fig.axes[0].hist(aspect, bins=np.geomspace(max(aspect.min(), 1e-3), max(aspect.max(), 1e-3) * 1.001, 40), color="tab:orange")
    fig.axes[0].set_xscale("log")
    _save(fig, out / "aspect_ratios.png")
    fig = _figure("Box centres", "x (fraction of width)", "y (fraction of height)", (5.2, 4.6))
    fig.axes[0].grid(False)
    im = fig.axes[0].imshow(np.array(stats["centre_grid"]), extent=(0, 1, 1, 0), cmap="viridis")
    fig.colorbar(im, ax=fig.axes[0], label="boxes")
    _save(fig, out / "centre_heatmap.png")
    fig = _figure("Image sizes", "width [px]", "height [px]")
    fig.axes[0].scatter(f["image_width"], f["image_height"], s=8, alpha=0.4)
    _save(fig, out / "image_sizes.png")
    return stats


def write_comparison(
    a: DetectionDataset, b: DetectionDataset, out: str | Path, *, names: tuple[str, str] = ("a", "b"), sample: int = 200, seed: int = 0
) -> dict[str, Any]:
    """:func:`compare_stats` as ``out/compare.json`` plus ``out/compare_<feature>.png`` (overlaid histograms); the result.

    Example:
        >>> write_comparison(synth, real, "runs/gap", names=("synth", "real"))["classes"]["only_a"]  # doctest: +SKIP
        []
    """
    out = Path(out)
    result, samples = _compare(a, b, sample, seed, colour=True)
    result["names"] = list(names)
    atomic_write_json(out / "compare.json", result, indent=1)
    for name, (xa, xb) in samples.items():
        xa, xb = xa[np.isfinite(xa)], xb[np.isfinite(xb)]
        gap = result["features"][name]
        title = f"{name}: W={gap['wasserstein']:.4g}, KS={gap['ks']:.3f}" if gap["ks"] is not None else f"{name}: no data on one side"
        fig = _figure(title, name, "density")
        both = np.concatenate([xa, xb])
        if both.size:
            edges = np.histogram_bin_edges(both, bins=40) if np.ptp(both) > 0 else np.array([both[0] - 0.5, both[0] + 0.5])
            for values, label, color in ((xa, names[0], "tab:blue"), (xb, names[1], "tab:orange")):
                if values.size:
                    label = f"{label} ({values.size})"
                    fig.axes[0].hist(values, bins=edges, density=True, histtype="stepfilled", alpha=0.5, label=label, color=color)
            fig.axes[0].legend(fontsize="small")
        _save(fig, out / f"compare_{name}.png", tight=False)  # one plot per feature: the default layout is fast and fits
    return result
