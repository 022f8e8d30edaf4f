"""Distractors: loaded lazily, never labelled, never the labelled brands, and they respect the overlap cap."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest

from logodet.assets.logos import LogoBank, LogoError
from logodet.synth.compose import compose
from logodet.synth.config import SynthConfig
from logodet.synth.distractors import DistractorBank, load_distractor_bank

from .conftest import smooth_backgrounds

SIMPLE_ICONS = Path(__file__).resolve().parents[3] / "shared" / "data" / "logos" / "simple-icons" / "icons"
SQUARE = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M{o} {o}h{s}v{s}H{o}z"/></svg>'


@pytest.fixture()
def icon_folder(tmp_path: Path, bank: LogoBank) -> Path:
    folder = tmp_path / "icons"
    folder.mkdir()
    for i in range(6):
        (folder / f"other{i}.svg").write_text(SQUARE.format(o=2 + i, s=20 - 2 * i))
    (folder / f"{bank.class_names[0]}.svg").write_text(SQUARE.format(o=2, s=20))  # a labelled brand: never a distractor
    (folder / "broken.svg").write_text("<svg")
    (folder / "notes.txt").write_text("not an icon")
    return folder


def test_bank_is_lazy_and_excludes(icon_folder: Path, bank: LogoBank) -> None:
    d = DistractorBank(icon_folder, exclude={"other0"})
    assert len(d) == 7 and not d._cache  # listed, nothing loaded
    rng = np.random.default_rng(0)
    with pytest.warns(UserWarning, match="broken.svg"):
        drawn = {d.sample(rng, frozenset(bank.class_names)).class_name for _ in range(60)}
    assert drawn <= {f"other{i}" for i in range(1, 6)} and len(drawn) >= 4
    assert len(d._cache) <= len(d)
    clone = pickle.loads(pickle.dumps(d))
    assert not clone._cache and clone.fingerprint() == d.fingerprint() != DistractorBank(icon_folder).fingerprint()
    with pytest.raises(FileNotFoundError):
        load_distractor_bank(icon_folder / "missing")
    with pytest.raises(LogoError, match="no distractor"):
        DistractorBank(icon_folder, exclude={"other0", "other1", "other2", "other3", "other4", "other5", "broken", bank.class_names[0]})


@pytest.mark.filterwarnings("ignore:skipping distractor")
@pytest.mark.parametrize("seed", range(10))
def test_distractors_leave_no_instance_and_respect_the_cap(icon_folder: Path, bank: LogoBank, seed: int) -> None:
    d = DistractorBank(icon_folder)
    cfg = SynthConfig(size=(128, 96), min_logos=1, max_logos=3, empty_prob=0.0, distractors=(2, 4), max_overlap=0.3, scale=(0.2, 0.5))
    bg = smooth_backgrounds(1, seed=seed)[0]
    with_d = compose(bg, bank, np.random.default_rng(seed), cfg, distractors=d)
    for inst in with_d.instances:
        assert inst.occlusion <= cfg.max_overlap + 1e-9  # distractors occlude within the cap
        assert inst.source.endswith(".svg") and not inst.source.startswith("other")
    only_d = compose(bg, bank, np.random.default_rng(seed), dataclasses.replace(cfg, min_logos=0, max_logos=0), distractors=d)
    assert only_d.instances == []  # distractors alone: pasted, not labelled
    plain = compose(bg, bank, np.random.default_rng(seed), dataclasses.replace(cfg, min_logos=0, max_logos=0))
    assert not np.array_equal(only_d.image, plain.image)  # ... but visible
    off = compose(bg, bank, np.random.default_rng(seed), dataclasses.replace(cfg, distractors=(0, 0)), distractors=d)
    assert np.array_equal(off.image, compose(bg, bank, np.random.default_rng(seed), dataclasses.replace(cfg, distractors=(0, 0))).image)


@pytest.mark.skipif(not SIMPLE_ICONS.is_dir(), reason="shared simple-icons not present")
def test_simple_icons_folder(bank: LogoBank) -> None:
    d = DistractorBank(SIMPLE_ICONS, exclude=set(bank.class_names))
    assert len(d) > 3000 and not d._cache
    assert d.colors  # brand colours from simple-icons.json
    cfg = SynthConfig(size=(160, 120), min_logos=1, max_logos=2, empty_prob=0.0, distractors=(2, 3))
    comp = compose(smooth_backgrounds(1)[0], bank, np.random.default_rng(0), cfg, distractors=d)
    assert 0 < len(d._cache) <= 8 and all(inst.class_index < bank.num_classes for inst in comp.instances)
