"""Training throughput (images/s) of a logodet detector on CPU.

Times full optimisation steps (forward, loss, backward, AdamW step) on random
images with one box each, after warm-up steps; prints the median of several
timed windows.

    .venv/bin/python benchmarks/bench_train.py --imgsz 320 --batch 8 --steps 10 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from logodet.engine.trainer import _freeze, _set_train_mode
from logodet.models.zoo import build_model


def _step(model, opt, images, targets) -> None:
    loss = sum(model(images, targets).values())
    opt.zero_grad()
    loss.backward()
    opt.step()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="fcos_efficientnet_lite0")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--classes", type=int, default=6)
    ap.add_argument("--freeze", type=int, nargs="+", default=[3, 0])
    ap.add_argument("--steps", type=int, default=10, help="steps per timed window")
    ap.add_argument("--repeats", type=int, default=5, help="timed windows")
    args = ap.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, imgsz {args.imgsz}, batch {args.batch}")
    for freeze in args.freeze:
        model = build_model(args.model, num_classes=args.classes, weights="imagenet", imgsz=args.imgsz)
        _freeze(model, freeze)
        _set_train_mode(model)
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        images = [torch.rand(3, args.imgsz, args.imgsz) for _ in range(args.batch)]
        s = args.imgsz
        targets = [{"boxes": torch.tensor([[s * 0.2, s * 0.3, s * 0.6, s * 0.7]]), "labels": torch.tensor([1])} for _ in range(args.batch)]

        for _ in range(3):
            _step(model, opt, images, targets)
        rates = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            for _ in range(args.steps):
                _step(model, opt, images, targets)
            rates.append(args.steps * args.batch / (time.perf_counter() - t))
        print(
            f"freeze={freeze}: median {statistics.median(rates):.2f} images/s "
            f"(min {min(rates):.2f}, max {max(rates):.2f}, {args.repeats} windows of {args.steps} steps)"
        )


if __name__ == "__main__":
    main()
