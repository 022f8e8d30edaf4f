"""The work one synthesis worker does: analyse backgrounds, render images, write JPEGs.

:class:`SynthJob` holds everything a worker needs and is sent to each worker
once. :func:`render_images` and :func:`analyze_backgrounds` are the two
functions the executors map over work units (index lists).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from logodet.assets.backgrounds import BackgroundSet
from logodet.assets.logos import LogoBank
from logodet.io import ImageReadError, atomic_write_bytes
from logodet.masks import rle_encode
from logodet.synth.compose import compose
from logodet.synth.config import SynthConfig
from logodet.synth.shards import IMAGES_DIR, image_name

__all__ = ["SynthJob", "analyze_backgrounds", "label_box", "render_images"]

_CACHE_BYTES = 256 * 1024 * 1024
_ANALYSIS_ITEMS = 64


class NoBackgroundError(RuntimeError):
    """No background of the set could be decoded."""


@dataclass
class SynthJob:
    """Inputs and settings of one synthesis run, shared by all its workers.

    Attributes:
        bank: the labelled logo classes.
        backgrounds: the background photos.
        cfg: synthesis settings.
        seed: dataset seed; image ``i`` uses ``default_rng([seed, i])``.
        out_dir: the dataset folder (workers write ``images/`` there).
        digits: digits of the image file names.
        cache_dir: folder of the background-analysis cache, or ``None`` for no analysis.
        distractors: an unlabelled icon bank passed to ``compose`` as ``distractors``, or ``None``.
    """

    bank: LogoBank
    backgrounds: BackgroundSet
    cfg: SynthConfig
    seed: int
    out_dir: Path
    digits: int
    cache_dir: Path | None = None
    distractors: Any = None
    _images: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _image_bytes: int = 0
    _analyses: OrderedDict = field(default_factory=OrderedDict, repr=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.update(_images=OrderedDict(), _image_bytes=0, _analyses=OrderedDict())
        return state

    @property
    def analysis_cfg(self) -> Any:
        """``cfg.analysis`` when analysis is on (a cache folder is set and the config has one), else ``None``."""
        acfg = getattr(self.cfg, "analysis", None)
        if acfg is None or self.cache_dir is None or getattr(acfg, "enabled", True) is False:
            return None
        return acfg

    def min_size(self) -> tuple[int, int]:
        c0 = self.cfg.bg_crop_scale[0]
        return math.ceil(self.cfg.size[0] / c0), math.ceil(self.cfg.size[1] / c0)

    def background(self, index: int, notes: list[str]) -> tuple[int, np.ndarray]:
        """``(j, pixels)`` of background ``index``, or of the next decodable one (LRU-cached); problems go to ``notes``."""
        n = len(self.backgrounds)
        for k in range(n):
            j = (index + k) % n
            if j in self._images:
                self._images.move_to_end(j)
                return j, self._images[j]
            try:
                img = self.backgrounds.load(j, self.min_size())
            except ImageReadError as exc:
                notes.append(f"background|{exc}")
                continue
            w, h = self.cfg.size
            if img.shape[1] < w or img.shape[0] < h:
                notes.append(
                    f"small background|{self.backgrounds.name(j)}: {img.shape[1]}x{img.shape[0]} is smaller than the "
                    f"{w}x{h} output; upscaled (logos are sized relative to the output)"
                )
            self._images[j] = img
            self._image_bytes += img.nbytes
            while self._image_bytes > _CACHE_BYTES and len(self._images) > 1:
                self._image_bytes -= self._images.popitem(last=False)[1].nbytes
            return j, img
        raise NoBackgroundError(f"none of the {n} backgrounds could be decoded: {notes[:3]}")

    def analysis(self, j: int, image: np.ndarray) -> Any:
        """The cached :class:`~logodet.synth.surfaces.BackgroundAnalysis` of background ``j``, or ``None`` without analysis."""
        acfg = self.analysis_cfg
        if acfg is None:
            return None
        if j in self._analyses:
            self._analyses.move_to_end(j)
            return self._analyses[j]
        from logodet.synth.analysis import AnalysisCache, analyze_background

        key = f"{image.shape}|".encode() + np.ascontiguousarray(image).tobytes()
        result = AnalysisCache(self.cache_dir).load_or_compute(key, acfg, lambda: analyze_background(image, acfg, seed=0))
        self._analyses[j] = result
        while len(self._analyses) > _ANALYSIS_ITEMS:
            self._analyses.popitem(last=False)
        return result


def background_index(seed: int, index: int, num_backgrounds: int) -> int:
    """The background image ``index`` starts from (the first draw of its generator).

    Example:
        >>> background_index(0, 3, 10) == background_index(0, 3, 10)
        True
    """
    return int(np.random.default_rng([seed, index]).integers(num_backgrounds))


def label_box(tight: tuple[int, int, int, int], margin: float, size: tuple[int, int]) -> list[float]:
    """The labelled ``xyxy`` box: ``tight`` grown by ``margin`` of its width (height) on each side, clipped to the ``(w, h)`` image.

    Example:
        >>> label_box((10, 20, 30, 60), 0.1, (100, 100))
        [8.0, 16.0, 32.0, 64.0]
        >>> label_box((0, 0, 50, 10), 0.5, (60, 60))
        [0.0, 0.0, 60.0, 15.0]
    """
    x0, y0, x1, y1 = tight
    if margin <= 0:
        return [float(v) for v in tight]
    dx, dy = margin * (x1 - x0), margin * (y1 - y0)
    w, h = size
    return [round(max(0.0, x0 - dx), 2), round(max(0.0, y0 - dy), 2), round(min(float(w), x1 + dx), 2), round(min(float(h), y1 + dy), 2)]


def _render_one(job: SynthJob, index: int) -> dict:
    import cv2

    rng = np.random.default_rng([job.seed, index])
    notes: list[str] = []
    j, background = job.background(int(rng.integers(len(job.backgrounds))), notes)
    kwargs: dict[str, Any] = {}
    analysis = job.analysis(j, background)
    if analysis is not None:
        kwargs["analysis"] = analysis
    if job.distractors is not None:
        kwargs["distractors"] = job.distractors
    comp = compose(background, job.bank, rng, job.cfg, **kwargs)
    ok, buf = cv2.imencode(".jpg", comp.image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, job.cfg.jpeg_quality])
    if not ok:
        raise RuntimeError(f"cannot encode image {index} as JPEG")
    name = image_name(index, job.digits)
    anns = [
        {
            "category": inst.class_index,
            "bbox": label_box(inst.bbox, job.cfg.box_margin, job.cfg.size),
            "segmentation": rle_encode(inst.mask),
            "area": inst.area,
            "visibility": round(inst.visibility, 4),
            "occlusion": round(inst.occlusion, 4),
            "truncation": round(inst.truncation, 4),
            "source": inst.source,
        }
        for inst in comp.instances
    ]
    atomic_write_bytes(job.out_dir / IMAGES_DIR / name, buf.tobytes())
    record = {"index": index, "file_name": name, "width": job.cfg.size[0], "height": job.cfg.size[1], "annotations": anns}
    if notes:
        record["notes"] = notes
    return record


def render_images(job: SynthJob, indices: list[int]) -> list[dict]:
    """Render and write images ``indices``; their label records (``notes`` lists input problems met).

    Example:
        >>> render_images(job, [0, 1])  # doctest: +SKIP
    """
    return [_render_one(job, i) for i in indices]


def analyze_backgrounds(job: SynthJob, indices: list[int]) -> list[dict]:
    """Analyse backgrounds ``indices`` into the cache; per background its stage timings (or a note).

    Example:
        >>> analyze_backgrounds(job, [0])  # doctest: +SKIP
    """
    out = []
    for j in indices:
        notes: list[str] = []
        try:
            k, image = job.background(j, notes)
        except NoBackgroundError:
            out.append({"index": j, "notes": notes, "timings": {}})
            continue
        result = job.analysis(k, image) if k == j else None
        out.append({"index": j, "notes": notes, "timings": dict(getattr(result, "timings", {}) or {})})
    return out
