"""SAMI (.smi), the traditional Korean subtitle format: <SYNC Start=ms><P Class=KRCC>text, often CP949.

Python's HTML parser (tolerant of SAMI's unclosed <SYNC> and <P>) finds where each SYNC's text is; that
text is replaced by its translation and every other byte of the file is kept: head, styles, SYNC times and
`&nbsp;` clear cues. The paragraphs' language class is switched to the target language's, with a style
rule for it added when the file has none.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Optional

from ..errors import InputError
from ..textio import decode_bytes, encode_like
from .base import FormatOptions
from .subtitles import Cue, CueTranslation, SubtitleDocument

# The language class a paragraph gets in the output, and its style rule.
CLASSES = {
    "ko": ("KRCC", ".KRCC { Name:Korean; lang:ko-KR; SAMIType:CC; }"),
    "en": ("ENCC", ".ENCC { Name:English; lang:en-US; SAMIType:CC; }"),
}
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_END_P = re.compile(r"</p\s*>\s*$", re.IGNORECASE)


@dataclass
class _Sync:
    start_ms: int
    body_start: int  # offset just after the SYNC tag (or after its P tag)
    body_end: int  # offset of the next SYNC tag, </body> or end of file
    p_class: Optional[tuple[int, int]] = None  # offsets of the P tag's class value


class _Scanner(HTMLParser):
    """Offsets of SYNC and P tags, the style block and </body>."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.syncs: list[tuple[int, int, dict]] = []  # (tag start, tag end, attrs)
        self.ps: list[tuple[int, int, str]] = []  # (tag start, tag end, raw tag)
        self.body_end: Optional[int] = None
        self.style_end: Optional[int] = None

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def handle_starttag(self, tag, attrs):
        start = self._offset()
        raw = self.get_starttag_text() or ""
        if tag == "sync":
            self.syncs.append((start, start + len(raw), {k: v for k, v in attrs}))
        elif tag == "p":
            self.ps.append((start, start + len(raw), raw))

    def handle_endtag(self, tag):
        if tag == "body" and self.body_end is None:
            self.body_end = self._offset()
        elif tag == "style" and self.style_end is None:
            self.style_end = self._offset()


class SmiDocument(SubtitleDocument):
    def __init__(self, data: bytes, name: str, options: FormatOptions):
        self.options = options
        self.decoded = decode_bytes(data, name)
        self.text = text = self.decoded.text
        if not text.strip():
            self.syncs, self.translation = [], CueTranslation([])
            return
        scanner = _Scanner(text)
        scanner.feed(text)
        scanner.close()
        if not re.search(r"<sami\b", text[:4096], re.IGNORECASE) or not scanner.syncs:
            raise InputError(name, "not a SAMI file (no <SAMI> and <SYNC> tags)")
        self.style_end = scanner.style_end
        ends = [s[0] for s in scanner.syncs[1:]] + [scanner.body_end if scanner.body_end is not None else len(text)]
        self.syncs: list[_Sync] = []
        for (tag_start, tag_end, attrs), body_end in zip(scanner.syncs, ends):
            try:
                start_ms = int(re.match(r"\s*(\d+)", attrs.get("start") or "").group(1))
            except AttributeError:
                line = text.count("\n", 0, tag_start) + 1
                raise InputError(name, f"not a valid SAMI file: SYNC without a Start time at line {line}") from None
            sync = _Sync(start_ms, tag_end, body_end)
            p = next((p for p in scanner.ps if tag_end <= p[0] < body_end), None)
            if p:
                sync.body_start = p[1]
                m = re.search(r"class\s*=\s*[\"']?([\w-]+)", p[2], re.IGNORECASE)
                if m:
                    sync.p_class = (p[0] + m.start(1), p[0] + m.end(1))
            self.syncs.append(sync)
        cues = []
        for i, sync in enumerate(self.syncs):
            end_ms = self.syncs[i + 1].start_ms if i + 1 < len(self.syncs) else sync.start_ms + 5000
            cues.append(Cue(sync.start_ms / 1000, end_ms / 1000, self._lines(sync)))
        self.translation = CueTranslation(cues, merge=options.merge)

    def _body(self, sync: _Sync) -> str:
        return _END_P.sub("", self.text[sync.body_start:sync.body_end])

    def _lines(self, sync: _Sync) -> list[str]:
        """A cue's lines: split at <br>, source line breaks are plain spaces in HTML, entities decoded."""
        body = " ".join(self._body(sync).split())
        return [html.unescape(l).replace("\xa0", " ").strip() for l in _BR.split(body)]

    def render(self, translated: list[str]) -> bytes:
        new_lines = self.new_lines(translated)
        target_class, style_rule = CLASSES[self.options.tgt]
        edits: list[tuple[int, int, str]] = []  # (start, end, replacement), applied back to front
        for i, sync in enumerate(self.syncs):
            if i not in new_lines:
                continue
            body = self._body(sync)
            lead = re.match(r"\s*(?:<br\s*/?>\s*)*", body, re.IGNORECASE).group()
            trail = self.text[sync.body_start + len(body.rstrip()):sync.body_end]
            markup = "\n<br>".join(_escape_text(l) for l in new_lines[i])
            edits.append((sync.body_start, sync.body_end, lead + markup + trail))
            if sync.p_class and self.text[sync.p_class[0]:sync.p_class[1]].upper() != target_class:
                edits.append((sync.p_class[0], sync.p_class[1], target_class))
        changed_class = any(e[2] == target_class for e in edits)
        if changed_class and self.style_end is not None and f".{target_class}" not in self.text[:self.style_end]:
            comment_end = self.text.rfind("-->", 0, self.style_end)
            at = comment_end if comment_end > 0 else self.style_end
            edits.append((at, at, style_rule + "\n"))
        text = self.text
        for start, end, replacement in sorted(edits, key=lambda e: e[0], reverse=True):
            text = text[:start] + replacement + text[end:]
        return encode_like(self.decoded, text, self.options.encoding)


def _escape_text(line: str) -> str:
    """Escape the text of a line but leave its markup (tags) as markup."""
    parts = re.split(r"(<[^>]*>)", line)
    return "".join(p if p.startswith("<") else html.escape(p, quote=False) for p in parts)
