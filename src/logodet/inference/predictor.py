"""``Predictor``: one API over the PyTorch and ONNX Runtime backends.

Both backends run the same dense graph (:func:`logodet.models.dense.dense_model`)
on the same letterboxed input, then share post-processing, so a checkpoint and
its ONNX export give the same detections.

Example:
    >>> p = Predictor.from_path("runs/demo/best.pt", conf=0.3)  # doctest: +SKIP
    >>> dets = p.predict([image])[0]  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from logodet.inference.postprocess import grow_boxes, postprocess
from logodet.inference.preprocess import letterbox
from logodet.io import read_rgb
from logodet.types import DetectionDataset, Detections

__all__ = ["OnnxBackend", "Predictor", "TorchBackend", "predict_coco_results"]


class Backend(Protocol):
    """Runs the dense graph: ``float32 [B, 3, S, S]`` in ``[0, 1]`` → boxes ``[B, A, 4]``, scores ``[B, A, K]``."""

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class TorchBackend:
    """PyTorch backend over a dense graph (:class:`logodet.models.dense.DenseDetector`)."""

    def __init__(self, dense: torch.nn.Module) -> None:
        self.dense = dense.eval()

    @torch.inference_mode()
    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        boxes, scores = self.dense(torch.from_numpy(batch))
        return boxes.numpy(), scores.numpy()


class OnnxBackend:
    """ONNX Runtime backend (CPU execution provider)."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        boxes, scores = self.session.run(None, {self.input_name: batch})
        return boxes, scores


def _to_batch(images: Sequence[np.ndarray]) -> np.ndarray:
    return np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255.0)


class Predictor:
    """Detect logos in RGB images with a trained model.

    Args:
        backend: callable running the dense graph.
        class_names: the model's classes, in output order.
        imgsz: the square network input size.
        conf: minimum score kept; iou: NMS threshold; max_det: detections per image.
        box_scale: boxes are grown (or shrunk) about their centres by this factor and
            clipped to the image, to match the labelling convention of your photos
            (see :func:`logodet.inference.postprocess.grow_boxes`); 1 keeps them.
    """

    def __init__(
        self,
        backend: Backend,
        class_names: Sequence[str],
        imgsz: int,
        *,
        conf: float = 0.25,
        iou: float = 0.6,
        max_det: int = 100,
        box_scale: float = 1.0,
    ) -> None:
        if not box_scale > 0:
            raise ValueError(f"box_scale: expected a factor > 0, got {box_scale}")
        self.backend = backend
        self.class_names = list(class_names)
        self.imgsz = int(imgsz)
        self.conf, self.iou, self.max_det = float(conf), float(iou), int(max_det)
        self.box_scale = float(box_scale)

    @classmethod
    def from_model(cls, model: torch.nn.Module, class_names: Sequence[str], imgsz: int, **kwargs) -> Predictor:
        """A torch-backed predictor over an in-memory detector built by :func:`logodet.models.zoo.build_model`."""
        from logodet.models.dense import dense_model

        return cls(TorchBackend(dense_model(model, imgsz)), class_names, imgsz, **kwargs)

    @classmethod
    def from_path(cls, path: str | Path, *, imgsz: int | Sequence[int] | None = None, **kwargs) -> Predictor:
        """Load a ``.pt`` checkpoint (torch backend) or an exported ``.onnx`` file (ONNX Runtime backend).

        ``imgsz`` runs a checkpoint at another input size; an ONNX file only runs at its export size.
        Several sizes run a checkpoint at each and merge the detections
        (:class:`logodet.inference.multisize.MultiSizePredictor`).
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: model file not found")
        if imgsz is not None and not isinstance(imgsz, int):
            from logodet.inference.multisize import MultiSizePredictor, check_sizes

            sizes = check_sizes(imgsz)
            if len(sizes) > 1:
                if path.suffix == ".onnx":
                    raise ValueError(f"{path}: an ONNX file runs only at its export size; merge several sizes with the .pt checkpoint")
                return MultiSizePredictor.from_checkpoint(str(path), sizes, **kwargs)
            imgsz = sizes[0]
        if path.suffix == ".onnx":
            import onnx

            meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
            if "class_names" not in meta or "imgsz" not in meta:
                raise ValueError(f"{path}: ONNX file lacks logodet metadata (class_names, imgsz); export it with `logodet export`")
            if imgsz is not None and imgsz != int(meta["imgsz"]):
                raise ValueError(f"{path}: exported for {meta['imgsz']} px inputs, cannot run at {imgsz}; export again with --imgsz")
            return cls(OnnxBackend(path), json.loads(meta["class_names"]), int(meta["imgsz"]), **kwargs)
        from logodet.engine.checkpoint import load_checkpoint, model_from_checkpoint

        state = load_checkpoint(path)
        return cls.from_model(model_from_checkpoint(state), state["class_names"], int(imgsz or state["imgsz"]), **kwargs)

    def predict(self, images: Sequence[np.ndarray], batch_size: int = 8) -> list[Detections]:
        """Detections for each ``uint8 [H, W, 3]`` RGB image, in original pixel coordinates."""
        results: list[Detections] = []
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            boxed = [letterbox(img, self.imgsz) for img in chunk]
            boxes, scores = self.backend(_to_batch([b[0] for b in boxed]))
            dets = postprocess(boxes, scores, conf=self.conf, iou=self.iou, max_det=self.max_det)
            for d, (_, lb), img in zip(dets, boxed, chunk, strict=True):
                d.xyxy = lb.boxes_to_original(d.xyxy)
                if self.box_scale != 1.0:
                    d.xyxy = grow_boxes(d.xyxy, self.box_scale, img.shape[1], img.shape[0])
                results.append(d)
        return results

    def predict_files(self, paths: Iterable[Path], batch_size: int = 8) -> Iterator[tuple[Path, np.ndarray, Detections]]:
        """Yield ``(path, image, detections)`` for image files, decoding ``batch_size`` at a time."""
        paths = list(paths)
        for start in range(0, len(paths), batch_size):
            chunk = paths[start : start + batch_size]
            images = [read_rgb(p) for p in chunk]
            yield from zip(chunk, images, self.predict(images, batch_size), strict=True)


def detections_to_results(image_id: int, dets: Detections, category_ids: Sequence[int | None]) -> list[dict]:
    """COCO results entries of ``dets``; ``category_ids[k]`` maps model class ``k`` (``None`` drops it)."""
    out = []
    for (x1, y1, x2, y2), c, s in zip(dets.xyxy.tolist(), dets.class_ids.tolist(), dets.scores.tolist(), strict=True):
        cid = category_ids[c]
        if cid is None:
            continue
        out.append({"image_id": image_id, "category_id": cid, "bbox": [x1, y1, x2 - x1, y2 - y1], "score": s})
    return out


def predict_coco_results(
    model: str | Path | Predictor,
    dataset: DetectionDataset,
    *,
    conf: float = 0.001,
    imgsz: int | Sequence[int] | None = None,
    box_scale: float = 1.0,
    progress: bool = True,
) -> list[dict]:
    """COCO results for every image of ``dataset``; model classes are matched to categories by name.

    ``imgsz`` overrides a checkpoint's input size (an ONNX file is fixed to its export size);
    several sizes merge the checkpoint's detections at each (:meth:`Predictor.from_path`);
    ``box_scale`` grows the boxes (:class:`Predictor`).
    """
    predictor = model if isinstance(model, Predictor) else Predictor.from_path(model, conf=conf, imgsz=imgsz, box_scale=box_scale)
    name_to_id = {n: i + 1 for i, n in enumerate(dataset.class_names)}
    category_ids = [name_to_id.get(n) for n in predictor.class_names]
    ids = [r.id if r.id is not None else i + 1 for i, r in enumerate(dataset.images)]
    paths = [dataset.image_path(r) for r in dataset.images]
    results: list[dict] = []
    from logodet.progress import track

    stream = predictor.predict_files(paths)
    for image_id, (_, _, dets) in track(zip(ids, stream, strict=True), total=len(paths), description="predict", enabled=progress):
        results.extend(detections_to_results(image_id, dets, category_ids))
    return results
