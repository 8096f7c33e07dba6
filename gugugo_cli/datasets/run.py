"""Translating a dataset file as a stream of windows of rows.

Each window's named string fields are planned like any text (planner.plan_field), their segments are
deduplicated across the window, looked up in the segment cache and the rest translated as one pooled
stream; every translation is cached as it arrives, so a run started again translates nothing it already did.
The window's rows are then written in order to a temp file in the output folder, renamed into place when
the whole file is done. Memory holds one window, never the file.

A row fails, and is written as it was and listed in NAME.failed.jsonl with the reason, when it cannot be
read, a named field holds something other than a string (a missing key or null is nothing to translate),
or a translator reports one of its segments as a failure (a `suspects` list of (index, reason, repaired)
records, as guards.GuardedTranslator keeps; such segments are not cached).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

from ..engines.base import Translator, translate_stream
from ..errors import InputError
from ..job import pool
from ..job.cache import SegmentCache
from ..segment import approx_tokens
from .formats import ParquetFile, Record, open_dataset
from .paths import FieldPath, FieldProblem, locate, put
from .planner import plan_field

log = logging.getLogger("gugugo_cli")

WINDOW_ROWS = 2000
FLUSH_EVERY = 256
FLUSH_SECONDS = 1.0


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


def failed_path_for(dest: Path) -> Path:
    """data.ko.jsonl -> data.ko.failed.jsonl (beside the output)."""
    return dest.with_name(f"{dest.stem}.failed.jsonl")


def _temp_beside(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    return Path(name)


def _unlink(path: Optional[Path]) -> None:
    if path is not None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


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
    translator_key: Optional[str] = None,
    window_rows: int = WINDOW_ROWS,
    progress: Optional[Progress] = None,
    dry_run: bool = False,
) -> DatasetSummary:
    """Translate the named fields of every row of a dataset file (.jsonl, .json, .csv, .tsv, .parquet).

    translator: an object with translate_batch (and perhaps translate_stream), or a function that loads one
    (called only once a segment needs the model). output: the file to write (default NAME.<to>.EXT beside
    the input); rows that fail go to OUTPUT_STEM.failed.jsonl. Returns what was done."""
    from ..job.inputs import output_path

    path = Path(path)
    reader = open_dataset(path)
    paths = [reader.field_path(f) for f in fields]
    if not paths:
        raise InputError(path, "no field named to translate")
    if keep_source:
        for p in paths:
            if p.last_key is None:
                from ..errors import UsageError

                raise UsageError(f"--field {p.text}: --keep-source needs a path that ends in a key, not an index")
    if isinstance(reader, ParquetFile):
        reader.use_columns([p.column for p in paths])
    elif reader.is_table:
        columns = reader.columns()
        for p in paths:
            if p.column not in columns:
                from ..errors import UsageError

                raise UsageError(f"{path}: no column {p.column!r} (columns: {', '.join(columns)})")
    dest = Path(output) if output is not None else output_path(path, to)
    summary = DatasetSummary(str(path), None if dry_run else dest, None)
    cache = cache if cache is not None else SegmentCache(None)
    if translator is not None and hasattr(translator, "translate_batch"):
        loaded: Optional[Translator] = translator
        get_translator = lambda: loaded  # noqa: E731
        if translator_key is None:
            translator_key = getattr(translator, "cache_key", "") or ""
    else:
        loaded = None
        get_translator = translator
    translator_key = translator_key or ""
    progress = progress or Progress()
    started = time.perf_counter()

    part = failed_part = None
    writer = failed_file = None
    state = {"translator": loaded, "capped_before": None}
    data_rows = 0
    progress.start(path.name, reader.size, getattr(reader, "num_rows", None))
    try:
        if not dry_run:
            part = _temp_beside(dest)
        for window in reader.windows(window_rows):
            if not dry_run and writer is None:
                writer = reader.open_writer(part, keep_source, paths, to)
            failures = []  # (record, row number, where, reason)
            slots: dict[int, list] = {}
            numbers: dict[int, int] = {}
            for i, r in enumerate(window):
                if r.value is None and r.problem is None:
                    continue  # a blank line
                numbers[i] = data_rows
                data_rows += 1
                if r.problem:
                    failures.append((r, numbers[i], "", r.problem))
                    continue
                try:
                    found, missing = [], 0
                    for p in paths:
                        locations, m = locate(r.value, p)
                        found += locations
                        missing += m
                        if locations and p.text not in summary.matched:
                            summary.matched.append(p.text)
                except FieldProblem as e:
                    failures.append((r, numbers[i], "", str(e)))
                    continue
                summary.rows_missing += bool(missing)
                slots[i] = [(loc, plan_field(loc.value, to, src)) for loc in found]
            order = pool.keys_of(plan for row in slots.values() for _, plan in row)
            summary.rows += len(numbers)
            summary.segments += sum(len(plan.segments) for row in slots.values() for _, plan in row)
            summary.unique += len(order)
            summary.est_tokens += sum(approx_tokens(text) for _, text in order)
            done = pool.look_up(cache, translator_key, order, to)
            summary.cache_hits += len(done)
            progress.advance(segments=len(done))
            remaining = [k for k in order if k not in done]
            bad: dict[pool.Key, str] = {}
            if dry_run:
                summary.rows_failed += len(failures)
                progress.advance(rows=len(numbers), position=reader.position())
                continue
            if remaining:
                _translate(remaining, to, get_translator, state, translator_key, cache, summary, progress, done, bad)
            for i, row in slots.items():
                r = window[i]
                reasons = [(loc.where, bad[(s.src, s.text)]) for loc, plan in row for s in plan.segments
                           if (s.src, s.text) in bad]
                if reasons:
                    failures.append((r, numbers[i], reasons[0][0], f"translation {reasons[0][1]}"))
                    continue
                texts = [plan.render(done) for _, plan in row]
                r.changed = keep_source and bool(row) or any(t != loc.value for (loc, _), t in zip(row, texts))
                if r.changed:
                    for (loc, _), text in zip(row, texts):
                        put(loc, text, keep_source, to)
                    summary.rows_changed += 1
            writer.write(window)
            if failures:
                if failed_file is None:
                    failed_part = _temp_beside(failed_path_for(dest))
                    failed_file = open(failed_part, "w", encoding="utf-8")
                for r, number, where, reason in sorted(failures, key=lambda f: f[1]):
                    entry = {"row": number}
                    if reader.__class__.__name__ == "JsonLines":
                        entry["line"] = r.index + 1
                    if where:
                        entry["field"] = where
                    entry["reason"] = reason
                    failed_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
                    if len(summary.failures) < 5:
                        summary.failures.append(entry)
                summary.rows_failed += len(failures)
            progress.advance(rows=len(numbers), position=reader.position())
        if not dry_run:
            if writer is None:
                writer = reader.open_writer(part, keep_source, paths, to)
            writer.close()
            writer = None
            os.replace(part, dest)
            part = None
            failed = failed_path_for(dest)
            if failed_file is not None:
                failed_file.close()
                failed_file = None
                os.replace(failed_part, failed)
                failed_part = None
                summary.failed_path = failed
            else:
                _unlink(failed)  # a list left by an earlier run of this output no longer holds
    finally:
        for handle in (writer, failed_file):
            if handle is not None:
                try:
                    handle.close()
                except Exception:  # noqa: BLE001 - the temp file goes anyway
                    pass
        _unlink(part)
        _unlink(failed_part)
        reader.close()
        progress.stop()
        summary.seconds = time.perf_counter() - started
    return summary


def _translate(remaining, tgt, get_translator, state, translator_key, cache, summary, progress, done, bad):
    """Translate the window's new segments as one stream per source language; cache each as it arrives,
    except those the translator reports as failed (they go to `bad`)."""
    translator = state["translator"]
    if translator is None:
        translator = state["translator"] = get_translator()
    stats = getattr(translator, "stats", None)
    fresh: list[pool.Key] = []
    last_flush = time.monotonic()

    def flush():
        nonlocal last_flush
        for s, texts in pool.by_source(fresh).items():
            cache.put_many(translator_key, s, tgt, ((t, done[(s, t)]) for t in texts))
        progress.advance(segments=len(fresh))
        fresh.clear()
        last_flush = time.monotonic()

    capped_before = stats.capped if stats else 0
    try:
        # without guards, a translation the engine reports as stopped at its token limit fails its row
        capped = getattr(translator, "capped_sources", None)
        for s, texts in pool.by_source(remaining).items():
            reported: dict[int, str] = {}
            seen = 0
            for i, out in translate_stream(translator, texts, s, tgt):
                key = (s, texts[i])
                done[key] = out
                summary.model_segments += 1
                suspects = getattr(translator, "suspects", None)
                if isinstance(suspects, list) and len(suspects) > seen:
                    for suspect in suspects[seen:]:
                        if not getattr(suspect, "repaired", False):
                            reported[suspect.index] = suspect.reason
                    seen = len(suspects)
                if i not in reported and suspects is None and isinstance(capped, set) and texts[i] in capped:
                    reported[i] = "the translation stopped at its token limit without finishing"
                if i in reported:
                    bad[key] = reported[i]
                    progress.advance(segments=1)
                    continue
                fresh.append(key)
                if len(fresh) >= FLUSH_EVERY or time.monotonic() - last_flush >= FLUSH_SECONDS:
                    flush()
    finally:
        flush()
        if stats:
            capped = stats.capped - capped_before
            summary.capped += capped
            for example in stats.capped_examples:
                if capped and len(summary.capped_examples) < 3 and example not in summary.capped_examples:
                    summary.capped_examples.append(example)


def list_fields(path: Union[str, os.PathLike], rows: int = 100) -> dict[str, tuple[int, str]]:
    """The string fields of the first rows: path (or column) -> (rows that have it, an example)."""
    from .paths import string_fields

    reader = open_dataset(Path(path))
    try:
        for window in reader.windows(rows):
            values = [r.value for r in window if r.value is not None]
            return string_fields(values, rows)
        return {}
    finally:
        reader.close()
