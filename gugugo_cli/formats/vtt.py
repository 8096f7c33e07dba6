"""WebVTT (.vtt): cue text translated; every other byte of the file written back as it was (header, cue
identifiers, timings with cue settings, NOTE, STYLE and REGION blocks, line endings).

The file is read with the WebVTT parser algorithm of the W3C specification (its "collect a WebVTT block"
steps): lines end at CR, LF or CRLF; a block is a cue when its first or second line holds "-->" and that line
parses as cue timings; a cue's text runs to a blank line or to a line holding "-->", which starts the next
block even without a blank line before it. A block whose timings do not parse is no cue to a player and
is kept as it was. A file without its WEBVTT line is read too when it starts with a cue. The VTT readers on PyPI rebuild the file from their own model when writing, which drops or
reorders NOTE/STYLE blocks and header text, so the file is parsed here and only cue text is replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from ..errors import InputError
from ..textio import decode_bytes, encode_like
from .base import FormatOptions
from .cue_markup import VTT
from .subtitles import Cue, CueTranslation, SubtitleDocument, replace_lines, split_lines

_SIGNATURE = re.compile(r"WEBVTT(?:[ \t]|$)")
_TIMESTAMP = re.compile(r"(\d+):(\d+)(?::(\d+))?\.(\d+)")
_WHITESPACE = re.compile(r"[ \t\n\f\r]*")


def timestamp(text: str, pos: int) -> Optional[tuple[float, int]]:
    """The spec's "collect a WebVTT timestamp": (seconds, position after it), or None."""
    m = _TIMESTAMP.match(text, pos)
    if not m:
        return None
    first, second, third, frac = m.groups()
    if len(frac) != 3 or len(second) != 2:
        return None
    if third is None:  # mm:ss.ttt, minutes in two digits
        if len(first) != 2 or int(first) > 59:
            return None
        hours, minutes, seconds = 0, int(first), int(second)
    else:
        if len(third) != 2:
            return None
        hours, minutes, seconds = int(first), int(second), int(third)
    if minutes > 59 or seconds > 59:
        return None
    return hours * 3600 + minutes * 60 + seconds + int(frac) / 1000, m.end()


def cue_timings(line: str) -> Optional[tuple[float, float]]:
    """The spec's "collect WebVTT cue timings and settings", timings only: (start, end) or None."""
    pos = _WHITESPACE.match(line).end()
    start = timestamp(line, pos)
    if start is None:
        return None
    pos = _WHITESPACE.match(line, start[1]).end()
    if not line.startswith("-->", pos):
        return None
    pos = _WHITESPACE.match(line, pos + 3).end()
    end = timestamp(line, pos)
    if end is None:
        return None
    return start[0], end[0]


@dataclass
class _CueBlock:
    timing: int  # index of its timing line
    first: int  # index of its first text line
    end: int  # index after its last text line


def parse_blocks(lines: list[str]) -> list[_CueBlock]:
    """Where the cues are, by the spec's block rules (lines already split, the signature line first)."""
    cues: list[_CueBlock] = []
    n = len(lines)
    pos = 1
    # header: the lines after the signature up to a blank line, or up to a line holding "-->"
    if pos < n and lines[pos] != "":
        while pos < n and lines[pos] != "" and "-->" not in lines[pos]:
            pos += 1
    while pos < n:
        while pos < n and lines[pos] == "":
            pos += 1
        if pos >= n:
            break
        count, seen_arrow, cue = 0, False, None
        while pos < n:
            line = lines[pos]
            count += 1
            if "-->" in line:
                if count == 1 or (count == 2 and not seen_arrow):
                    seen_arrow = True
                    cue = _CueBlock(pos, pos + 1, pos + 1) if cue_timings(line) else None
                    pos += 1
                    continue
                break  # a timing line in the wrong place starts the next block
            if line == "":
                break
            if cue is not None:
                cue.end = pos + 1
            pos += 1
        if cue is not None:
            cues.append(cue)
    return cues


class VttDocument(SubtitleDocument):
    def __init__(self, data: bytes, name: str, options: FormatOptions):
        self.options = options
        self.decoded = decode_bytes(data, name)
        text = self.decoded.text
        self.lines = split_lines(text)
        self.blocks: list[_CueBlock] = []
        if not text.strip():
            self.translation = CueTranslation([])
            return
        plain = [l.replace("\x00", "\ufffd") for l, _ in self.lines]
        if _SIGNATURE.match(plain[0]):
            self.blocks = parse_blocks(plain)
        else:
            # without its WEBVTT line a player refuses the file; read it anyway when it starts with a cue
            # (a timing line, or an identifier and a timing line), and write it back the same way
            head = [l for l in plain if l.strip()][:2]
            if not any(cue_timings(l) for l in head if "-->" in l):
                raise InputError(name, "not a WebVTT file (it must begin with WEBVTT)")
            self.blocks = parse_blocks([""] + plain)
            for b in self.blocks:
                b.timing, b.first, b.end = b.timing - 1, b.first - 1, b.end - 1
        cues = []
        for block in self.blocks:
            start, end = cue_timings(plain[block.timing])
            cues.append(Cue(start, end, [l for l, _ in self.lines[block.first:block.end]], VTT))
        self.translation = CueTranslation(cues, merge=options.merge)

    def render(self, translated: list[str]) -> bytes:
        text = replace_lines(self.lines, [(b.first, b.end) for b in self.blocks], self.new_lines(translated))
        return encode_like(self.decoded, text, self.options.encoding)
