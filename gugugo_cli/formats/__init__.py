"""Registry of document formats: file extension -> reader.

A reader turns the bytes of a file into a Document: the texts a reader of the document sees (paragraphs,
cues), in order, and a way to write the document back with those texts replaced. A format never calls
the model and never splits sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Protocol

from ..errors import InputError


@dataclass
class FormatOptions:
    """How documents are read and written back; the same for every format (each uses what applies)."""

    tgt: str = "ko"
    encoding: Optional[str] = None  # output encoding; None: UTF-8
    line_width: Optional[int] = None  # subtitle line limit in display columns; None: by target language
    bilingual: bool = False  # subtitles: translation above the original
    merge: bool = True  # subtitles: translate a sentence that runs over several cues as one


class Document(Protocol):
    def texts(self) -> list[str]: ...

    def render(self, translated: list[str]) -> bytes: ...


def _txt_reader(data: bytes, name: str, options: FormatOptions) -> Document:
    from .txt import TextDocument

    return TextDocument.from_bytes(data, name, options.encoding)


def _srt_reader(data: bytes, name: str, options: FormatOptions) -> Document:
    from .srt import SrtDocument

    return SrtDocument(data, name, options)


def _vtt_reader(data: bytes, name: str, options: FormatOptions) -> Document:
    from .vtt import VttDocument

    return VttDocument(data, name, options)


def _smi_reader(data: bytes, name: str, options: FormatOptions) -> Document:
    from .smi import SmiDocument

    return SmiDocument(data, name, options)


def _docx_reader(data: bytes, name: str, options: FormatOptions) -> Document:
    from .docx import DocxDocument

    return DocxDocument(data, name, options)


READERS: dict[str, Callable[[bytes, str, FormatOptions], Document]] = {
    ".txt": _txt_reader,
    ".text": _txt_reader,
    ".srt": _srt_reader,
    ".vtt": _vtt_reader,
    ".smi": _smi_reader,
    ".sami": _smi_reader,
    ".docx": _docx_reader,
}


def supported(path: str | Path) -> bool:
    return Path(path).suffix.lower() in READERS


def read_document(path: str | Path, data: bytes | None = None, options: FormatOptions | None = None) -> Document:
    """Read a file (or its bytes, for stdin) into a Document; raises InputError naming the file."""
    p = Path(path)
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        if str(path) != "-":
            known = ", ".join(sorted(READERS))
            raise InputError(p, f"unsupported file type {p.suffix or '(no extension)'!r} (supported: {known})")
        reader = _txt_reader
    if data is None:
        if not p.exists():
            raise InputError(p, "no such file")
        if p.is_dir():
            raise InputError(p, "is a folder")
        try:
            data = p.read_bytes()
        except OSError as e:
            raise InputError(p, f"cannot read ({e.strerror})") from None
    return reader(data, str(path), options or FormatOptions())
