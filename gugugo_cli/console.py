"""What a person sees on stderr: one-line log messages, the progress bar, the summary and dry-run report."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Optional

import click

PROG = "gugugo-translate"
NOTICE = 25  # what a pipe shows too (a model downloading): between INFO and WARNING
log = logging.getLogger("gugugo_cli")
_bars: list = []  # the progress bars showing now
_download_bars: Optional[bool] = None  # the hub's download bars: shown, hidden, or None (library use: its own)


class OneLineFormatter(logging.Formatter):
    def format(self, record):
        if record.levelno == NOTICE:
            return f"{PROG}: {record.getMessage()}"
        return f"{PROG}: {record.levelname.lower()}: {record.getMessage()}"


def setup_logging(debug: bool, quiet: bool, interactive: bool) -> None:
    global _download_bars
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter())
    log.handlers[:] = [handler]
    log.propagate = False
    # in a pipe only notices, warnings and errors; on a terminal also what was written
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.INFO if interactive else NOTICE
    log.setLevel(level)
    _download_bars = interactive


@contextlib.contextmanager
def download_display():
    """While a model downloads: the run's progress bars paused, as the hub library draws its own. Yields whether
    its bars show: on a terminal (not -q), never in a pipe; None in library use (the hub library's setting)."""
    paused = _bars[:]
    for bar in paused:
        bar.bar.stop()
    try:
        yield _download_bars
    finally:
        for bar in paused:
            bar.bar.start()


@contextlib.contextmanager
def engine_output():
    """While an engine (vLLM, Ray) is imported and starts: what it writes to stdout (file descriptor 1, which its
    own processes inherit) goes to stderr with debug logging, else it and what it writes to stderr go nowhere.
    Only the translation is ever written to stdout, and never while an engine starts."""
    debug = log.isEnabledFor(logging.DEBUG)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    try:
        saved = [os.dup(1), os.dup(2)]
    except OSError:  # no standard streams to protect
        yield
        return
    target = os.dup(2) if debug else os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(target, 1)
        if not debug:
            os.dup2(target, 2)
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, target):
            os.close(fd)


def report_dry_run(summary, files: int) -> None:
    click.echo(f"files to translate: {files}")
    if summary.nothing_to_translate:
        click.echo(f"files with nothing to translate: {len(summary.nothing_to_translate)}")
    click.echo(f"files skipped: {len(summary.skipped)}")
    click.echo(f"files failed: {len(summary.failed)}")
    click.echo(f"segments: {summary.segments} ({summary.unique} distinct)")
    click.echo(f"cache hits: {summary.cache_hits}")
    click.echo(f"segments for the model: {summary.unique - summary.cache_hits}")
    click.echo(f"estimated source tokens: {summary.est_tokens}")
    for kind, count in summary.left_alone.items():
        click.echo(f"{kind} left as they are: {count}")


def report_capped(count: int, examples) -> None:
    """One warning for the translations that stopped at their new-token limit, naming a few of their sources."""
    if count:
        named = "; ".join(repr(s[:80]) for s in examples)
        log.warning("%d translation%s reached the new-token limit and may be cut or repetitive (e.g. %s)",
                    count, "" if count == 1 else "s", named)


def report_glossary(counts: dict) -> None:
    """--dry-run with --glossary: a line per term with the number of segments it is found in."""
    for term, segments in counts.items():
        click.echo(f"glossary: {term.source} -> {term.target}: {segments} segment{'' if segments == 1 else 's'}")


def log_above(bar) -> list:
    """Log lines printed above a rich progress bar instead of through it; returns the handlers to put back."""
    handlers = log.handlers[:]
    handler = logging.Handler()
    handler.emit = lambda record: bar.console.print(OneLineFormatter().format(record), markup=False, highlight=False)
    log.handlers[:] = [handler]
    return handlers


class _Bar:
    """A rich progress bar on stderr, gone when it stops; log lines are printed above it meanwhile."""

    def _start(self, *columns) -> None:
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(*columns, console=Console(stderr=True), transient=True)
        self.bar.start()
        self.handlers = log_above(self.bar)
        _bars.append(self)

    def stop(self) -> None:
        self.bar.stop()
        log.handlers[:] = self.handlers
        if self in _bars:
            _bars.remove(self)


class RichProgress(_Bar):
    """Documents: a bar over segments and one over files."""

    def start(self, total_segments: int, total_files: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn

        self._start(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                    TextColumn("{task.fields[rate]}"), TimeRemainingColumn())
        self.segments = self.bar.add_task("segments", total=total_segments, rate="")
        self.files = self.bar.add_task("files", total=total_files, rate="")

    def advance(self, segments: int = 0, files: int = 0) -> None:
        self.bar.advance(self.segments, segments)
        self.bar.advance(self.files, files)
        speed = self.bar.tasks[self.segments].speed
        self.bar.update(self.segments, rate=f"{speed:.1f}/s" if speed else "")

    def grow(self, segments: int) -> None:
        self.bar.update(self.segments, total=self.bar.tasks[self.segments].total + segments)


class RichDatasetProgress(_Bar):
    """A dataset: a bar over the input's bytes with rows and segments done, rate and ETA."""

    def start(self, name: str, total_bytes: int, total_rows=None) -> None:
        from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn

        self._start(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                    TextColumn("{task.fields[counts]}"), TimeRemainingColumn())
        self.task = self.bar.add_task(name, total=max(1, total_bytes), counts="")
        self.rows = self.segments = 0

    def advance(self, rows: int = 0, segments: int = 0, position=None) -> None:
        self.rows += rows
        self.segments += segments
        task = self.bar.tasks[self.task]
        rate = f", {self.rows / task.elapsed:.1f} rows/s" if task.elapsed and self.rows else ""
        self.bar.update(self.task, completed=position if position is not None else task.completed,
                        counts=f"{self.rows} rows, {self.segments} segments{rate}")


def print_summary(summary) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="gugugo-translate", show_header=False)
    rate = summary.model_segments / summary.seconds if summary.seconds else 0
    for name, value in [
        ("files translated", len(summary.translated)),
        ("nothing to translate", len(summary.nothing_to_translate)),
        ("files skipped", len(summary.skipped)),
        ("files failed", len(summary.failed)),
        ("segments", f"{summary.segments} ({summary.unique} distinct)"),
        ("cache hits", summary.cache_hits),
        ("translated by the model", summary.model_segments),
        ("repaired by the guards", sum(s["repaired"] for s in summary.suspects)),
        ("still suspect", sum(not s["repaired"] for s in summary.suspects)),
        ("time", f"{summary.seconds:.1f} s"),
        ("sentences per second", f"{rate:.1f}"),
        *((f"{kind} left as they are", count) for kind, count in summary.left_alone.items()),
    ]:
        table.add_row(name, str(value))
    Console(stderr=True).print(table)


def quiet_transformers() -> None:
    """transformers' own progress bars and advice would clutter stderr; --debug shows them. transformers is not
    imported for it (a hub that cannot be reached is told before torch loads): its level is read when it is,
    and engines.loading hides the bars while a model loads."""
    if log.level <= logging.DEBUG:
        return
    if "transformers" not in sys.modules:
        os.environ["TRANSFORMERS_VERBOSITY"] = "error"
        return
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def write_report(report_path, records) -> bool:
    """--report: the records (dicts) as JSON Lines, written atomically; an error line and False when it cannot
    be written (the run then says so and exits non-zero)."""
    from .textio import atomic_write_chunks, json_line

    try:
        atomic_write_chunks(report_path, map(json_line, records))
    except OSError as e:
        log.error("%s: cannot write the report (%s)", report_path, e.strerror or e)
        return False
    return True
