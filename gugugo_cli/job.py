"""A translation run over many files: find them, plan them, translate their segments as one pooled job
(deduplicated, cached, batched), and write each file as soon as its last segment is done.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from .cache import SegmentCache
from .errors import GugugoError, InputError, UsageError
from .formats import READERS, Document, FormatOptions, read_document
from .pipeline import default_output_path, plan_documents, translate_unique
from .segment import TextPlan, approx_tokens
from .textio import atomic_write_bytes

log = logging.getLogger("gugugo_cli")

Key = tuple[str, str]  # (source language, segment text)


@dataclass
class FileTask:
    source: str  # a path, or "-" for stdin
    dest: Optional[Path]  # None: stdout
    data: Optional[bytes] = None  # stdin's bytes
    doc: Optional[Document] = None
    plans: list[TextPlan] = field(default_factory=list)
    pending: set = field(default_factory=set)
    result: Optional[bytes] = None


@dataclass
class Summary:
    translated: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, error)
    segments: int = 0  # segments in all files
    unique: int = 0  # distinct segments
    cache_hits: int = 0
    model_segments: int = 0  # segments the model translated
    est_tokens: int = 0
    seconds: float = 0.0


def find_inputs(
    inputs: list[str],
    tgt: str,
    output: Optional[Path],
    overwrite: bool,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    summary: Optional[Summary] = None,
) -> list[FileTask]:
    """Files to translate, with where each goes. Folders are walked; what is left out goes to summary.skipped."""
    summary = summary if summary is not None else Summary()
    tasks: list[FileTask] = []
    several = len(inputs) > 1
    for name in inputs:
        if name == "-":
            tasks.append(FileTask("-", None if output is None else _dest_in(output, Path("stdin.txt"), tgt, several)))
            continue
        path = Path(name)
        if path.is_dir():
            base = output / path.resolve().name if (output is not None and several) else output
            for file in _walk(path, tgt, output is None, include, exclude, summary):
                rel = file.relative_to(path)
                dest = default_output_path(file, tgt) if base is None else base / rel.parent / default_output_path(rel.name, tgt).name
                _add(tasks, file, dest, overwrite, summary)
        elif not path.exists():
            raise UsageError(f"{path}: no such file or folder")
        else:
            dest = default_output_path(path, tgt) if output is None else _dest_in(output, path, tgt, several)
            _add(tasks, path, dest, overwrite, summary)
    return tasks


def _dest_in(output: Path, name: Path, tgt: str, several: bool) -> Path:
    """-o names the output file itself, or (a folder, or several inputs) the folder it goes into."""
    return output / default_output_path(name, tgt).name if (output.is_dir() or several) else output


def _add(tasks: list[FileTask], path: Path, dest: Path, overwrite: bool, summary: Summary) -> None:
    if dest.exists() and dest.resolve() == path.resolve():
        summary.failed.append((str(path), "refusing to write over the input file"))
    elif dest.exists() and not overwrite:
        summary.skipped.append((str(path), f"output {dest} exists (--overwrite to replace it)"))
    else:
        tasks.append(FileTask(str(path), dest))


def _walk(folder: Path, tgt: str, beside: bool, include, exclude, summary: Summary):
    include, exclude = list(include), list(exclude)
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if name.startswith(".") or any(_match(rel, p) for p in exclude):
                continue
            if include and not any(_match(rel, p) for p in include):
                continue
            if path.suffix.lower() not in READERS:
                summary.skipped.append((str(path), "unsupported file type"))
                continue
            # a translation written beside its source by an earlier run (NAME.ko.EXT when going to ko)
            if beside and Path(path.stem).suffix == f".{tgt}":
                continue
            yield path


def _match(rel: str, pattern: str) -> bool:
    return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel.rsplit("/", 1)[-1], pattern)


def plan_tasks(tasks: list[FileTask], options: FormatOptions, src: str, summary: Summary, stdin=None) -> list[FileTask]:
    """Read and segment every file; a file that cannot be read fails alone."""
    ready = []
    for task in tasks:
        try:
            if task.source == "-":
                task.doc = read_document("-", stdin.read() if stdin else b"", options)
            else:
                task.doc = read_document(task.source, options=options)
            (task.plans,) = plan_documents([task.doc], options.tgt, src)
        except GugugoError as e:
            _fail(summary, task, e)
            continue
        task.pending = {(s.src, s.text) for p in task.plans for s in p.segments}
        summary.segments += sum(len(p.segments) for p in task.plans)
        ready.append(task)
    return ready


def _fail(summary: Summary, task: FileTask, error: GugugoError) -> None:
    problem = error.problem if isinstance(error, InputError) else str(error)
    summary.failed.append((task.source, problem))


class Progress:
    """What a run reports as it goes; the CLI shows it as a bar on a terminal."""

    def start(self, total_segments: int, total_files: int) -> None: ...

    def advance(self, segments: int = 0, files: int = 0) -> None: ...

    def stop(self) -> None: ...


def look_up(tasks: list[FileTask], tgt: str, translator_key: str, cache: SegmentCache,
            summary: Summary) -> tuple[dict[Key, None], dict[Key, str]]:
    """All distinct segments in file order, and those the cache already has a translation of."""
    order: dict[Key, None] = {}
    for task in tasks:
        for plan in task.plans:
            for seg in plan.segments:
                order.setdefault((seg.src, seg.text), None)
    summary.unique = len(order)
    summary.est_tokens = sum(approx_tokens(text) for _, text in order)
    done: dict[Key, str] = {}
    for src in dict.fromkeys(s for s, _ in order):
        hits = cache.get_many(translator_key, src, tgt, [t for s, t in order if s == src])
        done.update(((src, t), o) for t, o in hits.items())
    summary.cache_hits = len(done)
    return order, done


def run(
    tasks: list[FileTask],
    tgt: str,
    get_translator: Callable[[], object],
    translator_key: str,
    cache: SegmentCache,
    summary: Summary,
    progress: Optional[Progress] = None,
    write: Callable[[FileTask, bytes], None] = None,
    chunk_size: int = 512,
) -> Summary:
    """Translate all segments of all tasks as one job; write each file when its last segment is done."""
    progress = progress or Progress()
    write = write or _write_file
    started = time.perf_counter()
    order, done = look_up(tasks, tgt, translator_key, cache, summary)
    remaining = [k for k in order if k not in done]

    progress.start(len(order), len(tasks))
    progress.advance(segments=len(done))
    open_tasks = _finish_ready(tasks, done, tgt, summary, progress, write)
    try:
        if remaining:
            translator = get_translator()
            for i in range(0, len(remaining), chunk_size):
                chunk = remaining[i:i + chunk_size]
                for src in dict.fromkeys(s for s, _ in chunk):
                    texts = [t for s, t in chunk if s == src]
                    out = translate_unique(translator, texts, src, tgt)
                    done.update(((src, t), o) for t, o in zip(texts, out))
                    cache.put_many(translator_key, src, tgt, zip(texts, out))
                summary.model_segments += len(chunk)
                progress.advance(segments=len(chunk))
                open_tasks = _finish_ready(open_tasks, done, tgt, summary, progress, write)
    finally:
        progress.stop()
        summary.seconds = time.perf_counter() - started
    return summary


def _finish_ready(tasks, done, tgt, summary, progress, write) -> list[FileTask]:
    still_open = []
    for task in tasks:
        if not task.pending.issubset(done.keys()):
            still_open.append(task)
            continue
        try:
            data = task.doc.render([p.render(done) for p in task.plans])
            write(task, data)
        except GugugoError as e:
            _fail(summary, task, e)
        else:
            summary.translated.append(task.source)
        progress.advance(files=1)
    return still_open


def _write_file(task: FileTask, data: bytes) -> None:
    try:
        atomic_write_bytes(task.dest, data)
    except OSError as e:
        raise InputError(task.dest, f"cannot write ({e.strerror or e})") from None
    log.info("wrote %s", task.dest)
