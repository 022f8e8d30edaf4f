"""Synthesis profiles of the real-world benchmark: SynthLogo, the naive copy-paste baseline and the ablations.

Each profile is a set of ``SynthConfig`` overrides plus two switches the
pipeline does not hold (distractors on or off, real photos or plain
textures as backgrounds). ``synthlogo`` is the engine's defaults; every
ablation turns one stage off; ``naive`` turns them all off: logos pasted at
a random position and scale with plain alpha, brand colours, no regions,
planes, plates, appearance effects or distractors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ABLATIONS", "PROFILES", "SynthProfile", "get_profile"]


@dataclass(frozen=True)
class SynthProfile:
    """A named synthesis variant."""

    name: str
    description: str
    overrides: dict = field(default_factory=dict)
    distractors: bool = True
    textures: bool = False


_NAIVE = {
    "use_regions": False,
    "use_planes": False,
    "analysis.enabled": False,
    "color_model": "brand",
    "blend_probs": {"alpha": 1.0},
    "perspective": 0.0,
    "rotation": 0.0,
    "brightness": 0.0,
    "contrast": 0.0,
    "saturation": 0.0,
    "hue": 0.0,
    "blur_prob": 0.0,
    "motion_blur_prob": 0.0,
    "noise_prob": 0.0,
    "jpeg_artifact_prob": 0.0,
    "shading_prob": 0.0,
    "shadow_prob": 0.0,
    "opacity": [1.0, 1.0],
    "plate_prob": 0.0,
    "two_tone_prob": 0.0,
}

PROFILES: dict[str, SynthProfile] = {
    p.name: p
    for p in (
        SynthProfile("synthlogo", "SynthLogo, every stage on (the engine's defaults)"),
        SynthProfile("naive", "naive copy-paste: random position and scale, alpha, brand colours, nothing else", _NAIVE, distractors=False),
        SynthProfile("no_regions", "without regions (random placement, no planes)", {"use_regions": False}),
        SynthProfile("no_planes", "without planes (regions, similarity warps with jitter)", {"use_planes": False}),
        SynthProfile("no_color_model", "without the contrast colour model (brand colours)", {"color_model": "brand"}),
        SynthProfile("no_poisson", "without Poisson blending (alpha and feather only)", {"blend_probs": {"alpha": 0.4, "feather": 0.6}}),
        SynthProfile("no_plates", "without backing plates and two-tone paint", {"plate_prob": 0.0, "two_tone_prob": 0.0}),
        SynthProfile("no_distractors", "without distractor icons", distractors=False),
        SynthProfile("plain_textures", "plain procedural textures instead of real photos", textures=True),
    )
}
ABLATIONS = ("no_regions", "no_planes", "no_color_model", "no_poisson", "no_plates", "no_distractors", "plain_textures")


def get_profile(name: str) -> SynthProfile:
    """The profile called ``name``; an error lists the known ones."""
    if name not in PROFILES:
        raise ValueError(f"unknown synthesis profile {name!r}; known: {', '.join(PROFILES)}")
    return PROFILES[name]
