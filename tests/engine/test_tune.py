"""``logodet tune``: Optuna study over TrainConfig fields, stored in SQLite and resumable; search-space errors."""

from __future__ import annotations

import pytest
import yaml
from conftest import make_shapes_dataset

from logodet.config import load_config
from logodet.engine.config import TrainConfig
from logodet.engine.tune import PruningHook, SearchSpaceError, load_search_space, run_tune

optuna = pytest.importorskip("optuna")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("tune")
    make_shapes_dataset(root / "d", n=8, size=64, seed=5)
    make_shapes_dataset(root / "v", n=4, size=64, seed=6)
    return TrainConfig(data=str(root / "d"), val=str(root / "v"), epochs=2, imgsz=64, batch=4, warmup_iters=1, weights="none", freeze=0)


SPACE = {"lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True}, "optimizer": {"type": "categorical", "choices": ["adamw", "sgd"]}}


def test_study_runs_resumes_and_writes_the_best_config(tmp_path, base):
    out = tmp_path / "study"
    first = run_tune(base, SPACE, 2, out=out, seed=3)
    assert len(first.trials) == 2 and {t["state"] for t in first.trials} <= {"COMPLETE", "PRUNED"}
    best = load_config(TrainConfig, first.best_config)
    assert best.lr == pytest.approx(first.best_params["lr"]) and best.optimizer == first.best_params["optimizer"]
    assert (out / "trial_0" / "metrics.csv").is_file() and (out / "study.db").is_file()

    # a killed run leaves a trial RUNNING: it is marked failed and its values are tried again
    study = optuna.load_study(study_name="logodet", storage=first.storage)
    stale = study.ask({"lr": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)} | _opt())
    again = run_tune(base, SPACE, 3, out=out, seed=3)
    states = {t["number"]: t["state"] for t in again.trials}
    assert states[stale.number] == "FAIL"
    retried = [t for t in again.trials if t["number"] > stale.number]
    assert len(retried) == 1 and retried[0]["lr"] == pytest.approx(stale.params["lr"])


def _opt():
    return {"optimizer": optuna.distributions.CategoricalDistribution(["adamw", "sgd"])}


def test_pruning_hook_stops_the_run():
    class Trial:
        def __init__(self):
            self.reports = []

        def report(self, value, step):
            self.reports.append((step, value))

        def should_prune(self):
            return True

    class Run:
        def __init__(self):
            self.row, self.reason = {"epoch": 2, "AP50": 0.25}, ""

        def request_stop(self, reason):
            self.reason = reason

    trial, run = Trial(), Run()
    hook = PruningHook(trial, "AP50")
    hook.after_epoch(run)
    assert trial.reports == [(2, 0.25)] and hook.pruned and "pruned" in run.reason


@pytest.mark.parametrize(
    "space,match",
    [
        ({"learning_rate": {"type": "float", "low": 0.1, "high": 1}}, "not a TrainConfig field"),
        ({"lr": {"type": "float", "low": 1, "high": 0.1}}, "low < high"),
        ({"lr": {"type": "float", "low": 0, "high": 1, "log": True}}, "log scale"),
        ({"optimizer": {"type": "categorical", "choices": []}}, "choices"),
        ({"lr": [1, 2]}, "type: float"),
    ],
)
def test_search_space_errors_name_the_entry(tmp_path, space, match):
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(space))
    with pytest.raises(SearchSpaceError, match=match):
        load_search_space(path)


def test_tune_needs_validation_data(tmp_path, base):
    with pytest.raises(ValueError, match="validation"):
        run_tune(TrainConfig(data=base.data), SPACE, 1, out=tmp_path)
