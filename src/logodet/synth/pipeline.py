"""Synthesise a whole dataset folder: ``images/*.jpg`` + ``annotations.json`` (COCO, RLE masks).

Image ``i`` is drawn from ``np.random.default_rng([seed, i])`` alone, so the
output is byte-identical across runs, worker counts and executors (local
processes or Ray). Images are written in shards (see :mod:`logodet.synth.shards`):
a run killed at any point and started again with the same arguments resumes
and ends with the same bytes as an uninterrupted run. Each background is
analysed once (regions, depth, planes) into an on-disk cache before
rendering. Unusable inputs are skipped where that is safe, with a warning
naming the file, and counted in the :class:`SynthReport`.
"""

from __future__ import annotations

import os
import statistics
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from logodet.assets.backgrounds import BackgroundSet, BackgroundWarning, as_background_set
from logodet.assets.logos import LogoBank
from logodet.config import config_to_dict, save_config
from logodet.synth.config import SynthConfig
from logodet.synth.executors import Executor, make_executor
from logodet.synth.inputs import load_distractors, load_logos
from logodet.synth.shards import IMAGES_DIR, SHARDS_DIR, ShardError, fingerprint, load_records, prepare_output, shard_ranges, write_shard
from logodet.synth.worker import NoBackgroundError, SynthJob, analyze_backgrounds, background_index, render_images

if TYPE_CHECKING:
    from rich.progress import Progress, Task

__all__ = ["SynthError", "SynthReport", "default_cache_dir", "synthesize"]

CONFIG_FILE, PREVIEW_FILE, YOLO_DIR = "synth_config.yaml", "preview.png", "yolo"
FORMATS = ("coco", "yolo")
_FORMAT_VERSION = 2
_CHUNK = 16


class SynthError(ShardError):
    """Synthesis cannot proceed; the message names the folder or file."""


@dataclass(frozen=True)
class SynthReport:
    """What :func:`synthesize` made, and which inputs it had to skip.

    Attributes:
        out_dir: the dataset folder.
        annotations: path of ``annotations.json``.
        num_images: images in the dataset.
        num_generated: images made by this run.
        num_reused: images kept from an earlier (possibly killed) run.
        num_instances: labelled logos in the dataset.
        num_empty: images without any logo.
        class_names: the categories, in index order.
        seconds: wall time of this run.
        skipped_backgrounds: ``"path: reason"`` for backgrounds that could not be decoded.
        skipped_logos: ``"path: reason"`` for logo files left out (their class has other artwork).
        small_backgrounds: ``"path: ..."`` for backgrounds smaller than the output (upscaled).
        analysis_seconds: median seconds per analysed background, per stage (empty without analysis).
        num_analysed: backgrounds analysed (or found in the cache) by this run.
        extra_outputs: other files written (preview, YOLO ``data.yaml``).
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
    skipped_logos: tuple[str, ...] = field(default=())
    small_backgrounds: tuple[str, ...] = field(default=())
    analysis_seconds: dict[str, float] = field(default_factory=dict)
    num_analysed: int = 0
    extra_outputs: tuple[Path, ...] = field(default=())

    @property
    def images_per_second(self) -> float:
        """Images made by this run per second of wall time."""
        return self.num_generated / self.seconds if self.seconds > 0 else 0.0

    @property
    def input_issues(self) -> dict[str, int]:
        """How many inputs were skipped or adjusted, by kind (only kinds that occurred).

        Example:
            >>> SynthReport(Path("."), Path("a.json"), 0, 0, 0, 0, 0, (), 0.0, skipped_logos=("x.png: empty",)).input_issues
            {'skipped logo files': 1}
        """
        counts = {
            "skipped background files": len(self.skipped_backgrounds),
            "skipped logo files": len(self.skipped_logos),
            "backgrounds smaller than the output (upscaled)": len(self.small_backgrounds),
        }
        return {k: v for k, v in counts.items() if v}


def default_cache_dir() -> Path:
    """The background-analysis cache: ``$LOGODET_CACHE/analysis``, else ``~/.cache/logodet/analysis``.

    Example:
        >>> default_cache_dir().name
        'analysis'
    """
    root = os.environ.get("LOGODET_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "logodet") / "analysis"


# Settings added after datasets of this format were made, at the value that changes no image and no label:
# left out of the fingerprint at that value, so those datasets still resume (and re-score) after an upgrade.
_NEUTRAL_SETTINGS = {"box_margin": 0.0, "crop_share": None}


def _fingerprint(job: SynthJob) -> dict:
    cfg = config_to_dict(job.cfg)
    cfg.pop("shard_size", None)  # the shard layout never changes an image
    for key, neutral in _NEUTRAL_SETTINGS.items():
        if cfg.get(key) == neutral:
            cfg.pop(key)
    parts: dict[str, Any] = {"version": _FORMAT_VERSION, "seed": job.seed, "digits": job.digits, "config": cfg}
    parts["logos"] = job.bank.fingerprint()
    parts["backgrounds"] = job.backgrounds.fingerprint()
    fp = getattr(job.distractors, "fingerprint", None)
    parts["distractors"] = fp() if callable(fp) else (None if job.distractors is None else repr(type(job.distractors)))
    return fingerprint(parts)


def _progress(enabled: bool) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.text import Text

    class _Speed(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:6.1f} {task.fields.get('unit', 'img')}/s" if task.speed else "   -- /s", style="cyan")

    cols = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _Speed(), TimeElapsedColumn(), TimeRemainingColumn()]
    return Progress(*cols, disable=not enabled)


def _analyse(job: SynthJob, todo: list[int], executor: Executor, bar: Progress) -> tuple[dict[str, float], int, list[str]]:
    """Pre-pass: analyse every background the images in ``todo`` start from; median stage timings."""
    if job.analysis_cfg is None or not todo:
        return {}, 0, []
    used = sorted({background_index(job.seed, i, len(job.backgrounds)) for i in todo})
    task = bar.add_task("analyse", total=len(used), unit="bg")
    timings: dict[str, list[float]] = {}
    notes: list[str] = []
    for _, results in executor.map(analyze_backgrounds, job, [[j] for j in used]):
        for res in results:
            notes.extend(res["notes"])
            for k, v in res["timings"].items():
                timings.setdefault(k, []).append(float(v))
        bar.advance(task, len(results))
    return {k: statistics.median(v) for k, v in timings.items()}, len(used), notes


def _render(job: SynthJob, n: int, records: dict[int, dict], executor: Executor, bar: Progress) -> int:
    """Render the missing images shard by shard, writing each shard's manifest when it completes."""
    shards = shard_ranges(n, job.cfg.shard_size)
    pending: dict[int, int] = {}
    units: list[tuple[int, list[int]]] = []
    chunk = _CHUNK if getattr(executor, "workers", 0) else max(1, job.cfg.shard_size)
    for k, rng in enumerate(shards):
        todo = [i for i in rng if i not in records]
        if not todo:
            if not (job.out_dir / SHARDS_DIR / f"shard-{rng.start:06d}-{rng.stop:06d}.json").is_file():
                write_shard(job.out_dir, rng, [records[i] for i in rng])
            continue
        pending[k] = len(todo)
        units += [(k, todo[s : s + chunk]) for s in range(0, len(todo), chunk)]
    task = bar.add_task("synth", total=n, completed=len(records), unit="img")
    made = 0
    for (k, _), recs in executor.map(_render_unit, job, units):
        for rec in recs:
            records[rec["index"]] = rec
        made += len(recs)
        pending[k] -= len(recs)
        if pending[k] == 0:
            write_shard(job.out_dir, shards[k], [records[i] for i in shards[k]])
        bar.advance(task, len(recs))
    keep = {f"shard-{r.start:06d}-{r.stop:06d}.json" for r in shards}
    for stale in (job.out_dir / SHARDS_DIR).glob("shard-*.json"):
        if stale.name not in keep:
            stale.unlink(missing_ok=True)
    return made


def _render_unit(job: SynthJob, unit: tuple[int, list[int]]) -> list[dict]:
    return render_images(job, unit[1])


def _dataset(job: SynthJob, records: list[dict]) -> Any:
    from logodet.types import Annotation, DetectionDataset, ImageRecord

    images = []
    for rec in records:
        anns = [
            Annotation(
                (float(a["bbox"][0]), float(a["bbox"][1]), float(a["bbox"][2]), float(a["bbox"][3])),
                int(a["category"]),
                segmentation=a["segmentation"],
                area=float(a["area"]),
                iscrowd=0,
                extra={k: a[k] for k in ("visibility", "occlusion", "truncation", "source") if k in a},
            )
            for a in rec["annotations"]
        ]
        images.append(ImageRecord(rec["file_name"], int(rec["width"]), int(rec["height"]), anns, id=int(rec["index"]) + 1))
    return DetectionDataset(list(job.bank.class_names), images, job.out_dir / IMAGES_DIR)


def _notes(records: list[dict], kind: str) -> list[str]:
    seen: dict[str, None] = {}
    for rec in records:
        for note in rec.get("notes", ()):
            k, _, msg = note.partition("|")
            if k == kind:
                seen.setdefault(msg, None)
    return list(seen)


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
    executor: str | Executor = "local",
    address: str | None = None,
    cache_dir: str | Path | None = None,
    distractors: Any = None,
    formats: Sequence[str] = ("coco",),
    preview: bool = True,
) -> SynthReport:
    """Synthesise ``n`` images with exact boxes and RLE masks into the dataset folder ``out_dir``.

    Writes ``images/000000.jpg ...``, ``annotations.json`` (COCO: categories
    named by class, boxes = tight boxes of the visible masks, RLE
    segmentations, ``area`` = mask area, ``visibility``/``occlusion``/``truncation``),
    ``synth_config.yaml``, ``preview.png`` (16 images with boxes) and, with
    ``"yolo"`` in ``formats``, a YOLO copy in ``yolo/``. Images go out in
    shards of ``cfg.shard_size``; re-running the same call resumes (even
    after ``SIGKILL``) and gives byte-identical files. Other inputs into a
    used folder are an error unless ``overwrite``.

    Args:
        logos: a logo folder (see :func:`~logodet.assets.logos.load_logo_folder`) or a loaded bank.
        backgrounds: a folder, files, RGB arrays, a ``BackgroundSet``, or ``None`` for the demo photos.
        out_dir: the dataset folder to create or complete.
        n: number of images.
        cfg: synthesis settings (defaults when ``None``).
        seed: the dataset seed; image ``i`` uses ``default_rng([seed, i])``.
        workers: local processes (``spawn``: a script calling this with
            ``workers > 1`` needs the ``if __name__ == "__main__":`` guard).
        progress: show progress bars (analysis, then images with images/s).
        overwrite: replace a dataset made with other inputs or settings.
        executor: ``"local"``, ``"ray"`` or an :class:`~logodet.synth.executors.Executor`.
        address: Ray cluster address for ``executor="ray"`` (default: a running or new local instance).
        cache_dir: background-analysis cache (default :func:`default_cache_dir`).
        distractors: a folder of unlabelled icons or a ``DistractorBank`` pasted as distractors.
        formats: ``"coco"`` (always written) and optionally ``"yolo"``.
        preview: write ``preview.png``.

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
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"formats: expected some of {list(FORMATS)}, got {sorted(unknown)}")
    cfg = cfg or SynthConfig()
    bank, skipped_logos = load_logos(logos, cfg.key_white)
    bgs = as_background_set(backgrounds)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    job = SynthJob(bank, bgs, cfg, int(seed), Path(out_dir), max(6, len(str(max(n - 1, 0)))), cache, load_distractors(distractors))
    try:
        prepare_output(job.out_dir, _fingerprint(job), overwrite, extra_outputs=(CONFIG_FILE, PREVIEW_FILE, YOLO_DIR))
    except ShardError as exc:
        raise SynthError(str(exc)) from None
    ex = executor if not isinstance(executor, str) else make_executor(executor, workers, address)
    records = load_records(job.out_dir, n, job.digits)
    reused = len(records)
    todo = [i for i in range(n) if i not in records]
    try:
        with _progress(progress) as bar:
            timings, analysed, pre_notes = _analyse(job, todo, ex, bar)
            made = _render(job, n, records, ex, bar)
    except NoBackgroundError as exc:
        raise SynthError(str(exc)) from exc
    ordered = [records[i] for i in range(n)]
    failures = list(dict.fromkeys([*bgs.skipped, *_notes(ordered, "background"), *_notes([{"notes": pre_notes}], "background")]))
    for f in failures[len(bgs.skipped) :]:
        warnings.warn(f"skipping background {f}", BackgroundWarning, stacklevel=2)
    small = _notes([*ordered, {"notes": pre_notes}], "small background")
    if small:
        warnings.warn(_small_summary(small), BackgroundWarning, stacklevel=2)
    dataset = _dataset(job, ordered)
    from logodet.datasets.formats.coco import save_coco

    info = {"description": "logodet synthetic dataset", "generator": "logodet.synth", "seed": int(seed), "num_images": n}
    save_config(job.cfg, job.out_dir / CONFIG_FILE)
    path = save_coco(dataset, job.out_dir, info=info)
    extra: list[Path] = []
    if preview:
        from logodet.synth.preview import write_preview

        extra.append(write_preview(dataset, job.out_dir / PREVIEW_FILE))
    if "yolo" in formats:
        from logodet.datasets.formats.yolo import save_yolo

        extra.append(save_yolo(dataset, job.out_dir / YOLO_DIR))
    return SynthReport(
        out_dir=job.out_dir,
        annotations=path,
        num_images=n,
        num_generated=made,
        num_reused=reused,
        num_instances=sum(len(r["annotations"]) for r in ordered),
        num_empty=sum(1 for r in ordered if not r["annotations"]),
        class_names=tuple(bank.class_names),
        seconds=time.perf_counter() - start,
        skipped_backgrounds=tuple(failures),
        skipped_logos=tuple(skipped_logos),
        small_backgrounds=tuple(small),
        analysis_seconds=timings,
        num_analysed=analysed,
        extra_outputs=tuple(extra),
    )


def _small_summary(small: list[str], shown: int = 3) -> str:
    """One warning for every upscaled background: a photo folder can hold hundreds (the report lists them all)."""
    head = "; ".join(small[:shown])
    more = f"; +{len(small) - shown} more (SynthReport.small_backgrounds lists them)" if len(small) > shown else ""
    return f"{len(small)} background(s) smaller than the output size were upscaled: {head}{more}"
