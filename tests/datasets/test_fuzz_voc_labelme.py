"""Fuzzing the VOC and LabelMe readers: every call succeeds or raises the format's error naming the file and the place.

Structured documents are drawn field by field, each field valid or broken in a
known way; a small oracle walks the fields in the order the reader checks
them and predicts the exact place of the first error (``object[2]/bndbox/xmin``,
``shapes[1].points[0]``). Raw mutations (truncation, inserted bytes, entity
tricks) must end in a success or the format's error, never another exception.
"""

from __future__ import annotations

import base64
import io
import json
import math
import tempfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from logodet.datasets.formats.labelme import LabelMeFormatError, load_labelme, read_labelme_file
from logodet.datasets.formats.voc import VOCFormatError, load_voc

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MISSING = "<missing>"  # a field left out


def tagged(ok: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """``(is_valid, value)`` pairs, broken about one time in twelve (a middle value of the die, which generation does not favour)."""
    return st.tuples(st.integers(0, 11), ok, bad).map(lambda t: (False, t[2]) if t[0] == 5 else (True, t[1]))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- Pascal VOC


def _finite(text: str | None) -> bool:
    if text is None or not text.strip():
        return False
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _el(tag: str, text: str | None) -> str:
    return "" if text is None else f"<{tag}>{escape(text)}</{tag}>"


BAD_NUMBER = st.sampled_from([None, "", "x", "nan", "inf", "-inf", "1e999", "1,5"])
LOW, HIGH = tagged(st.sampled_from(["0", "3", " 7 ", "2.5"]), BAD_NUMBER), tagged(st.sampled_from(["10", "10.5", "1e1", "64"]), BAD_NUMBER)
SIZE = tagged(st.sampled_from(["64", "64.0", " 48 ", "1"]), st.sampled_from([None, "", "0", "-5", "12.5", "abc", "nan", "1e999"]))
FLAG = tagged(st.sampled_from([None, "", "0", "1", "true", "False"]), st.sampled_from(["2", "yes", "x", "-1"]))
NAME = tagged(st.sampled_from(["acme", "b é", "a & b", "<tag>"]), st.sampled_from([None, "", "   "]))


@st.composite
def voc_objects(draw: st.DrawFn, k: int) -> tuple[str, str | None]:
    """One ``<object>`` and the place of its first error (``None`` when valid)."""
    where = f"object[{k}]"
    name_ok, name = draw(NAME)
    has_box = draw(st.integers(0, 11)) != 5
    coords = [draw(LOW), draw(LOW), draw(HIGH), draw(HIGH)]
    if draw(st.integers(0, 11)) == 5:  # corners swapped: the maximum before the minimum
        coords = coords[2:] + coords[:2]
    flags = {tag: draw(FLAG) for tag in ("truncated", "difficult", "occluded")}
    pose = draw(st.sampled_from([None, "Unspecified", "Left", "ü"]))
    box = "".join(_el(t, v) for t, (_, v) in zip(("xmin", "ymin", "xmax", "ymax"), coords, strict=True))
    xml = "<object>" + _el("name", name) + _el("pose", pose) + "".join(_el(t, v) for t, (_, v) in flags.items())
    xml += (f"<bndbox>{box}</bndbox>" if has_box else "") + "</object>"
    if not name_ok:
        return xml, f"{where}/name:"
    if not has_box:
        return xml, f"{where}/bndbox: missing"
    for tag, (ok, _) in zip(("xmin", "ymin", "xmax", "ymax"), coords, strict=True):
        if not ok:
            return xml, f"{where}/bndbox/{tag}:"
    xmin, ymin, xmax, ymax = (float(v) for _, v in coords)
    if xmax < xmin - 1 or ymax < ymin - 1:
        return xml, f"{where}/bndbox: xmax/ymax"
    for tag, (ok, _) in flags.items():
        if not ok:
            return xml, f"{where}/{tag}:"
    return xml, None


@st.composite
def voc_documents(draw: st.DrawFn) -> tuple[str, str | None, int]:
    """A VOC document, the place of its first error (``None`` when valid) and its object count."""
    root = draw(tagged(st.just("annotation"), st.sampled_from(["annotations", "Annotation"])))[1]
    filename = draw(tagged(st.sampled_from(["a.jpg", "ü b.jpg", "sub/x & y.png"]), st.sampled_from([None, ""])))[1]
    has_size = draw(st.integers(0, 11)) != 5
    (w_ok, width), (h_ok, height) = draw(SIZE), draw(SIZE)
    objects = [draw(voc_objects(k)) for k in range(1, draw(st.integers(0, 3)) + 1)]
    size = f"<size>{_el('width', width)}{_el('height', height)}<depth>3</depth></size>" if has_size else ""
    body = _el("folder", "VOC") + _el("filename", filename) + size + "".join(x for x, _ in objects)
    doc = f'<?xml version="1.0" encoding="utf-8"?>\n<{root}>{body}</{root}>'
    places = ["the root element" if root != "annotation" else None, "filename:" if not (filename or "").strip() else None]
    places += ["size: missing" if not has_size else None, None if w_ok else "size/width:", None if h_ok else "size/height:"]
    places += [p for _, p in objects]
    return doc, next((p for p in places if p is not None), None), len(objects)


@SETTINGS
@given(voc_documents())
def test_voc_structured_documents(case: tuple[str, str | None, int]) -> None:
    doc, place, n_objects = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Annotations" / "sub dir" / "a.xml"
        path.parent.mkdir(parents=True)
        path.write_text(doc, encoding="utf-8")
        try:
            ds = load_voc(tmp)
        except VOCFormatError as exc:
            assert place is not None, f"unexpected error {exc}"
            assert str(exc).startswith(f"{path}: {place}"), (str(exc), place)
            return
        assert place is None, f"expected an error at {place}"
        assert len(ds.images) == 1 and len(ds.images[0].annotations) == n_objects


VALID_VOC = (
    '<?xml version="1.0"?><annotation><filename>a.jpg</filename><size><width>64</width><height>48</height></size>'
    "<object><name>acme</name><difficult>0</difficult><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax></bndbox>"
    "</object></annotation>"
)
ENTITY_TRICKS = [
    '<!DOCTYPE annotation [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE annotation [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE annotation [<!ENTITY % p SYSTEM "http://example.invalid/x.dtd"> %p;]>',
    '<!DOCTYPE annotation SYSTEM "http://example.invalid/a.dtd">',
    '<!DOCTYPE annotation PUBLIC "-//X//DTD X//EN" "file:///etc/passwd">',
    "<!DOCTYPE annotation>",
    '<!ENTITY x "y">',
]
INSERTS = ["&b;", "&xxe;", "&undefined;", "&#0;", "&#65;", "<![CDATA[x<y]]>", "<?pi data?>", "\x00", "\udcff", "<", "]]>", "&"]


@SETTINGS
@given(
    st.one_of(
        st.tuples(st.just("cut"), st.integers(0, len(VALID_VOC)), st.just("")),
        st.tuples(st.just("insert"), st.integers(0, len(VALID_VOC)), st.sampled_from(INSERTS) | st.text(max_size=4)),
        st.tuples(st.just("prolog"), st.integers(0, 0), st.sampled_from(ENTITY_TRICKS)),
        st.tuples(st.just("bytes"), st.integers(0, len(VALID_VOC)), st.binary(min_size=1, max_size=3)),
        st.tuples(st.just("encoding"), st.integers(0, 0), st.sampled_from(["utf-16", "bogus", "latin-1", "ascii", ""])),
    )
)
def test_voc_raw_mutations(case: tuple[str, int, Any]) -> None:
    kind, at, payload = case
    raw = VALID_VOC.encode()
    if kind == "cut":
        raw = raw[:at]
    elif kind == "insert":
        raw = raw[:at] + payload.encode("utf-8", "surrogatepass") + raw[at:]
    elif kind == "prolog":
        raw = raw.replace(b"?>", b"?>" + payload.encode(), 1).replace(b"a.jpg", b"&b;&xxe;", 1 if "ENTITY" in payload else 0)
    elif kind == "bytes":
        raw = raw[:at] + payload + raw[at:]
    else:
        raw = raw.replace(b'version="1.0"', f'version="1.0" encoding="{payload}"'.encode())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Annotations" / "a.xml"
        path.parent.mkdir(parents=True)
        path.write_bytes(raw)
        try:
            ds = load_voc(tmp)
        except VOCFormatError as exc:
            assert str(exc).startswith(f"{path}: ") and len(str(exc)) > len(str(path)) + 10
            if kind == "prolog":
                assert "DTD and entity declarations" in str(exc) or "not well-formed" in str(exc)
            return
        assert kind not in ("prolog",), "a document with a DTD or entity declaration was accepted"
        assert "root" not in str(ds.images[0].file_name)  # no external entity was expanded


# ---------------------------------------------------------------- LabelMe


def _png_b64(w: int, h: int) -> str:
    buf = io.BytesIO()
    Image.fromarray(np.zeros((h, w, 3), np.uint8)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


GOOD_POINT = st.lists(st.one_of(st.integers(-5, 100), st.floats(-5, 100, allow_nan=False)), min_size=2, max_size=2)
BAD_POINT = st.sampled_from([[1], [1, 2, 3], ["a", 1], [True, 1], [math.nan, 1], [1, math.inf], [10**400, 1], "xy", None, {"x": 1}])


@st.composite
def labelme_shapes(draw: st.DrawFn, i: int) -> tuple[Any, str | None, tuple]:
    """A shape, the place of its first error and its grouping key."""
    where = f"shapes[{i}]"
    if draw(st.integers(0, 30)) == 13:
        return draw(st.sampled_from(["shape", 3, None, []])), f"{where}:", ()
    fields = {
        "label": draw(tagged(st.sampled_from(["acme", "b é", "x/y"]), st.sampled_from([MISSING, None, "", "  ", 3, ["a"]]))),
        "shape_type": draw(
            tagged(st.sampled_from(["rectangle", "polygon", None, MISSING]), st.sampled_from(["circle", "point", "mask", 5, "Rectangle"]))
        ),
        "group_id": draw(tagged(st.sampled_from([MISSING, None, 0, 3, -1]), st.sampled_from(["1", 1.5, True, [1]]))),
        "iscrowd": draw(tagged(st.sampled_from([MISSING, 0, 1, True, False]), st.sampled_from([2, "1", 1.0, None]))),
        "flags": draw(tagged(st.sampled_from([MISSING, None, {}, {"a": True}]), st.sampled_from(["x", [1], 3]))),
        "description": draw(tagged(st.sampled_from([MISSING, None, "", "note"]), st.sampled_from([3, [], {}]))),
    }
    points_ok, points = draw(tagged(st.just("a list"), st.sampled_from([MISSING, None, "0,0", {"x": 1}, 5])))
    if points_ok:
        points = draw(st.lists(tagged(GOOD_POINT, BAD_POINT), min_size=2, max_size=6))
    shape = {k: v for k, (_, v) in fields.items() if v != MISSING}
    if points != MISSING:
        shape["points"] = [p for _, p in points] if points_ok else points
    if draw(st.booleans()):
        shape["other"] = draw(st.sampled_from([1, "x", None, [1, {"a": 2}]]))
    group, label = fields["group_id"][1], fields["label"][1]
    key = (group, label) if type(group) is int and isinstance(label, str) else ("single", i)
    for name in ("label", "shape_type"):
        if not fields[name][0]:
            return shape, f"{where}.{name}:", key
    if not points_ok:
        return shape, f"{where}.points:", key
    bad = [j for j, (ok, _) in enumerate(points) if not ok]
    if bad:
        return shape, f"{where}.points[{bad[0]}]:", key
    if len(points) < (2 if fields["shape_type"][1] == "rectangle" else 3):
        return shape, f"{where}.points:", key
    for name in ("group_id", "iscrowd", "flags", "description"):
        if not fields[name][0]:
            return shape, f"{where}.{name}:", key
    return shape, None, key


@st.composite
def labelme_documents(draw: st.DrawFn) -> tuple[Any, str | None, str | None, bool, int]:
    """(document, place of the first error, extraction error place, image exists, object count)."""
    shapes = [draw(labelme_shapes(i)) for i in range(draw(st.integers(0, 4)))]
    top = {
        "shapes": draw(tagged(st.just([s for s, _, _ in shapes]), st.sampled_from([MISSING, {}, "x", None]))),
        "imagePath": draw(tagged(st.sampled_from(["img.png", "sub/ü b.png", "..\\imgs\\a.png"]), st.sampled_from([MISSING, 3, None]))),
        "imageWidth": draw(tagged(st.integers(1, 50), st.sampled_from([MISSING, "10", 1.5, True, None]))),
        "imageHeight": draw(tagged(st.integers(1, 50), st.sampled_from([MISSING, "10", 1.5, True, None]))),
    }
    path_content_ok, size_positive = draw(st.integers(0, 11)) != 5, draw(st.integers(0, 11)) != 5
    data_ok, data = draw(
        tagged(
            st.sampled_from([MISSING, None, "", "@@not base64@@", base64.b64encode(b"text").decode(), "PNG"]), st.sampled_from([5, [], {}])
        )
    )
    doc = {k: v for k, (_, v) in top.items() if v != MISSING}
    if not path_content_ok and top["imagePath"][0]:
        doc["imagePath"] = draw(st.sampled_from(["", ".", "a/.."]))
    if not size_positive and top["imageWidth"][0]:
        doc["imageWidth"] = draw(st.sampled_from([0, -3]))
    if data == "PNG":
        data = _png_b64(4, 3)
    if data != MISSING:
        doc["imageData"] = data
    if draw(st.integers(0, 25)) == 13:
        return draw(st.sampled_from([[], "x", 3, None, {"version": "5"}])), None, None, False, 0
    places = [None if ok else f"{k}:" for k, (ok, _) in top.items()]
    places += [None if path_content_ok or not top["imagePath"][0] else "imagePath:"]
    places += [None if size_positive or not top["imageWidth"][0] else "imageWidth/imageHeight:"]
    places += [None if data_ok else "imageData:"]
    places += [p for _, p, _ in shapes]
    image_exists = draw(st.booleans())
    extract = None
    if not image_exists and isinstance(data, str) and data and data.startswith(("@@", base64.b64encode(b"text").decode())):
        extract = "imageData:"
    return doc, next((p for p in places if p is not None), None), extract, image_exists, len({k for _, _, k in shapes})


@SETTINGS
@given(labelme_documents())
def test_labelme_structured_documents(case: tuple[Any, str | None, str | None, bool, int]) -> None:
    doc, place, extract_place, image_exists, n_objects = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in put"
        path = folder / "ann" / "a.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(doc), encoding="utf-8")
        if image_exists and isinstance(doc, dict) and isinstance(doc.get("imagePath"), str) and doc["imagePath"] not in ("", ".", "a/.."):
            image = (path.parent / doc["imagePath"].replace("\\", "/")).resolve()
            image.parent.mkdir(parents=True, exist_ok=True)
            image.write_bytes(base64.b64decode(_png_b64(2, 2)))
        before = _snapshot(folder)
        is_labelme = isinstance(doc, dict) and ("shapes" in doc or "imagePath" in doc)
        try:
            ds = load_labelme(folder, extract_dir=Path(tmp) / "extracted")
        except FileNotFoundError as exc:
            assert not is_labelme and "no LabelMe json files" in str(exc)
            return
        except LabelMeFormatError as exc:
            expected = place or extract_place
            assert expected is not None, f"unexpected error {exc}"
            assert str(exc).startswith(f"{path}: {expected}"), (str(exc), expected)
            return
        finally:
            assert _snapshot(folder) == before  # the loader never writes into its input
        assert is_labelme and place is None and extract_place is None, f"expected an error at {place or extract_place}"
        assert len(ds.images) == 1 and len(ds.images[0].annotations) == n_objects
        # one file named directly is parsed strictly: the same verdict, or an error for a non-LabelMe top level
        try:
            f = read_labelme_file(path)
        except LabelMeFormatError as exc:
            raise AssertionError(f"read_labelme_file disagrees with load_labelme: {exc}") from None
        assert len(f.objects) == n_objects


VALID_LABELME = json.dumps(
    {
        "shapes": [
            {"label": "a", "points": [[1, 2], [3, 4]], "shape_type": "rectangle"},
            {"label": "b", "points": [[0, 0], [5, 0], [5, 5]]},
        ],
        "imagePath": "x.png",
        "imageData": _png_b64(3, 3),
        "imageWidth": 3,
        "imageHeight": 3,
    }
)


@SETTINGS
@given(
    st.one_of(
        st.tuples(st.just("cut"), st.integers(0, len(VALID_LABELME)), st.just("")),
        st.tuples(st.just("insert"), st.integers(0, len(VALID_LABELME)), st.text(min_size=1, max_size=4)),
        st.tuples(st.just("replace"), st.integers(0, len(VALID_LABELME) - 1), st.sampled_from(list('{}[]",:0-eE.nNtf \\'))),
        st.tuples(st.just("nest"), st.integers(0, 0), st.sampled_from([5, 500, 50_000])),
    )
)
def test_labelme_raw_mutations(case: tuple[str, int, Any]) -> None:
    kind, at, payload = case
    if kind == "cut":
        text = VALID_LABELME[:at]
    elif kind == "insert":
        text = VALID_LABELME[:at] + payload + VALID_LABELME[at:]
    elif kind == "replace":
        text = VALID_LABELME[:at] + payload + VALID_LABELME[at + 1 :]
    else:
        text = VALID_LABELME.replace('"imageWidth"', '"deep": ' + "[" * payload + "]" * payload + ', "imageWidth"')
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in" / "x.json"
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        for call in (lambda: load_labelme(path.parent, extract_dir=Path(tmp) / "out"), lambda: read_labelme_file(path)):
            try:
                call()
            except LabelMeFormatError as exc:
                assert str(exc).startswith(f"{path}: ") and len(str(exc)) > len(str(path)) + 10
            except FileNotFoundError as exc:
                assert "no LabelMe json files" in str(exc)
