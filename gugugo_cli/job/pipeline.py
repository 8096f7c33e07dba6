"""The documents' stream: files read and planned by a host (job/host.py: in this process or in workers) in
order, a bounded number ahead; their segments deduplicated, looked up in the cache and translated in chunks
while later files are still being read; each file rendered and written as soon as its last segment is back.

Chunks are cut by counts alone (distinct new segments, bytes of files waiting), never by time, so the
translator sees the same calls and every output is the same whatever the number of workers. The first chunk
is small (the first outputs come early), later ones double up to MAX_CHUNK (long batches for the engine).
Memory holds the files read ahead, the files of one chunk and at most DONE_LIMIT translations.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from typing import Callable, Iterable, Optional

from ..languages import NAMES
from ..safety import read_stream
from ..segment import approx_tokens
from .cache import SegmentCache
from .host import failure_of, is_failure
from .inputs import FileTask, Summary
from .stream import CachedStream, Key, KeySource, Result

log = logging.getLogger("gugugo_cli")

FIRST_CHUNK = 64  # distinct new segments before the first translation
MAX_CHUNK = 4096
HELD_BYTES = 256 << 20  # input bytes of the files waiting for translations: more cuts the chunk short
AHEAD_FILES = 256  # files read ahead of the one the translation is at
AHEAD_BYTES = 256 << 20
DONE_LIMIT = 200_000  # translations kept for later files; beyond it they are looked up again


def _size(task: FileTask) -> int:
    try:
        return os.stat(task.source).st_size if task.source != "-" else 0
    except OSError:
        return 0


class Files:
    """The tasks read and planned by the host, in order: (task, plan request id, keys or ("failed", error)),
    at most AHEAD_FILES files (and AHEAD_BYTES of input) asked for ahead of the one handed out."""

    def __init__(self, host, tasks: list[FileTask], stdin, limits, keep: bool = True):
        self.host, self.tasks, self.stdin, self.limits, self.keep = host, tasks, stdin, limits, keep
        self.asked: deque = deque()
        self.next = 0
        self.bytes = 0

    def top_up(self) -> None:
        self.host.poll()
        while self.next < len(self.tasks) and len(self.asked) < AHEAD_FILES and self.bytes < AHEAD_BYTES \
                and (not self.host.saturated or not self.asked):
            task = self.tasks[self.next]
            self.next += 1
            data = None
            if task.source == "-":
                data = read_stream(self.stdin, "stdin", self.limits) if self.stdin else b""
            task.size = _size(task)
            self.asked.append((task, self.host.ask("plan", (task.source, data, self.keep))))
            self.bytes += task.size

    def __iter__(self):
        while True:
            self.top_up()
            if not self.asked:
                return
            task, ident = self.asked[0]
            while not self.host.ready(ident):  # the workers kept busy meanwhile
                self.host.wait()
                self.top_up()
            self.asked.popleft()
            answer = self.host.answer(ident)
            self.bytes -= task.size
            yield task, ident, answer


class Pipeline:
    """One run's translations and writes (see the module's text). chunk: the first chunk's size; None: one
    chunk for everything (tasks planned beforehand, as one pooled stream). keep_untranslated: a file with
    nothing to translate is written too (the Python API), rather than named in a warning (the command)."""

    def __init__(self, host, tgt: str, get_translator, translator_key: KeySource,
                 cache: SegmentCache, summary: Summary, progress, write, chunk: Optional[int] = FIRST_CHUNK,
                 dry_run: bool = False, keep_untranslated: bool = False):
        self.host, self.tgt, self.summary, self.progress, self.write = host, tgt, summary, progress, write
        self.get_translator, self.translator_key, self.cache = get_translator, translator_key, cache
        self.chunk, self.dry_run = chunk, dry_run
        self.keep_untranslated = keep_untranslated  # a file with nothing to translate is written all the same
        self.stream: Optional[CachedStream] = None
        self.done: dict[Key, str] = {}
        self.new: dict[Key, None] = {}  # keys met since the last chunk, not looked up yet
        self.waiting: dict[Key, list[FileTask]] = {}
        self.held = 0  # input bytes of the files waiting
        self.suspects: dict[Key, Result] = {}
        self.places: list[dict] = []  # every suspect segment with its file and number
        self.renders: deque = deque()
        self.failed: list[tuple[int, tuple[str, str]]] = []
        self.order: dict[int, int] = {}  # id(task) -> its place in the run
        self.on_keys: Optional[Callable[[list[Key]], None]] = None
        self.top_up: Callable[[], None] = lambda: None  # more files asked for while the translator works

    def run(self, tasks: list[FileTask], planned: Iterable) -> Summary:
        self.order = {id(task): i for i, task in enumerate(tasks)}
        self.progress.start(0, len(tasks))
        try:
            for task, ident, answer in planned:
                if is_failure(answer):
                    self.failed.append((self.order[id(task)], failure_of(task.source, answer[1])))
                    self.progress.advance(files=1)
                    continue
                self._add(task, ident, answer.keys)
                for kind, count in answer.left_alone.items():
                    self.summary.left_alone[kind] = self.summary.left_alone.get(kind, 0) + count
            self._flush()
            self._collect(block=True)
        except BaseException:
            self._drain()
            raise
        finally:
            self.progress.stop()
            self.summary.failed += [f for _, f in sorted(self.failed, key=lambda f: f[0])]
            self.summary.suspects = sorted(self.places, key=lambda p: (p.pop("_task"), p["segment"]))
        return self.summary

    def _add(self, task: FileTask, ident: int, keys: list[Key]) -> None:
        if not keys and task.dest is not None and not self.keep_untranslated:
            self._nothing_to_translate(task, ident)
            return
        self.summary.segments += len(keys)
        if self.on_keys is not None:
            self.on_keys(keys)
        distinct = dict.fromkeys(keys)
        before = len(self.new)
        self.new.update((key, None) for key in distinct if key not in self.done)
        grow = getattr(self.progress, "grow", None)
        if grow is not None:  # the bar counts distinct segments, as they are done
            grow(len(self.new) - before)
        if self.dry_run:
            if self.chunk is not None and len(self.new) >= self.chunk:
                self._flush()
            return
        task.ident, task.keys = ident, keys
        task.pending = {k for k in distinct if k not in self.done}
        if not task.pending:
            self._finish(task)
        else:
            for key in task.pending:
                self.waiting.setdefault(key, []).append(task)
            self.held += task.size
        if self.chunk is not None and (len(self.new) >= self.chunk or self.held > HELD_BYTES):
            self._flush()

    def _nothing_to_translate(self, task: FileTask, ident: int) -> None:
        """A file with nothing to translate (all of it already in the target language, or no text) is named in
        a warning and gets no output, which would be a copy of it; stdout still gets its text."""
        self.summary.nothing_to_translate.append(task.source)
        log.warning("%s: nothing to translate (its text is already in %s, or it has none); no output written",
                    task.source, NAMES.get(self.tgt, self.tgt))
        if self.dry_run:
            self.progress.advance(files=1)
            return
        task.untranslated = True
        self.renders.append((task, self.host.ask("drop", ident, after=ident)))
        self._collect(block=False)

    def _stream(self) -> CachedStream:
        if self.stream is None:
            def stored(count: int) -> None:
                self.summary.model_segments += count
                self.progress.advance(segments=count)

            self.stream = CachedStream(self.cache, self.translator_key, self.tgt, self.get_translator, stored)
        return self.stream

    def _flush(self) -> None:
        """The keys met since the last chunk: looked up, the rest translated; every file waiting is then done."""
        keys, self.new = list(self.new), {}
        if not keys:
            return
        self.summary.unique += len(keys)
        self.summary.est_tokens += sum(approx_tokens(text) for _, text in keys)
        found = self._stream().look_up(keys)
        self.summary.cache_hits += len(found)
        self.progress.advance(segments=len(found))
        for result in found.values():
            self._arrived(result)
        rest = [k for k in keys if k not in found]
        if self.dry_run:
            self.done.update(dict.fromkeys(rest, ""))  # counted once, as a real run would translate it once
        elif rest:
            translated = self._stream().translate(rest)
            try:
                for result in translated:
                    self._arrived(result)
                    self._collect(block=False)
                    self.top_up()
            finally:
                translated.close()  # what arrived is stored, whatever stopped the loop
        if self.chunk is not None:
            self.chunk = min(2 * self.chunk, MAX_CHUNK)
        if len(self.done) > DONE_LIMIT and not self.waiting:
            self.done.clear()
        self.held = 0 if not self.waiting else self.held

    def _arrived(self, result: Result) -> None:
        self.done[result.key] = result.text
        if result.capped and not result.cached:
            self.summary.capped += 1
            if len(self.summary.capped_examples) < 3:
                self.summary.capped_examples.append(result.key[1])
        if result.suspect is not None:
            self.suspects[result.key] = result
        if self.dry_run:
            return
        for task in self.waiting.pop(result.key, ()):
            task.pending.discard(result.key)
            if not task.pending:
                self.held -= task.size
                self._finish(task)

    def _finish(self, task: FileTask) -> None:
        """The file's translations to the host, to render and write it."""
        place = self.order[id(task)]
        for number, key in enumerate(task.keys):
            found = self.suspects.get(key)
            if found is not None:
                src, source = key
                self.places.append(dict(file=task.source, segment=number, src=src, tgt=self.tgt, source=source,
                                        output=found.text, reason=found.suspect, repaired=found.repaired,
                                        _task=place))
        translations = {k: self.done[k] for k in dict.fromkeys(task.keys)}
        task.keys = None
        self.renders.append((task, self.host.ask("render", (task.ident, translations, task.dest), after=task.ident)))
        self._collect(block=False)

    def _drain(self) -> None:
        """On the way out (Ctrl-C, an error): the files already handed to the host are still written."""
        try:
            self._collect(block=True)
        except Exception:  # noqa: BLE001 - the error that stopped the run is the one reported
            pass

    def _collect(self, block: bool) -> None:
        """The files rendered and written so far, in the order they were finished (all of them: block)."""
        while self.renders and (block or self.host.ready(self.renders[0][1])):
            task, ident = self.renders.popleft()
            answer = self.host.answer(ident)
            if is_failure(answer):
                self.failed.append((self.order[id(task)], failure_of(task.source, answer[1])))
            elif not task.untranslated:
                if answer is not None:
                    self.write(task, answer)
                self.summary.translated.append(task.source)
            self.progress.advance(files=1)
