"""SubRip (.srt) through the `srt` library: indices, timings and cue count kept; text translated in place."""

from __future__ import annotations

import re

from ..errors import InputError
from ..textio import decode_bytes, encode_like
from .base import FormatOptions
from .subtitles import Cue, CueTranslation, SubtitleDocument

_TIMESTAMP = r"\d+:\d+:\d+(?:[,.:]\d+)?"
_TIMING = re.compile(rf"^\s*{_TIMESTAMP}\s*-->\s*{_TIMESTAMP}")


class SrtDocument(SubtitleDocument):
    def __init__(self, data: bytes, name: str, options: FormatOptions):
        import srt

        self.options = options
        self.decoded = decode_bytes(data, name)
        text = self.decoded.text
        # The parser lets a cue's text run over blank lines, so a cue with a broken timing line would vanish
        # into the one before it: every line with an arrow must be a timing line of its own cue.
        arrows = [(n, l) for n, l in enumerate(text.split("\n"), 1) if "-->" in l]
        for n, l in arrows:
            if not _TIMING.match(l):
                raise InputError(name, f"not a valid SubRip file: malformed timing at line {n}: {l.strip()[:40]!r}")
        try:
            self.subs = list(srt.parse(text))
        except srt.SRTParseError as e:
            line = text.count("\n", 0, e.actual_start) + 1
            raise InputError(name, f"not a valid SubRip file: unexpected text at line {line}") from None
        if len(arrows) != len(self.subs):
            raise InputError(name, f"{len(arrows)} timing lines but only {len(self.subs)} cues could be parsed")
        if text.strip() and not self.subs:
            raise InputError(name, "not a SubRip file: no cues found")
        cues = [Cue(s.start.total_seconds(), s.end.total_seconds(), s.content.split("\n")) for s in self.subs]
        self.translation = CueTranslation(cues, merge=options.merge)

    def render(self, translated: list[str]) -> bytes:
        import srt

        new_lines = self.new_lines(translated)
        blocks = []
        for i, sub in enumerate(self.subs):
            if i in new_lines:
                sub = srt.Subtitle(sub.index, sub.start, sub.end, "\n".join(new_lines[i]), sub.proprietary)
            block = sub.to_srt(strict=False)
            if sub.index is None:  # the file had no index lines; write none rather than "0"
                block = block.split("\n", 1)[1]
            blocks.append(block)
        return encode_like(self.decoded, "".join(blocks), self.options.encoding)
