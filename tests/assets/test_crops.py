"""Logo variants cut from labelled photos: crops, class filter, size limits, the combined folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logodet.assets.crops import CROP_PREFIX, logo_folder_with_crops, write_box_crops
from logodet.assets.logos import load_logo_folder
from logodet.io import ImageReadError
from logodet.types import Annotation, DetectionDataset, ImageRecord

from .conftest import SQUARE_SVG


def _photos(tmp_path: Path) -> DetectionDataset:
    """Two photos: a red box labelled 'acme', a green box labelled 'other', a tiny box and a crowd box."""
    folder = tmp_path / "photos"
    folder.mkdir(exist_ok=True)
    a = np.zeros((60, 80, 3), np.uint8)
    a[10:30, 20:60] = (230, 20, 20)
    a[15:25, 30:50] = (255, 255, 255)  # the mark inside its red badge
    a[1:3, 1:3] = 255  # and a tiny mark in the corner
    Image.fromarray(a).save(folder / "a.png")
    b = np.zeros((50, 50, 3), np.uint8)
    b[5:45, 5:25] = (20, 200, 20)
    b[20:30, 10:20] = (0, 0, 0)
    Image.fromarray(b).save(folder / "b.png")
    recs = [
        ImageRecord("a.png", 80, 60, [Annotation((20.0, 10.0, 60.0, 30.0), 0), Annotation((0.0, 0.0, 5.0, 5.0), 0)]),
        ImageRecord("b.png", 50, 50, [Annotation((5.0, 5.0, 25.0, 45.0), 1), Annotation((0.0, 0.0, 50.0, 50.0), 0, iscrowd=1)]),
    ]
    return DetectionDataset(["acme", "other"], recs, image_dir=folder)


def test_each_box_becomes_an_opaque_crop_of_its_pixels(tmp_path: Path) -> None:
    counts = write_box_crops(_photos(tmp_path), tmp_path / "logos")
    assert counts == {"acme": 1, "other": 1}  # the 5x5 box is too small, the crowd box is skipped
    (acme,) = sorted((tmp_path / "logos" / "acme").iterdir())
    assert acme.name.startswith(CROP_PREFIX)
    rgba = np.asarray(Image.open(acme))
    assert rgba.shape == (20, 40, 4)
    assert (rgba[..., 3] == 255).all()
    assert (rgba[:5, :, :3] == (230, 20, 20)).all() and (rgba[5:15, 10:30, :3] == 255).all()  # exactly the labelled box
    (other,) = (tmp_path / "logos" / "other").iterdir()
    assert np.asarray(Image.open(other)).shape == (40, 20, 4)


def test_class_filter_and_size_limits(tmp_path: Path) -> None:
    photos = _photos(tmp_path)
    assert write_box_crops(photos, tmp_path / "only", classes={"other"}) == {"other": 1}
    assert not (tmp_path / "only" / "acme").exists()
    assert write_box_crops(photos, tmp_path / "small", min_side=3) == {"acme": 2, "other": 1}
    write_box_crops(photos, tmp_path / "capped", min_side=6, max_side=10)
    (crop,) = (tmp_path / "capped" / "acme").iterdir()
    assert np.asarray(Image.open(crop)).shape == (5, 10, 4)
    with pytest.raises(ValueError, match="min_side"):
        write_box_crops(photos, tmp_path / "bad", min_side=0)
    with pytest.raises(ValueError, match="max_side"):
        write_box_crops(photos, tmp_path / "bad", min_side=20, max_side=10)


def test_flat_boxes_show_no_mark_and_are_skipped(tmp_path: Path) -> None:
    photos = _photos(tmp_path)
    Image.fromarray(np.full((60, 80, 3), 128, np.uint8)).save(tmp_path / "photos" / "a.png")
    assert write_box_crops(photos, tmp_path / "logos") == {"other": 1}


def test_missing_photo_is_named(tmp_path: Path) -> None:
    photos = _photos(tmp_path)
    (tmp_path / "photos" / "b.png").unlink()
    with pytest.raises(ImageReadError, match=r"b\.png"):
        write_box_crops(photos, tmp_path / "logos")


def test_folder_with_crops_keeps_artwork_and_adds_variants(tmp_path: Path) -> None:
    art = tmp_path / "art"
    art.mkdir()
    (art / "acme.svg").write_text(SQUARE_SVG)
    (art / "brands.json").write_text('{"acme": {"hex": "112233"}}')
    before = sorted(p.name for p in art.rglob("*"))
    out = tmp_path / "with-crops"
    counts = logo_folder_with_crops(art, _photos(tmp_path), out)
    assert counts == {"acme": 1}  # "other" has no artwork: no new class
    assert sorted(p.name for p in art.rglob("*")) == before  # the artwork folder is never written to
    bank = load_logo_folder(out)
    assert bank.class_names == ["acme"]
    variants = bank.variants(0)
    assert sorted(v.path.suffix for v in variants) == [".png", ".svg"]
    crop = next(v for v in variants if v.path.suffix == ".png")
    assert not crop.is_monochrome and crop.brand_color == (0x11, 0x22, 0x33)
    # rebuilt from scratch: a stale crop from an earlier call does not survive
    (out / "acme" / f"{CROP_PREFIX}stale.png").write_bytes((out / "acme" / crop.path.name).read_bytes())
    logo_folder_with_crops(art, _photos(tmp_path), out)
    assert len(list((out / "acme").iterdir())) == 1
    with pytest.raises(ValueError, match="must not be the artwork"):
        logo_folder_with_crops(art, _photos(tmp_path), art)
    with pytest.raises(FileNotFoundError, match="not found"):
        logo_folder_with_crops(tmp_path / "nope", _photos(tmp_path), out)


def test_sub_folder_artwork_is_linked_file_by_file(tmp_path: Path) -> None:
    art = tmp_path / "art" / "acme"
    art.mkdir(parents=True)
    (art / "icon.svg").write_text(SQUARE_SVG)
    out = tmp_path / "with-crops"
    logo_folder_with_crops(tmp_path / "art", _photos(tmp_path), out)
    assert (out / "acme" / "icon.svg").is_symlink() and not (out / "acme").is_symlink()
    assert not any(p.name.startswith(CROP_PREFIX) for p in art.iterdir())  # the crop went into the new folder only
    assert len(load_logo_folder(out).variants(0)) == 2
