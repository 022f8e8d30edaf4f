"""``logodet bench realworld``: does a detector trained on synthetic logos find them in real photos?

Steps (each run's result is saved, so re-running the same command skips
what is done):

1. **Inputs.** The logo artwork (a folder, or simple-icons slugs resolved
   in ``--icons``), the backgrounds, the real test set (COCO, categories named
   by slug). The test set is split by image (stratified, seeded) into a
   *validation* half, which only chooses the presence threshold and the
   checkpoint, and a *test* half, which is only measured. With ``--real-train``
   the few-shot track takes ``--shots`` images per brand from it; when it is
   the test folder itself, the shots come from the validation half (the rest
   of that half stays validation), so no test image is ever trained on.
2. **Data.** One synthetic dataset per synthesis profile
   (:mod:`logodet.bench.profiles`), all from the same seed. With
   ``shot_crops`` the few-shot track gets its own: the same profile with the
   shots' labelled boxes added to the artwork as variants
   (:mod:`logodet.assets.crops`).
3. **Runs.** Cold start (synthetic only), few-shot (synthetic plus the real
   shots, repeated ``real_repeat`` times per epoch), the naive copy-paste
   baseline, Ultralytics YOLO11n on the same synthetic data, and the
   ablations at ``ablation_minutes`` (with SynthLogo itself at that budget as
   their reference, unless the cold-start run already has it). logodet runs
   get the number of epochs that fits the CPU budget (from one step-time
   measurement per bench folder, recorded with each run's plan so a run can be
   repeated exactly) with the budget as a hard stop.
4. **Prediction.** Each model predicts the validation split at a few input
   sizes (``test_scales`` times ``imgsz``: 160-320 px at 320). Each size (and, with
   ``merge_sizes``, all sizes merged) gets the factor of ``box_scales`` with
   its best validation AP; the one with the best validation AP50 with its
   boxes so grown then predicts the test split
   (:func:`logodet.bench.evaluate.choose_prediction`).
5. **Report.** ``report.md`` and ``report.json`` in ``--out``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logodet.bench.budget import fit_epochs, step_seconds, train_config
from logodet.bench.evaluate import check_box_scales, choose_and_score, input_sizes
from logodet.bench.profiles import ABLATIONS, get_profile
from logodet.bench.report import ABLATION_REFERENCE
from logodet.io import atomic_write_json
from logodet.types import DetectionDataset

__all__ = [
    *("FLICKRLOGOS_BRANDS", "RealWorldConfig", "RunSpec", "fit_epochs", "plan_runs", "prepare_logos"),
    *("run_realworld", "split_real", "train_config"),
]

FLICKRLOGOS_BRANDS = (
    *("adidas", "apple", "bmw", "citroen", "cocacola", "dhl", "fedex", "ferrari", "ford", "google", "hp", "intel"),
    *("mcdonalds", "mini", "nbc", "nike", "porsche", "puma", "redbull", "starbucks", "vodafone"),
)
SHARED = Path("../shared/data")


@dataclass(frozen=True)
class RealWorldConfig:
    """Settings of ``logodet bench realworld`` (paths relative to the working folder)."""

    out: str = "runs/bench-realworld"
    logos: str = ""  # a folder; empty: ``brands`` from ``icons``
    brands: tuple[str, ...] = FLICKRLOGOS_BRANDS
    icons: str = str(SHARED / "logos" / "simple-icons")
    backgrounds: str = str(SHARED / "backgrounds")
    test: str = str(SHARED / "flickrlogos27-dev")
    real_train: str = ""
    shots: int = 5
    real_repeat: int = 24  # 94 shots x 24 = 43 % of an epoch: few-shot AP50 0.529 vs 0.468 at 8 (RESULTS.md, 2026-12-02)
    shot_crops: bool = False  # the few-shot track also pastes the shots' labelled boxes as logo variants (assets/crops.py)
    shot_crop_share: float | None = None  # with shot_crops: share of a brand's pasted logos that are crops (SynthConfig.crop_share)
    budget_minutes: float = 60.0
    ablation_minutes: float = 15.0
    seed: int = 0
    synth_images: int = 3000
    synth_size: tuple[int, int] = (512, 512)
    synth_workers: int = 2
    synth_overrides: tuple[str, ...] = ()
    model: str = "fcos_efficientnet_lite0"
    imgsz: int = 320
    batch: int = 8
    lr: float = 2e-3
    freeze: int = -1  # the whole backbone: the best AP50 per CPU minute on flickrlogos27-dev (RESULTS.md)
    train_overrides: tuple[str, ...] = ()  # TrainConfig key=value for every logodet row, e.g. unfreeze_epoch=5
    seconds_per_step: float = 0.0  # plan epochs from this step time; 0: measured once per bench folder
    # prediction input sizes tried (x imgsz: 160-320 px at 320) and box growth factors; validation picks the size
    # (or all sizes merged) and its factor. A detector trained on synthetic logos finds real ones best below its
    # training size and draws tighter boxes than the photos' labels; 0.7-1.0 and x1.0-1.3 were the grid's edges
    # (benchmarks/RESULTS.md, ninth session)
    test_scales: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 1.0)
    box_scales: tuple[float, ...] = (1.0, 1.1, 1.2, 1.3, 1.4, 1.5)
    merge_sizes: bool = True  # also try every test size merged (one forward pass per size); validation decides
    tracks: tuple[str, ...] = ("cold", "fewshot")
    baselines: tuple[str, ...] = ("naive", "yolo")
    ablations: tuple[str, ...] = ()
    yolo_venv: str = "runs/.yolo-venv"


@dataclass
class RunSpec:
    """One row of the benchmark."""

    name: str
    profile: str
    trainer: str = "logodet"
    fewshot: bool = False
    minutes: float = 60.0
    notes: list[str] = field(default_factory=list)


def prepare_logos(cfg: RealWorldConfig, out: Path) -> Path:
    """The logo folder: ``cfg.logos``, or links to the simple-icons SVGs of ``cfg.brands`` with their brand colours."""
    if cfg.logos:
        if not Path(cfg.logos).is_dir():
            raise FileNotFoundError(f"{cfg.logos}: logo folder not found")
        return Path(cfg.logos)
    icons = Path(cfg.icons)
    meta_file = icons / "simple-icons.json"
    if not (icons / "icons").is_dir() or not meta_file.is_file():
        raise FileNotFoundError(f"{icons}: expected simple-icons (icons/*.svg and simple-icons.json); pass --icons or --logos")
    meta = {e.get("slug"): e for e in json.loads(meta_file.read_text(encoding="utf-8")) if isinstance(e, dict)}
    folder = out / "logos"
    folder.mkdir(parents=True, exist_ok=True)
    colors = {}
    for slug in cfg.brands:
        src = icons / "icons" / f"{slug}.svg"
        if not src.is_file():
            raise FileNotFoundError(f"{src}: no simple-icons artwork for brand {slug!r}")
        link = folder / src.name
        if not link.exists():
            link.symlink_to(src.resolve())
        if slug in meta and meta[slug].get("hex"):
            colors[slug] = {"hex": meta[slug]["hex"]}
    atomic_write_json(folder / "brands.json", colors)
    return folder


def split_real(
    cfg: RealWorldConfig,
) -> tuple[DetectionDataset, DetectionDataset, DetectionDataset | None, DetectionDataset | None, list[str]]:
    """``(validation, test, shots or None, few-shot validation or None, notes)`` as the module docstring describes.

    Runs without real training images validate on the whole validation half; the few-shot run validates on
    what its shots leave of it (or on the whole half when the shots come from another folder).
    """
    from logodet.datasets.formats.coco import load_coco
    from logodet.datasets.split import few_shot, split_dataset, subset

    notes = []
    real = load_coco(cfg.test)
    halves = split_dataset(real, {"val": 0.5, "test": 0.5}, seed=cfg.seed)
    val, test = subset(real, halves["val"]), subset(real, halves["test"])
    notes.append(f"{cfg.test} split by image (stratified, seed {cfg.seed}): {len(val)} validation, {len(test)} test images")
    shots, few_val = None, None
    if cfg.real_train and "fewshot" in cfg.tracks:
        same = Path(cfg.real_train).resolve() == Path(cfg.test).resolve()
        pool = val if same else load_coco(cfg.real_train)
        chosen = few_shot(pool, shots=cfg.shots, seed=cfg.seed)
        shots, few_val = subset(pool, chosen), val
        if same:
            few_val = subset(val, sorted(set(range(len(val))) - set(chosen)))
            notes.append(
                f"--real-train is the test folder: the {len(chosen)} few-shot images ({cfg.shots} per brand) come from the "
                f"validation half; the few-shot run validates on the {len(few_val)} images left of it; no test image is trained on"
            )
        else:
            notes.append(f"few-shot: {len(chosen)} images ({cfg.shots} per brand) from {cfg.real_train}")
    return val, test, shots, few_val, notes


def _synthesize(cfg: RealWorldConfig, profile_name: str, logos: Path, out: Path, suffix: str = "", extra: tuple[str, ...] = ()) -> Path:
    from logodet.synth.config import resolve_synth_config
    from logodet.synth.pipeline import synthesize

    profile = get_profile(profile_name)
    folder = out / "data" / (profile_name + suffix)
    overrides = [f"{k}={json.dumps(v)}" for k, v in profile.overrides.items()] + list(cfg.synth_overrides) + list(extra)
    scfg = resolve_synth_config(size=tuple(cfg.synth_size), overrides=overrides)
    backgrounds: Any = cfg.backgrounds
    if profile.textures:
        from logodet.bench.textures import write_textures

        backgrounds = out / "data" / "textures"
        if not backgrounds.is_dir():
            write_textures(backgrounds, 270, seed=cfg.seed)
    distractors = str(Path(cfg.icons) / "icons") if profile.distractors and (Path(cfg.icons) / "icons").is_dir() else None
    synthesize(logos, backgrounds, folder, cfg.synth_images, scfg, seed=cfg.seed, workers=cfg.synth_workers, distractors=distractors)
    return folder


def _train_logodet(
    cfg: RealWorldConfig, spec: RunSpec, train_set: DetectionDataset, val: DetectionDataset, run: Path, data_dir: Path
) -> Path:
    from logodet.engine.trainer import train

    plan = run / "plan.json"
    if plan.is_file():
        epochs = json.loads(plan.read_text())["epochs"]
    else:
        step = step_seconds(cfg, train_set, run.parent.parent)
        epochs = fit_epochs(cfg, len(train_set), spec.minutes, step)
        atomic_write_json(plan, {"epochs": epochs, "seconds_per_step": step, "images": len(train_set)})
    spec.notes.append(f"{epochs} epochs of {len(train_set)} images planned for {spec.minutes:g} min")
    tcfg = train_config(cfg, data_dir, run / "train", epochs, spec.minutes, len(train_set))
    resume = (run / "train" / "last.pt").is_file()
    res = train(tcfg, resume=resume, progress=True, train_dataset=train_set, val_dataset=val)
    spec.notes.append(f"trained {res.epochs_done} epochs" + (f" ({res.stop_reason})" if res.stop_reason else ""))
    return run / "train" / "best.pt"


def _shot_logos(logos: Path, shots: DetectionDataset, out: Path, spec: RunSpec) -> Path:
    """A logo folder of the artwork plus every labelled box of the few-shot images as a variant of its brand."""
    from logodet.assets.crops import logo_folder_with_crops

    folder = out / "logos-shots"
    counts = logo_folder_with_crops(logos, shots, folder)
    spec.notes.append(f"{sum(counts.values())} labelled boxes of the shots pasted as logo variants ({len(counts)} brands)")
    return folder


def _with_shots(synthetic: DetectionDataset, shots: DetectionDataset, repeat: int) -> DetectionDataset:
    from logodet.datasets.merge import merge_datasets

    merged = merge_datasets([synthetic, shots], names=["synthetic", "real"], prefix=True)
    real = [r for r in merged.images if r.file_name.startswith("real/")]
    merged.images = merged.images + [dataclasses.replace(r) for r in real for _ in range(max(0, repeat - 1))]
    return merged


def plan_runs(cfg: RealWorldConfig, few_shot: bool) -> list[RunSpec]:
    """The rows to run, in order: the tracks, the baselines, then the ablations (with their reference)."""
    specs = []
    if "cold" in cfg.tracks:
        specs.append(RunSpec("cold start (SynthLogo)", "synthlogo", minutes=cfg.budget_minutes))
    if few_shot:
        specs.append(RunSpec(f"few-shot K={cfg.shots} (SynthLogo + real)", "synthlogo", fewshot=True, minutes=cfg.budget_minutes))
    if "naive" in cfg.baselines:
        specs.append(RunSpec("baseline: naive copy-paste", "naive", minutes=cfg.budget_minutes))
    if "yolo" in cfg.baselines:
        specs.append(RunSpec("baseline: YOLO11n on SynthLogo data", "synthlogo", trainer="yolo", minutes=cfg.budget_minutes))
    ablations = ABLATIONS if "all" in cfg.ablations else cfg.ablations
    if ablations and not ("cold" in cfg.tracks and cfg.ablation_minutes == cfg.budget_minutes):
        # each ablation is compared with SynthLogo trained for the same (smaller) budget
        specs.append(RunSpec(ABLATION_REFERENCE, "synthlogo", minutes=cfg.ablation_minutes))
    for name in ablations:
        specs.append(RunSpec(f"ablation: {get_profile(name).description}", name, minutes=cfg.ablation_minutes))
    return specs


def run_realworld(cfg: RealWorldConfig) -> dict[str, Any]:
    """Run the benchmark (skipping finished rows) and write ``report.md`` / ``report.json``; the report dict."""
    from logodet.bench.report import write_report
    from logodet.datasets.formats.coco import load_coco
    from logodet.inference.predictor import predict_coco_results

    sizes = input_sizes(cfg.imgsz, cfg.test_scales)  # a bad test_scales fails before anything is written
    check_box_scales(cfg.box_scales)
    train_config(cfg, Path("."), Path("."), 1, cfg.budget_minutes, 1)  # so does a bad train override
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    logos = prepare_logos(cfg, out)
    val_all, test, shots, few_val, notes = split_real(cfg)
    specs = plan_runs(cfg, few_shot=shots is not None)
    rows = []
    for spec in specs:
        slug = "".join(c if c.isalnum() else "-" for c in spec.name.lower()).strip("-")
        run = out / "runs" / slug
        done = run / "result.json"
        if done.is_file():
            rows.append(json.loads(done.read_text()))
            continue
        t0 = time.perf_counter()
        val = few_val if spec.fewshot and few_val is not None else val_all
        if spec.fewshot and shots is not None and cfg.shot_crops:
            share = () if cfg.shot_crop_share is None else (f"crop_share={json.dumps(cfg.shot_crop_share)}",)
            data_dir = _synthesize(cfg, spec.profile, _shot_logos(logos, shots, out, spec), out, suffix="-shots", extra=share)
        else:
            data_dir = _synthesize(cfg, spec.profile, logos, out)
        data = load_coco(data_dir)
        if spec.trainer == "yolo":
            from logodet.bench.yolo import ensure_venv, run_yolo_baseline
            from logodet.datasets.formats.yolo import save_yolo

            yaml_path = save_yolo(data, out / "data" / f"{spec.profile}-yolo", images="symlink")
            res = run_yolo_baseline(
                ensure_venv(cfg.yolo_venv),
                yaml_path,
                run,
                {"val": val, "test": test},
                minutes=spec.minutes,
                imgsz=cfg.imgsz,
                batch=cfg.batch,
                sizes=sizes,
            )
            scores, row_notes = choose_and_score(
                val, test, res["val"], lambda size, r=res: r["test"][size], cfg.imgsz, cfg.box_scales, cfg.merge_sizes
            )
        else:
            train_set = _with_shots(data, shots, cfg.real_repeat) if spec.fewshot and shots is not None else data
            best = _train_logodet(cfg, spec, train_set, val, run, data_dir)
            by_size = {s: predict_coco_results(best, val, conf=0.001, imgsz=s, progress=False) for s in sizes}
            test_at = lambda size, m=best: predict_coco_results(m, test, conf=0.001, imgsz=size, progress=False)  # noqa: E731
            scores, row_notes = choose_and_score(val, test, by_size, test_at, cfg.imgsz, cfg.box_scales, cfg.merge_sizes)
        spec.notes.extend(row_notes)
        row = {"name": spec.name, "profile": spec.profile, "trainer": spec.trainer, "budget_minutes": spec.minutes, **scores}
        row.update({"notes": spec.notes, "wall_minutes": (time.perf_counter() - t0) / 60.0})
        atomic_write_json(done, row)
        rows.append(row)
    report = {"config": dataclasses.asdict(cfg), "notes": notes, "rows": rows, "date": time.strftime("%Y-%m-%d")}
    write_report(report, out)
    return report
