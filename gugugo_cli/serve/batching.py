"""One engine for every client. Requests queue their segments; one worker thread takes everything queued
(up to a batch), translates it with one translator call per (source, target) pair, and resolves each
segment's future, so concurrent clients share batches and a request's segments come back to it alone.

The queue is bounded: a request that does not fit is refused at once (Busy: 503 with Retry-After) instead of
waiting behind an ever longer line. Segments whose request gave up (timed out) are skipped."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from ..errors import GugugoError
from ..job.cache import SegmentCache
from ..job.stream import CachedStream

log = logging.getLogger("gugugo_cli")

Item = tuple[str, str, str]  # (source language, target language, segment text)


class Busy(Exception):
    """No room in the queue; retry_after: seconds a client should wait."""

    def __init__(self, retry_after: int):
        super().__init__(f"the translation queue is full; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass
class Stats:
    calls: int = 0  # translator calls
    batches: int = 0  # batches taken from the queue
    segments: int = 0  # segments translated by the model
    cached: int = 0  # segments answered from the cache
    characters: int = 0  # source characters of every segment answered
    seconds: float = 0.0  # time spent in batches


class Batcher:
    """translator: anything with translate_batch(texts, src, tgt); it is only ever called from the worker."""

    def __init__(self, translator, max_queue: int = 4096, max_batch: int = 256,
                 cache_path: Optional[Path] = None, cache_key: str = ""):
        self.translator, self.max_queue, self.max_batch = translator, max_queue, max_batch
        self.cache_path, self.cache_key = cache_path, cache_key
        self.stats = Stats()
        self._cond = threading.Condition()
        self._queue: deque[tuple[Item, Future]] = deque()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="gugugo-serve-batcher", daemon=True)
        self._thread.start()

    # --- the requests' side ---------------------------------------------------------------------------------

    def submit(self, items: Iterable[Item], wait: Optional[float] = None) -> list[Future]:
        """A future per item, in order. wait=None: refuse (Busy) when the queue has no room; else wait up to
        `wait` seconds for room (documents, which queue their segments a part at a time)."""
        items = list(items)
        if len(items) > self.max_queue:
            raise ValueError(f"{len(items)} segments are more than the queue holds ({self.max_queue})")
        futures = [Future() for _ in items]
        with self._cond:
            if wait is not None:
                self._cond.wait_for(lambda: self._closed or len(self._queue) + len(items) <= self.max_queue, wait)
            if self._closed:
                raise GugugoError("the server is shutting down")
            if len(self._queue) + len(items) > self.max_queue:
                raise Busy(self.retry_after())
            self._queue.extend(zip(items, futures))
            self._cond.notify_all()
        return futures

    def retry_after(self) -> int:
        """Seconds until the queue has drained, by the time batches have taken so far."""
        per_batch = self.stats.seconds / self.stats.batches if self.stats.batches else 1.0
        return max(1, math.ceil(per_batch * len(self._queue) / self.max_batch))

    @property
    def queued(self) -> int:
        return len(self._queue)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            for _, future in self._queue:
                future.cancel()
            self._queue.clear()
            self._cond.notify_all()
        self._thread.join(timeout=10)

    # --- the worker -----------------------------------------------------------------------------------------

    def _take(self) -> Optional[list[tuple[Item, Future]]]:
        with self._cond:
            self._cond.wait_for(lambda: self._queue or self._closed)
            if self._closed:
                return None
            batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
            self._cond.notify_all()
        return batch

    def _run(self) -> None:
        cache = SegmentCache(self.cache_path)  # opened here: a SQLite connection belongs to one thread
        try:
            while (batch := self._take()) is not None:
                started = time.perf_counter()
                self._translate([(item, f) for item, f in batch if f.set_running_or_notify_cancel()], cache)
                self.stats.batches += 1
                self.stats.seconds += time.perf_counter() - started
        finally:
            cache.close()

    def _translate(self, batch: list[tuple[Item, Future]], cache: SegmentCache) -> None:
        groups: dict[tuple[str, str], dict[str, list[Future]]] = {}
        for (src, tgt, text), future in batch:
            groups.setdefault((src, tgt), {}).setdefault(text, []).append(future)
        for (src, tgt), waiting in groups.items():
            try:
                done = self._outputs(list(waiting), src, tgt, cache)
            except Exception as e:  # the engine failed: these requests get an error, the server goes on
                log.error("translating %d segments %s->%s failed: %s", len(waiting), src, tgt, e)
                for futures in waiting.values():
                    for future in futures:
                        future.set_exception(e)
                continue
            for text, futures in waiting.items():
                self.stats.characters += len(text) * len(futures)
                for future in futures:
                    future.set_result(done[text])

    def _outputs(self, texts: list[str], src: str, tgt: str, cache: SegmentCache) -> dict[str, str]:
        """Through the cached stream the CLI uses: what the cache has, the rest in one translator call (stored
        with its verdict)."""
        stream = CachedStream(cache, self.cache_key, tgt, lambda: self.translator)
        keys = [(src, t) for t in texts]
        found = stream.look_up(keys)
        done = {text: r.text for (_, text), r in found.items()}
        self.stats.cached += len(done)
        missing = [k for k in keys if k not in found]
        if missing:
            self.stats.calls += 1
            for result in stream.translate(missing):
                done[result.key[1]] = result.text
            self.stats.segments += len(missing)
        return done
