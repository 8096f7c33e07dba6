"""Translating a dataset file as a stream of windows of rows.

Each window's named string fields are planned like any text (window.py, field_plan.plan_field), their segments
are deduplicated across the window, looked up in the segment cache and the rest translated as one pooled
stream; every translation is cached as it arrives, so a run started again translates nothing it already did.
The window's rows are then written in order to a temp file in the output folder, renamed into place when
the whole file is done. Memory holds one window, never the file.

A row fails, and is written as it was and listed in NAME.failed.jsonl with the reason, when it cannot be
read, a named field holds something other than a string (a missing key or null is nothing to translate),
or one of its segments' translations is no good translation (`Translation.failure`: a suspect the guards did
not repair, or without guards a text cut at its token limit; cached with that verdict, so it fails again).
"""

from __future__ import annotations

import json
import logging
import os
import itertools
import time
from collections import deque
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from ..engines.base import Translator, as_streaming, is_translator
from ..errors import FieldError, GugugoError, InputError
from ..job.host import Workers, is_failure
from ..job import pool
from ..job.cache import SegmentCache
from ..job.stream import CachedStream, KeySource
from ..textio import open_temp_beside, remove_stale_temp_files
from .formats import JsonLines, ParquetFile, Record, open_dataset
from .paths import FieldPath
from .window import Fields, Window, field_texts

log = logging.getLogger("gugugo_cli")

WINDOW_ROWS = 2000
AHEAD = 4  # windows read and sent to the workers ahead of the one translated


class Progress:
    """What a dataset run reports as it goes; the CLI shows it as a bar on a terminal."""

    def start(self, name: str, total_bytes: int, total_rows: Optional[int]) -> None: ...

    def advance(self, rows: int = 0, segments: int = 0, position: Optional[int] = None) -> None: ...

    def stop(self) -> None: ...


@dataclass
class DatasetSummary:
    source: str
    dest: Optional[Path] = None
    failed_path: Optional[Path] = None
    rows: int = 0
    rows_changed: int = 0
    rows_failed: int = 0
    rows_missing: int = 0  # rows where a named field was missing or null (nothing to translate there)
    matched: list[str] = field(default_factory=list)  # the --field paths that named a string in some row
    segments: int = 0
    unique: int = 0  # distinct segments, counted per window
    cache_hits: int = 0
    model_segments: int = 0
    est_tokens: int = 0
    seconds: float = 0.0
    capped: int = 0
    capped_examples: list[str] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)  # the first few failed rows, as in the failed file
    notes: list[str] = field(default_factory=list)  # how the file was read (e.g. its quoting)


def failed_path_for(dest: Path) -> Path:
    """data.ko.jsonl -> data.ko.failed.jsonl (beside the output)."""
    return dest.with_name(f"{dest.stem}.failed.jsonl")


def _temp_beside(target: Path) -> Path:
    """An empty temp file beside target, with the mode target will have (textio.open_temp_beside)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = open_temp_beside(target)
    os.close(fd)
    return name


def _unlink(path: Optional[Path]) -> None:
    if path is not None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


@contextmanager
def _writing(path: Path):
    """An I/O error while writing `path` (a full disk, a read-only folder) as one line naming it."""
    try:
        yield
    except OSError as e:
        raise InputError(path, f"cannot write ({e.strerror or e})") from None


class _Output:
    """The output file and the failed-rows list, written to temp files beside them and renamed into place
    when the whole file is done (an interrupted run leaves no half-written output)."""

    def __init__(self, reader, dest: Path, fields: Fields, started: float):
        self.reader, self.dest, self.fields = reader, dest, fields
        self.failed = failed_path_for(dest)
        self.part = self.failed_part = None
        self.writer = self.failed_file = None
        with _writing(dest):
            dest.parent.mkdir(parents=True, exist_ok=True)
            # temp files of this output that a killed run left (older than this run)
            names = (dest.name, self.failed.name)
            for stale in remove_stale_temp_files(dest.parent, lambda name: name in names, started):
                log.info("removed %s, left by an interrupted run", stale)
            self.part = _temp_beside(dest)

    def write(self, window: Window, summary: DatasetSummary) -> None:
        with _writing(self.dest):
            if self.writer is None:
                self._open_writer()
            self.writer.write(window.records)
        entries = window.failed_entries()
        with _writing(self.failed):
            if entries and self.failed_file is None:
                self.failed_part = _temp_beside(self.failed)
                self.failed_file = open(self.failed_part, "w", encoding="utf-8")
            for entry in entries.values():
                self.failed_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
                if len(summary.failures) < 5:
                    summary.failures.append(entry)

    def _open_writer(self) -> None:
        f = self.fields
        self.writer = self.reader.open_writer(self.part, f.keep_source, f.paths, f.to)

    def finish(self, summary: DatasetSummary) -> None:
        with _writing(self.dest):
            if self.writer is None:
                self._open_writer()
            self.writer.close()
            self.writer = None
            os.replace(self.part, self.dest)
            self.part = None
        with _writing(self.failed):
            if self.failed_file is not None:
                self.failed_file.close()
                self.failed_file = None
                os.replace(self.failed_part, self.failed)
                self.failed_part = None
                summary.failed_path = self.failed
            else:
                _unlink(self.failed)  # a list left by an earlier run of this output no longer holds

    def discard(self) -> None:
        """What is left of an unfinished output goes."""
        for handle in (self.writer, self.failed_file):
            if handle is not None:
                try:
                    handle.close()
                except Exception:  # noqa: BLE001 - the temp file goes anyway
                    pass
        _unlink(self.part)
        _unlink(self.failed_part)


class Translating:
    """The translator side of a run: one cached stream (the segment cache, and the translator loaded on first
    need) for every window."""

    def __init__(self, to: str, get_translator: Callable[[], Translator], translator_key: KeySource,
                 cache: SegmentCache, progress: Progress):
        self.progress = progress
        self.stream = CachedStream(cache, translator_key, to, get_translator,
                                   lambda n: progress.advance(segments=n))

    def fill(self, window: Window, summary: DatasetSummary, dry_run: bool = False) -> tuple[dict, dict]:
        """The window's translations (key -> text) from the cache and the translator, and the keys whose
        translation failed (key -> reason)."""
        found = self.stream.look_up(window.order)
        done = {k: r.text for k, r in found.items()}
        bad: dict[pool.Key, str] = {k: r.failure for k, r in found.items() if r.failure is not None}
        summary.cache_hits += len(done)
        self.progress.advance(segments=len(done))
        remaining = [k for k in window.order if k not in done]
        if remaining and not dry_run:
            self._translate(remaining, summary, done, bad)
        return done, bad

    def _translate(self, remaining, summary: DatasetSummary, done: dict, bad: dict) -> None:
        """The window's new segments through the stream; each result goes to `done`, and those that are no good
        translation (a suspect not repaired, a text cut at its token limit) to `bad` too."""
        with closing(self.stream.translate(remaining)) as results:
            for result in results:
                done[result.key] = result.text
                summary.model_segments += 1
                if result.failure is not None:
                    bad[result.key] = result.failure
                if result.capped:
                    summary.capped += 1
                    if len(summary.capped_examples) < 3 and result.key[1] not in summary.capped_examples:
                        summary.capped_examples.append(result.key[1])


def translate_window(records: list[Record], fields: Fields, first_row: Optional[int], translating: Translating,
                     summary: DatasetSummary, dry_run: bool = False, plans: Optional[dict] = None) -> Window:
    """One window of rows planned (plans: made beforehand), looked up, translated and (unless dry_run) put
    back; see window.py."""
    window = Window(records, fields, first_row, summary, plans)
    done, bad = translating.fill(window, summary, dry_run)
    if not dry_run:
        window.put_back(done, bad, summary)
    summary.rows_failed += len(window.failures)
    return window


def _planned(windows, fields: Fields, workers: int):
    """(the worker processes or None, an iterator of (records, plans or None) of each window in order). With
    workers > 1 and a second window, the workers start now (before any progress bar's thread, so they can be
    forked) and the fields of the next windows are planned in them while earlier ones are translated; the
    caller closes them."""
    windows = iter(windows)
    head = list(itertools.islice(windows, 2)) if workers > 1 else []
    if len(head) < 2:
        return None, ((records, None) for records in itertools.chain(head, windows))
    host = Workers(workers, src=fields.src, tgt=fields.to)
    return host, _planned_in(host, itertools.chain(head, windows), fields, workers)


def _planned_in(host: Workers, windows, fields: Fields, workers: int):
    """Each window's field texts cut into one part per worker, planned at once (no worker idles while another
    plans a whole window), AHEAD windows ahead of the one translated."""
    asked: deque = deque()
    for records in windows:
        texts = field_texts(records, fields)
        size = max(1, -(-len(texts) // workers))
        asked.append((records, texts, [host.ask("fields", (texts[i:i + size], fields.to))
                                       for i in range(0, len(texts), size)]))
        if len(asked) > AHEAD:
            yield _plans_of(host, *asked.popleft())
    while asked:
        yield _plans_of(host, *asked.popleft())


def _plans_of(host, records, texts, idents):
    plans = []
    for ident in idents:
        part = host.answer(ident)
        if is_failure(part):
            raise GugugoError(part[1][1])
        plans += part
    return records, dict(zip(texts, plans))


def _field_paths(reader, fields: Sequence[str], keep_source: bool) -> list[FieldPath]:
    paths = [reader.field_path(f) for f in fields]
    if not paths:
        raise InputError(reader.path, "no field named to translate")
    if keep_source:
        for p in paths:
            if p.last_key is None:
                raise FieldError(f"--field {p.text}: --keep-source needs a path that ends in a key, not an index")
    if isinstance(reader, ParquetFile):
        reader.use_columns([p.column for p in paths])  # a CSV/TSV file's field_path checked its header
    return paths


def _translator_source(translator, translator_key):
    """(a function giving the translator, the translator's cache key)."""
    if translator is not None and is_translator(translator):
        loaded = as_streaming(translator)
        if translator_key is None:
            translator_key = loaded.cache_key
        return (lambda: loaded), translator_key or ""
    return translator, translator_key or ""


def translate_dataset(
    path: Union[str, os.PathLike],
    fields: Sequence[str],
    to: str,
    translator: Union[Translator, Callable[[], Translator], None] = None,
    *,
    src: str = "auto",
    output: Union[str, os.PathLike, None] = None,
    keep_source: bool = False,
    cache: Optional[SegmentCache] = None,
    translator_key: Optional[KeySource] = None,
    window_rows: int = WINDOW_ROWS,
    progress: Optional[Progress] = None,
    dry_run: bool = False,
    quoting: str = "auto",
    workers: int = 1,
) -> DatasetSummary:
    """Translate the named fields of every row of a dataset file (.jsonl, .json, .csv, .tsv, .parquet).

    translator: an object with translate_batch (and perhaps translate_stream), or a function that loads one
    (called only once a segment needs the model). output: the file to write (default NAME.<to>.EXT beside
    the input), or a folder to write it in (ending in a slash, or an existing folder); rows that fail go to
    OUTPUT_STEM.failed.jsonl. quoting: how a CSV/TSV file's quotes are read (auto: CSV quoting only where the
    file uses it; csv; none: quotes are text). workers: processes that split the fields of the next windows
    while this one is translated (1: all here). Returns what was done."""
    from ..job.inputs import output_path, wants_folder

    path = Path(path)
    reader = open_dataset(path, quoting)
    try:
        spec = Fields(_field_paths(reader, fields, keep_source), to, src, keep_source, isinstance(reader, JsonLines),
                      getattr(reader, "encoding", "utf-8"))
    except BaseException:
        reader.close()
        raise
    dest = output_path(path, to) if output is None else Path(output)
    if output is not None and wants_folder(output):  # a folder, as for documents: NAME.<to>.EXT inside it
        dest = dest / output_path(path, to).name
    summary = DatasetSummary(str(path), None if dry_run else dest, None, notes=reader.notes)
    for note in [] if dry_run else reader.notes:  # a dry run reports them with its counts
        log.info("%s: %s", path, note)
    get_translator, translator_key = _translator_source(translator, translator_key)
    progress = progress or Progress()
    translating = Translating(to, get_translator, translator_key, cache if cache is not None else SegmentCache(None),
                              progress)
    started, started_at = time.perf_counter(), time.time()
    out = None
    row = 0
    try:
        host, planned = _planned(reader.windows(window_rows), spec, workers)
    except BaseException:
        reader.close()
        raise
    progress.start(path.name, reader.size, getattr(reader, "num_rows", None))
    try:
        out = None if dry_run else _Output(reader, dest, spec, started_at)
        for records, plans in planned:
            window = translate_window(records, spec, row, translating, summary, dry_run, plans)
            row = window.next_row
            if out is not None:
                out.write(window, summary)
            progress.advance(rows=window.rows, position=reader.position())
        if out is not None:
            out.finish(summary)
    finally:
        planned.close()
        if host is not None:
            host.close()
        if out is not None:
            out.discard()
        reader.close()
        progress.stop()
        summary.seconds = time.perf_counter() - started
    return summary


def list_fields(path: Union[str, os.PathLike], rows: int = 100, quoting: str = "auto") -> dict[str, tuple[int, str]]:
    """The string fields of the first rows: path (or column) -> (rows that have it, an example)."""
    from .paths import string_fields

    reader = open_dataset(Path(path), quoting)
    try:
        for window in reader.windows(rows):
            values = [r.value for r in window if r.value is not None]
            return string_fields(values, rows)
        return {}
    finally:
        reader.close()
