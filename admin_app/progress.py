"""Progress bars for long CLI work: shown on a terminal, silent when output is piped."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


@contextmanager
def progress_bar(length: int, label: str) -> Iterator[Callable[[int], None]]:
    """Yield `update(steps)`: a click progress bar on a terminal (stdout is a TTY); a no-op
    otherwise, so scripts and pipes get only the command's own output."""
    if not _is_terminal():
        yield lambda steps: None
        return
    with click.progressbar(length=length, label=label) as bar:
        yield bar.update


def _is_terminal() -> bool:
    return sys.stdout.isatty()
