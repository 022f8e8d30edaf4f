"""ONNX export of a checkpoint, with the metadata the ONNX Runtime predictor needs.

The exported graph is the model's dense graph (:func:`logodet.models.dense.dense_model`:
``DenseFCOS`` or ``DenseRetinaNet``): input ``images`` ``float32 [B, 3, S, S]`` in
``[0, 1]`` (dynamic batch), outputs ``boxes`` ``[B, A, 4]`` and ``scores`` ``[B, A, K]``. Class names, input size and the
model name travel in the file's metadata.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from logodet.engine.checkpoint import load_checkpoint, model_from_checkpoint
from logodet.io import atomic_write_bytes
from logodet.models.dense import dense_model

__all__ = ["ExportError", "export_onnx"]


class ExportError(RuntimeError):
    """Export failed or the exported graph disagrees with PyTorch."""


def export_onnx(checkpoint: str | Path, out: str | Path, *, imgsz: int | None = None, opset: int = 18, check: bool = True) -> Path:
    """Export ``checkpoint`` (a ``.pt`` file) to ``out`` (``.onnx``).

    Args:
        checkpoint: a logodet training checkpoint.
        out: the ONNX file to write (atomically).
        imgsz: input size (default: the training size).
        opset: ONNX opset version.
        check: run ONNX Runtime on a random batch and compare with PyTorch.

    Example:
        >>> export_onnx("runs/demo/best.pt", "runs/demo/model.onnx")  # doctest: +SKIP
    """
    import onnx

    state = load_checkpoint(checkpoint)
    size = int(imgsz or state["imgsz"])
    if size % 32:
        raise ExportError(f"imgsz must be a multiple of 32, got {size}")
    dense = dense_model(model_from_checkpoint(state), size).eval()
    example = torch.rand(2, 3, size, size)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        tmp_path = Path(tmp) / "model.onnx"
        batch = torch.export.Dim("batch", min=1, max=1024)
        torch.onnx.export(
            dense,
            (example,),
            str(tmp_path),
            input_names=["images"],
            output_names=["boxes", "scores"],
            dynamic_shapes={"images": {0: batch}},
            opset_version=opset,
            dynamo=True,
            external_data=False,
        )
        model = onnx.load(str(tmp_path))
    meta = {
        "class_names": json.dumps(state["class_names"]),
        "imgsz": str(size),
        "model_name": state["model_name"],
        "producer": "logodet",
        "input": "RGB float32 [B,3,S,S] in [0,1], letterboxed (pad 114 right/bottom)",
    }
    for k, v in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    out = Path(out)
    atomic_write_bytes(out, model.SerializeToString())
    if check:
        _check_parity(dense, out, size)
    return out


def _check_parity(dense: torch.nn.Module, path: Path, size: int, atol: float = 1e-3) -> None:
    from logodet.inference.predictor import OnnxBackend

    x = np.random.default_rng(0).random((2, 3, size, size), dtype=np.float32)
    with torch.inference_mode():
        ref_boxes, ref_scores = (t.numpy() for t in dense(torch.from_numpy(x)))
    boxes, scores = OnnxBackend(path)(x)
    if not (np.allclose(boxes, ref_boxes, atol=atol * size) and np.allclose(scores, ref_scores, atol=atol)):
        raise ExportError(
            f"{path}: ONNX outputs differ from PyTorch (max box diff {np.abs(boxes - ref_boxes).max():.4g}, "
            f"max score diff {np.abs(scores - ref_scores).max():.4g})"
        )
