"""The only place that knows both documents and the translator: plan, translate in one pooled job, render."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Optional

from . import config
from .engine import Translator
from .errors import GugugoError, InputError
from .formats import Document, FormatOptions, read_document
from .segment import TextPlan, approx_tokens, detect_language, plan_text


def needs_model(docs: Iterable[Document]) -> bool:
    """Whether any text has letters at all (an empty or number-only input needs no model)."""
    return any(detect_language(t) for doc in docs for t in doc.texts())


def plan_documents(docs: list[Document], tgt: str, src: str) -> list[list[TextPlan]]:
    """Segments of every text of every document. Segmentation does not depend on the model (the long-sentence
    guard counts tokens by estimate), so the same text always gives the same segments: cache keys and
    --dry-run match a real run."""
    return [[plan_text(t, tgt, src, config.MAX_SEGMENT_TOKENS, approx_tokens) for t in doc.texts()] for doc in docs]


def translate_unique(translator: Translator, texts: list[str], src: str, tgt: str) -> list[str]:
    """One translator call, checked: a translator must give one translation per text."""
    out = translator.translate_batch(texts, src, tgt)
    if len(out) != len(texts):
        raise GugugoError(f"translator returned {len(out)} translations for {len(texts)} segments")
    return out


def translate_plans(plans: Iterable[TextPlan], tgt: str, translator: Translator) -> dict[tuple[str, str], str]:
    """Translate every distinct segment of all plans, one translator call per source language."""
    pending: dict[str, dict[str, None]] = {}
    for plan in plans:
        for seg in plan.segments:
            pending.setdefault(seg.src, {})[seg.text] = None
    done: dict[tuple[str, str], str] = {}
    for src, texts in pending.items():
        texts = list(texts)
        done.update(((src, t), o) for t, o in zip(texts, translate_unique(translator, texts, src, tgt)))
    return done


def translate_documents(docs: list[Document], tgt: str, src: str, translator: Translator) -> list[bytes]:
    plans = plan_documents(docs, tgt, src)
    done = translate_plans((p for doc_plans in plans for p in doc_plans), tgt, translator)
    return [doc.render([p.render(done) for p in doc_plans]) for doc, doc_plans in zip(docs, plans)]


def default_output_path(path: str | os.PathLike, tgt: str) -> Path:
    """notes.txt -> notes.ko.txt beside the input."""
    p = Path(path)
    return p.with_name(f"{p.stem}{config.output_suffix(tgt)}{p.suffix}")


def translate_text(text: str, to: str, translator: Optional[Translator] = None, src: str = "auto", **load_options) -> str:
    """Translate a text; paragraphs, blank lines and spacing are kept."""
    from .formats.txt import TextDocument

    doc = TextDocument(text)
    if not needs_model([doc]):
        return text
    translator = translator or _load(load_options)
    plans = plan_documents([doc], to, src)[0]
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
    load_options: passed to load_translator when no translator is given (and only if one is needed).
    Raises GugugoError (InputError for a bad file) and writes nothing when the file cannot be translated.
    """
    from . import job
    from .cache import SegmentCache

    summary = job.Summary()
    options = FormatOptions(tgt=to, encoding=encoding, line_width=line_width, bilingual=bilingual)
    tasks = job.find_inputs([str(path)], to, Path(output) if output is not None else None, overwrite,
                            summary=summary)
    tasks = job.plan_tasks(tasks, options, src, summary)
    if not summary.failed and summary.skipped:
        raise GugugoError(f"{path}: skipped, {summary.skipped[0][1]}")
    if not summary.failed:
        job.run(tasks, to, lambda: translator or _load(load_options), "", SegmentCache(None), summary)
    if summary.failed:
        failed_path, problem = summary.failed[0]
        raise InputError(failed_path, problem)
    return tasks[0].dest


def _load(options) -> Translator:
    from .engine import load_translator

    return load_translator(**options)
