"""Synthesis inputs with bad-input accounting: logo banks that skip unusable variants, distractor banks."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from logodet.assets.logos import LogoBank, load_logo_folder

__all__ = ["load_distractors", "load_logos"]


def load_logos(source: str | Path | LogoBank, key_white: bool) -> tuple[LogoBank, list[str]]:
    """The logo bank and the bad files skipped: a bad file is skipped (warning naming it) when its class keeps other artwork.

    Example:
        >>> bank, skipped = load_logos("examples/logos", key_white=False)  # doctest: +SKIP

    Raises:
        LogoError: a class has no usable artwork (the message names every bad file).
    """
    from logodet.assets.brands import load_brand_colors
    from logodet.assets.logos import BRANDS_FILE, LOGO_SUFFIXES, LogoError, load_logo

    if isinstance(source, LogoBank):
        return source, []
    try:
        return load_logo_folder(source, key_white=key_white), []
    except LogoError as first:
        folder = Path(source)
        colors = load_brand_colors(folder / BRANDS_FILE) if (folder / BRANDS_FILE).is_file() else {}

        def files(d: Path) -> list[Path]:
            return sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in LOGO_SUFFIXES and not p.name.startswith("."))

        by_class: dict[str, list[Path]] = {}
        for p in files(folder):
            by_class.setdefault(p.stem, []).append(p)
        for sub in sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")):
            by_class.setdefault(sub.name, []).extend(files(sub))
        assets, bad, empty = [], [], []
        for name in sorted(by_class):
            good = 0
            for p in by_class[name]:
                try:
                    assets.append(load_logo(p, key_white=key_white, class_name=name, brand_color=colors.get(name)))
                    good += 1
                except LogoError as exc:
                    bad.append(str(exc))
            if not good:
                empty.append(name)
        if not bad:
            raise
        if empty:
            raise LogoError(f"{folder}: no usable artwork for class(es) {empty}: {'; '.join(bad)}") from first
        for msg in bad:
            warnings.warn(f"skipping logo {msg}", UserWarning, stacklevel=3)
        return LogoBank(sorted(by_class), assets), bad


def load_distractors(source: Any) -> Any:
    """A distractor bank from a folder (``logodet.synth.distractors``), or ``source`` itself.

    Example:
        >>> load_distractors(None) is None
        True
    """
    if source is None or not isinstance(source, (str, Path)):
        return source
    from logodet.synth import distractors as dmod

    for name in ("load_distractor_bank", "load_distractors"):
        if hasattr(dmod, name):
            return getattr(dmod, name)(source)
    bank_cls = dmod.DistractorBank
    return bank_cls.from_folder(source) if hasattr(bank_cls, "from_folder") else bank_cls(source)
