"""Distractors: other brands' icons pasted unlabelled, so a detector learns to ignore them.

A :class:`DistractorBank` lists the icon files of a folder (e.g. the 3,470
simple-icons SVGs) and loads one only when it is drawn (a small LRU cache of
loaded icons), so opening a large folder costs a directory listing, not a
rasterisation of every file.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np

from logodet.assets.brands import load_brand_colors, parse_hex_color
from logodet.assets.logos import LogoAsset, LogoError, load_logo

__all__ = ["DISTRACTOR_SUFFIXES", "DistractorBank", "load_distractor_bank"]

DISTRACTOR_SUFFIXES = {".svg", ".png", ".webp"}
_LOAD_SIZE = 64  # long side of the first render (only for the alpha crop and aspect); placements re-render at their size


def _colors_near(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Brand colours from ``brands.json`` in the folder or ``simple-icons.json`` beside it (missing or bad: none)."""
    try:
        if (folder / "brands.json").is_file():
            return load_brand_colors(folder / "brands.json")
        for cand in (folder / "simple-icons.json", folder.parent / "simple-icons.json"):
            if cand.is_file():
                data = json.loads(cand.read_text(encoding="utf-8"))
                items = data.get("icons", []) if isinstance(data, dict) else data
                out = {}
                for it in items:
                    if isinstance(it, dict) and it.get("slug") and it.get("hex"):
                        try:
                            out[str(it["slug"])] = parse_hex_color(str(it["hex"]), f"{cand}: {it['slug']}.hex")
                        except ValueError:
                            continue
                return out
    except (OSError, ValueError) as exc:
        warnings.warn(f"{folder}: brand colours of the distractors not read ({exc}); they get the colour model's colours", stacklevel=3)
    return {}


class DistractorBank:
    """Icons pasted as unlabelled distractors, loaded lazily.

    Args:
        folder: a folder of ``.svg`` / ``.png`` / ``.webp`` icons (file stem = brand slug).
        exclude: slugs never drawn (the labelled classes; :func:`compose` also
            skips the bank's own class names).
        cache_size: loaded icons kept in memory.

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        LogoError: no icon file in it (after exclusion).

    Example:
        >>> bank = DistractorBank("../shared/data/logos/simple-icons/icons", exclude={"nike"})  # doctest: +SKIP
        >>> bank.sample(np.random.default_rng(0)).class_name != "nike"  # doctest: +SKIP
        True
    """

    def __init__(self, folder: str | Path, exclude: set[str] | list[str] | tuple[str, ...] = (), cache_size: int = 256) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(f"{self.folder}: distractor folder not found")
        self.exclude = frozenset(str(e) for e in exclude)
        self.files = sorted(
            p
            for p in self.folder.iterdir()
            if p.suffix.lower() in DISTRACTOR_SUFFIXES and not p.name.startswith(".") and p.stem not in self.exclude and p.is_file()
        )
        if not self.files:
            raise LogoError(f"{self.folder}: no distractor icons ({', '.join(sorted(DISTRACTOR_SUFFIXES))}) found")
        self.colors = _colors_near(self.folder)
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[Path, LogoAsset | None] = OrderedDict()
        self.bad: list[str] = []

    @classmethod
    def from_folder(cls, folder: str | Path, exclude: set[str] | list[str] | tuple[str, ...] = ()) -> DistractorBank:
        """Same as the constructor (the name the pipeline looks for)."""
        return cls(folder, exclude)

    def __len__(self) -> int:
        return len(self.files)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()  # workers rebuild their own cache
        return state

    def fingerprint(self) -> str:
        """A hash of the folder's icon names and sizes, and of the exclusions (changes when the inputs do)."""
        h = hashlib.sha256(json.dumps(sorted(self.exclude)).encode())
        for p in self.files:
            h.update(f"{p.name}|{p.stat().st_size}\n".encode())
        return h.hexdigest()

    def get(self, index: int) -> LogoAsset | None:
        """Icon ``index`` loaded (cached), or ``None`` when the file cannot be used (warned once, naming it)."""
        path = self.files[index]
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        try:
            asset: LogoAsset | None = load_logo(path, size=_LOAD_SIZE, class_name=path.stem, brand_color=self.colors.get(path.stem))
        except LogoError as exc:
            warnings.warn(f"skipping distractor {exc}", UserWarning, stacklevel=2)
            self.bad.append(str(exc))
            asset = None
        self._cache[path] = asset
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return asset

    def sample(self, rng: np.random.Generator, exclude: set[str] | frozenset[str] = frozenset(), tries: int = 8) -> LogoAsset | None:
        """A uniformly drawn usable icon whose slug is not in ``exclude``, or ``None`` after ``tries`` draws.

        Example:
            >>> DistractorBank("icons").sample(np.random.default_rng(0))  # doctest: +SKIP
            LogoAsset(class_name='...', ...)
        """
        for _ in range(tries):
            i = int(rng.integers(len(self.files)))
            if self.files[i].stem in exclude:
                continue
            asset = self.get(i)
            if asset is not None:
                return asset
        return None


def load_distractor_bank(folder: str | Path, exclude: set[str] | list[str] | tuple[str, ...] = ()) -> DistractorBank:
    """A :class:`DistractorBank` of ``folder`` without the slugs in ``exclude``.

    Example:
        >>> load_distractor_bank("../shared/data/logos/simple-icons/icons")  # doctest: +SKIP
        <logodet.synth.distractors.DistractorBank object at ...>
    """
    return DistractorBank(folder, exclude)
