"""The ``logodet`` command: one thin module per command, wired here."""

from __future__ import annotations

import typer

from logodet.cli.bench import bench_app
from logodet.cli.data import data_app
from logodet.cli.eval import eval_cmd
from logodet.cli.export import export_cmd
from logodet.cli.models import models_cmd
from logodet.cli.predict import predict_cmd
from logodet.cli.quickstart import quickstart_cmd
from logodet.cli.synth import synth
from logodet.cli.train import train_cmd, tune_cmd

app = typer.Typer(
    name="logodet",
    help="Build custom logo detectors from a handful of artwork files: synthesise, train, evaluate, export, predict.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("synth")(synth)
app.command("train")(train_cmd)
app.command("tune")(tune_cmd)
app.command("eval")(eval_cmd)
app.command("export")(export_cmd)
app.command("models")(models_cmd)
app.command("predict")(predict_cmd)
app.command("quickstart")(quickstart_cmd)
app.add_typer(data_app, name="data")
app.add_typer(bench_app, name="bench")


if __name__ == "__main__":  # pragma: no cover
    app()
