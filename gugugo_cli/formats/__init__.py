"""Registry of document formats: file extension -> the class that reads it (imported on first use).

Every format class is built as `Class(data: bytes, name: str, options: FormatOptions)` and is a Document
(formats/base.py): the texts a reader sees, and the file written back with them replaced.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from pathlib import Path

from ..errors import InputError
from ..safety import Limits, read_file
from .base import Document, FormatOptions

__all__ = ["Document", "FormatOptions", "FORMATS", "supported", "read_document"]

# extension -> (module in this package, class)
FORMATS: dict[str, tuple[str, str]] = {
    ".txt": ("txt", "TextDocument"),
    ".text": ("txt", "TextDocument"),
    ".srt": ("srt", "SrtDocument"),
    ".vtt": ("vtt", "VttDocument"),
    ".smi": ("smi", "SmiDocument"),
    ".sami": ("smi", "SmiDocument"),
    ".ass": ("ass", "AssDocument"),
    ".ssa": ("ass", "AssDocument"),
    ".docx": ("docx", "DocxDocument"),
    ".md": ("markdown", "MarkdownDocument"),
    ".markdown": ("markdown", "MarkdownDocument"),
    ".html": ("html", "HtmlDocument"),
    ".htm": ("html", "HtmlDocument"),
    ".xhtml": ("html", "HtmlDocument"),
    ".epub": ("epub", "EpubDocument"),
    ".xlsx": ("xlsx", "XlsxDocument"),
    ".pptx": ("pptx", "PptxDocument"),
    ".hwpx": ("hwpx", "HwpxDocument"),
}

# what --list-formats calls each reading class
FORMAT_NAMES: dict[str, str] = {
    "TextDocument": "plain text", "SrtDocument": "SubRip subtitles", "VttDocument": "WebVTT subtitles",
    "SmiDocument": "SAMI subtitles", "AssDocument": "ASS/SSA subtitles", "DocxDocument": "Word",
    "MarkdownDocument": "Markdown", "HtmlDocument": "HTML", "EpubDocument": "EPUB", "XlsxDocument": "Excel",
    "PptxDocument": "PowerPoint", "HwpxDocument": "HWPX (Hangul)",
}
SUBTITLES = frozenset(s for s, (module, _) in FORMATS.items() if module in ("srt", "vtt", "smi", "ass"))
# the options that apply to some formats only: option -> (the extensions it applies to, said in words)
OPTION_FORMATS: dict[str, tuple[frozenset, str]] = {
    "--bilingual": (SUBTITLES | {".docx"}, "subtitles and Word (.docx)"),
    "--line-width": (SUBTITLES, "subtitles"),
}


# Dataset files: translated by gugugo_cli.datasets, and only when named as inputs (with --field). Each suffix's
# reader (datasets/formats) and what --list-formats calls it.
DATASETS = {".jsonl": ("jsonl", "JSON Lines"), ".ndjson": ("jsonl", "JSON Lines"),
            ".json": ("json", "JSON (an array of rows)"), ".csv": ("csv", "CSV/TSV"), ".tsv": ("csv", "CSV/TSV"),
            ".parquet": ("parquet", "Parquet (needs pyarrow)")}
DATASET_SUFFIXES = tuple(DATASETS)
DATASET_NAMES = {suffix: name for suffix, (_, name) in DATASETS.items()}


def is_dataset(path) -> bool:
    """A file with a dataset's extension."""
    return Path(str(path)).suffix.lower() in DATASET_SUFFIXES


def supported(path: str | Path) -> bool:
    return Path(path).suffix.lower() in FORMATS


def _format_class(suffix: str):
    module, name = FORMATS[suffix]
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def read_document(path: str | Path, data: bytes | None = None, options: FormatOptions | None = None,
                  limits: Limits | None = None) -> Document:
    """Read a file (or its bytes, for stdin) into a Document; raises InputError naming the file.

    limits bound the bytes read and, for a zip-based format, the unpacked package (safety.Limits)."""
    limits = limits or Limits()
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        if str(path) != "-":
            known = ", ".join(sorted(FORMATS))
            raise InputError(p, f"unsupported file type {p.suffix or '(no extension)'!r} (supported: {known})")
        suffix = ".txt"
    if data is None:
        data = read_file(p, limits)
    # a zip-based format's class checks its package against options.limits before parsing it
    options = replace(options or FormatOptions(), limits=limits)
    return _format_class(suffix)(data, str(path), options)
