"""Turn expected user errors into one clear line and exit status 2 instead of a traceback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
from rich.console import Console

__all__ = ["user_errors"]

_EXPECTED = (ValueError, FileNotFoundError, FileExistsError, KeyError, RuntimeError)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Print ``error: <message>`` and exit 2 on an expected error."""
    try:
        yield
    except _EXPECTED as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        Console(stderr=True).print(f"[bold red]error:[/] {msg}", highlight=False)
        raise typer.Exit(2) from exc
