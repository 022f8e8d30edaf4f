"""Hyper-parameter search (``logodet tune``) with Optuna: TPE sampling, median pruning, a resumable SQLite study.

The search space is YAML, one entry per ``TrainConfig`` field::

    lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
    freeze: {type: int, low: 0, high: 4}
    optimizer: {type: categorical, choices: [adamw, sgd]}

Each trial trains ``out/trial_N`` with the base config plus the sampled
values and reports the validation ``metric`` after every epoch; trials whose
curve falls below the median of earlier trials at the same epoch are pruned.
The study lives in ``out/study.db`` (or ``--storage``): running the same
command again continues it, and trials a killed run left unfinished are
marked failed and tried again with the same values. The best config is
written to ``out/best_config.yaml``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from logodet.config import save_config
from logodet.engine.config import TrainConfig
from logodet.engine.hooks import Hook

__all__ = ["PruningHook", "SearchSpaceError", "TuneResult", "load_search_space", "run_tune"]

_TYPES = ("float", "int", "categorical")


class SearchSpaceError(ValueError):
    """The search-space YAML is malformed; the message names the file and the entry."""


@dataclass
class TuneResult:
    """The best trial and the study's bookkeeping."""

    best_params: dict[str, Any]
    best_value: float
    best_config: Path
    trials: list[dict]
    storage: str


def load_search_space(path: str | Path) -> dict[str, dict]:
    """Read and validate a search-space YAML (see the module docstring)."""
    path = Path(path)
    try:
        space = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SearchSpaceError(f"{path}: cannot read ({exc})") from exc
    if not isinstance(space, dict) or not space:
        raise SearchSpaceError(f"{path}: expected a mapping of TrainConfig fields to distributions")
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    for name, spec in space.items():
        where = f"{path}: {name}"
        if name not in fields:
            raise SearchSpaceError(f"{where}: not a TrainConfig field")
        if not isinstance(spec, dict) or spec.get("type") not in _TYPES:
            raise SearchSpaceError(f"{where}: expected {{type: float|int|categorical, ...}}")
        if spec["type"] == "categorical":
            if not isinstance(spec.get("choices"), list) or not spec["choices"]:
                raise SearchSpaceError(f"{where}.choices: expected a non-empty list")
        else:
            lo, hi = spec.get("low"), spec.get("high")
            if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)) or lo >= hi:
                raise SearchSpaceError(f"{where}: expected numbers low < high, got {lo!r}, {hi!r}")
            if spec.get("log") and lo <= 0:
                raise SearchSpaceError(f"{where}: a log scale needs low > 0")
    return space


def _suggest(trial: Any, space: dict[str, dict]) -> dict[str, Any]:
    params = {}
    for name, spec in space.items():
        if spec["type"] == "float":
            params[name] = trial.suggest_float(name, float(spec["low"]), float(spec["high"]), log=bool(spec.get("log", False)))
        elif spec["type"] == "int":
            params[name] = trial.suggest_int(name, int(spec["low"]), int(spec["high"]), log=bool(spec.get("log", False)))
        else:
            params[name] = trial.suggest_categorical(name, spec["choices"])
    return params


class PruningHook(Hook):
    """Report the validation metric to the Optuna trial after each epoch; stop the run when Optuna prunes it."""

    priority = 47

    def __init__(self, trial: Any, metric: str) -> None:
        self.trial, self.metric, self.pruned = trial, metric, False

    def after_epoch(self, trainer: Any) -> None:
        value = trainer.row.get(self.metric)
        if value is None:
            return
        self.trial.report(float(value), step=int(trainer.row["epoch"]))
        if self.trial.should_prune():
            self.pruned = True
            trainer.request_stop(f"pruned by Optuna at epoch {trainer.row['epoch']}")


def _recover(study: Any) -> int:
    """Mark trials a killed run left running as failed and queue their values again; how many were queued."""
    import optuna

    stale = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.RUNNING]
    for t in stale:
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(t.params, skip_if_exists=False)
    return len(stale)


def run_tune(
    base: TrainConfig,
    space: dict[str, dict],
    trials: int,
    *,
    out: str | Path,
    study_name: str = "logodet",
    storage: str | None = None,
    seed: int = 0,
    progress: bool = False,
) -> TuneResult:
    """Run (or continue) the study until it holds ``trials`` finished (complete or pruned) trials."""
    import optuna

    from logodet.engine.trainer import train

    if not base.val:
        raise ValueError("tune: a validation set is needed (val in the base config or --val)")
    if trials < 1:
        raise ValueError(f"tune: trials must be >= 1, got {trials}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{(out / 'study.db').resolve()}"
    sampler = optuna.samplers.TPESampler(seed=seed)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    study = optuna.create_study(
        study_name=study_name, storage=storage, direction="maximize", sampler=sampler, pruner=pruner, load_if_exists=True
    )
    _recover(study)

    def objective(trial: optuna.Trial) -> float:
        params = _suggest(trial, space)
        run = out / f"trial_{trial.number}"
        cfg = replace(base, **params, out=str(run))
        hook = PruningHook(trial, base.metric)
        result = train(cfg, progress=progress, hooks=[hook])
        if hook.pruned:
            raise optuna.TrialPruned()
        return float(result.best_metric)

    done = {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    remaining = trials - sum(t.state in done for t in study.get_trials(deepcopy=False))
    if remaining > 0:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study.optimize(objective, n_trials=remaining, catch=(FloatingPointError,))
    best = study.best_trial
    cfg = replace(base, **best.params, out=str(out / "best"))
    path = out / "best_config.yaml"
    save_config(cfg, path)
    rows = [
        {"number": t.number, "state": t.state.name, "value": t.value, **t.params}
        for t in study.get_trials(deepcopy=False)
        if t.state in done or t.state == optuna.trial.TrialState.FAIL
    ]
    return TuneResult(dict(best.params), float(best.value), path, rows, storage)
