"""SAMI (.smi), the traditional Korean subtitle format: <SYNC Start=ms><P Class=KRCC>text, often CP949.

SYNC and P tags are found by a plain scan rather than an HTML parser, so broken markup in a cue (an unclosed
`<!--`, a `<b` without its `>`) cannot swallow the SYNC tags after it. Each paragraph's text is replaced by
its translation and every other byte of the file is kept: head, styles, SYNC times and `&nbsp;` clear cues.
A paragraph's text is HTML: line breaks in the file are spaces, `<br>` breaks a line, entities are decoded.

When a paragraph of a language class (e.g. KRCC) is translated, every paragraph of that class, clear cues
included, is switched to the target language's class (KRCC/ENCC), with a style rule for it added when the
file has none, so a player that shows one class at a time shows the whole translation. A `<META ...
charset=...>` is updated when the file is written in another encoding.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Optional

from ..errors import InputError
from ..textio import decode_bytes, encode_like
from .base import FormatOptions
from .cue_markup import SMI
from .subtitles import Cue, CueTranslation, SubtitleDocument

# The language class a paragraph gets in the output, and its style rule.
CLASSES = {
    "ko": ("KRCC", ".KRCC { Name:Korean; lang:ko-KR; SAMIType:CC; }"),
    "en": ("ENCC", ".ENCC { Name:English; lang:en-US; SAMIType:CC; }"),
}
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SYNC = re.compile(r"<sync\b[^<>]*>", re.IGNORECASE)
_START = re.compile(r"\bstart\s*=\s*[\"']?\s*(-?\d+)", re.IGNORECASE)
_P = re.compile(r"<p\b[^<>]*>", re.IGNORECASE)
_CLASS = re.compile(r"\bclass\s*=\s*[\"']?([\w-]+)", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>|</sami\s*>", re.IGNORECASE)
_STYLE_END = re.compile(r"</style\s*>", re.IGNORECASE)
_CHARSET = re.compile(r"<meta\b[^<>]*?\bcharset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_BR = re.compile(r"<br\s*/?>|</br\s*>", re.IGNORECASE)
_LEAD = re.compile(r"(?:\s|<br\s*/?>|</br\s*>)*", re.IGNORECASE)
_END = re.compile(r"(?:\s*</(?:p|sync)\s*>)*\s*$", re.IGNORECASE)


@dataclass
class _Para:
    start_ms: int
    body_start: int  # offset just after the P tag (or after the SYNC tag when it has no P)
    body_end: int  # offset of the next P or SYNC tag, </body> or the end of the file
    klass: Optional[tuple[int, int]] = None  # offsets of the P tag's class value


class SmiDocument(SubtitleDocument):
    def __init__(self, data: bytes, name: str, options: FormatOptions):
        self.options = options
        self.decoded = decode_bytes(data, name)
        self.text = text = self.decoded.text
        self.paras: list[_Para] = []
        self.style_end: Optional[int] = None
        if not text.strip():
            self.translation = CueTranslation([])
            return
        # comments (the style block's <!-- -->, commented-out cues) are blanked for the scan; an unclosed
        # <!-- is left as it is and hides nothing
        scan = _COMMENT.sub(lambda m: " " * len(m.group()), text)
        syncs = list(_SYNC.finditer(scan))
        if not re.search(r"<sami\b", scan[:4096], re.IGNORECASE) or not syncs:
            raise InputError(name, "not a SAMI file (no <SAMI> and <SYNC> tags)")
        style = _STYLE_END.search(scan, 0, syncs[0].start())
        self.style_end = style.start() if style else None
        body_end = _BODY_END.search(scan, syncs[-1].end())
        ends = [s.start() for s in syncs[1:]] + [body_end.start() if body_end else len(text)]
        cues = []
        for sync, end in zip(syncs, ends):
            m = _START.search(sync.group())
            if not m:
                line = text.count("\n", 0, sync.start()) + 1
                raise InputError(name, f"not a valid SAMI file: SYNC without a Start time at line {line}")
            start_ms = int(m.group(1))
            ps = list(_P.finditer(scan, sync.end(), end))
            if not ps:
                self.paras.append(_Para(start_ms, sync.end(), end))
            for j, p in enumerate(ps):
                para = _Para(start_ms, p.end(), ps[j + 1].start() if j + 1 < len(ps) else end)
                c = _CLASS.search(p.group())
                if c:
                    para.klass = (p.start() + c.start(1), p.start() + c.end(1))
                self.paras.append(para)
        next_start = None
        for para in reversed(self.paras):  # a cue lasts until the next later SYNC
            end_ms = next_start if next_start is not None and next_start > para.start_ms else para.start_ms + 5000
            cues.append(Cue(para.start_ms / 1000, end_ms / 1000, self._lines(para), SMI,
                            track=self._class(para).upper()))
            if next_start is None or para.start_ms < next_start:
                next_start = para.start_ms
        cues.reverse()
        self.translation = CueTranslation(cues, merge=options.merge)

    def _class(self, para: _Para) -> str:
        return self.text[para.klass[0]:para.klass[1]] if para.klass else ""

    def _body(self, para: _Para) -> tuple[str, str, str]:
        """A paragraph's text split into what comes before it (blank space, leading <br>), the text, and
        what comes after (blank space, </p>)."""
        body = self.text[para.body_start:para.body_end]
        lead = _LEAD.match(body).group()
        trail = _END.search(body, len(lead)).group()
        return lead, body[len(lead):len(body) - len(trail)], trail

    def _lines(self, para: _Para) -> list[str]:
        """A cue's lines: split at <br>; line breaks in the file are plain spaces in HTML."""
        return [" ".join(l.split()) for l in _BR.split(self._body(para)[1])]

    def render(self, translated: list[str]) -> bytes:
        new_lines = self.new_lines(translated)
        target_class, style_rule = CLASSES[self.options.tgt]
        edits: list[tuple[int, int, str]] = []  # (start, end, replacement), applied back to front
        switched = set()  # language classes whose text was translated
        for i, para in enumerate(self.paras):
            if i in new_lines:
                lead, _, trail = self._body(para)
                edits.append((para.body_start, para.body_end, lead + "\n<br>".join(new_lines[i]) + trail))
                if para.klass:
                    switched.add(self._class(para).upper())
        for para in self.paras:
            if para.klass and self._class(para).upper() in switched and self._class(para).upper() != target_class:
                edits.append((para.klass[0], para.klass[1], target_class))
        if switched - {target_class} and self.style_end is not None \
                and f".{target_class}".lower() not in self.text[:self.style_end].lower():
            comment_end = self.text.rfind("-->", 0, self.style_end)
            at = comment_end if comment_end > 0 else self.style_end
            edits.append((at, at, style_rule + "\n"))
        charset = _CHARSET.search(self.text, 0, self.paras[0].body_start if self.paras else len(self.text))
        out_encoding = self.options.encoding or "utf-8"
        if charset and _codec(charset.group(1)) != _codec(out_encoding):
            edits.append((charset.start(1), charset.end(1), out_encoding))
        text = self.text
        for start, end, replacement in sorted(edits, key=lambda e: e[0], reverse=True):
            text = text[:start] + replacement + text[end:]
        return encode_like(self.decoded, text, self.options.encoding)


def _codec(name: str) -> str:
    try:
        name = codecs.lookup(name).name
    except LookupError:
        return name.lower()
    return "cp949" if name == "euc_kr" else name  # CP949 text is what EUC-KR files hold in practice
