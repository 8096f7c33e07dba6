"""What every subtitle format shares: a cue's visible text apart from its markup, sentences that run over
several cues, spreading a translation back over them, and wrapping lines for reading.

A format parses its file into `Cue`s (time span + the cue's text lines with their markup), hands them to
`CueTranslation`, and gets back each cue's new lines. The format keeps everything else of the file as it was.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from ..languages import has_hangul

if TYPE_CHECKING:
    from .base import FormatOptions

# Markup inside a cue's text. A tag is `<name ...>` or `</name>` with a letter-led name (and in WebVTT a
# timestamp tag such as <00:00:21.000>); ASS override blocks such as {\an8} are markup too. Anything else
# that holds a `<` or `>` (`2<3,5>1,4<6`, `a < b`) is text.
_MARKUP = re.compile(
    r"<(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9]*)(?P<rest>[.\s/][^<>]*)?>"
    r"|<(?P<ts>\d+(?::\d{2}){1,2}\.\d{3})>"
    r"|(?P<ass>\{\\[^{}]*\})"
)
_POSITION = re.compile(r"\\(?:an?\d|pos\s*\(|move\s*\(|org\s*\()")
_VOID = {"br", "img", "hr", "wbr", "meta", "link"}
_DASH = re.compile(r"([-–—‐]+)\s*(?!\d)")
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


@dataclass(frozen=True)
class Syntax:
    """How a format writes text in a cue: whether character references (&amp;) are decoded for the
    translator, and how text is escaped again when written."""

    name: str
    entities: bool = False

    def decode(self, text: str) -> str:
        return html.unescape(text) if self.entities else text

    def escape(self, text: str) -> str:
        if self.name == "smi":
            return html.escape(text, quote=False)
        if self.name == "vtt":
            # only what would otherwise be read as markup or as a character reference
            text = re.sub(r"&(?=[#A-Za-z0-9]+;?)", lambda m: "&amp;" if _is_reference(text, m.start()) else "&", text)
            return _MARKUP_START.sub(lambda m: "&lt;" + m.group()[1:].replace(">", "&gt;"), text)
        return text


_MARKUP_START = re.compile(r"<(?:/?[A-Za-z][A-Za-z0-9]*(?:[.\s/][^<>]*)?>|\d+(?::\d{2}){1,2}\.\d{3}>)")


def _is_reference(text: str, at: int) -> bool:
    m = re.match(r"&[#A-Za-z0-9]+;?", text[at:])
    return html.unescape(m.group()) != m.group()


SRT = Syntax("srt")
VTT = Syntax("vtt", entities=True)
SMI = Syntax("smi", entities=True)


@dataclass
class Token:
    kind: str  # "text", "open", "close", "void", "ts" (timestamp), "ass", "br" or "dash"
    raw: str
    name: str = ""  # a tag's name, lower case
    text: str = ""  # a text token's text, character references decoded


def tokenize(line: str, syntax: Syntax = SRT) -> list[Token]:
    """A line of cue text as text and markup tokens, in order; joining their raw strings gives the line."""
    tokens: list[Token] = []
    pos = 0
    for m in _MARKUP.finditer(line):
        if m.group("ts") and syntax.name != "vtt":
            continue
        if m.start() > pos:
            raw = line[pos:m.start()]
            tokens.append(Token("text", raw, text=syntax.decode(raw)))
        raw = m.group()
        if m.group("ass"):
            tokens.append(Token("ass", raw))
        elif m.group("ts"):
            tokens.append(Token("ts", raw))
        else:
            name = m.group("name").lower()
            if name == "br":
                kind = "br"
            elif m.group("close"):
                kind = "close"
            elif name in _VOID or raw.endswith("/>"):
                kind = "void"
            else:
                kind = "open"
            tokens.append(Token(kind, raw, name))
        pos = m.end()
    if pos < len(line):
        tokens.append(Token("text", line[pos:], text=syntax.decode(line[pos:])))
    return tokens


@dataclass
class Line:
    """One line of a cue that has text: the markup written before and after it, kept around its translation."""

    raw: str  # the line as written
    text: str  # its visible text, markup dropped, spaces collapsed
    lead: list[str]  # markup written before the text, in order (tags opened, a speaker dash)
    trail: list[str]  # markup written after it (tags closed; a tag the line left open is closed here)
    own_lead: list[str]  # the part of lead and trail that belongs to this line alone, not the whole cue
    own_trail: list[str]
    dash: str = ""  # speaker dash, as written (e.g. "- ")
    whole: bool = True  # the raw line stands on its own: every tag in it is opened and closed in it

    @property
    def style(self) -> tuple:
        """The line's own markup apart from a speaker dash."""
        return tuple(t for t in self.own_lead if t != self.dash), tuple(self.own_trail)


def _sort_key(item):
    return item[0]


def parse_cue(lines: list[str], syntax: Syntax = SRT) -> list[Line]:
    """The lines of a cue that have text, each with the markup that wraps it.

    Tags are paired across the whole cue. A pair that encloses all the cue's text wraps the cue (its
    opening goes before the first line, its closing after the last); one that encloses a whole line wraps
    that line; any other pair is inside the text and is dropped, opening and closing together. A closing
    tag without its opening is dropped; a tag left open is closed at the end of what it wraps. ASS blocks
    before or after the text stay; positioning ones ({\an8}) inside the text move before it.
    """
    flat: list[tuple[int, Token]] = []
    for n, line in enumerate(lines):
        tokens = tokenize(line, syntax)
        for i, tok in enumerate(tokens):  # a speaker dash at the start of the line's text
            if tok.kind == "text" and tok.text.strip():
                m = _DASH.match(tok.raw.lstrip())
                if m:
                    lead_ws = len(tok.raw) - len(tok.raw.lstrip())
                    cut = lead_ws + m.end()
                    rest = tok.raw[cut:]
                    tokens[i:i + 1] = [Token("text", tok.raw[:lead_ws], text=""),
                                       Token("dash", tok.raw[lead_ws:cut]),
                                       Token("text", rest, text=syntax.decode(rest))]
                break
            if tok.kind in ("ts", "br"):
                break
        flat += [(n, t) for t in tokens]

    # pair tags over the whole cue; a closing tag closes what was opened inside it too
    key = {g: (g, 1, 0) for g in range(len(flat))}
    close_of: dict[int, tuple] = {}  # opening token -> key of its closing (a token, or one written by us)
    made: list[tuple[tuple, int]] = []  # closings to write: (key, opening token)
    paired: set[int] = set()
    stack: list[int] = []

    def close_above(depth: int, g: int):
        for k, o in enumerate(reversed(stack[depth:])):
            at = (g, 0, k)
            close_of[o] = at
            made.append((at, o))
        del stack[depth:]

    for g, (_, tok) in enumerate(flat):
        if tok.kind == "open":
            if tok.name == "v":  # a new voice ends the one before it
                for depth in range(len(stack) - 1, -1, -1):
                    if flat[stack[depth]][1].name == "v":
                        close_above(depth, g)
                        break
            stack.append(g)
        elif tok.kind == "close":
            for depth in range(len(stack) - 1, -1, -1):
                if flat[stack[depth]][1].name == tok.name:
                    close_above(depth + 1, g)
                    close_of[stack[depth]] = key[g]
                    paired.update((stack[depth], g))
                    del stack[depth:]
                    break
    close_above(0, len(flat))

    # where the text of each line begins and ends
    content = [g for g, (_, t) in enumerate(flat) if t.kind == "text" and t.text.strip()]
    text_lines = sorted({flat[g][0] for g in content})
    if not text_lines:
        return []
    first = {n: min(key[g] for g in content if flat[g][0] == n) for n in text_lines}
    last = {n: max(key[g] for g in content if flat[g][0] == n) for n in text_lines}
    start, end = first[text_lines[0]], last[text_lines[-1]]

    def home(at: tuple) -> int:
        """The text line whose end a key follows (or the first one)."""
        before = [n for n in text_lines if last[n] < at]
        return before[-1] if before else text_lines[0]

    # items kept around each line: (key, raw, belongs to the line alone)
    leads: dict[int, list] = {n: [] for n in text_lines}
    trails: dict[int, list] = {n: [] for n in text_lines}
    dashes: dict[int, str] = {}
    for g, (n, tok) in enumerate(flat):
        k = key[g]
        if tok.kind == "open":
            c = close_of[g]
            closing = flat[c[0]][1].raw if c[1] == 1 else f"</{_tag_name(tok.raw)}>"
            if k < start and c > end:
                leads[text_lines[0]].append((k, tok.raw, False))
                trails[text_lines[-1]].append((c, closing, False))
            elif n in leads and k < first[n] and c > last[n] and all(
                    c < first[m] for m in text_lines if m > n):
                leads[n].append((k, tok.raw, True))
                trails[n].append((c, closing, True))
        elif tok.kind == "ass":
            if k < start:
                leads[text_lines[0]].append((k, tok.raw, False))
            elif k > end:
                trails[text_lines[-1]].append((k, tok.raw, False))
            elif n in leads and k < first[n]:
                leads[n].append((k, tok.raw, True))
            elif n in leads and k > last[n]:
                trails[n].append((k, tok.raw, True))
            elif _POSITION.search(tok.raw):
                line = home(k)
                leads[line].append(((-1, 0, g), tok.raw, line != text_lines[0]))
        elif tok.kind == "dash" and n in leads and k < first[n]:
            leads[n].append((k, tok.raw, True))
            dashes[n] = tok.raw

    out = []
    for n in text_lines:
        parts = []
        for g in range(len(flat)):
            if flat[g][0] != n or not (first[n] <= key[g] <= last[n]):
                continue
            tok = flat[g][1]
            parts.append(tok.text if tok.kind == "text" else " " if tok.kind == "br" else "")
        lead = sorted(leads[n], key=_sort_key)
        trail = sorted(trails[n], key=_sort_key)
        out.append(Line(
            raw=lines[n],
            text=" ".join("".join(parts).split()),
            lead=[r for _, r, _ in lead],
            trail=[r for _, r, _ in trail],
            own_lead=[r for _, r, own in lead if own],
            own_trail=[r for _, r, own in trail if own],
            dash=dashes.get(n, ""),
            whole=_stands_alone(flat, n, close_of, paired, lead, trail),
        ))
    return out


def _tag_name(raw: str) -> str:
    return re.match(r"</?([A-Za-z][A-Za-z0-9]*)", raw).group(1)


def _stands_alone(flat, n, close_of, paired, lead, trail) -> bool:
    """Whether line n, written as it was, opens and closes its own tags and nothing of the cue's."""
    if any(not own for _, _, own in lead + trail):
        return False
    for g, (m, tok) in enumerate(flat):
        if m != n:
            continue
        if tok.kind == "close" and g not in paired:
            return False
        if tok.kind == "open":
            c = close_of[g]
            if c[1] != 1 or flat[c[0]][0] != n:
                return False
    return True


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
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int, max_lines: int = MAX_LINES) -> list[str]:
    """Break text into at most `max_lines` lines of about `width` columns, as evenly as the words allow."""
    words = text.split()
    if not words:
        return []
    if display_width(text) <= width or len(words) == 1 or max_lines <= 1:
        return [" ".join(words)]
    # choose the split that makes the longest line shortest; recurse for more than two lines
    best = None
    for i in range(1, len(words)):
        head = " ".join(words[:i])
        tail = wrap(" ".join(words[i:]), width, max_lines - 1)
        worst = max(display_width(l) for l in [head, *tail])
        if best is None or worst < best[0]:
            best = (worst, [head, *tail])
    return best[1]


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
