"""A translation run over many files: read and plan them, translate their segments as one pooled stream
(deduplicated, cached, batched by the engine), and write each file as soon as its last segment is done.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable, Optional

from ..engines.base import Translator
from ..errors import GugugoError, InputError
from ..formats import FormatOptions, read_document, supported
from ..languages import LANGUAGES
from ..safety import Limits, read_stream
from ..segment import approx_tokens
from ..textio import atomic_write_bytes, remove_stale_temp_files
from . import pool
from .cache import SegmentCache
from .inputs import FileTask, Summary
from .stream import CachedStream, Result

log = logging.getLogger("gugugo_cli")


class Progress:
    """What a run reports as it goes; the CLI shows it as a bar on a terminal."""

    def start(self, total_segments: int, total_files: int) -> None: ...

    def advance(self, segments: int = 0, files: int = 0) -> None: ...

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
        for kind, count in getattr(task.doc, "left_alone", {}).items():
            summary.left_alone[kind] = summary.left_alone.get(kind, 0) + count
        summary.segments += sum(len(p.segments) for p in task.plans)
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
    return _look_up(tasks, CachedStream(cache, translator_key, tgt, lambda: None), summary)


def _look_up(tasks: list[FileTask], stream: CachedStream,
             summary: Summary) -> tuple[dict[pool.Key, None], dict[pool.Key, Result]]:
    order = pool.keys_of(p for task in tasks for p in task.plans)
    summary.unique = len(order)
    summary.est_tokens = sum(approx_tokens(text) for _, text in order)
    found = stream.look_up(order)
    summary.cache_hits = len(found)
    return order, found


class _Writer:
    """Renders and writes each file the moment its last segment is translated."""

    def __init__(self, tasks, done, summary, progress, write):
        self.done, self.summary, self.progress, self.write = done, summary, progress, write
        self.waiting: dict[pool.Key, list[FileTask]] = {}
        ready = []
        for task in tasks:
            task.pending -= done.keys()
            if task.pending:
                for key in task.pending:
                    self.waiting.setdefault(key, []).append(task)
            else:
                ready.append(task)
        for task in ready:
            self._finish(task)

    def translated(self, key: pool.Key) -> None:
        for task in self.waiting.pop(key, ()):
            task.pending.discard(key)
            if not task.pending:
                self._finish(task)

    def _finish(self, task: FileTask) -> None:
        try:
            self.write(task, pool.render(task.doc, task.plans, self.done))
        except GugugoError as e:
            _fail(self.summary, task, e)
        else:
            self.summary.translated.append(task.source)
        self.progress.advance(files=1)


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
    """Translate all segments of all tasks as one stream; write each file when its last segment is done.

    Every translation is cached as it arrives (committed in groups, and whatever arrived before an
    interruption is committed too), so a run started again translates nothing twice."""
    progress = progress or Progress()
    started = time.perf_counter()
    remove_stale_temp_files_of(tasks, time.time())

    def stored(count: int) -> None:
        summary.model_segments += count
        progress.advance(segments=count)

    stream = CachedStream(cache, translator_key, tgt, get_translator, stored)
    order, found = _look_up(tasks, stream, summary)
    progress.start(len(order), len(tasks))
    progress.advance(segments=len(found))
    done = {k: r.text for k, r in found.items()}
    writer = _Writer(tasks, done, summary, progress, write or write_file)
    noted = [r for r in found.values() if r.suspect is not None]  # what the summary names: capped, suspect
    translated = stream.translate(k for k in order if k not in found)
    try:
        for result in translated:
            done[result.key] = result.text
            if result.capped or result.suspect is not None:
                noted.append(result)
            writer.translated(result.key)
    finally:
        translated.close()  # what arrived is stored, whatever stopped the loop
        progress.stop()
        summary.seconds = time.perf_counter() - started
        _summarize(noted, tasks, tgt, summary)
    return summary


def _summarize(results: list[Result], tasks: list[FileTask], tgt: str, summary: Summary) -> None:
    """The translations stopped at their token limit in this run, and every suspect segment with its places."""
    capped = [r.key[1] for r in results if r.capped and not r.cached]
    summary.capped = len(capped)
    summary.capped_examples = capped[:3]
    summary.suspects = _where([r for r in results if r.suspect is not None], tasks, tgt)


def _where(suspects: list[Result], tasks: list[FileTask], tgt: str) -> list[dict]:
    """The guards' suspect segments, each with every place it stands: the file and the segment's number in it."""
    if not suspects:
        return []
    places: dict[pool.Key, list[tuple[str, int]]] = {}
    for task in tasks:
        number = 0
        for plan in task.plans:
            for seg in plan.segments:
                places.setdefault((seg.src, seg.text), []).append((task.source, number))
                number += 1
    found = []
    for s in suspects:
        src, source = s.key
        for path, number in places.get(s.key, []):
            found.append(dict(file=path, segment=number, src=src, tgt=tgt, source=source, output=s.text,
                              reason=s.suspect, repaired=s.repaired))
    order = {task.source: i for i, task in enumerate(tasks)}
    return sorted(found, key=lambda f: (order[f["file"]], f["segment"]))


def write_file(task: FileTask, data: bytes) -> None:
    try:
        atomic_write_bytes(task.dest, data)
    except OSError as e:
        raise InputError(task.dest, f"cannot write ({e.strerror or e})") from None
    log.info("wrote %s", task.dest)


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
