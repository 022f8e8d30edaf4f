"""``logodet data ...``: convert, check, stats, split, merge, agree, review and show datasets; one module per command."""

from __future__ import annotations

import typer

from logodet.cli.data.agree import agree_cmd
from logodet.cli.data.check import check_cmd
from logodet.cli.data.convert import convert_cmd
from logodet.cli.data.merge import merge_cmd
from logodet.cli.data.review import review_export_cmd, review_import_cmd
from logodet.cli.data.show import show_cmd
from logodet.cli.data.split import split_cmd
from logodet.cli.data.stats import stats_cmd

__all__ = ["data_app"]

data_app = typer.Typer(
    name="data",
    help="Datasets: convert between formats, check, statistics, splits, merging, annotator agreement, review, contact sheets.",
    no_args_is_help=True,
)
data_app.command("convert")(convert_cmd)
data_app.command("check")(check_cmd)
data_app.command("stats")(stats_cmd)
data_app.command("split")(split_cmd)
data_app.command("merge")(merge_cmd)
data_app.command("agree")(agree_cmd)
data_app.command("show")(show_cmd)
data_app.command("review-export")(review_export_cmd)
data_app.command("review-import")(review_import_cmd)
