"""Logo loading (PNG/JPG/SVG), folders of classes and variants, brand colours and tints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from logodet.assets.brands import choose_tint, contrast_ratio, load_brand_colors, parse_hex_color
from logodet.assets.logos import LogoBank, LogoError, load_logo, load_logo_folder

from .conftest import SQUARE_SVG, rgba_disc, two_colour_logo

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "logos"


def test_svg_is_rasterised_tight_and_monochrome(logo_files: dict[str, Path]) -> None:
    logo = load_logo(logo_files["svg"], size=96)
    assert logo.class_name == "square"
    assert logo.is_monochrome
    # the path covers x 4..20, y 6..18 of a 24 viewBox: 16x12 once cropped to its alpha
    h, w = logo.rgba.shape[:2]
    assert w == 64 and h == 48
    assert logo.rgba[..., 3].min() > 0  # cropped tight: no transparent border left


@pytest.mark.parametrize("long_side", [5, 17, 64, 150, 400])
def test_render_gives_exact_long_side_premultiplied(logo_files: dict[str, Path], long_side: int) -> None:
    for key in ("svg", "png", "multi"):
        logo = load_logo(logo_files[key])
        out = logo.render(long_side)
        assert out.dtype == np.float32 and out.shape[2] == 4
        assert max(out.shape[:2]) == long_side
        assert abs(out.shape[1] / out.shape[0] - logo.aspect) < 0.25 + 2.0 / min(out.shape[:2])
        assert out.min() >= 0.0 and out.max() <= 1.0
        assert np.all(out[..., :3] <= out[..., 3:4] + 1e-5)  # premultiplied colour never exceeds alpha
        assert logo.render_shape(long_side) == (out.shape[1], out.shape[0])
        assert np.array_equal(logo.render(long_side, alpha_only=True), out[..., 3])  # the placement tries' cheap plane


def test_render_is_cached_and_repeatable(logo_files: dict[str, Path]) -> None:
    logo = load_logo(logo_files["svg"])
    first = logo.render(100)
    assert np.array_equal(logo.render(100), first)
    fresh = load_logo(logo_files["svg"])
    fresh.render(37)  # another cache state must not change the result
    assert np.array_equal(fresh.render(100), first)


def test_png_with_alpha_is_cropped_to_alpha(logo_files: dict[str, Path]) -> None:
    logo = load_logo(logo_files["png"])
    assert logo.rgba.shape == (30, 30, 4)  # 40 px canvas, 5 px margins
    assert logo.is_monochrome
    assert not load_logo(logo_files["multi"]).is_monochrome


@pytest.mark.parametrize("key", ["no_alpha", "jpg"])
def test_logo_without_alpha_needs_key_white(logo_files: dict[str, Path], key: str) -> None:
    with pytest.raises(LogoError, match="without an alpha channel") as err:
        load_logo(logo_files[key])
    assert str(logo_files[key]) in str(err.value) and "key-white" in str(err.value)
    logo = load_logo(logo_files[key], key_white=True)
    h, w = logo.rgba.shape[:2]
    slack = 2 if key == "jpg" else 0  # JPEG ringing leaves a faint rim
    assert 20 <= h <= 20 + slack and 24 <= w <= 24 + slack  # the white surround is keyed out and cropped
    assert logo.rgba[h // 2, w // 2, 3] > 240
    assert abs(int(logo.rgba[h // 2, w // 2, 2]) - 200) < 12  # blue survives


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("transparent", "fully transparent"),
        ("corrupt", "cannot decode"),
        ("no_size_svg", "neither a viewBox nor a width and height"),
        ("bad_svg", "not a valid SVG"),
    ],
)
def test_bad_logo_files_name_the_file(logo_files: dict[str, Path], key: str, message: str) -> None:
    with pytest.raises(LogoError, match=message) as err:
        load_logo(logo_files[key])
    assert str(logo_files[key]) in str(err.value)


def test_missing_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(LogoError, match="file not found"):
        load_logo(tmp_path / "nope.png")
    gif = tmp_path / "anim.gif"
    Image.new("RGBA", (4, 4)).save(gif)
    with pytest.raises(LogoError, match="unsupported logo type"):
        load_logo(gif)


def test_svg_text_only_explains_itself(tmp_path: Path) -> None:
    path = tmp_path / "word.svg"
    path.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 30"><text x="0" y="25">ACME</text></svg>')
    with pytest.raises(LogoError, match="convert text to paths"):
        load_logo(path)


def test_svg_with_width_height_only(tmp_path: Path) -> None:
    path = tmp_path / "wh.svg"
    path.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>')
    assert load_logo(path, size=80).rgba.shape[:2] == (40, 80)


def _write_folder(root: Path) -> Path:
    root.mkdir()
    (root / "zeta.svg").write_text(SQUARE_SVG)
    brand = root / "acme"
    brand.mkdir()
    (brand / "icon.svg").write_text(SQUARE_SVG)
    Image.fromarray(rgba_disc(), "RGBA").save(brand / "round.png")
    Image.fromarray(two_colour_logo(), "RGBA").save(root / "beta.png")
    (root / "notes.txt").write_text("not a logo")
    (root / "brands.json").write_text(json.dumps({"acme": {"title": "Acme", "hex": "E4002B"}, "zeta": "#00F"}))
    return root


def test_folder_layouts_classes_and_variants(tmp_path: Path) -> None:
    bank = load_logo_folder(_write_folder(tmp_path / "logos"))
    assert bank.class_names == ["acme", "beta", "zeta"]
    assert [a.path.name for a in bank.variants(0)] == ["icon.svg", "round.png"]
    assert all(a.class_name == "acme" for a in bank.variants(0))
    assert bank.variants(0)[0].brand_color == (228, 0, 43)
    assert bank.variants(2)[0].brand_color == (0, 0, 255)
    assert bank.variants(1)[0].brand_color is None
    assert len(bank.assets) == 4


def test_folder_brand_colors_argument_overrides_file(tmp_path: Path) -> None:
    bank = load_logo_folder(_write_folder(tmp_path / "logos"), brand_colors={"acme": (1, 2, 3)})
    assert bank.variants(0)[0].brand_color == (1, 2, 3)


def test_example_logos_load() -> None:
    bank = load_logo_folder(EXAMPLES)
    assert bank.class_names == sorted(bank.class_names) and "nike" in bank.class_names
    assert all(a.is_monochrome for a in bank.assets)
    assert bank.variants(bank.class_names.index("bmw"))[0].brand_color == (0, 102, 177)


def test_folder_errors_name_the_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing"):
        load_logo_folder(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("x")
    with pytest.raises(LogoError, match="no logo files") as err:
        load_logo_folder(empty)
    assert str(empty) in str(err.value)
    bad = _write_folder(tmp_path / "bad")
    (bad / "brands.json").write_text("{not json")
    with pytest.raises(LogoError, match=r"brands\.json"):
        load_logo_folder(bad)
    (bad / "brands.json").write_text(json.dumps({"acme": {"hex": "XYZ123"}}))
    with pytest.raises(LogoError, match="invalid hex colour"):
        load_logo_folder(bad)


def test_folder_with_a_bad_file_names_it(tmp_path: Path, logo_files: dict[str, Path]) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.svg").write_text(SQUARE_SVG)
    (folder / "flat.png").write_bytes(logo_files["no_alpha"].read_bytes())
    with pytest.raises(LogoError, match=r"flat\.png"):
        load_logo_folder(folder)
    assert load_logo_folder(folder, key_white=True).class_names == ["flat", "good"]


def test_bank_validation_and_fingerprint(logo_files: dict[str, Path]) -> None:
    a = load_logo(logo_files["png"], class_name="a")
    with pytest.raises(LogoError, match="no artwork"):
        LogoBank(["a", "b"], [a])
    with pytest.raises(LogoError, match="not one of"):
        LogoBank(["b"], [a])
    fp = LogoBank(["a"], [a]).fingerprint()
    assert fp == LogoBank(["a"], [load_logo(logo_files["png"], class_name="a")]).fingerprint()
    assert fp != LogoBank(["a"], [load_logo(logo_files["multi"], class_name="a")]).fingerprint()


@pytest.mark.parametrize(
    ("brand", "background", "expected"),
    [
        ((0, 102, 177), (255, 255, 255), (0, 102, 177)),  # chromatic brand colour is kept
        ((17, 17, 17), (250, 250, 250), (17, 17, 17)),  # near-black brand colour on light: itself
        ((17, 17, 17), (10, 10, 10), (255, 255, 255)),  # near-black brand colour on dark: white
        ((250, 250, 250), (240, 240, 240), (0, 0, 0)),  # near-white brand on light: black
        (None, (30, 30, 30), (255, 255, 255)),
        (None, (220, 220, 220), (0, 0, 0)),
        ((251, 200, 23), (250, 200, 25), (0, 0, 0)),  # brand colour invisible on this background
    ],
)
def test_choose_tint(brand: tuple | None, background: tuple, expected: tuple) -> None:
    assert choose_tint(brand, background) == expected


def test_choose_tint_neutral_probability() -> None:
    rng = np.random.default_rng(0)
    picks = {choose_tint((0, 102, 177), (255, 255, 255), rng, neutral_prob=0.5) for _ in range(50)}
    assert picks == {(0, 102, 177), (0, 0, 0)}


def test_colour_helpers(tmp_path: Path) -> None:
    assert parse_hex_color("#abc") == (170, 187, 204)
    assert round(contrast_ratio((255, 255, 255), (0, 0, 0)), 2) == 21.0
    with pytest.raises(ValueError, match="invalid hex colour"):
        parse_hex_color("12345")
    path = tmp_path / "brands.json"
    path.write_text(json.dumps({"a": {"hex": "FF0000"}, "b": {"title": "no colour"}}))
    assert load_brand_colors(path) == {"a": (255, 0, 0)}
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"brands\.json"):
        load_brand_colors(path)
