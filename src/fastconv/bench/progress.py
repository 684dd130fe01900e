"""A progress bar on stderr while the suite runs: rich if installed, else tqdm, else none.

It goes to stderr and disappears when done, so stdout holds only the table.
"""

from __future__ import annotations

import contextlib
import sys


class _Bar:
    """advance(): one layer done; status(text): what runs now."""

    def __init__(self, advance, status):
        self.advance, self.status = advance, status


def progress_bar(total: int, enabled: bool = True):
    """A context manager giving a _Bar; a silent one when stderr is not a terminal (a pipe,
    a CI log) or neither rich nor tqdm is installed."""
    if enabled and sys.stderr.isatty():
        for make in (_rich, _tqdm):
            try:
                return make(total)
            except ImportError:
                continue
    return contextlib.nullcontext(_Bar(lambda: None, lambda text: None))


def _rich(total: int):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    @contextlib.contextmanager
    def bar():
        columns = (
            TextColumn("{task.description:<40}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("", total=total)
            yield _Bar(
                lambda: progress.advance(task), lambda text: progress.update(task, description=text)
            )

    return bar()


def _tqdm(total: int):
    from tqdm import tqdm

    @contextlib.contextmanager
    def bar():
        with tqdm(total=total, unit="layer", leave=False, file=sys.stderr) as t:
            yield _Bar(lambda: t.update(1), t.set_description_str)

    return bar()
