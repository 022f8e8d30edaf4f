"""``SynthConfig``: every knob of logo synthesis, one frozen dataclass.

Loaded from YAML plus ``key=value`` overrides with :func:`logodet.config.load_config`
and saved next to every synthetic dataset as ``synth_config.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from logodet.config import ConfigError, load_config
from logodet.synth.analysis import AnalysisConfig

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
        shard_size: images per output shard; a killed run resumes from its last
            finished shard (the images do not depend on it).
        use_regions: place logos on the surface regions of the background analysis
            (off: uniform random positions, as without analysis).
        use_planes: warp logos with the homography of their region's plane
            (off: fronto-parallel similarity plus ``perspective`` jitter).
        region_prob: probability that a logo is placed on a region at all (else at a
            random position and ``scale``, as without analysis); real photos mix
            logos on surfaces with close-ups far larger than any region.
        region_scale: logo long side as a fraction of the region's inscribed
            diameter (twice ``inner_radius``), ``[min, max]`` log-uniform.
        min_in_region: smallest fraction of the logo mask inside its region.
        min_warp_px: warped logos with a side shorter than this are rejected.
        max_anisotropy: largest ratio of the singular values of the warp's local
            Jacobian (at the centre and corners); more skewed warps are rejected.
        color_model: paint of monochrome icons: ``brand`` (brand colour, black or
            white when it has none), ``contrast`` (brand colour when it contrasts
            with the area under the logo, else a lightness-flipped or palette colour
            that does, after SynthText) or ``random``.
        min_contrast: WCAG contrast ratio the ``contrast`` model guarantees.
        two_tone_prob: probability that a monochrome icon's paint is mixed with a
            second colour (gradient, soft blobs or a hard split).
        plate_prob: probability that a logo (or distractor) sits on a backing plate
            (ellipse, rounded rectangle or grown hull in white, black, brand or a
            random colour), as on signs, badges and stickers; never labelled.
        plate_margin: plate margin around the logo as a fraction of its long side, ``[min, max]``.
        box_margin: labelled box = the visible logo's tight box grown on each side by this
            fraction of its width (height), clipped to the image; the mask stays exact.
            Hand-drawn boxes in real photos leave a margin (and often take in the badge or
            sign around a logo): on flickrlogos27-dev the real boxes are ~1.2x those a
            tight-box model predicts (RESULTS.md); 0 keeps the tight box.
        crop_share: for a class with both artwork and crops of labelled photos (variants
            named ``crop-*``, :mod:`logodet.assets.crops`), the probability that a pasted
            logo is one of the crops; ``None`` draws every variant alike (so a brand with
            one icon and nine crops gets a crop nine times in ten).
        motion_blur_prob: probability of a motion blur of the logo.
        motion_blur_px: largest motion-blur length in pixels.
        noise_prob: probability of Gaussian noise on the logo.
        noise_sigma: largest noise standard deviation (colour units in ``[0, 1]``).
        jpeg_artifact_prob: probability of JPEG artefacts on the logo crop.
        jpeg_artifact_quality: ``[min, max]`` JPEG quality of that re-encoding.
        shading_prob: probability that the logo is shaded by the background's luminance.
        shading_strength: ``[min, max]`` weight of that shading (0 none, 1 full).
        shadow_prob: probability of a soft drop shadow.
        shadow_opacity: ``[min, max]`` darkening of the background under the shadow.
        blend_probs: relative weights of the blending modes per image:
            ``alpha`` (hard alpha), ``feather`` (``feather``-softened alpha),
            ``poisson`` (``cv2.seamlessClone`` on a crop around the logo).
        poisson_mixed_prob: probability that a Poisson blend uses ``MIXED_CLONE``.
        distractors: ``[min, max]`` unlabelled icons pasted per image when a
            distractor bank is given (``[0, 0]``: off).
        class_balance: ``uniform`` (class uniform, then variant uniform) or
            ``weighted`` (class drawn by ``class_weights``).
        class_weights: ``{class name: weight}`` for ``weighted`` (missing: 1).
        analysis: background analysis (regions, depth, planes), computed once per
            background and cached; ``analysis.enabled: false`` turns it off.

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
    shard_size: int = 256
    use_regions: bool = True
    use_planes: bool = True
    region_prob: float = 1.0
    region_scale: tuple[float, float] = (0.5, 1.1)
    min_in_region: float = 0.8
    min_warp_px: int = 8
    max_anisotropy: float = 4.0
    color_model: str = "contrast"
    min_contrast: float = 2.0
    two_tone_prob: float = 0.3  # with plate_prob 0.4: cold-start AP50 and presence F1 up on real photos (RESULTS.md)
    plate_prob: float = 0.4
    plate_margin: tuple[float, float] = (0.05, 0.3)
    box_margin: float = 0.0
    crop_share: float | None = None
    motion_blur_prob: float = 0.15
    motion_blur_px: float = 7.0
    noise_prob: float = 0.2
    noise_sigma: float = 0.03
    jpeg_artifact_prob: float = 0.15
    jpeg_artifact_quality: tuple[int, int] = (20, 70)
    shading_prob: float = 0.7
    shading_strength: tuple[float, float] = (0.3, 0.8)
    shadow_prob: float = 0.1
    shadow_opacity: tuple[float, float] = (0.15, 0.45)
    blend_probs: dict[str, float] = field(default_factory=lambda: {"alpha": 0.3, "feather": 0.5, "poisson": 0.2})
    poisson_mixed_prob: float = 0.3
    distractors: tuple[int, int] = (0, 2)
    class_balance: str = "uniform"
    class_weights: dict[str, float] = field(default_factory=dict)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)

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
        if self.shard_size < 1:
            raise ValueError(f"shard_size: expected >= 1 images, got {self.shard_size}")
        self._check_scene_fields()

    def _check_scene_fields(self) -> None:
        """Validation of the placement / appearance / blending / distractor fields."""
        probs = (
            *("region_prob", "two_tone_prob", "plate_prob", "min_in_region", "motion_blur_prob", "noise_prob"),
            *("jpeg_artifact_prob", "shading_prob", "shadow_prob"),
        )
        for name in (*probs, "poisson_mixed_prob"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: expected a fraction in [0, 1], got {value}")
        _check_range("region_scale", self.region_scale, 1e-3, 10.0)
        _check_range("plate_margin", self.plate_margin, 0.0, 2.0)
        if not 0.0 <= self.box_margin <= 1.0:
            raise ValueError(f"box_margin: expected a fraction of the box in [0, 1] per side, got {self.box_margin}")
        if self.crop_share is not None and not 0.0 <= self.crop_share <= 1.0:
            raise ValueError(f"crop_share: expected a fraction in [0, 1] (or null: every variant alike), got {self.crop_share}")
        _check_range("shading_strength", self.shading_strength, 0.0, 1.0)
        _check_range("shadow_opacity", self.shadow_opacity, 0.0, 1.0)
        _check_range("jpeg_artifact_quality", self.jpeg_artifact_quality, 1, 100)
        _check_range("distractors", self.distractors, 0, 1000)
        if self.min_warp_px < 1 or self.max_anisotropy < 1.0 or self.min_contrast < 1.0:
            raise ValueError(
                f"min_warp_px, max_anisotropy, min_contrast: each must be >= 1, "
                f"got {self.min_warp_px}, {self.max_anisotropy}, {self.min_contrast}"
            )
        if self.motion_blur_px < 0 or self.noise_sigma < 0:
            raise ValueError(f"motion_blur_px and noise_sigma must be >= 0, got {self.motion_blur_px} and {self.noise_sigma}")
        if self.color_model not in ("brand", "contrast", "random"):
            raise ValueError(f"color_model: expected brand, contrast or random, got {self.color_model!r}")
        bad = sorted(set(self.blend_probs) - {"alpha", "feather", "poisson"})
        if bad or any(v < 0 for v in self.blend_probs.values()) or sum(self.blend_probs.values()) <= 0:
            raise ValueError(f"blend_probs: expected weights >= 0 (not all 0) for alpha, feather, poisson; got {self.blend_probs}")
        if self.class_balance not in ("uniform", "weighted"):
            raise ValueError(f"class_balance: expected uniform or weighted, got {self.class_balance!r}")
        if any(v < 0 for v in self.class_weights.values()):
            raise ValueError(f"class_weights: weights must be >= 0, got {self.class_weights}")


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
