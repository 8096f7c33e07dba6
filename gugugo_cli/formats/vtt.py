"""WebVTT (.vtt): cue text translated; header, cue identifiers, timings with cue settings, NOTE, STYLE and
REGION blocks written back byte for byte.

Parsed here by blocks rather than with a library: the VTT readers on PyPI rebuild the file from their own
model when writing, which drops or reorders NOTE/STYLE blocks and header text. A VTT file is a sequence of
blank-line separated blocks, so keeping every block we do not translate as it was is simple and exact.
"""

from __future__ import annotations

import re

from ..errors import InputError
from ..textio import decode_bytes, encode_like
from .base import FormatOptions
from .subtitles import Cue, CueTranslation, SubtitleDocument

_TIMESTAMP = r"(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})"
_TIMING = re.compile(rf"^\s*{_TIMESTAMP}\s+-->\s+{_TIMESTAMP}")
_BLANK_RUN = re.compile(r"(\n(?:[ \t]*\n)+)")


def _seconds(h, m, s, ms) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


class VttDocument(SubtitleDocument):
    def __init__(self, data: bytes, name: str, options: FormatOptions):
        self.options = options
        self.decoded = decode_bytes(data, name)
        text = self.decoded.text.replace("\r\n", "\n")
        if not text.strip():
            self.parts, self.cue_parts, self.translation = [text], [], CueTranslation([])
            return
        if not re.match(r"WEBVTT(?:[ \t]|\n|$)", text):
            raise InputError(name, "not a WebVTT file (it must begin with WEBVTT)")
        # parts alternate: block, separator, block, ...; each cue block is kept as [head lines, payload lines]
        self.parts: list = _BLANK_RUN.split(text)
        self.cue_parts: list[int] = []
        cues = []
        line_no = 1
        for i, part in enumerate(self.parts):
            if i % 2 == 0 and i > 0 and not re.match(r"(NOTE|STYLE|REGION)(?:[ \t]|\n|$)", part):
                lines = part.split("\n")
                arrow = next((k for k, l in enumerate(lines) if "-->" in l), None)
                if arrow is not None and arrow <= 1:
                    m = _TIMING.match(lines[arrow])
                    if not m:
                        raise InputError(name, f"not a valid WebVTT file: malformed timing at line {line_no + arrow}")
                    start, end = _seconds(*m.groups()[:4]), _seconds(*m.groups()[4:])
                    self.parts[i] = (lines[: arrow + 1], lines[arrow + 1:])
                    self.cue_parts.append(i)
                    cues.append(Cue(start, end, lines[arrow + 1:]))
            line_no += part.count("\n")
        self.translation = CueTranslation(cues, merge=options.merge)

    def render(self, translated: list[str]) -> bytes:
        new_lines = self.new_lines(translated)
        parts = list(self.parts)
        for cue_index, part_index in enumerate(self.cue_parts):
            head, payload = parts[part_index]
            lines = payload
            if cue_index in new_lines:
                # the last block of a file ends with its line break: keep it after the new text
                ends = len(payload) - len("\n".join(payload).rstrip("\n").split("\n"))
                lines = new_lines[cue_index] + [""] * ends
            parts[part_index] = "\n".join(head + lines)
        return encode_like(self.decoded, "".join(parts), self.options.encoding)
