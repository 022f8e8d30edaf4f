"""``SynthConfig``: every knob of logo synthesis, one frozen dataclass.

Loaded from YAML plus ``key=value`` overrides with :func:`logodet.config.load_config`
and saved next to every synthetic dataset as ``synth_config.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from logodet.config import ConfigError, load_config

__all__ = ["SynthConfig", "parse_size", "resolve_synth_config"]


def _check_range(name: str, rng: tuple[float, float], lo: float, hi: float) -> None:
    if len(rng) != 2 or not lo <= rng[0] <= rng[1] <= hi:
        raise ValueError(f"{name}: expected [min, max] with {lo} <= min <= max <= {hi}, got {list(rng)}")


@dataclass(frozen=True)
class SynthConfig:
    """Settings of the synthesiser (sizes in pixels, fractions in ``[0, 1]``).

    Attributes:
        size: output ``(width, height)``.
        min_logos: fewest logos on a non-empty image.
        max_logos: most logos on an image.
        empty_prob: probability that an image gets no logo at all (negatives).
        scale: logo long side as a fraction of the image's short side, ``[min, max]``
            (sampled log-uniformly).
        min_logo_px: smallest logo long side in pixels.
        rotation: largest in-plane rotation in degrees (uniform in ``±rotation``).
        perspective: largest corner displacement of the perspective warp, as a
            fraction of the logo size.
        brightness: largest relative brightness change of the logo.
        contrast: largest relative contrast change of the logo.
        saturation: largest relative saturation change of the logo.
        hue: largest hue rotation, as a fraction of the colour circle.
        blur_prob: probability of a Gaussian blur of the logo.
        blur_sigma: largest blur sigma in pixels.
        opacity: ``[min, max]`` opacity multiplier of the logo.
        feather: Gaussian sigma in pixels that softens the alpha edge.
        neutral_tint_prob: probability that a monochrome icon with a chromatic
            brand colour is painted black or white instead.
        max_overlap: largest fraction of an instance (its in-frame mask) that
            later instances may cover.
        max_truncation: largest fraction of an instance's mask outside the image.
        min_visibility: instances whose visible mask is below this fraction of
            their full mask are rejected (placement) or dropped (compose).
        mask_threshold: alpha at or above which a pixel belongs to the mask.
        min_mask_px: smallest visible mask area kept, in pixels.
        placement_tries: positions tried per logo before giving up on it.
        bg_crop_scale: ``[min, max]`` side of the background crop as a fraction
            of the largest crop with the output aspect.
        jpeg_quality: output JPEG quality.
        key_white: logos without alpha get white keyed out instead of an error.

    Example:
        >>> SynthConfig(size=(320, 320), max_logos=2).max_logos
        2
    """

    size: tuple[int, int] = (640, 640)
    min_logos: int = 1
    max_logos: int = 3
    empty_prob: float = 0.05
    scale: tuple[float, float] = (0.1, 0.5)
    min_logo_px: int = 12
    rotation: float = 20.0
    perspective: float = 0.12
    brightness: float = 0.25
    contrast: float = 0.25
    saturation: float = 0.3
    hue: float = 0.02
    blur_prob: float = 0.3
    blur_sigma: float = 1.0
    opacity: tuple[float, float] = (0.85, 1.0)
    feather: float = 0.7
    neutral_tint_prob: float = 0.15
    max_overlap: float = 0.4
    max_truncation: float = 0.3
    min_visibility: float = 0.5
    mask_threshold: float = 0.5
    min_mask_px: int = 16
    placement_tries: int = 30
    bg_crop_scale: tuple[float, float] = (0.5, 1.0)
    jpeg_quality: int = 90
    key_white: bool = False

    def __post_init__(self) -> None:
        if len(self.size) != 2:
            raise ValueError(f"size: expected [width, height], got {list(self.size)}")
        w, h = self.size
        if not (isinstance(w, int) and isinstance(h, int)) or w < 8 or h < 8:
            raise ValueError(f"size: expected [width, height] of at least 8 pixels, got {list(self.size)}")
        if not 0 <= self.min_logos <= self.max_logos:
            raise ValueError(f"min_logos/max_logos: need 0 <= min_logos <= max_logos, got {self.min_logos} and {self.max_logos}")
        for name in ("empty_prob", "blur_prob", "neutral_tint_prob", "max_overlap", "max_truncation", "min_visibility", "perspective"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: expected a fraction in [0, 1], got {value}")
        if not 0.0 < self.mask_threshold < 1.0:
            raise ValueError(f"mask_threshold: expected a value in (0, 1), got {self.mask_threshold}")
        _check_range("scale", self.scale, 1e-3, 4.0)
        if self.scale[0] <= 0:
            raise ValueError(f"scale: min must be > 0, got {list(self.scale)}")
        _check_range("opacity", self.opacity, 0.0, 1.0)
        _check_range("bg_crop_scale", self.bg_crop_scale, 1e-3, 1.0)
        for name in ("rotation", "brightness", "contrast", "saturation", "hue", "blur_sigma", "feather"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality: expected 1..100, got {self.jpeg_quality}")
        if self.min_logo_px < 1 or self.min_mask_px < 1 or self.placement_tries < 1:
            raise ValueError("min_logo_px, min_mask_px and placement_tries must be >= 1")


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` (or a single number for a square) as ``(width, height)``.

    Example:
        >>> parse_size("320x240"), parse_size("256")
        ((320, 240), (256, 256))
    """
    parts = text.lower().replace("*", "x").split("x")
    try:
        if len(parts) == 1:
            w = h = int(parts[0])
        elif len(parts) == 2:
            w, h = int(parts[0]), int(parts[1])
        else:
            raise ValueError
    except ValueError:
        raise ConfigError(f"size: expected WIDTHxHEIGHT such as 320x320, got {text!r}") from None
    if w < 8 or h < 8:
        raise ConfigError(f"size: both sides must be at least 8 pixels, got {text!r}")
    return w, h


def resolve_synth_config(
    path: str | Path | None = None,
    size: str | tuple[int, int] | None = None,
    max_logos: int | None = None,
    key_white: bool | None = None,
    overrides: list[str] | None = None,
) -> SynthConfig:
    """Defaults, then the YAML at ``path``, then the explicit options, then ``key=value`` overrides.

    ``max_logos`` below the configured ``min_logos`` lowers ``min_logos`` too
    (``max_logos=0`` gives images without logos).

    Example:
        >>> resolve_synth_config(size="320x320", max_logos=0, overrides=["jpeg_quality=80"]).min_logos
        0
    """
    base = load_config(SynthConfig, path)
    changes: dict = {}
    if size is not None:
        changes["size"] = list(parse_size(size) if isinstance(size, str) else size)
    if max_logos is not None:
        changes["max_logos"] = int(max_logos)
        changes["min_logos"] = min(base.min_logos, int(max_logos))
    if key_white is not None:
        changes["key_white"] = bool(key_white)
    for text in overrides or []:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {text!r}: expected key=value")
        try:
            changes[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {text!r}: cannot parse the value ({exc})") from exc
    return load_config(SynthConfig, path, overrides=changes)
