"""The Python API: load a translator, translate a text, translate a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from .engines.base import Translator
from .errors import GugugoError, InputError
from .formats import FormatOptions
from .job import inputs, pool
from .job.cache import SegmentCache
from .job.run import plan_tasks, run
from .job.stream import CachedStream
from .translators import load_resolved


def load_translator(model=None, device="auto", dtype="auto", quantize=None, **options):
    """Load a Gugugo model (hub id or local folder) as a translator.

    model: hub id or folder (default: $GUGUGO_MODEL, else the 1.3B koen model); device: auto|cuda|cpu;
    dtype: auto|bfloat16|float16|float32; quantize: 4bit|8bit (GPU, bitsandbytes) or int8 (CPU);
    options: num_beams, max_new_tokens, batch_size, batch_tokens, engine, guard (check every translation and
    retry suspect ones: guards.GuardedTranslator), protect (default True: URLs, e-mail addresses, paths, code,
    entities, format placeholders and numbers with units come back as they were), glossary (a TSV file's path,
    a {source: target} mapping or a glossary.Glossary: each source term comes out as its target term).
    """
    from .engines.loading import resolve

    return load_resolved(resolve(model, device, dtype, quantize, **options))


def with_glossary(translator: Translator, glossary) -> Translator:
    """A given translator with a glossary (a TSV file's path, a mapping or a Glossary) applied around it."""
    from .glossary import of
    from .protect import ProtectingTranslator

    glossary = of(glossary)
    return ProtectingTranslator(translator, glossary, protect=False) if glossary else translator


def _translator(translator: Optional[Translator], load_options: dict) -> Translator:
    if translator is None:
        return load_translator(**load_options)
    if load_options.get("glossary") is not None:
        return with_glossary(translator, load_options["glossary"])
    return translator


def _translated(keys, to: str, get_translator) -> dict:
    """Every key's translation through the (here cacheless) translation stream; loads the translator only if a
    key needs it."""
    stream = CachedStream(SegmentCache(None), "", to, get_translator)
    return {result.key: result.text for result in stream(keys)}


def translate_text(text: str, to: str, translator: Optional[Translator] = None, src: str = "auto", **load_options) -> str:
    """Translate a text; paragraphs, blank lines and spacing are kept. glossary= applies to a given translator
    too."""
    from .formats.txt import TextDocument

    doc = TextDocument.of_text(text)
    if not pool.needs_model([doc]):
        return text
    plans = pool.plan_document(doc, to, src)
    done = _translated(pool.keys_of(plans), to, lambda: _translator(translator, load_options))
    return "".join(p.render(done) for p in plans)


def translate_documents(docs: list, to: str, src: str = "auto", translator: Optional[Translator] = None,
                        **load_options) -> list[bytes]:
    """Documents read with formats.read_document, translated as one pool; each document's new bytes."""
    plans = [pool.plan_document(doc, to, src) for doc in docs]
    keys = pool.keys_of(p for doc_plans in plans for p in doc_plans)
    done = _translated(keys, to, lambda: _translator(translator, load_options))
    return [pool.render(doc, doc_plans, done) for doc, doc_plans in zip(docs, plans)]


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

    encoding: output encoding (default UTF-8); line_width: for subtitles; bilingual: for subtitles and .docx.
    load_options: passed to load_translator when no translator is given (and only if one is needed);
    glossary= applies to a given translator too.
    Raises GugugoError (InputError for a bad file) and writes nothing when the file cannot be translated.
    """
    summary = inputs.Summary()
    options = FormatOptions(tgt=to, encoding=encoding, line_width=line_width, bilingual=bilingual)
    tasks = inputs.find_inputs([str(path)], to, os.fspath(output) if output is not None else None, overwrite,
                               summary=summary)
    tasks = plan_tasks(tasks, options, src, summary)
    if not summary.failed and summary.skipped:
        raise GugugoError(f"{path}: skipped, {summary.skipped[0][1]}")
    if not summary.failed:
        run(tasks, to, lambda: _translator(translator, load_options), "", SegmentCache(None),
                    summary)
    if summary.failed:
        failed_path, problem = summary.failed[0]
        raise InputError(failed_path, problem)
    return tasks[0].dest
