"""The Ultralytics YOLO11n baseline of the real-world benchmark, run in a separate virtual environment.

YOLO11n is built from its YAML (no pretrained weights), trained on the YOLO
export of the same synthetic dataset for the same CPU time budget
(Ultralytics' ``time`` argument), and then predicts the validation and test
photos; its detections are mapped to the benchmark's categories by class
name and scored by logodet's evaluator like every other row. Ultralytics is
never a logodet dependency: :func:`ensure_venv` creates ``VENV`` on first
use with torch, torchvision and ultralytics from the package index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from logodet.types import DetectionDataset

__all__ = ["ensure_venv", "run_yolo_baseline"]

_CHILD = r"""
import json, os, sys
from ultralytics import YOLO
import ultralytics.utils.torch_utils as torch_utils
torch_utils.NUM_THREADS = int(os.environ["OMP_NUM_THREADS"])  # Ultralytics trains on cpu_count - 1 threads; use logodet's
args = json.loads(sys.argv[1])
done = os.path.join(args["out"], "trained.json")
if not os.path.isfile(done):  # a finished training is kept: a re-run only predicts
    model = YOLO("yolo11n.yaml")
    model.train(data=args["data"], imgsz=args["imgsz"], batch=args["batch"], epochs=1000, time=args["hours"], workers=0,
                device="cpu", plots=False, val=False, amp=False, project=args["out"], name="train", exist_ok=True,
                seed=args["seed"], deterministic=True, verbose=False)
    weights = os.path.join(str(model.trainer.save_dir), "weights", "last.pt")
    json.dump({"weights": weights}, open(done, "w"))
weights = json.load(open(done))["weights"]
trained = YOLO(weights)
names = trained.names
out = {}
for split, files in args["predict"].items():
    out[split] = {}
    for size in args["sizes"]:
        rows = []
        for i in range(0, len(files), 16):
            for image_id, res in zip(args["ids"][split][i:i + 16], trained.predict(files[i:i + 16], imgsz=size, conf=0.001,
                                                                                     device="cpu", verbose=False, max_det=100)):
                b = res.boxes
                for (x1, y1, x2, y2), s, c in zip(b.xyxy.tolist(), b.conf.tolist(), b.cls.tolist()):
                    rows.append({"image_id": image_id, "name": names[int(c)], "bbox": [x1, y1, x2 - x1, y2 - y1], "score": s})
        out[split][str(size)] = rows
json.dump(out, open(os.path.join(args["out"], "predictions.json"), "w"))
"""


def ensure_venv(venv: str | Path) -> Path:
    """The python of ``venv`` with ultralytics importable, creating the environment when needed."""
    venv = Path(venv)
    py = venv / "bin" / "python"
    if py.is_file() and subprocess.run([str(py), "-c", "import ultralytics"], capture_output=True).returncode == 0:
        return py
    print(f"creating {venv} for the YOLO11n baseline (torch, torchvision, ultralytics; a few minutes once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "torch==2.14.1", "torchvision==0.29.1"], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "ultralytics"], check=True)
    return py


def _coco_ids(dataset: DetectionDataset) -> list[int]:
    return [r.id if r.id is not None else i + 1 for i, r in enumerate(dataset.images)]


def run_yolo_baseline(
    python: Path,
    data_yaml: Path,
    out: Path,
    splits: dict[str, DetectionDataset],
    *,
    minutes: float,
    imgsz: int,
    batch: int,
    seed: int = 0,
    sizes: list[int] | None = None,
) -> dict[str, dict[int, list[dict]]]:
    """Train YOLO11n for ``minutes``; COCO results per split and prediction input size (default: ``imgsz`` only).

    Category ids are matched by name, as logodet numbers them.
    """
    out.mkdir(parents=True, exist_ok=True)
    args = {
        "data": str(data_yaml),
        "imgsz": int(imgsz),
        "batch": int(batch),
        "hours": minutes / 60.0,
        "out": str(out.resolve()),  # Ultralytics puts a relative project under its own runs/ folder
        "seed": int(seed),
        "predict": {k: [str(ds.image_path(r)) for r in ds.images] for k, ds in splits.items()},
        "ids": {k: _coco_ids(ds) for k, ds in splits.items()},
        "sizes": [int(v) for v in sizes or [imgsz]],
    }
    script = out / "yolo_child.py"
    script.write_text(_CHILD)
    threads = os.environ.get("OMP_NUM_THREADS") or str(os.cpu_count() or 1)  # the same threads as logodet's runs
    env = dict(os.environ, YOLO_OFFLINE="1", YOLO_CONFIG_DIR=str(out / "config"), OMP_NUM_THREADS=threads)
    proc = subprocess.run([str(python), str(script), json.dumps(args)], env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"the YOLO11n baseline failed (exit {proc.returncode}); its output is above")
    raw = json.loads((out / "predictions.json").read_text())
    results: dict[str, dict[int, list[dict]]] = {}
    for split, ds in splits.items():
        cat = {name: i + 1 for i, name in enumerate(ds.class_names)}
        results[split] = {
            int(size): [
                {"image_id": r["image_id"], "category_id": cat[r["name"]], "bbox": r["bbox"], "score": r["score"]}
                for r in rows
                if r["name"] in cat
            ]
            for size, rows in raw[split].items()
        }
    return results
