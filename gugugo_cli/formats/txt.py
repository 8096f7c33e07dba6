"""Plain text: the whole file is one unit; segmentation keeps its layout."""

from __future__ import annotations

from ..textio import DecodedText, decode_bytes, encode_like
from .base import FormatOptions


class TextDocument:
    def __init__(self, data: bytes, name: str, options: FormatOptions):
        self.source = decode_bytes(data, name)
        self.text = self.source.text
        self.encoding = options.encoding

    @classmethod
    def of_text(cls, text: str) -> "TextDocument":
        doc = cls.__new__(cls)
        doc.source, doc.text, doc.encoding = DecodedText(text, "utf-8"), text, None
        return doc

    def texts(self) -> list[str]:
        return [self.text]

    def render(self, translated: list[str]) -> bytes:
        (text,) = translated
        return encode_like(self.source, text, self.encoding)
