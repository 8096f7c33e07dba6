"""SubRip (.srt): cue text translated in place; indices, timings, blank lines and line endings written back
byte for byte.

Read the way common players read it: a cue starts at a timing line (`00:00:01,000 --> 00:00:02,000`, also
without hours `00:01,000`, with three-digit minutes or seconds `00:00:013,567` (13.567 s, as Android's
players read it), without milliseconds, with `.` or `:` before the milliseconds, or with a malformed arrow
such as `->`, `-- >` or `==>`), the number line before it is its index, and its text runs
to the next cue (over blank lines, and also when the blank line before the next index is missing), or to
a blank line followed by a number line (a cue whose timing line is missing, kept as it is). Text before the
first cue is kept as it is, as players skip it. A line that starts like a timing but does not parse as one
is refused with its line number, and so is a file with text but no cue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InputError
from ..textio import decode_bytes, encode_like
from .base import FormatOptions
from .cue_markup import SRT
from .subtitles import Cue, CueTranslation, SubtitleDocument, replace_lines, split_lines

_TIMESTAMP = r"(?:(\d{1,3})\s*:\s*)?(\d{1,3})\s*[:.]\s*(\d{1,3})(?:\s*[,.:，．。：]\s*(\d{1,3})\d*)?"
_ARROW = r"\s*(?:-+\s*-*>|=+>|[–—]+>?|→)\s*"
_TIMING = re.compile(rf"^\s*{_TIMESTAMP}{_ARROW}{_TIMESTAMP}(?:\s.*)?$")
_INDEX = re.compile(r"^\s*-?\d+(?:\.\d*)?\s*$")


def _seconds(h, m, s, ms) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + (int(ms.ljust(3, "0")) / 1000 if ms else 0)


@dataclass
class _Block:
    timing: int  # index of the timing line
    first: int  # first line of the cue's text
    end: int  # line after its last text line (trailing blank lines left out)
    start_s: float
    end_s: float


def parse_blocks(lines: list[str], name: str) -> list[_Block]:
    timings = []
    for n, line in enumerate(lines):
        m = _TIMING.match(line)
        if m:
            timings.append((n, m))
        elif "-->" in line and re.match(r"\s*\d", line):
            raise InputError(name, f"not a valid SubRip file: malformed timing at line {n + 1}: {line.strip()[:40]!r}")
    if not timings:
        if any(ch.isalpha() for l in lines for ch in l):  # a stray number or blank lines: nothing to do
            raise InputError(name, "not a SubRip file: no cues found")
        return []
    blocks = []
    for k, (n, m) in enumerate(timings):
        begin = n - 1 if n > 0 and _INDEX.match(lines[n - 1]) and (k == 0 or n - 1 > timings[k - 1][0]) else n
        if k > 0:
            blocks[-1].end = begin
        g = m.groups()
        blocks.append(_Block(n, n + 1, len(lines), _seconds(*g[:4]), _seconds(*g[4:])))
    for block in blocks:
        # a number line after a blank line starts a cue whose timing is missing: the cue's text ends
        # before it, and that broken cue is kept as it is
        for i in range(block.first + 1, block.end - 1):
            if not lines[i].strip() and _INDEX.match(lines[i + 1]):
                block.end = i
                break
        while block.end > block.first and not lines[block.end - 1].strip():
            block.end -= 1
    return blocks


class SrtDocument(SubtitleDocument):
    def __init__(self, data: bytes, name: str, options: FormatOptions):
        self.options = options
        self.decoded = decode_bytes(data, name)
        self.lines = split_lines(self.decoded.text)
        self.blocks = parse_blocks([l for l, _ in self.lines], name)
        cues = [Cue(b.start_s, b.end_s, [l for l, _ in self.lines[b.first:b.end]], SRT) for b in self.blocks]
        self.translation = CueTranslation(cues, merge=options.merge)

    def render(self, translated: list[str]) -> bytes:
        text = replace_lines(self.lines, [(b.first, b.end) for b in self.blocks], self.new_lines(translated))
        return encode_like(self.decoded, text, self.options.encoding)
