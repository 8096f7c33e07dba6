"""What every subtitle format shares: cues (their text apart from its markup: cue_markup.py), sentences that
run over several cues, spreading a translation back over them, and wrapping lines for reading.

A format parses its file into `Cue`s (time span + the cue's text lines with their markup), hands them to
`CueTranslation`, and gets back each cue's new lines. The format keeps everything else of the file as it was.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Optional

from ..languages import has_hangul
from .cue_markup import SRT, Line, Syntax, parse_cue

if TYPE_CHECKING:
    from .base import FormatOptions

_SENTENCE_END = re.compile(r"[.!?…。！？♪♫\"'”’」』)\]]$")
# Korean subtitles usually drop the final full stop, so a Korean cue is taken to go on into the next one
# only when it ends in a comma or a connective ending.
_KO_CONTINUES = re.compile(r"(?:,|고|며|면서|는데|은데|지만|니까|어서|아서|해서|려고|도록|면)$")

# Merging cues that carry one sentence: at most this many cues, characters and seconds of silence between.
MERGE_MAX_CUES = 3
MERGE_MAX_CHARS = 200
MERGE_MAX_GAP = 1.0

# Line limits in display columns (a full-width character such as Hangul counts 2).
LINE_WIDTH = {"ko": 32, "en": 42}
MAX_LINES = 2

@dataclass
class Cue:
    start: float  # seconds
    end: float
    lines: list[str]  # the cue's text lines as written, markup included
    syntax: Syntax = SRT
    track: str = ""  # cues of different tracks (SAMI language classes) are never merged

    parsed: list[Line] = field(init=False)

    def __post_init__(self):
        self.parsed = parse_cue(self.lines, self.syntax)

    @property
    def text(self) -> str:
        return " ".join(p.text for p in self.parsed if p.text)

    @property
    def is_dialogue(self) -> bool:
        """Two or more speakers, one per line, each marked with a dash."""
        return sum(1 for p in self.parsed if p.dash) >= 2

    @property
    def per_line(self) -> bool:
        """Lines translated one by one, each keeping its own dash and markup: dialogue (one speaker per
        line, or a dash that starts a later line), or lines styled differently each in itself (e.g. a
        translator's note in another colour, a voice span per line)."""
        if self.is_dialogue or any(p.dash for p in self.parsed[1:]):
            return True
        return len({p.style for p in self.parsed}) > 1

    @property
    def opens_with_dash(self) -> bool:
        return bool(self.parsed) and bool(self.parsed[0].dash)


def display_width(text: str) -> int:
    if text.isascii():
        return len(text)
    no_syllables = _SYLLABLES.sub("", text)  # Hangul syllables are wide, ASCII characters narrow
    rest = _ASCII.sub("", no_syllables)
    return 2 * len(text) - len(no_syllables) + sum(1 for ch in rest if unicodedata.east_asian_width(ch) in "WF")


_SYLLABLES = re.compile(r"[\uac00-\ud7a3]+")
_ASCII = re.compile(r"[\x00-\x7f]+")


_word_width = lru_cache(maxsize=1 << 14)(display_width)  # words recur; lines seldom do


def wrap(text: str, width: int, max_lines: int = MAX_LINES) -> list[str]:
    """Break text into at most `max_lines` lines of about `width` columns, as evenly as the words allow."""
    words = text.split()
    if not words:
        return []
    if display_width(text) <= width or len(words) == 1 or max_lines <= 1:
        return [" ".join(words)]
    return [" ".join(words[a:b]) for a, b in _Lines(words, width).split(0, max_lines)[1]]


class _Lines:
    """The split of words[start:] into lines whose longest line is shortest (the first such split), each
    line a range of words; the widths of ranges come from prefix sums, and the best split of every
    (start, lines) is worked out once."""

    def __init__(self, words: list[str], width: int):
        self.width, self.n = width, len(words)
        self.ends = [0]
        for word in words:
            self.ends.append(self.ends[-1] + _word_width(word))
        self.memo: dict[tuple[int, int], tuple[int, list[tuple[int, int]]]] = {}

    def columns(self, a: int, b: int) -> int:
        return self.ends[b] - self.ends[a] + b - a - 1

    def best(self, start: int, lines: int) -> tuple[int, list[tuple[int, int]]]:
        """(its longest line, the lines) for words[start:], as wrap() would give them."""
        whole = self.columns(start, self.n)
        if whole <= self.width or self.n - start == 1 or lines <= 1:
            return whole, [(start, self.n)]
        if (start, lines) not in self.memo:
            self.memo[(start, lines)] = self.split(start, lines)
        return self.memo[(start, lines)]

    def split(self, start: int, lines: int) -> tuple[int, list[tuple[int, int]]]:
        best = None
        for i in range(start + 1, self.n):
            longest, tail = self.best(i, lines - 1)
            worst = max(self.columns(start, i), longest)
            if best is None or worst < best[0]:
                best = (worst, [(start, i), *tail])
        return best


def spread(translation: str, weights: list[int]) -> list[str]:
    """Cut a translation into len(weights) parts at word boundaries, sized in proportion to the weights."""
    if len(weights) == 1:
        return [translation]
    words = translation.split()
    if len(words) < len(weights):
        return [translation] * len(weights)  # too short to share out: every cue shows all of it
    total = sum(weights)
    starts = [0]  # word index where each part starts
    text_len = len(" ".join(words))
    offsets, pos = [], 0  # character offset of each word
    for w in words:
        offsets.append(pos)
        pos += len(w) + 1
    cum = 0
    for k, weight in enumerate(weights[:-1]):
        cum += weight
        target = cum / total * (text_len + 1)
        lo = starts[-1] + 1
        hi = len(words) - (len(weights) - 1 - k)  # leave one word for each later part
        cut = min(range(lo, hi + 1), key=lambda i: abs(offsets[i] - target))
        starts.append(cut)
    starts.append(len(words))
    return [" ".join(words[a:b]) for a, b in zip(starts, starts[1:])]


@dataclass
class _Group:
    cues: list[int]  # indices of cues that share one unit (one sentence over several cues)
    unit: int  # index of the unit among the document's texts


class CueTranslation:
    """Turns cues into translation units and the translated units back into each cue's new lines."""

    def __init__(self, cues: list[Cue], merge: bool = True):
        self.cues = cues
        self.units: list[str] = []
        self.groups: list[_Group] = []
        self.per_line: dict[int, list[int]] = {}  # cue index -> one unit per line
        i = 0
        while i < len(cues):
            cue = cues[i]
            if not cue.text:
                i += 1
                continue
            if cue.per_line:
                self.per_line[i] = [self._unit(p.text) for p in cue.parsed]
                i += 1
                continue
            members = [i]
            while merge and self._continues(members, i + 1):
                i += 1
                members.append(i)
            self.groups.append(_Group(members, self._unit(" ".join(cues[m].text for m in members))))
            i += 1

    def _unit(self, text: str) -> int:
        self.units.append(text)
        return len(self.units) - 1

    def _continues(self, members: list[int], nxt: int) -> bool:
        if nxt >= len(self.cues) or len(members) >= MERGE_MAX_CUES:
            return False
        last, following = self.cues[members[-1]], self.cues[nxt]
        if not following.text or following.per_line or following.opens_with_dash:
            return False
        if following.track != last.track:
            return False
        if following.start - last.end > MERGE_MAX_GAP:
            return False
        if has_hangul(last.text):
            if not _KO_CONTINUES.search(last.text):
                return False
        elif _SENTENCE_END.search(last.text):
            return False
        return sum(len(self.cues[m].text) for m in members) + len(following.text) <= MERGE_MAX_CHARS

    def cue_lines(self, translated: list[str], tgt: str, width: Optional[int] = None,
                  bilingual: bool = False) -> dict[int, list[str]]:
        """New text lines for every cue whose text was translated, markup put back around the translation.
        A cue whose text came back as it was (already in the target language, or nothing to translate) is
        left out: the format keeps it exactly as written."""
        width = width or LINE_WIDTH.get(tgt, 42)
        out: dict[int, list[str]] = {}
        for group in self.groups:
            if translated[group.unit] == self.units[group.unit]:
                continue
            parts = spread(translated[group.unit], [len(self.cues[m].text) + 1 for m in group.cues])
            for m, part in zip(group.cues, parts):
                out[m] = self._dress(self.cues[m], wrap(part, width))
        for m, units in self.per_line.items():
            if all(translated[u] == self.units[u] for u in units):
                continue
            cue = self.cues[m]
            out[m] = [
                p.raw if translated[u] == self.units[u] and p.whole
                else "".join(p.lead) + cue.syntax.escape(translated[u]) + "".join(p.trail)
                for p, u in zip(cue.parsed, units)
            ]
        if bilingual:
            for m in out:
                out[m] = out[m] + [l for l in self.cues[m].lines if l.strip()]
        return out

    @staticmethod
    def _dress(cue: Cue, lines: list[str]) -> list[str]:
        """Put the cue's markup back around its new lines: what wraps the cue around all of them, and the
        markup every line of the cue had (all lines alike here) around each of them."""
        if not lines:
            return lines
        first, last = cue.parsed[0], cue.parsed[-1]
        own_lead = [t for t in first.own_lead if t != first.dash]
        out = []
        for k, line in enumerate(lines):
            lead = first.lead if k == 0 else own_lead
            trail = last.trail if k == len(lines) - 1 else first.own_trail
            out.append("".join(lead) + cue.syntax.escape(line) + "".join(trail))
        return out


_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")


def split_lines(text: str) -> list[tuple[str, str]]:
    """(line, its line terminator) pairs; CR, LF and CRLF all end a line; the last terminator may be empty."""
    out = []
    for m in _LINE.finditer(text):
        if m.start() == len(text) and out:
            break
        out.append((m.group(1), m.group(2)))
        if not m.group(2):
            break
    return out


def replace_lines(lines: list[tuple[str, str]], spans: list[tuple[int, int]], new: dict[int, list[str]]) -> str:
    """The file's text with the lines of cue i (spans[i], a range of line indices) replaced by new[i]; every
    other line is written as it was. New lines end with the file's own line terminator, and the cue's text
    keeps the terminator after it (or its absence at the end of the file)."""
    newline = next((t for _, t in lines if t), "\n")
    out = [l + t for l, t in lines]
    for i in sorted(new, reverse=True):
        first, end = spans[i]
        last_break = lines[end - 1][1] if end > first else newline
        out[first:end] = [newline.join(new[i]) + last_break] if new[i] else []
    return "".join(out)


class SubtitleDocument:
    """What the subtitle formats share: their cues' units go to the translator, and each cue gets new lines."""

    options: "FormatOptions"
    translation: CueTranslation

    def texts(self) -> list[str]:
        return self.translation.units

    def new_lines(self, translated: list[str]) -> dict[int, list[str]]:
        return self.translation.cue_lines(translated, self.options.tgt, self.options.line_width,
                                          self.options.bilingual)
