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


def _segment_cache(cache) -> SegmentCache:
    """cache=: the segment cache file (a path), True (the command line's default cache) or None (no cache)."""
    if cache is None or cache is False:
        return SegmentCache(None)
    if cache is True:
        from .job.cache import default_cache_path

        return SegmentCache(default_cache_path())
    return SegmentCache(Path(cache))


def _cache_key(translator, load_options: dict) -> str:
    """What the cache keys translations by: the model and options a translator would be loaded with, or a given
    translator's cache_key (with the glossary applied around it)."""
    if translator is None:
        from .engines.loading import resolve

        return resolve(**load_options).cache_key
    key = getattr(translator, "cache_key", "") or ""
    if not key:
        raise GugugoError("cache= needs a translator with a cache_key (load_translator's translators have one)")
    if load_options.get("glossary") is not None:
        from .glossary import of

        glossary = of(load_options["glossary"])
        key += f"|glossary={glossary.digest}" if glossary else ""
    return key


def _translated(keys, to: str, translator, load_options: dict, cache=None) -> dict:
    """Every key's translation through the cached translation stream (cache=None: no cache); loads the
    translator only if a key needs it."""
    key = _cache_key(translator, load_options) if cache not in (None, False) else ""
    segments = _segment_cache(cache)
    try:
        stream = CachedStream(segments, key, to, lambda: _translator(translator, load_options))
        return {result.key: result.text for result in stream(keys)}
    finally:
        segments.close()


def translate_text(text: str, to: str, translator: Optional[Translator] = None, src: str = "auto", *, cache=None,
                   **load_options) -> str:
    """Translate a text; paragraphs, blank lines and spacing are kept. glossary= applies to a given translator
    too. cache: the segment cache file to look translations up in and store them in (True: the command line's
    default one; None, the default: no cache)."""
    from .formats.txt import TextDocument

    doc = TextDocument.of_text(text)
    if not pool.needs_model([doc]):
        return text
    plans = pool.plan_document(doc, to, src)
    done = _translated(pool.keys_of(plans), to, translator, load_options, cache)
    return "".join(p.render(done) for p in plans)


def translate_documents(docs: list, to: str, src: str = "auto", translator: Optional[Translator] = None, *,
                        cache=None, **load_options) -> list[bytes]:
    """Documents read with formats.read_document, translated as one pool; each document's new bytes."""
    plans = [pool.plan_document(doc, to, src) for doc in docs]
    keys = pool.keys_of(p for doc_plans in plans for p in doc_plans)
    done = _translated(keys, to, translator, load_options, cache)
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
    cache=None,
    **load_options,
) -> Path:
    """Translate one file and write NAME.<to>.EXT beside it (or to `output`); returns the path written.

    encoding: output encoding (default UTF-8); line_width: for subtitles; bilingual: for subtitles and .docx.
    cache: the segment cache file (True: the command line's default one; None, the default: no cache).
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
        raise GugugoError(f"{path}: skipped, {in_api_words(summary.skipped[0][1])}")
    if not summary.failed:
        key = _cache_key(translator, load_options) if cache not in (None, False) else ""
        segments = _segment_cache(cache)
        try:
            run(tasks, to, lambda: _translator(translator, load_options), key, segments, summary)
        finally:
            segments.close()
    if summary.failed:
        failed_path, problem = summary.failed[0]
        raise InputError(failed_path, in_api_words(problem))
    return tasks[0].dest


def translate_dataset(path, fields, to: str, translator=None, *, cache=None, translator_key: Optional[str] = None,
                      **options):
    """Translate the named fields of every row of a dataset file (datasets.run.translate_dataset, which tells
    the rest), its errors naming this API's arguments. cache: the segment cache file (True: the command line's
    default one; None, the default: no cache) or a job.cache.SegmentCache; translator_key is then needed with a
    function that loads the translator (a translator object's own cache_key is used)."""
    from .datasets.run import translate_dataset as translate

    opened = None
    if cache is not None and not isinstance(cache, SegmentCache):
        if cache is not False and translator_key is None:
            if not hasattr(translator, "translate_batch"):
                raise GugugoError("cache= with a function that loads the translator needs translator_key= (the "
                                  "cache key of what it loads)")
            translator_key = _cache_key(translator, {})
        cache = opened = _segment_cache(cache)
    try:
        return translate(path, fields, to, translator, cache=cache, translator_key=translator_key, **options)
    except GugugoError as e:
        raise reworded(e) from None
    finally:
        if opened is not None:
            opened.close()


def reworded(e: GugugoError) -> GugugoError:
    """The same error with the API's argument names in its message."""
    if isinstance(e, InputError):
        return InputError(e.path, in_api_words(e.problem))
    return type(e)(in_api_words(str(e)))


# The command line's options, as messages name them, and the API's arguments that do the same.
_API_WORDS = (("--overwrite", "overwrite=True"), ("--keep-source", "keep_source=True"), ("--field", "field"),
              ("--encoding", "encoding"))


def in_api_words(message: str) -> str:
    """A message written for the command line, with the API's argument names for its options."""
    for option, argument in _API_WORDS:
        message = message.replace(option, argument)
    return message
