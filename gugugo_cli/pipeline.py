"""The only place that knows both documents and the translator: plan, translate in one pooled job, render."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Optional

from . import config
from .engine import Translator
from .errors import GugugoError
from .formats import Document, FormatOptions, read_document
from .segment import TextPlan, approx_tokens, detect_language, plan_text
from .textio import atomic_write_bytes


def needs_model(docs: Iterable[Document]) -> bool:
    """Whether any text has letters at all (an empty or number-only input needs no model)."""
    return any(detect_language(t) for doc in docs for t in doc.texts())


def plan_documents(docs: list[Document], tgt: str, src: str, translator=None) -> list[list[TextPlan]]:
    count = getattr(translator, "count_tokens", None) or approx_tokens
    return [[plan_text(t, tgt, src, config.MAX_SEGMENT_TOKENS, count) for t in doc.texts()] for doc in docs]


def translate_plans(plans: Iterable[TextPlan], tgt: str, translator: Translator) -> dict[tuple[str, str], str]:
    """Translate every distinct segment of all plans, one translator call per source language."""
    pending: dict[str, dict[str, None]] = {}
    for plan in plans:
        for seg in plan.segments:
            pending.setdefault(seg.src, {})[seg.text] = None
    done: dict[tuple[str, str], str] = {}
    for src, texts in pending.items():
        texts = list(texts)
        out = translator.translate_batch(texts, src, tgt)
        if len(out) != len(texts):
            raise GugugoError(f"translator returned {len(out)} translations for {len(texts)} segments")
        done.update(((src, t), o) for t, o in zip(texts, out))
    return done


def translate_documents(docs: list[Document], tgt: str, src: str, translator: Translator) -> list[bytes]:
    plans = plan_documents(docs, tgt, src, translator)
    done = translate_plans((p for doc_plans in plans for p in doc_plans), tgt, translator)
    return [doc.render([p.render(done) for p in doc_plans]) for doc, doc_plans in zip(docs, plans)]


def default_output_path(path: str | os.PathLike, tgt: str) -> Path:
    """notes.txt -> notes.ko.txt beside the input."""
    p = Path(path)
    return p.with_name(f"{p.stem}{config.output_suffix(tgt)}{p.suffix}")


def output_path_for(
    path: str | os.PathLike, tgt: str, output: Optional[str | os.PathLike] = None, overwrite: bool = False
) -> Path:
    """Where the translation of `path` goes; refuses the input itself and, without overwrite, existing files."""
    src_path = Path(path)
    if output is None:
        out = default_output_path(src_path, tgt)
    else:
        out = Path(output)
        if out.is_dir() or str(output).endswith(("/", os.sep)):
            out = out / default_output_path(src_path.name, tgt)
    if out.exists() and src_path.exists() and out.resolve() == src_path.resolve():
        raise GugugoError(f"{out}: refusing to write over the input file")
    if out.exists() and not overwrite:
        raise GugugoError(f"{out}: output exists (use --overwrite to replace it)")
    return out


def translate_text(text: str, to: str, translator: Optional[Translator] = None, src: str = "auto", **load_options) -> str:
    """Translate a text; paragraphs, blank lines and spacing are kept."""
    from .formats.txt import TextDocument

    doc = TextDocument(text)
    if not needs_model([doc]):
        return text
    translator = translator or _load(load_options)
    plans = plan_documents([doc], to, src, translator)[0]
    done = translate_plans(plans, to, translator)
    return "".join(p.render(done) for p in plans)


def translate_file(
    path: str | os.PathLike,
    to: str,
    translator: Optional[Translator] = None,
    output: Optional[str | os.PathLike] = None,
    overwrite: bool = False,
    src: str = "auto",
    *,
    encoding: Optional[str] = None,
    line_width: Optional[int] = None,
    bilingual: bool = False,
    **load_options,
) -> Path:
    """Translate one file and write NAME.<to>.EXT beside it (or to `output`); returns the path written.

    encoding: output encoding (default UTF-8); line_width, bilingual: for subtitles.
    load_options: passed to load_translator when no translator is given.
    """
    out = output_path_for(path, to, output, overwrite)
    options = FormatOptions(tgt=to, encoding=encoding, line_width=line_width, bilingual=bilingual)
    doc = read_document(path, options=options)
    if needs_model([doc]):
        translator = translator or _load(load_options)
        (data,) = translate_documents([doc], to, src, translator)
    else:
        data = doc.render(doc.texts())
    atomic_write_bytes(out, data)
    return out


def _load(options) -> Translator:
    from .engine import load_translator

    return load_translator(**options)
