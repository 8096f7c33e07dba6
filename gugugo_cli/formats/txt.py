"""Plain text: the whole file is one unit; segmentation keeps its layout."""

from __future__ import annotations

from ..textio import DecodedText, decode_bytes, encode_like


class TextDocument:
    def __init__(self, text: str, source: DecodedText | None = None, encoding: str | None = None):
        self.text = text
        self.source = source or DecodedText(text, "utf-8")
        self.encoding = encoding

    @classmethod
    def from_bytes(cls, data: bytes, name: str, encoding: str | None = None) -> "TextDocument":
        decoded = decode_bytes(data, name)
        return cls(decoded.text, decoded, encoding)

    def texts(self) -> list[str]:
        return [self.text]

    def render(self, translated: list[str]) -> bytes:
        (text,) = translated
        return encode_like(self.source, text, self.encoding)
