"""``logodet models`` through a tiny typer app wrapping ``models_cmd``."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from logodet.cli.models import models_cmd
from logodet.models.zoo import build_model, list_models

runner = CliRunner(env={"COLUMNS": "250"})


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("models")(models_cmd)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps "models" a subcommand, as in the real app
        pass

    return app


def test_table_and_json_without_latency(tmp_path):
    out = tmp_path / "models.json"
    result = runner.invoke(_app(), ["models", "--imgsz", "64", "--imgsz", "96", "--no-latency", "--json", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())
    assert [r["name"] for r in rows] == list_models()
    lite0 = next(r for r in rows if r["name"] == "retinanet_efficientnet_lite0")
    assert lite0["params"] == sum(
        p.numel() for p in build_model("retinanet_efficientnet_lite0", num_classes=27, weights="none").parameters()
    )
    assert all(0 < r["gflops_64"] < r["gflops_96"] for r in rows)
    assert not any(k.startswith("latency") for r in rows for k in r)
    for name in list_models():
        assert name in result.output
    assert "GFLOPs 64" in result.output and "GFLOPs 96" in result.output and "CPU ms" not in result.output
    assert f"{lite0['params'] / 1e6:.2f}" in result.output and "yes" in result.output
    assert f"wrote {out}" in result.output.replace("\n", "")


def test_latency_columns_with_one_run(monkeypatch):
    """Latency is measured for every model; profiling only lite0 models keeps the test quick."""
    import logodet.models.profile as profile

    calls = []
    real = profile.profile_models

    def only_lite0(names=None, imgsizes=(320, 640), **kwargs):
        calls.append(kwargs)
        return real(["fcos_efficientnet_lite0", "retinanet_efficientnet_lite0"], imgsizes, **kwargs)

    monkeypatch.setattr(profile, "profile_models", only_lite0)
    result = runner.invoke(_app(), ["models", "--imgsz", "64", "--runs", "1", "--warmup", "0", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert calls == [{"runs": 1, "warmup": 0, "threads": 1, "latency": True}]
    assert "CPU ms 64" in result.output and "retinanet_efficientnet_lite0" in result.output


@pytest.mark.parametrize(("args", "message"), [(["--imgsz", "100"], "multiples of 32"), (["--runs", "0"], "--runs")])
def test_bad_options_are_clear(args, message):
    result = runner.invoke(_app(), ["models", "--no-latency", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
