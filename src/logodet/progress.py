"""Progress bars (rich) that switch off cleanly for tests, pipes and libraries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

__all__ = ["make_progress", "track"]

T = TypeVar("T")


def make_progress(*extra_columns, transient: bool = False) -> Progress:
    """A rich ``Progress`` with the columns logodet uses everywhere."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=transient,
    )


def track(iterable: Iterable[T], *, total: int | None = None, description: str = "", enabled: bool = True) -> Iterator[T]:
    """Iterate ``iterable`` with a progress bar when ``enabled``.

    Example:
        >>> list(track(range(3), enabled=False))
        [0, 1, 2]
    """
    if not enabled:
        yield from iterable
        return
    with make_progress(transient=True) as bar:
        task = bar.add_task(description, total=total)
        for item in iterable:
            yield item
            bar.advance(task)
