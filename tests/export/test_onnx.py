import numpy as np
import pytest
import torch

from logodet.engine.checkpoint import save_checkpoint
from logodet.export.onnx import ExportError, export_onnx
from logodet.inference.predictor import OnnxBackend, Predictor
from logodet.io import read_rgb
from logodet.models.zoo import build_model


def _assert_same_detections(a, b, box_tol: float = 1e-3, score_tol: float = 1e-4) -> None:
    """The same detections (class, box, score within tolerance), one to one; the order of near-tied scores may differ.

    Two classes of one box can score within 1e-6 of each other, and the backends' last-bit differences may then
    rank them the other way round, so detections are matched instead of compared position by position.
    """
    assert len(a) == len(b)
    free = np.ones(len(b), bool)
    for box, cls, score in zip(a.xyxy, a.class_ids, a.scores, strict=True):
        ok = free & (b.class_ids == cls) & (np.abs(b.scores - score) <= score_tol) & (np.abs(b.xyxy - box).max(axis=1) <= box_tol)
        assert ok.any(), f"class {cls} box {box.tolist()} score {score:.5f} has no counterpart"
        free[np.argmax(ok)] = False
    np.testing.assert_allclose(np.sort(a.scores), np.sort(b.scores), atol=score_tol, rtol=0)


@pytest.fixture(scope="module")
def onnx_file(trained_run, tmp_path_factory):
    return export_onnx(trained_run / "best.pt", tmp_path_factory.mktemp("onnx") / "model.onnx")


@pytest.mark.parametrize("conf", [0.3, 0.05])
def test_onnx_detections_match_pytorch(trained_run, onnx_file, shapes_data, conf):
    images = [read_rgb(p) for p in sorted((shapes_data[1] / "images").glob("*.png"))]
    torch_dets = Predictor.from_path(trained_run / "best.pt", conf=conf).predict(images)
    onnx_dets = Predictor.from_path(onnx_file, conf=conf).predict(images)
    total = 0
    for a, b in zip(torch_dets, onnx_dets, strict=True):
        _assert_same_detections(a, b)
        total += len(a)
    assert total > 0, "the trained fixture model must detect something, or the comparison proves nothing"


def test_onnx_has_dynamic_batch_and_metadata(onnx_file):
    import onnx

    model = onnx.load(str(onnx_file))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["imgsz"] == "128" and "disc" in meta["class_names"]
    backend = OnnxBackend(onnx_file)
    for batch in (1, 3):
        boxes, scores = backend(np.random.default_rng(0).random((batch, 3, 128, 128), dtype=np.float32))
        assert boxes.shape[0] == scores.shape[0] == batch and scores.shape[-1] == 3


def test_onnx_refuses_another_input_size(onnx_file):
    with pytest.raises(ValueError, match="exported for 128"):
        Predictor.from_path(onnx_file, imgsz=256)


def test_export_rejects_bad_inputs(tmp_path, trained_run):
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read checkpoint"):
        export_onnx(bogus, tmp_path / "m.onnx")
    with pytest.raises(ExportError, match="multiple of 32"):
        export_onnx(trained_run / "best.pt", tmp_path / "m.onnx", imgsz=100)
    with pytest.raises(ValueError, match="lacks"):
        save_checkpoint({"model": {}}, tmp_path / "x.pt")
    assert not (tmp_path / "m.onnx").exists()


@pytest.fixture(scope="module")
def retinanet_checkpoint(tmp_path_factory):
    """An untrained RetinaNet checkpoint at 128 px whose class weights are widened so scores spread over (0, 1)."""
    torch.manual_seed(0)
    model = build_model("retinanet_efficientnet_lite0", num_classes=2, weights="none", imgsz=128)
    w = model.head.classification_head.cls_logits.weight
    with torch.no_grad():
        w.copy_(torch.randn(w.shape, generator=torch.Generator().manual_seed(1)) * 0.1)
    path = tmp_path_factory.mktemp("retinanet") / "retinanet.pt"
    state = {"model": model.state_dict(), "model_name": "retinanet_efficientnet_lite0", "class_names": ["acme", "globex"], "imgsz": 128}
    save_checkpoint(state, path)
    return path


def test_retinanet_onnx_export_matches_pytorch(retinanet_checkpoint, tmp_path):
    import onnx

    out = export_onnx(retinanet_checkpoint, tmp_path / "retinanet.onnx")  # check=True: ONNX Runtime vs PyTorch on a random batch
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["model_name"] == "retinanet_efficientnet_lite0" and meta["imgsz"] == "128"
    boxes, scores = OnnxBackend(out)(np.random.default_rng(1).random((3, 3, 128, 128), dtype=np.float32))
    assert boxes.shape == (3, 3069, 4) and scores.shape == (3, 3069, 2)  # 9 anchors x 341 locations

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(128, 128), (90, 200), (300, 160)]]
    torch_dets = Predictor.from_path(retinanet_checkpoint, conf=0.3).predict(images)
    onnx_dets = Predictor.from_path(out, conf=0.3).predict(images)
    total = 0
    for a, b in zip(torch_dets, onnx_dets, strict=True):
        _assert_same_detections(a, b)
        total += len(a)
    assert total > 0
