"""Registry of document formats: file extension -> reader.

A reader turns the bytes of a file into a Document: the texts a reader of the document sees (paragraphs,
cues), in order, and a way to write the document back with those texts replaced. A format never calls
the model and never splits sentences.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol

from ..errors import InputError


class Document(Protocol):
    def texts(self) -> list[str]: ...

    def render(self, translated: list[str]) -> bytes: ...


def _txt_reader(data: bytes, name: str) -> Document:
    from .txt import TextDocument

    return TextDocument.from_bytes(data, name)


READERS: dict[str, Callable[[bytes, str], Document]] = {
    ".txt": _txt_reader,
    ".text": _txt_reader,
}


def supported(path: str | Path) -> bool:
    return Path(path).suffix.lower() in READERS


def read_document(path: str | Path, data: bytes | None = None) -> Document:
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
    return reader(data, str(path))
