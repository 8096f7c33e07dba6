"""The encoding of an HTML or XHTML file: its byte-order mark, XML declaration or meta charset, else as for a
text file. A file that declares a charset is read in that charset or refused; it is never guessed."""

from __future__ import annotations

import codecs
import re
from typing import Optional

from ..errors import InputError
from ..textio import decode_bytes

_XML_DECL = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._-]+)""", re.IGNORECASE)
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Python codecs that turn bytes into text but are no charset a document can be written in.
_NOT_CHARSETS = frozenset({"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "charmap"})


def sniff_encoding(data: bytes, name: str = "<input>") -> Optional[str]:
    """The encoding a document says it has: its byte-order mark, XML declaration or meta charset; None when it
    names none, or one Python does not know. InputError for a codec that is no charset (rot13, base64)."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return encoding
    head = data[:4096]
    m = _XML_DECL.match(head) or _META_CHARSET.search(head)
    if not m:
        return None
    label = m.group(1).decode("ascii")
    try:
        codec = codecs.lookup(label)
    except LookupError:
        return None
    if not codec._is_text_encoding or codec.name in _NOT_CHARSETS:
        raise InputError(name, f"declares the charset {label!r}, which is not a text encoding")
    return codec.name


def decode_html(data: bytes, name: str) -> tuple[str, str, bytes]:
    """(text, encoding, byte-order mark): the declared encoding (refused when the bytes are not valid in it),
    else as for text files."""
    declared = sniff_encoding(data, name)
    if not declared:
        decoded = decode_bytes(data, name)
        bom = next((b for b, e in BOMS if data.startswith(b)), b"") if decoded.bom else b""
        return decoded.text, decoded.encoding, bom
    bom = next((b for b, e in BOMS if data.startswith(b)), b"")
    body = data[len(bom):]
    if b"\x00" in body[:8192] and not declared.startswith("utf-16"):
        raise InputError(name, "looks like a binary file, not HTML")
    error = None
    for encoding in (declared, "cp949") if declared in ("euc_kr", "euc-kr") else (declared,):
        try:
            return body.decode(encoding), encoding, bom
        except UnicodeDecodeError as e:
            error = error or e
    raise InputError(name, f"not valid {declared} text, the charset it declares (at byte {len(bom) + error.start}); "
                           f"save it in one encoding that its declaration names")


def encode_html(text: str, encoding: str, bom: bytes) -> bytes:
    return bom + text.encode(encoding, errors="xmlcharrefreplace")
