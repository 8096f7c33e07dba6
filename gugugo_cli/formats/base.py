"""What every format shares: the options documents are read and written with, and the Document interface.

A Document holds the texts a reader of the file sees (paragraphs, cues), in order, and writes the file back
with those texts replaced. A format never calls the model and never splits sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol

from ..safety import Limits


@dataclass(frozen=True)
class FormatOptions:
    """How documents are read and written back; the same for every format (each uses what applies)."""

    tgt: str = "ko"
    encoding: Optional[str] = None  # output encoding; None: UTF-8
    line_width: Optional[int] = None  # subtitle line limit in display columns; None: by target language
    bilingual: bool = False  # subtitles: translation above the original; .docx: a paragraph under it
    merge: bool = True  # subtitles: translate a sentence that runs over several cues as one
    limits: Limits = Limits()  # zip packages: checked against these before they are parsed (--max-input-size)


class Document(Protocol):
    """Made by a format's class as `Class(data: bytes, name: str, options: FormatOptions)`."""

    def texts(self) -> list[str]: ...

    def render(self, translated: list[str]) -> bytes: ...
