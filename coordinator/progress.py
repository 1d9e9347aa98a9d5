"""The progress bar of the long terminal commands (``import``, ``demo``).

The services report ``(step, done, total)`` through a plain callable and know nothing of the
terminal; this turns those calls into one rich progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

Report = Callable[[str, int, int], None]


@contextmanager
def progress_bar(
    console: Console, first_step: str, labels: Mapping[str, str] | None = None
) -> Iterator[Report]:
    """A bar showing ``first_step`` until the first report; ``labels`` name the steps reported by code."""
    names = labels or {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(first_step, total=None)

        def report(step: str, done: int, total: int) -> None:
            progress.update(task, description=names.get(step, step), completed=done, total=total)

        yield report
