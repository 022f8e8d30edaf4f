"""Batch prediction over files or folders, writing JSONL, COCO results and annotated images."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import cv2

from logodet.inference.draw import draw_detections
from logodet.inference.predictor import Predictor
from logodet.io import IMAGE_SUFFIXES, ImageReadError, atomic_write_bytes, atomic_write_json, list_images
from logodet.progress import track

__all__ = ["PredictSummary", "predict_source"]


@dataclass
class PredictSummary:
    """Counts and output paths of a prediction run."""

    images: int
    detections: int
    failed: list[str]
    jsonl: Path
    coco_results: Path
    annotated_dir: Path | None


def _sources(source: Path) -> list[Path]:
    if source.is_dir():
        return list_images(source)
    if source.is_file():
        if source.suffix.lower() not in IMAGE_SUFFIXES:
            raise ValueError(f"{source}: not an image file (expected one of {sorted(IMAGE_SUFFIXES)})")
        return [source]
    raise FileNotFoundError(f"{source}: no such file or folder")


def predict_source(
    predictor: Predictor, source: str | Path, out: str | Path, *, save_images: bool = True, progress: bool = True
) -> PredictSummary:
    """Run ``predictor`` on an image file or every image under a folder.

    Writes ``out/predictions.jsonl`` (one line per image: file, width, height,
    detections with box xyxy, score, class name), ``out/predictions_coco.json``
    (COCO results; image ids are 1-based positions in sorted file order,
    category ids 1-based model class positions) and ``out/images/`` with boxes
    drawn. Unreadable images are reported and skipped.

    Example:
        >>> predict_source(Predictor.from_path("best.pt"), "photos/", "runs/predict")  # doctest: +SKIP
    """
    source, out = Path(source), Path(out)
    paths = _sources(source)
    root = source if source.is_dir() else source.parent
    lines, coco, failed, total = io.StringIO(), [], [], 0
    annotated = out / "images" if save_images else None
    for image_id, path in track(list(enumerate(paths, start=1)), total=len(paths), description="predict", enabled=progress):
        try:
            _, image, dets = next(predictor.predict_files([path]))
        except ImageReadError as exc:
            failed.append(str(exc))
            continue
        rel = path.relative_to(root).as_posix()
        h, w = image.shape[:2]
        entries = [
            {"box_xyxy": [round(float(v), 2) for v in box], "score": round(float(s), 5), "class_name": predictor.class_names[c]}
            for box, s, c in zip(dets.xyxy, dets.scores, dets.class_ids, strict=True)
        ]
        lines.write(json.dumps({"file": rel, "width": w, "height": h, "detections": entries}) + "\n")
        for e, c in zip(entries, dets.class_ids, strict=True):
            x1, y1, x2, y2 = e["box_xyxy"]
            bbox = [x1, y1, x2 - x1, y2 - y1]
            coco.append({"image_id": image_id, "file_name": rel, "category_id": int(c) + 1, "bbox": bbox, "score": e["score"]})
        total += len(dets)
        if annotated is not None:
            drawn = draw_detections(image, dets, predictor.class_names)
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
            if ok:
                atomic_write_bytes(annotated / (Path(rel).with_suffix(".jpg")), buf.tobytes())
    atomic_write_bytes(out / "predictions.jsonl", lines.getvalue().encode())
    atomic_write_json(out / "predictions_coco.json", coco)
    return PredictSummary(len(paths) - len(failed), total, failed, out / "predictions.jsonl", out / "predictions_coco.json", annotated)
