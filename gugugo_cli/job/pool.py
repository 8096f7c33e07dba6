"""The segments of many documents as one pool: planned and deduplicated into keys (stream.py looks them up,
translates and stores them), and each document rendered from the finished translations."""

from __future__ import annotations

from typing import Iterable, Iterator

from .. import config
from ..engines.base import Translator
from ..formats import Document
from ..languages import detect_language
from ..segment import TextPlan, approx_tokens, plan_text
from . import stream
from .cache import SegmentCache
from .stream import Key


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


def translate_keys(translator: Translator, keys: Iterable[Key], tgt: str) -> Iterator[tuple[Key, str]]:
    """Every key's translation, uncached, each as soon as it is done (one translator stream per language)."""
    for result in stream.CachedStream(SegmentCache(None), "", tgt, lambda: translator).translate(keys):
        yield result.key, result.text


def render(doc: Document, plans: list[TextPlan], done: dict[Key, str]) -> bytes:
    return doc.render([p.render(done) for p in plans])
