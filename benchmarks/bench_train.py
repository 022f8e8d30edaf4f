"""Training throughput on CPU: logodet's trainer against Ultralytics YOLO11n, same data, image size and batch.

Both train on the same synthetic dataset (logodet's demo logos on the
scikit-image photos, written once as COCO and as YOLO), with their own data
pipelines (decoding and augmentation included) and ``workers=0``. Each step's
wall time is recorded by a callback (logodet: a training hook; Ultralytics:
``on_train_batch_end``); the first ``--skip`` steps are warm-up. Throughput
is ``batch / median step time``. The two run alternately ``--repeats`` times
in the same session and the script prints each run, the medians and the
ratio. ``--fp32`` also times logodet without its CPU speed-ups (bf16 for the
frozen backbone stages, channels-last layout), data loading included, and
prints that ratio; ``--freeze -1`` freezes the whole backbone as ``bench
realworld`` does.

YOLO11n is built from its YAML (no weights) inside a separate virtual
environment that this script creates on first use (``benchmarks/.yolo-venv``:
torch, torchvision and ultralytics from the package index); it is never a
logodet dependency. Nothing is downloaded at run time by either trainer.

    .venv/bin/python benchmarks/bench_train.py --imgsz 320 --batch 8 --images 160 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FP32 = "logodet, float32 NCHW (amp=False, channels_last=False)"
YOLO_VENV = HERE / ".yolo-venv"

YOLO_CHILD = r"""
import json, os, sys, time
os.environ.setdefault("YOLO_OFFLINE", "1")
from ultralytics import YOLO
data, imgsz, batch, epochs, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
times = []
last = [None]
def on_batch_start(trainer):
    last[0] = time.perf_counter()
def on_batch_end(trainer):
    times.append(time.perf_counter() - last[0])
model = YOLO("yolo11n.yaml")
model.add_callback("on_train_batch_start", on_batch_start)
model.add_callback("on_train_batch_end", on_batch_end)
model.train(data=data, imgsz=imgsz, batch=batch, epochs=epochs, workers=0, device="cpu", plots=False, val=False,
            amp=False, project=os.path.dirname(out), name="yolo", exist_ok=True, verbose=False, cache=False, seed=0)
json.dump({"step_seconds": times}, open(out, "w"))
"""


def _ensure_yolo_venv() -> Path:
    py = YOLO_VENV / "bin" / "python"
    if py.is_file() and subprocess.run([str(py), "-c", "import ultralytics"], capture_output=True).returncode == 0:
        return py
    print(f"creating {YOLO_VENV} (torch, torchvision, ultralytics; a few minutes once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(YOLO_VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "torch==2.14.1", "torchvision==0.29.1"], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "ultralytics"], check=True)
    return py


def _make_data(root: Path, n: int, imgsz: int) -> tuple[Path, Path]:
    from logodet.datasets.formats.coco import load_coco
    from logodet.datasets.formats.yolo import save_yolo
    from logodet.quickstart import DEMO_SYNTH
    from logodet.synth.config import resolve_synth_config
    from logodet.synth.pipeline import synthesize

    examples = HERE.parent / "examples" / "logos"
    cfg = resolve_synth_config(size=(imgsz, imgsz), overrides=[f"{k}={json.dumps(v)}" for k, v in DEMO_SYNTH.items()])
    synthesize(examples, None, root / "coco", n, cfg, seed=0, workers=1, progress=False, preview=False)
    yaml_path = save_yolo(load_coco(root / "coco"), root / "yolo", images="copy")
    return root / "coco", yaml_path


def _logodet_run(
    coco: Path, out: Path, imgsz: int, batch: int, epochs: int, freeze: int = 3, fast: bool = True
) -> tuple[list[float], list[float]]:
    """Step times (forward, loss, backward, optimizer) and loop times (from one step's end to the next's: data included)."""
    from logodet.engine.config import TrainConfig
    from logodet.engine.hooks import Hook
    from logodet.engine.trainer import train

    class StepTimer(Hook):
        priority = 0

        def __init__(self) -> None:
            self.times: list[float] = []
            self.ends: list[float] = []
            self.t0 = 0.0

        def before_step(self, trainer) -> None:
            self.t0 = time.perf_counter()

        def after_step(self, trainer) -> None:
            self.ends.append(time.perf_counter())
            self.times.append(self.ends[-1] - self.t0)

    timer = StepTimer()
    cfg = TrainConfig(
        data=str(coco),
        out=str(out),
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        workers=0,
        seed=0,
        checkpoint_every=0,
        freeze=freeze,
        amp=fast,
        channels_last=fast,
    )
    train(cfg, hooks=[timer], progress=False)
    return timer.times, [b - a for a, b in zip(timer.ends, timer.ends[1:], strict=False)]


def _yolo_run(py: Path, yaml_path: Path, out: Path, imgsz: int, batch: int, epochs: int) -> list[float]:
    script = out.parent / "yolo_child.py"
    script.write_text(YOLO_CHILD)
    result = out / "yolo_times.json"
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, YOLO_OFFLINE="1", YOLO_CONFIG_DIR=str(out / "cfg"))
    proc = subprocess.run([str(py), str(script), str(yaml_path), str(imgsz), str(batch), str(epochs), str(result)], env=env)
    if proc.returncode != 0:
        raise RuntimeError("the Ultralytics run failed (see its output above)")
    return json.loads(result.read_text())["step_seconds"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--images", type=int, default=160, help="synthetic training images (steps per epoch = images / batch)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip", type=int, default=3, help="warm-up steps left out of each run")
    ap.add_argument("--no-yolo", action="store_true", help="time logodet only")
    ap.add_argument("--freeze", type=int, default=3, help="logodet backbone stages frozen (-1: all)")
    ap.add_argument("--fp32", action="store_true", help="also time logodet with amp=False, channels_last=False (float32, NCHW)")
    args = ap.parse_args()
    import torch

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, imgsz {args.imgsz}, batch {args.batch}")
    py = None if args.no_yolo else _ensure_yolo_venv()
    root = Path(tempfile.mkdtemp(prefix="bench-train-"))
    coco, yaml_path = _make_data(root / "data", args.images, args.imgsz)
    main_name = "logodet fcos_efficientnet_lite0"
    rates: dict[str, list[float]] = {main_name: [], "Ultralytics YOLO11n (from YAML)": []}
    loops: dict[str, list[float]] = {main_name: []}
    if args.fp32:
        rates[FP32], loops[FP32] = [], []
    for k in range(args.repeats):
        for name, fast in [(main_name, True), *([(FP32, False)] if args.fp32 else [])]:
            steps, loop = _logodet_run(coco, root / f"logodet-{k}-{fast}", args.imgsz, args.batch, args.epochs, args.freeze, fast)
            rates[name].append(args.batch / statistics.median(steps[args.skip :]))
            loops[name].append(args.batch / statistics.median(loop[args.skip :]))
        if py is not None:
            steps = _yolo_run(py, yaml_path, root / f"yolo-{k}", args.imgsz, args.batch, args.epochs)[args.skip :]
            rates["Ultralytics YOLO11n (from YAML)"].append(args.batch / statistics.median(steps))
        print(f"repeat {k + 1}: " + ", ".join(f"{name} {v[-1]:.2f} img/s" for name, v in rates.items() if v), flush=True)
    if args.fp32:
        print("\n| logodet, data loading included | images/s per repeat | median |\n|---|---|---:|")
        for name, v in loops.items():
            print(f"| {name} | {', '.join(f'{x:.2f}' for x in v)} | {statistics.median(v):.2f} |")
        ratios = [a / b for a, b in zip(loops[main_name], loops[FP32], strict=True)]
        print(f"\ndefaults / float32 per repeat: {', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}x")
    print("\n| trainer | images/s per repeat | median |\n|---|---|---:|")
    for name, v in rates.items():
        if v:
            print(f"| {name} | {', '.join(f'{x:.2f}' for x in v)} | {statistics.median(v):.2f} |")
    if py is not None:
        ratios = [a / b for a, b in zip(rates[main_name], rates["Ultralytics YOLO11n (from YAML)"], strict=True)]
        print(f"\nlogodet / YOLO11n per repeat: {', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
