"""Inference latency at batch 1: ONNX Runtime vs PyTorch, same graph, same inputs, same process.

Exports a freshly built detector (ImageNet backbone, untrained head) to ONNX and times the dense
network (no pre/post-processing) per backend, in blocks of calls, alternating the order. Prints the median of
``--runs`` calls per backend and the ratio.

    .venv/bin/python benchmarks/bench_latency.py --imgsz 320 --runs 20
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from logodet.engine.checkpoint import save_checkpoint
from logodet.export.onnx import export_onnx
from logodet.inference.predictor import OnnxBackend, TorchBackend
from logodet.models.dense import DenseFCOS
from logodet.models.zoo import build_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--imgsz", type=int, nargs="+", default=[320, 640])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--classes", type=int, default=6)
    args = ap.parse_args()
    torch.manual_seed(0)
    model = build_model("fcos_efficientnet_lite0", num_classes=args.classes, weights="imagenet")
    names = [f"class{i}" for i in range(args.classes)]
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.imgsz:
            ckpt = Path(tmp) / "m.pt"
            save_checkpoint(
                {"model": model.state_dict(), "model_name": "fcos_efficientnet_lite0", "class_names": names, "imgsz": size}, ckpt
            )
            onnx_path = export_onnx(ckpt, Path(tmp) / f"m{size}.onnx")
            backends = {"pytorch": TorchBackend(DenseFCOS(model.eval(), size)), "onnxruntime": OnnxBackend(onnx_path)}
            x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
            times: dict[str, list[float]] = {k: [] for k in backends}
            # Blocks per backend (ONNX Runtime's worker threads spin after a call and would slow an
            # interleaved PyTorch call); two rounds in alternating order, 3 warm-up calls per block.
            order = list(backends)
            for rnd in range(2):
                for name in order if rnd == 0 else order[::-1]:
                    fn = backends[name]
                    for _ in range(3):
                        fn(x)
                    for _ in range(args.runs // 2):
                        t = time.perf_counter()
                        fn(x)
                        times[name].append((time.perf_counter() - t) * 1000)
            med = {k: statistics.median(v) for k, v in times.items()}
            for k, v in times.items():
                print(f"{size} px {k:12s} median {med[k]:7.2f} ms  min {min(v):7.2f}  max {max(v):7.2f}  ({args.runs} runs)")
            print(f"{size} px pytorch / onnxruntime = {med['pytorch'] / med['onnxruntime']:.2f}x")


if __name__ == "__main__":
    main()
