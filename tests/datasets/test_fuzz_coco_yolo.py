"""Fuzzing the COCO and YOLO readers: malformed input gives the format's error naming the file and a place, nothing else.

Every reader call must either succeed or raise ``COCOFormatError`` / ``YOLOFormatError``
(or ``FileNotFoundError``) whose message names the file and a place in it: a field
path such as ``annotations[3].bbox``, a ``file:line``, or ``line N``.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from logodet.datasets.formats.coco import COCOFormatError, dataset_to_coco, load_coco, load_coco_dict
from logodet.datasets.formats.yolo import YOLOFormatError, load_yolo
from logodet.types import DetectionDataset

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
COCO_PLACE = re.compile(r"(images|annotations|categories)\b|line \d+|top level|missing field '\w+'")
YOLO_PLACE = re.compile(r"(x\.txt|data\.yaml):\d+|data\.yaml: (names|nc|top level|missing field)")

BASE: dict = {
    "info": {"description": "fuzz"},
    "images": [
        {"id": 1, "file_name": "a b/ä.jpg", "width": 8, "height": 6},
        {"id": 2, "file_name": "empty.png", "width": 5, "height": 5},
    ],
    "categories": [{"id": 1, "name": "acme"}, {"id": 4, "name": "globex"}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0.5, 1, 3, 2.25], "area": 6.75, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 4, "bbox": [1, 1, 2, 2], "segmentation": [[1, 1, 3, 1, 3, 3], [4, 4, 5, 4, 5, 5]]},
        {"id": 3, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "segmentation": {"size": [6, 8], "counts": "0e01"}},
        {"id": 4, "image_id": 1, "category_id": 4, "bbox": [0, 0, 8, 6], "iscrowd": 1, "segmentation": {"size": [6, 8], "counts": [0, 48]}},
    ],
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(BASE)[1:]
KEYS = [
    "id",
    "image_id",
    "category_id",
    "bbox",
    "segmentation",
    "size",
    "counts",
    "iscrowd",
    "area",
    "width",
    "height",
    "file_name",
    "name",
]


@st.composite
def mutated_coco(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["set", "delete", "add"]))
            if action == "delete":
                del parent[path[-1]]
            elif action == "add" and isinstance(parent, dict):
                parent[draw(st.sampled_from(KEYS))] = draw(json_values)
            else:
                parent[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    return data


def _check_coco_error(exc: COCOFormatError, name: str) -> None:
    msg = str(exc)
    assert name in msg, msg
    assert COCO_PLACE.search(msg), msg


@FUZZ
@given(mutated_coco())
def test_mutated_coco_dicts(data: Any) -> None:
    try:
        ds = load_coco_dict(data, "fuzz.json")
    except COCOFormatError as exc:
        _check_coco_error(exc, "fuzz.json")
        return
    assert isinstance(ds, DetectionDataset)
    again = load_coco_dict(json.loads(json.dumps(dataset_to_coco(ds))), "again.json")  # what loads also saves and reloads
    assert [a.bbox for r in again.images for a in r.annotations] == [a.bbox for r in ds.images for a in r.annotations]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "images").mkdir()
    (root / "labels").mkdir()
    Image.fromarray(np.zeros((10, 20, 3), np.uint8)).save(root / "images" / "x.jpg")
    return root


@st.composite
def coco_bytes(draw: st.DrawFn) -> bytes:
    text = json.dumps(draw(mutated_coco()) if draw(st.booleans()) else BASE, indent=draw(st.sampled_from([None, 1]))).encode()
    kind = draw(st.sampled_from(["truncate", "insert", "random"]))
    if kind == "random":
        return draw(st.binary(max_size=64))
    at = draw(st.integers(0, len(text)))
    if kind == "truncate":
        return text[:at]
    return text[:at] + draw(st.binary(min_size=1, max_size=4)) + text[at:]


@FUZZ
@given(coco_bytes())
def test_damaged_coco_files(folder: Path, raw: bytes) -> None:
    path = folder / "fuzz.json"
    path.write_bytes(raw)
    try:
        load_coco(path)
    except COCOFormatError as exc:
        _check_coco_error(exc, "fuzz.json")


TOKENS = ["0", "1", "2", "-1", "0.5", "0.25", "1e999", "nan", "inf", "-0.2", "x", "1.5", "1e-3", "\u0663", "#", "\ufeff"]
NUMBERS = ["0", "1", "0.5", "0.25", "0.75", "-0.2", "1e-3", "1e999", "nan", "-inf", "x", "0x1"]


@st.composite
def label_line(draw: st.DrawFn) -> list[str]:
    if draw(st.booleans()):  # free-form tokens
        return draw(st.lists(st.sampled_from(TOKENS) | st.text(max_size=3), max_size=11))
    cls = draw(st.sampled_from(["0", "1", "2", "-1", "1.5", "x"]))
    n = draw(st.sampled_from([4, 4, 6, 6, 8, 3, 5]))
    return [cls, *draw(st.lists(st.sampled_from(NUMBERS[:6]) | st.sampled_from(NUMBERS), min_size=n, max_size=n))]


@st.composite
def label_text(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=40))
    lines = draw(st.lists(label_line(), max_size=5))
    sep = draw(st.sampled_from([" ", "\t", "  "]))
    return "\n".join(sep.join(line) for line in lines).encode("utf-8", "surrogatepass")


names_values = st.one_of(
    st.lists(st.sampled_from(["a", "b", "c"]) | json_values, max_size=4),
    st.dictionaries(
        st.integers(-1, 3) | st.sampled_from(["0", "1", "x"]) | st.booleans(), st.sampled_from(["a", "b"]) | json_values, max_size=4
    ),
    json_values,
)


@st.composite
def data_yaml(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["structured", "structured", "structured", "text", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=40))
    if kind == "text":
        return draw(st.text(max_size=40)).encode("utf-8", "surrogatepass")
    doc: dict = {"names": draw(names_values)}
    if draw(st.booleans()):
        doc["nc"] = draw(st.integers(0, 4) | json_values)
    return json.dumps(doc).encode()  # JSON is YAML


@FUZZ
@given(label_text(), data_yaml())
def test_damaged_yolo_files(folder: Path, label: bytes, data: bytes) -> None:
    (folder / "labels" / "x.txt").write_bytes(label)
    (folder / "data.yaml").write_bytes(data)
    try:
        ds = load_yolo(folder)
    except YOLOFormatError as exc:
        msg = str(exc)
        assert "x.txt" in msg or "data.yaml" in msg, msg
        assert YOLO_PLACE.search(msg), msg
        return
    assert len(ds) == 1 and all(0 <= a.category < ds.num_classes for a in ds.images[0].annotations)


@FUZZ
@given(label_text())
def test_damaged_yolo_labels_with_valid_names(folder: Path, label: bytes) -> None:
    (folder / "labels" / "x.txt").write_bytes(label)
    (folder / "data.yaml").write_text("names: [a, b]\nnc: 2\n")
    try:
        load_yolo(folder)
    except YOLOFormatError as exc:
        assert re.search(r"x\.txt:\d+: ", str(exc)), str(exc)


def test_missing_files_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothing: no COCO annotations file"):
        load_coco(tmp_path / "nothing")
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "data.yaml").write_text("names: [a]\n")
    with pytest.raises(FileNotFoundError, match=r"y[/\\]images: no images folder"):
        load_yolo(tmp_path / "y")
    with pytest.raises(FileNotFoundError, match=r"z: no YOLO data\.yaml"):
        load_yolo(tmp_path / "z")
