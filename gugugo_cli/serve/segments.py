"""Where the server meets the translation code: a model loaded as the CLI loads it, and texts and documents
cut into segments and put back together exactly as the CLI does (the same formats, the same segmentation)."""

from __future__ import annotations

import codecs
from pathlib import PurePath
from typing import Optional

from ..formats import FORMATS, FormatOptions, read_document
from ..job import pool
from ..languages import LANGUAGES, detect_language, hangul_share
from ..safety import Limits

Key = pool.Key  # (source language, segment text)


def load(load_options: dict):
    """(translator, cache key, description for /health) for load options as gugugo_cli.api.load_translator
    takes them."""
    from ..engines.loading import resolve
    from ..translators import load_resolved

    resolved = resolve(**dict(load_options))  # resolved once: the translator, its cache key and /health
    translator = load_resolved(resolved)
    info = {"model": resolved.model_id, "engine": resolved.decode.engine, "device": resolved.device}
    return translator, resolved.cache_key, info


class Work:
    """A text or a document planned into segments; rendered once every segment's translation is known."""

    def __init__(self, doc, tgt: str, src: str, bom: bool = False):
        self.doc, self.tgt, self.bom = doc, tgt, bom
        self.plans = pool.plan_document(doc, tgt, src)

    def keys(self) -> list[Key]:
        return list(pool.keys_of(self.plans))

    def render(self, done: dict) -> bytes:
        return pool.render(self.doc, self.plans, done)

    def render_text(self, done: dict) -> str:
        return self.render(done).decode("utf-8-sig" if self.bom else "utf-8")


def plan_text(text: str, tgt: str, src: str, markup: bool = False) -> Work:
    """A request's text; markup: HTML (or XML) whose text is translated and tags kept, by the HTML format."""
    from ..errors import InputError
    from ..formats.txt import TextDocument

    if markup and "<" in text:
        # a BOM makes the bytes UTF-8 whatever charset the markup declares
        data = codecs.BOM_UTF8 + text.encode("utf-8", "surrogatepass")
        try:
            return Work(read_document("request.html", data, FormatOptions(tgt=tgt)), tgt, src, bom=True)
        except InputError:  # no tags after all: plain text
            pass

    return Work(TextDocument.of_text(text), tgt, src)


def supported_document(name: str) -> bool:
    return PurePath(name).suffix.lower() in FORMATS


def document_suffixes() -> list[str]:
    return sorted(FORMATS)


def plan_document(name: str, data: bytes, tgt: str, src: str, limits: Limits) -> Work:
    """An uploaded file (its bytes and a plain file name, never a path) read by the CLI's format code within
    the CLI's input limits; raises gugugo_cli.errors.InputError for a bad file."""
    return Work(read_document(name, data, FormatOptions(tgt=tgt), limits), tgt, src)


def detect(text: str) -> tuple[Optional[str], float]:
    """(ko|en|None, confidence 0-100): the language as the CLI tells it (languages.detect_language), the
    confidence from the share of Hangul among the letters."""
    lang = detect_language(text)
    if lang is None:
        return None, 0.0
    share = hangul_share(text)
    return lang, round(100.0 * (share if lang == "ko" else 1.0 - share), 1)

