"""A translation run over many files: read and plan them, translate their segments as a pooled stream
(deduplicated, cached, batched by the engine), and write each file as soon as its last segment is done.
run_files streams (files read in this process or in workers while earlier ones are translated, see
pipeline.py and host.py); run takes files planned beforehand (plan_tasks) as one pool.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable, Optional, Union

from ..engines.base import Translator
from ..errors import GugugoError, InputError
from ..formats import FormatOptions, read_document, supported
from ..languages import LANGUAGES
from ..safety import Limits, read_stream
from ..segment import approx_tokens
from ..textio import remove_stale_temp_files
from . import pool
from .cache import SegmentCache
from .host import InProcess, Planned, start as start_host, write_to
from .inputs import FileTask, Summary
from .pipeline import FIRST_CHUNK, Files, Pipeline
from .stream import CachedStream, Result

log = logging.getLogger("gugugo_cli")


class Progress:
    """What a run reports as it goes; the CLI shows it as a bar on a terminal."""

    def start(self, total_segments: int, total_files: int) -> None: ...

    def advance(self, segments: int = 0, files: int = 0) -> None: ...

    def grow(self, segments: int) -> None:
        """More segments to do: files are read as the run goes, so the total grows."""

    def stop(self) -> None: ...


def plan_tasks(tasks: list[FileTask], options: FormatOptions, src: str, summary: Summary, stdin=None,
               limits: Optional[Limits] = None) -> list[FileTask]:
    """Read and segment every file; a file that cannot be read fails alone. limits bound what is read
    (safety.Limits: stdin and files are read only up to the limit, zip packages checked before parsing)."""
    limits = limits or Limits()
    ready = []
    for task in tasks:
        try:
            if task.source == "-":
                data = read_stream(stdin, "stdin", limits) if stdin else b""
                task.doc = read_document("-", data, options, limits)
            else:
                task.doc = read_document(task.source, options=options, limits=limits)
            task.plans = pool.plan_document(task.doc, options.tgt, src)
        except GugugoError as e:
            _fail(summary, task, e)
            continue
        task.pending = set(pool.keys_of(task.plans))
        ready.append(task)
    return ready


def _fail(summary: Summary, task: FileTask, error: GugugoError) -> None:
    if isinstance(error, InputError):  # names the file it is about: the input, or the output for a write error
        summary.failed.append((error.path, error.problem))
    else:
        summary.failed.append((task.source, str(error)))


def look_up(tasks: list[FileTask], tgt: str, translator_key: str, cache: SegmentCache,
            summary: Summary) -> tuple[dict[pool.Key, None], dict[pool.Key, Result]]:
    """All distinct segments in file order, and those the cache already has a translation of."""
    order = pool.keys_of(p for task in tasks for p in task.plans)
    summary.unique = len(order)
    summary.est_tokens = sum(approx_tokens(text) for _, text in order)
    found = CachedStream(cache, translator_key, tgt, lambda: None).look_up(order)
    summary.cache_hits = len(found)
    return order, found


def run(
    tasks: list[FileTask],
    tgt: str,
    get_translator: Callable[[], Translator],
    translator_key: str,
    cache: SegmentCache,
    summary: Summary,
    progress: Optional[Progress] = None,
    write: Optional[Callable[[FileTask, bytes], None]] = None,
) -> Summary:
    """Translate all segments of tasks already read and planned (plan_tasks) as one pooled stream; write each
    file when its last segment is done.

    Every translation is cached as it arrives (committed in groups, and whatever arrived before an
    interruption is committed too), so a run started again translates nothing twice."""
    host = InProcess()
    planned = ((task, host.hold(task.doc, task.plans),
                Planned([(s.src, s.text) for p in task.plans for s in p.segments],
                        dict(getattr(task.doc, "left_alone", {}))))
               for task in tasks)
    pipeline = Pipeline(host, tgt, get_translator, translator_key, cache, summary, progress or Progress(),
                        write or write_file, chunk=None, keep_untranslated=True)
    return _timed(pipeline, tasks, planned)


def run_files(tasks: list[FileTask], tgt: str, get_translator: Callable[[], Translator],
              translator_key: Union[str, Callable[[], str]], cache: SegmentCache, summary: Summary,
              progress: Optional[Progress] = None, write: Optional[Callable[[FileTask, bytes], None]] = None, *,
              options: FormatOptions, src: str = "auto", workers: int = 1, stdin=None,
              limits: Optional[Limits] = None, dry_run: bool = False,
              on_keys: Optional[Callable[[list], None]] = None) -> Summary:
    """Read, plan, translate and write the files of tasks as a stream: files are read and planned (in
    `workers` processes when more than one) while the translator works on the segments of earlier ones, and
    each file is written as soon as its last segment is back. Outputs and summary are the same for any number
    of workers. translator_key may be a function, called once a segment needs looking up.

    With workers, the workers write the files; `write` is called for stdin's translation (no dest). dry_run:
    read, plan and look up only (summary counts), nothing translated or written; on_keys(keys) sees each
    file's segment keys."""
    limits = limits or Limits()
    host = start_host(min(workers, len(tasks)), options, src, limits)
    try:
        files = Files(host, tasks, stdin, limits, keep=not dry_run)
        pipeline = Pipeline(host, tgt, get_translator, translator_key, cache, summary, progress or Progress(),
                            write or write_file, chunk=FIRST_CHUNK, dry_run=dry_run)
        pipeline.on_keys, pipeline.top_up = on_keys, files.top_up
        return _timed(pipeline, tasks, files)
    finally:
        host.close()


def _timed(pipeline: Pipeline, tasks: list[FileTask], planned) -> Summary:
    started = time.perf_counter()
    if not pipeline.dry_run:
        remove_stale_temp_files_of(tasks, time.time())
    try:
        return pipeline.run(tasks, planned)
    finally:
        pipeline.summary.seconds = time.perf_counter() - started


def write_file(task: FileTask, data: bytes) -> None:
    write_to(task.dest, data)


def remove_stale_temp_files_of(tasks: list[FileTask], started: float) -> None:
    """Temp files that a killed run left in the folders this run writes to (the outputs' folders): those
    of an output of this run, or of any NAME.<lang>.EXT output, older than this run's start."""
    names: dict[Path, set[str]] = {}
    for task in tasks:
        if task.dest is not None:
            names.setdefault(task.dest.parent, set()).add(task.dest.name)
    for folder, outputs in names.items():
        def ours(name: str, outputs=outputs) -> bool:
            path = Path(name)
            return name in outputs or (supported(path) and Path(path.stem).suffix[1:] in LANGUAGES)

        for path in remove_stale_temp_files(folder, ours, started):
            log.info("removed %s, left by an interrupted run", path)
