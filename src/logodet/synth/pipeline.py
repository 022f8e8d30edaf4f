"""Synthesise a whole dataset folder: ``images/*.jpg`` + ``annotations.json`` (COCO, RLE masks).

Image ``i`` is drawn from ``np.random.default_rng([seed, i])`` alone, so the
output is byte-identical across runs and worker counts. Each finished image
leaves a small label file in ``.parts/``; a re-run with the same inputs and
settings reuses every image that is complete and only makes the rest.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import shutil
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from logodet.assets.backgrounds import BackgroundSet, BackgroundWarning, as_background_set
from logodet.assets.logos import LogoBank, load_logo_folder
from logodet.config import config_to_dict, save_config
from logodet.io import ImageReadError, atomic_write_bytes, atomic_write_json
from logodet.masks import rle_encode
from logodet.synth.compose import compose
from logodet.synth.config import SynthConfig

if TYPE_CHECKING:
    from rich.progress import Progress, Task

__all__ = ["SynthError", "SynthReport", "synthesize"]

IMAGES_DIR, PARTS_DIR, FINGERPRINT_FILE, CONFIG_FILE = "images", ".parts", "fingerprint.json", "synth_config.yaml"
_FORMAT_VERSION = 1
_CACHE_BYTES = 256 * 1024 * 1024


class SynthError(RuntimeError):
    """Synthesis cannot proceed; the message names the folder or file."""


@dataclass(frozen=True)
class SynthReport:
    """What :func:`synthesize` made.

    Attributes:
        out_dir: the dataset folder.
        annotations: path of ``annotations.json``.
        num_images: images in the dataset.
        num_generated: images made by this run.
        num_reused: images kept from an earlier run.
        num_instances: labelled logos in the dataset.
        num_empty: images without any logo.
        class_names: the categories, in index order.
        seconds: wall time of this run.
        skipped_backgrounds: ``"path: reason"`` for backgrounds that could not be decoded.
    """

    out_dir: Path
    annotations: Path
    num_images: int
    num_generated: int
    num_reused: int
    num_instances: int
    num_empty: int
    class_names: tuple[str, ...]
    seconds: float
    skipped_backgrounds: tuple[str, ...] = field(default=())

    @property
    def images_per_second(self) -> float:
        """Images made by this run per second of wall time."""
        return self.num_generated / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Job:
    """Everything a worker needs to render image ``i``; sent once to each worker process."""

    bank: LogoBank
    backgrounds: BackgroundSet
    cfg: SynthConfig
    seed: int
    out_dir: Path
    digits: int
    cache: OrderedDict = field(default_factory=OrderedDict, repr=False)
    cache_bytes: int = 0

    def file_name(self, index: int) -> str:
        return f"{index:0{self.digits}d}.jpg"

    def background(self, index: int, failures: list[str]) -> np.ndarray:
        """Decoded background ``index`` (LRU-cached); an undecodable file falls back to the next one."""
        c0 = self.cfg.bg_crop_scale[0]
        min_size = (math.ceil(self.cfg.size[0] / c0), math.ceil(self.cfg.size[1] / c0))
        n = len(self.backgrounds)
        for k in range(n):
            j = (index + k) % n
            if j in self.cache:
                self.cache.move_to_end(j)
                return self.cache[j]
            try:
                img = self.backgrounds.load(j, min_size)
            except ImageReadError as exc:
                failures.append(str(exc))
                continue
            self.cache[j] = img
            self.cache_bytes += img.nbytes
            while self.cache_bytes > _CACHE_BYTES and len(self.cache) > 1:
                self.cache_bytes -= self.cache.popitem(last=False)[1].nbytes
            return img
        raise SynthError(f"none of the {n} backgrounds could be decoded: {failures[:3]}")


def _render(job: _Job, index: int) -> dict:
    """Make image ``index``: write its JPEG and label part; return the label record."""
    import cv2

    rng = np.random.default_rng([job.seed, index])
    failures: list[str] = []
    background = job.background(int(rng.integers(len(job.backgrounds))), failures)
    comp = compose(background, job.bank, rng, job.cfg)
    ok, buf = cv2.imencode(".jpg", comp.image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, job.cfg.jpeg_quality])
    if not ok:
        raise SynthError(f"cannot encode image {index} as JPEG")
    name = job.file_name(index)
    anns = [
        {
            "category": inst.class_index,
            "bbox": list(inst.bbox),
            "segmentation": rle_encode(inst.mask),
            "area": inst.area,
            "visibility": round(inst.visibility, 4),
            "occlusion": round(inst.occlusion, 4),
            "truncation": round(inst.truncation, 4),
            "source": inst.source,
        }
        for inst in comp.instances
    ]
    record = {"index": index, "file_name": name, "width": job.cfg.size[0], "height": job.cfg.size[1], "annotations": anns}
    atomic_write_bytes(job.out_dir / IMAGES_DIR / name, buf.tobytes())
    atomic_write_json(job.out_dir / PARTS_DIR / f"{Path(name).stem}.json", record)
    return {**record, "bg_failures": failures}


_WORKER_JOB: _Job | None = None


def _init_worker(job: _Job) -> None:
    import cv2

    global _WORKER_JOB
    cv2.setNumThreads(1)
    _WORKER_JOB = job


def _render_chunk(indices: list[int]) -> list[dict]:
    assert _WORKER_JOB is not None, "worker not initialised"
    return [_render(_WORKER_JOB, i) for i in indices]


def _valid_jpeg(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(2)
            f.seek(-2, os.SEEK_END)
            return head == b"\xff\xd8" and f.read(2) == b"\xff\xd9"
    except OSError:
        return False


def _reusable(job: _Job, index: int) -> dict | None:
    name = job.file_name(index)
    part = job.out_dir / PARTS_DIR / f"{Path(name).stem}.json"
    if not part.is_file() or not _valid_jpeg(job.out_dir / IMAGES_DIR / name):
        return None
    try:
        record = json.loads(part.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("file_name") == name else None


def _fingerprint(job: _Job) -> dict:
    cfg = config_to_dict(job.cfg)
    data = {"version": _FORMAT_VERSION, "seed": job.seed, "digits": job.digits, "config": cfg}
    data["logos"] = job.bank.fingerprint()
    data["backgrounds"] = job.backgrounds.fingerprint()
    data["hash"] = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    return data


def _prepare_out(job: _Job, overwrite: bool) -> None:
    """Check that ``out_dir`` is empty, or an earlier run of the same job; record the job's fingerprint."""
    out, fp = job.out_dir, _fingerprint(job)
    fp_path = out / PARTS_DIR / FINGERPRINT_FILE
    old = None
    if fp_path.is_file():
        try:
            old = json.loads(fp_path.read_text(encoding="utf-8")).get("hash")
        except (OSError, ValueError, AttributeError):
            old = None
    has_data = ((out / IMAGES_DIR).is_dir() and any((out / IMAGES_DIR).iterdir())) or (out / "annotations.json").exists()
    if old != fp["hash"] and (has_data or old is not None):
        if not overwrite:
            raise SynthError(
                f"{out}: holds a dataset made from other inputs or settings ({fp_path if old else 'no fingerprint'}); "
                "choose another output folder or overwrite it (overwrite=True, --overwrite)"
            )
        for sub in (IMAGES_DIR, PARTS_DIR):
            shutil.rmtree(out / sub, ignore_errors=True)
        (out / "annotations.json").unlink(missing_ok=True)
    (out / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
    atomic_write_json(fp_path, fp, indent=1)


def _run(job: _Job, todo: list[int], workers: int) -> Iterator[list[dict]]:
    """Render ``todo`` in-process or on a spawn-started process pool, yielding chunks as they finish."""
    if workers <= 1 or len(todo) <= 1:
        for i in todo:
            yield [_render(job, i)]
        return
    chunk = max(1, min(16, len(todo) // (workers * 4)))
    chunks = [todo[k : k + chunk] for k in range(0, len(todo), chunk)]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(job,)) as pool:
        pending: set[Future] = set()
        queue = iter(chunks)
        for part in queue:
            pending.add(pool.submit(_render_chunk, part))
            if len(pending) >= workers * 4:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(pool.submit(_render_chunk, nxt))


def _progress(enabled: bool) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.text import Text

    class _Speed(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:6.1f} img/s" if task.speed else "   -- img/s", style="cyan")

    cols = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _Speed(), TimeElapsedColumn(), TimeRemainingColumn()]
    return Progress(*cols, disable=not enabled)


def _write_dataset(job: _Job, records: list[dict], seed: int) -> Path:
    from logodet.datasets.formats.coco import save_coco
    from logodet.types import Annotation, DetectionDataset, ImageRecord

    images = []
    for rec in records:
        anns = [
            Annotation(
                tuple(float(v) for v in a["bbox"]),
                int(a["category"]),
                segmentation=a["segmentation"],
                area=float(a["area"]),
                iscrowd=0,
                extra={k: a[k] for k in ("visibility", "occlusion", "truncation", "source") if k in a},
            )
            for a in rec["annotations"]
        ]
        images.append(ImageRecord(rec["file_name"], int(rec["width"]), int(rec["height"]), anns, id=int(rec["index"]) + 1))
    dataset = DetectionDataset(list(job.bank.class_names), images, job.out_dir / IMAGES_DIR)
    info = {"description": "logodet synthetic dataset", "generator": "logodet.synth", "seed": seed, "num_images": len(images)}
    save_config(job.cfg, job.out_dir / CONFIG_FILE)
    return save_coco(dataset, job.out_dir, info=info)


def synthesize(
    logos: str | Path | LogoBank,
    backgrounds: str | Path | BackgroundSet | Sequence[str | Path | np.ndarray] | None,
    out_dir: str | Path,
    n: int,
    cfg: SynthConfig | None = None,
    seed: int = 0,
    workers: int = 1,
    progress: bool = True,
    overwrite: bool = False,
) -> SynthReport:
    """Synthesise ``n`` images with exact boxes and RLE masks into the dataset folder ``out_dir``.

    Writes ``images/000000.jpg ...``, ``annotations.json`` (COCO: categories
    named by class, boxes, RLE segmentations, ``area`` = mask area,
    ``iscrowd`` 0, ``visibility``/``occlusion``/``truncation``) and
    ``synth_config.yaml``, all atomically. Re-running with the same inputs
    reuses finished images; other inputs into a used folder are an error
    unless ``overwrite``.

    Args:
        logos: a logo folder (see :func:`~logodet.assets.logos.load_logo_folder`) or a loaded bank.
        backgrounds: a folder, files, RGB arrays, a ``BackgroundSet``, or ``None`` for the demo photos.
        out_dir: the dataset folder to create or complete.
        n: number of images.
        cfg: synthesis settings (defaults when ``None``).
        seed: the dataset seed; image ``i`` uses ``default_rng([seed, i])``.
        workers: processes (started with ``spawn``: a script calling this with
            ``workers > 1`` needs the ``if __name__ == "__main__":`` guard); the
            output does not depend on it.
        progress: show a progress bar.
        overwrite: replace a dataset made with other inputs or settings.

    Raises:
        SynthError: ``out_dir`` holds another dataset, or no background decodes.
        LogoError, ImageReadError, FileNotFoundError: unusable inputs (the message names the file).

    Example:
        >>> report = synthesize("examples/logos", None, "/tmp/synth-demo", n=8, cfg=SynthConfig(size=(320, 320)))  # doctest: +SKIP
        >>> report.num_images  # doctest: +SKIP
        8
    """
    start = time.perf_counter()
    if n < 0:
        raise ValueError(f"n: expected >= 0 images, got {n}")
    cfg = cfg or SynthConfig()
    bank = logos if isinstance(logos, LogoBank) else load_logo_folder(logos, key_white=cfg.key_white)
    bgs = as_background_set(backgrounds)
    job = _Job(bank, bgs, cfg, int(seed), Path(out_dir), max(6, len(str(max(n - 1, 0)))))
    _prepare_out(job, overwrite)
    records: dict[int, dict] = {}
    for i in range(n):
        rec = _reusable(job, i)
        if rec is not None:
            records[i] = rec
    todo = [i for i in range(n) if i not in records]
    failures: list[str] = list(bgs.skipped)
    with _progress(progress) as bar:
        task = bar.add_task("synth", total=n, completed=len(records))
        for chunk in _run(job, todo, workers):
            for rec in chunk:
                for f in rec.pop("bg_failures"):
                    if f not in failures:
                        warnings.warn(f"skipping background {f}", BackgroundWarning, stacklevel=2)
                        failures.append(f)
                records[rec["index"]] = rec
            bar.advance(task, len(chunk))
    ordered = [records[i] for i in range(n)]
    path = _write_dataset(job, ordered, int(seed))
    num_instances = sum(len(r["annotations"]) for r in ordered)
    return SynthReport(
        out_dir=job.out_dir,
        annotations=path,
        num_images=n,
        num_generated=len(todo),
        num_reused=n - len(todo),
        num_instances=num_instances,
        num_empty=sum(1 for r in ordered if not r["annotations"]),
        class_names=tuple(bank.class_names),
        seconds=time.perf_counter() - start,
        skipped_backgrounds=tuple(failures),
    )
