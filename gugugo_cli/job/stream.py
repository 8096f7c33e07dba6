"""The cached translation stream that documents, datasets, the Ray actor and the Python API share: look the
segment keys up in the cache, translate the rest (one translator stream per source language), store every
result with its verdict in groups, and yield each result with its key as soon as it is known."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Optional, Union

from ..engines.base import Translation, Translator, failure, translate_stream
from ..inline_tags import TAG, TagKeepingTranslator, tags_kept
from .cache import SegmentCache

Key = tuple[str, str]  # (source language, segment text)
# A translator's cache key, or a function giving it: asked again once the translator is loaded, since a hub
# model's key names its revision only once it is downloaded.
KeySource = Union[str, Callable[[], str]]

# Results are committed to the cache (and reported as stored) in groups: at most this many, or this often.
FLUSH_EVERY = 256
FLUSH_SECONDS = 1.0


@dataclass(frozen=True)
class Result:
    """A segment's translation and what is known about it, as a Translation, keyed by (src, text)."""

    key: Key
    text: str
    capped: bool = False
    suspect: Optional[str] = None
    repaired: bool = False
    cached: bool = False  # from the cache, not translated in this run

    @classmethod
    def of(cls, key: Key, t: Translation) -> "Result":
        return cls(key, t.text, t.capped, t.suspect, t.repaired)

    @property
    def failure(self) -> Optional[str]:
        """Why this result is no good translation, or None (engines.base.failure)."""
        return failure(self.capped, self.suspect, self.repaired)

    def verdict(self) -> Optional[dict]:
        """What the cache keeps beside the text; None for a plain good translation."""
        if not (self.capped or self.suspect is not None):
            return None
        return {"capped": self.capped, "suspect": self.suspect, "repaired": self.repaired}


def by_source(keys: Iterable[Key]) -> dict[str, list[str]]:
    """Segment texts grouped by source language, each group in the keys' order."""
    groups: dict[str, list[str]] = {}
    for src, text in keys:
        groups.setdefault(src, []).append(text)
    return groups


def look_up(cache: SegmentCache, translator_key: str, keys: Iterable[Key], tgt: str) -> dict[Key, Result]:
    """The results the cache already has, with their verdicts."""
    found: dict[Key, Result] = {}
    for src, texts in by_source(keys).items():
        for text, (out, verdict) in cache.get_many(translator_key, src, tgt, texts).items():
            verdict = verdict or {}
            found[(src, text)] = Result((src, text), out, bool(verdict.get("capped")), verdict.get("suspect"),
                                        bool(verdict.get("repaired")), cached=True)
    return found


class CachedStream:
    """Translations of segment keys into `tgt`, through the cache. `get_translator` is called once, when a
    key first needs the model; `stored(n)` is called after each group of n fresh results is committed."""

    def __init__(self, cache: SegmentCache, translator_key: KeySource, tgt: str,
                 get_translator: Callable[[], Translator], stored: Optional[Callable[[int], None]] = None):
        self.cache, self.tgt = cache, tgt
        self.key_source = translator_key
        self.translator_key = translator_key() if callable(translator_key) else translator_key
        self.get_translator = get_translator
        self.stored = stored or (lambda n: None)
        self._translator: Optional[Translator] = None

    @property
    def translator(self) -> Translator:
        if self._translator is None:
            self._translator = TagKeepingTranslator(self.get_translator())
            if callable(self.key_source):
                self.translator_key = self.key_source()
        return self._translator

    def look_up(self, keys: Iterable[Key]) -> dict[Key, Result]:
        """The cache's results, less those that lost an inline tag (translated again)."""
        found = look_up(self.cache, self.translator_key, keys, self.tgt)
        return {k: r for k, r in found.items() if not TAG.search(k[1]) or tags_kept(k[1], r.text)}

    def __call__(self, keys: Iterable[Key]) -> Iterator[Result]:
        """Every key's result: first those the cache has, then the others as they are translated."""
        keys = list(dict.fromkeys(keys))
        found = self.look_up(keys)
        yield from found.values()
        yield from self.translate([k for k in keys if k not in found])

    def translate(self, keys: Iterable[Key]) -> Iterator[Result]:
        """Translate keys (not looked up), storing each result; what arrived is stored even when the stream
        is interrupted (Ctrl-C, an error, the caller closing it)."""
        fresh: list[Result] = []
        last = time.monotonic()
        try:
            for src, texts in by_source(keys).items():
                for t in translate_stream(self.translator, texts, src, self.tgt):
                    result = Result.of((src, texts[t.index]), t)
                    fresh.append(result)
                    if len(fresh) >= FLUSH_EVERY or time.monotonic() - last >= FLUSH_SECONDS:
                        self._flush(fresh)
                        last = time.monotonic()
                    yield result
        finally:
            self._flush(fresh)

    def _flush(self, fresh: list[Result]) -> None:
        if not fresh:
            return
        for src, group in _grouped(fresh).items():
            self.cache.put_many(self.translator_key, src, self.tgt, ((r.key[1], r.text, r.verdict()) for r in group))
        count = len(fresh)
        fresh.clear()
        self.stored(count)


def _grouped(results: list[Result]) -> dict[str, list[Result]]:
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.key[0], []).append(r)
    return groups
