import numpy as np
import pytest

from logodet.engine.checkpoint import save_checkpoint
from logodet.export.onnx import ExportError, export_onnx
from logodet.inference.predictor import OnnxBackend, Predictor
from logodet.io import read_rgb


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
        assert len(a) == len(b)
        np.testing.assert_array_equal(a.class_ids, b.class_ids)
        np.testing.assert_allclose(a.xyxy, b.xyxy, rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-3, atol=1e-4)
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
