"""The segments of many documents as one pool: planned, deduplicated, looked up in the cache, and sent to a
translator grouped by source language, with results coming back as they are done."""

from __future__ import annotations

from typing import Iterable, Iterator

from .. import config
from ..engines.base import Translator, translate_stream
from ..formats import Document
from ..languages import detect_language
from ..segment import TextPlan, approx_tokens, plan_text
from .cache import SegmentCache

Key = tuple[str, str]  # (source language, segment text)


def needs_model(docs: Iterable[Document]) -> bool:
    """Whether any text has letters at all (an empty or number-only input needs no model)."""
    return any(detect_language(t) for doc in docs for t in doc.texts())


def plan_document(doc: Document, tgt: str, src: str) -> list[TextPlan]:
    """Segments of every text of a document. Segmentation does not depend on the model (the long-sentence
    guard counts tokens by estimate), so the same text always gives the same segments: cache keys and
    --dry-run match a real run."""
    return [plan_text(t, tgt, src, config.MAX_SEGMENT_TOKENS, approx_tokens) for t in doc.texts()]


def keys_of(plans: Iterable[TextPlan]) -> dict[Key, None]:
    """Distinct segment keys, in the order they first appear."""
    order: dict[Key, None] = {}
    for plan in plans:
        for seg in plan.segments:
            order.setdefault((seg.src, seg.text), None)
    return order


def by_source(keys: Iterable[Key]) -> dict[str, list[str]]:
    """Segment texts grouped by source language, each group in the keys' order."""
    groups: dict[str, list[str]] = {}
    for src, text in keys:
        groups.setdefault(src, []).append(text)
    return groups


def look_up(cache: SegmentCache, translator_key: str, keys: Iterable[Key], tgt: str) -> dict[Key, str]:
    """The translations the cache already has."""
    found: dict[Key, str] = {}
    for src, texts in by_source(keys).items():
        found.update(((src, t), o) for t, o in cache.get_many(translator_key, src, tgt, texts).items())
    return found


def translate_keys(translator: Translator, keys: Iterable[Key], tgt: str) -> Iterator[tuple[Key, str]]:
    """Every key's translation, one translator stream per source language, each result as soon as it is done."""
    for src, texts in by_source(keys).items():
        for i, out in translate_stream(translator, texts, src, tgt):
            yield (src, texts[i]), out


def render(doc: Document, plans: list[TextPlan], done: dict[Key, str]) -> bytes:
    return doc.render([p.render(done) for p in plans])
