"""Plain text: the whole file is one unit; segmentation keeps its layout."""

from __future__ import annotations

from ..textio import decode_bytes


class TextDocument:
    def __init__(self, text: str, bom: bool = False):
        self.text = text
        self.bom = bom

    @classmethod
    def from_bytes(cls, data: bytes, name: str) -> "TextDocument":
        decoded = decode_bytes(data, name)
        return cls(decoded.text, bom=decoded.bom and decoded.encoding == "utf-8")

    def texts(self) -> list[str]:
        return [self.text]

    def render(self, translated: list[str]) -> bytes:
        (text,) = translated
        # Output is UTF-8; a UTF-8 byte-order mark on the input is kept, other encodings become UTF-8.
        return ("\ufeff" if self.bom else "").encode() + text.encode("utf-8")
