"""Text -> sentences the model translates well, and the translations back into the same layout.

A text is cut into paragraphs (runs of non-blank lines) and each paragraph into units: a line is a unit of
its own, unless it and the next line are clearly one hard-wrapped sentence (see `line_units`). Each unit is
cut into sentences on its own (`splitters`: Kiwi or kss for Korean, pysbd for English), so a splitter never
sees across a line that ends a unit, and every segment is cut to fit the model (`split_long`). Everything that is not a
sentence — blank lines, line breaks between units, indentation, the whitespace between sentences — is kept
verbatim, so an identity translation gives back the input byte for byte. A sentence that runs over a line
break (hard-wrapped prose) is translated whole and the break is put back at the nearest word boundary of
its translation.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Optional

from . import config, splitters
from .inert import nothing_to_translate
from .languages import detect_language
from .lines import MIN_WRAP_COLUMNS, ends_sentence, line_units
from .patterns import URL
from .splitters import chunk_spans

__all__ = ["MIN_WRAP_COLUMNS", "Segment", "TextPlan", "approx_tokens", "ends_sentence", "line_units", "plan_text",
           "sentence_spans", "split_long"]

TokenCounter = Callable[[str], int]

log = logging.getLogger("gugugo_cli")

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_LINE_BREAK_RUN = re.compile(r"\s*[\r\n]\s*")


# --- Sentences ---------------------------------------------------------------------------------------------

_WORD = re.compile(r"\S+")
_WORD_PART = re.compile(
    r"(?P<hangul>[\uac00-\ud7a3]+)|(?P<latin>[A-Z]?[a-z]+|[A-Z]+(?![a-z]))|(?P<digits>[0-9]{1,4})"
    r"|(?P<punct>[!-/:-@\[-`{-~])|(?P<other>.)",
    re.S,
)
# A run without spaces longer than this is not a word (a URL, a hash, base64, text without spaces).
_LONG_WORD = 24


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate of a text's length in model tokens, on the high side. Words of Hangul and
    of Latin letters count 3/4 of a token per syllable and one per 3.4 letters; digits and ASCII
    punctuation one each; anything else, and every run without spaces longer than 24 characters, one token
    per UTF-8 byte — the most a byte-level BPE can take — so that cut pieces of odd text (long numbers,
    URLs, base64, emoji) stay within the limit too. On the news and JHE dev sets a 4k byte-level BPE
    (the echo model's) gives 0.87-0.96 times this estimate."""
    words = text.split()  # the runs _WORD finds (str.split and \s agree on every character)
    if not words:
        return max(1, round(len(text) / 3.4))
    if max(map(len, words)) > _LONG_WORD:
        return _sequential(text)
    quarters, letters, odd = map(sum, zip(*map(_word_counts, words)))
    if not text[0].isspace():
        odd -= _word_counts(words[0])[2]  # no space before the first word
    sixty_eighths = 17 * (quarters + 4 * odd) + 20 * (letters + len(text) - sum(map(len, words)))
    if sixty_eighths % 68 == 34:  # halfway between two counts: the float sum decides, as it always did
        return _sequential(text)
    return max(1, (sixty_eighths + 34) // 68)


@lru_cache(maxsize=1 << 16)
def _word_counts(word: str) -> tuple[int, int, int]:
    """A word of up to _LONG_WORD characters as approx_tokens counts it, in whole numbers: its cost in quarter
    tokens but for its ASCII letters (a syllable 3, a digit or ASCII punctuation 4, a byte of anything else 4),
    its ASCII letters (1/3.4 of a token each), and 1 if a space before it is a token of its own."""
    quarters = letters = 0
    for part in _WORD_PART.finditer(word):
        kind, s = part.lastgroup, part.group()
        if kind == "latin":
            letters += len(s)
        elif kind == "hangul":
            quarters += 3 * len(s)
        else:
            quarters += 4 * len(s.encode("utf-8", "surrogatepass"))
    return quarters, letters, int(not (word[0].isascii() and word[0].isalpha() or "\uac00" <= word[0] <= "\ud7a3"))


def _sequential(text: str) -> int:
    """approx_tokens as its float sum, part by part in text order: the definition the fast path rounds as."""
    total, spaces = 0.0, len(text)
    for m in _WORD.finditer(text):
        word = m.group()
        spaces -= len(word)
        if m.start() and not (word[0].isascii() and word[0].isalpha() or "\uac00" <= word[0] <= "\ud7a3"):
            total += 1  # a space before an odd word is a token of its own
        if len(word) > _LONG_WORD:
            total += len(word.encode("utf-8", "surrogatepass"))
            continue
        for part in _WORD_PART.finditer(word):
            kind, s = part.lastgroup, part.group()
            if kind == "hangul":
                total += 0.75 * len(s)
            elif kind == "latin":
                total += len(s) / 3.4
            elif kind in ("digits", "punct"):
                total += len(s)
            else:
                total += len(s.encode("utf-8", "surrogatepass"))
    return max(1, round(total + spaces / 3.4))


def sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """Spans of the sentences of one unit (line breaks in it are treated as spaces). A long unit is split
    chunk by chunk (`splitters.chunk_spans`), so the time taken grows in step with its length."""
    flat = text.replace("\r", " ").replace("\n", " ")
    stripped = flat.strip()
    if not splitters.may_hold_sentences(stripped):  # one sentence (or none): no splitter needed
        start = len(flat) - len(flat.lstrip())
        return [(start, start + len(stripped))] if stripped else []
    spans = []
    for a, b in chunk_spans(flat, lang):
        spans += [(a + start, a + end) for start, end in _chunk_sentences(flat[a:b], lang)]
    return _keep_whole(flat, spans)


def _chunk_sentences(text: str, lang: str) -> list[tuple[int, int]]:
    stripped = text.strip()
    if not stripped:
        return []
    start = len(text) - len(text.lstrip())
    whole = [(start, start + len(stripped))]
    if not splitters.may_hold_sentences(stripped, before_tags=True):
        return whole
    return splitters.split(text, lang) or whole


# Addresses a sentence splitter may cut at their '?', '!' or '.': a URL (scheme:// or www.) and an e-mail address
# (tried only where a word starts, so a long run without spaces is not searched again from each character).
_ADDRESS = re.compile(rf"{URL}|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.I)
_MAY_ADDRESS = re.compile(r"://|www\.|@", re.I)  # what every address holds
_SPACE_RUN = re.compile(r"\s")


def _keep_whole(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join two sentences where the cut between them falls inside an address."""
    runs = _address_runs(text) if len(spans) > 1 else []
    if not _cut_in_runs(runs, spans):
        return spans
    addresses = [m.span() for start, end in runs for m in _ADDRESS.finditer(text, start, end)]
    if not addresses:
        return spans
    starts = [a for a, _ in addresses]

    def inside(pos: int) -> bool:
        i = bisect_left(starts, pos) - 1  # the last address that starts before pos
        return i >= 0 and pos < addresses[i][1]

    joined = [spans[0]]
    for start, end in spans[1:]:
        if inside(joined[-1][1]) or inside(start):
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _address_runs(text: str) -> list[tuple[int, int]]:
    """The runs without spaces that hold ://, www. or @: every address lies in one (each character is looked
    at about once)."""
    runs: list[tuple[int, int]] = []
    for m in _MAY_ADDRESS.finditer(text):
        if runs and m.start() < runs[-1][1]:
            continue
        start = m.start()
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        space = _SPACE_RUN.search(text, m.end())
        runs.append((start, space.start() if space else len(text)))
    return runs


def _cut_in_runs(runs: list[tuple[int, int]], spans: list[tuple[int, int]]) -> bool:
    """Whether a cut between two spans falls strictly inside one of the runs."""
    if not runs:
        return False
    for cuts in ([b for _, b in spans[:-1]], [a for a, _ in spans[1:]]):
        for start, end in runs:
            i = bisect_right(cuts, start)
            if i < len(cuts) and cuts[i] < end:
                return True
    return False


# --- Cutting what is too long ------------------------------------------------------------------------------

_CJK = "\u3131-\u318e\uac00-\ud7a3\u3040-\u30ff\u3400-\u9fff"
# Where an over-long sentence may be cut, best first: clause punctuation, commas, spaces, then punctuation
# that is followed by no space (Korean, Chinese or Japanese written without spaces), then after an inline tag
# (HTML's `<sup><a>[1]</a></sup>` runs: a tag is never cut).
_CLAUSE_CUTS = (
    re.compile(r"[;:；：](?=\s)"),
    re.compile(r"[,，、](?=\s)"),
    re.compile(r"\S(?=\s)"),
    re.compile(rf"[。？！，、；：…](?=\S)|[.!?,;:](?=[{_CJK}])"),
    re.compile(r"</?[A-Za-z][A-Za-z0-9]*>"),
)


def _grapheme_boundary(text: str, i: int) -> bool:
    """Whether text may be cut before text[i] without splitting a character as a reader sees it."""
    before, ch = text[i - 1], text[i]
    o, p = ord(ch), ord(before)
    if 0xD800 <= p <= 0xDBFF and 0xDC00 <= o <= 0xDFFF:  # a surrogate pair
        return False
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Mc"):
        return False
    if ch == "\u200d" or before == "\u200d":  # zero-width joiner (emoji sequences)
        return False
    if 0xFE00 <= o <= 0xFE0F or 0xE0100 <= o <= 0xE01EF or 0x1F3FB <= o <= 0x1F3FF or 0xE0020 <= o <= 0xE007F:
        return False  # variation selectors, skin tones, flag tags
    if 0x1F1E6 <= o <= 0x1F1FF and 0x1F1E6 <= p <= 0x1F1FF:  # regional indicators pair up into flags
        run = 0
        while i - run - 1 >= 0 and 0x1F1E6 <= ord(text[i - run - 1]) <= 0x1F1FF:
            run += 1
        if run % 2:
            return False
    if 0x1160 <= o <= 0x11FF or 0xD7B0 <= o <= 0xD7FF:  # conjoining Hangul vowel or final consonant
        return False
    if (0x1100 <= p <= 0x115F or 0xA960 <= p <= 0xA97F) and (0x1100 <= o <= 0x11FF or 0xAC00 <= o <= 0xD7A3):
        return False  # after a conjoining initial consonant
    return not (before == "\r" and ch == "\n")


def _character_cut(text: str) -> Optional[int]:
    """The grapheme boundary nearest the middle of text, if there is one."""
    middle = len(text) // 2
    for d in range(len(text)):
        for i in (middle - d, middle + d):
            if 0 < i < len(text) and _grapheme_boundary(text, i):
                return i
    return None


def split_long(text: str, limit: int, count: TokenCounter,
               forced: Optional[set] = None) -> list[tuple[int, int]]:
    """Cut a sentence above `limit` tokens into parts that fit: at clause punctuation, then commas, then
    spaces (then punctuation followed by no space), each time as near the middle as there is a cut; with
    none left, between two characters. Offsets where a part was cut between characters are added to
    `forced`, if given."""
    if count(text) <= limit:
        return [(0, len(text))]
    for pattern in _CLAUSE_CUTS:
        cuts = [m.end() for m in pattern.finditer(text) if 0 < m.end() < len(text)]
        if cuts:
            cut = min(cuts, key=lambda c: abs(c - len(text) / 2))
            left_end = len(text[:cut].rstrip())
            right_start = cut + (len(text[cut:]) - len(text[cut:].lstrip()))
            break
    else:
        cut = _character_cut(text)
        if cut is None:
            return [(0, len(text))]
        left_end = right_start = cut
        if forced is not None:
            forced.add(cut)
    right_forced = set() if forced is not None else None
    left = split_long(text[:left_end], limit, count, forced)
    right = split_long(text[right_start:], limit, count, right_forced)
    if forced is not None:
        forced.update(right_start + c for c in right_forced)
    return left + [(right_start + a, right_start + b) for a, b in right]


@dataclass
class Segment:
    """One unit sent to the model: the source text with line breaks flattened to single spaces."""

    src: str
    text: str
    breaks: list[tuple[int, str]] = field(default_factory=list)  # (position in text, original whitespace)

    @classmethod
    def from_original(cls, src: str, original: str) -> "Segment":
        parts, breaks, pos, length = [], [], 0, 0
        for m in _LINE_BREAK_RUN.finditer(original):
            parts.append(original[pos:m.start()])
            length += m.start() - pos
            breaks.append((length, m.group()))
            parts.append(" ")
            length += 1
            pos = m.end()
        parts.append(original[pos:])
        return cls(src, "".join(parts), breaks)

    def restore(self, translation: str) -> str:
        """Put the original line breaks back into a translation, each at the nearest word boundary."""
        if not self.breaks:
            return translation
        out, consumed = [], 0  # consumed: how much of `translation` is already in `out`
        spaces = [i for i, ch in enumerate(translation) if ch == " "]
        for pos, run in self.breaks:
            target = round(pos / len(self.text) * len(translation))
            cut = _nearest(spaces, consumed, target)
            if cut is not None:
                out += [translation[consumed:cut], run]
                consumed = cut + 1
            else:
                cut = max(consumed, min(target, len(translation)))
                out += [translation[consumed:cut], run]
                consumed = cut
        out.append(translation[consumed:])
        return "".join(out)


def _nearest(positions: list[int], first: int, target: int) -> Optional[int]:
    """The position at or after `first` nearest to target (the lower one of a tie); None if there is none."""
    i = bisect_left(positions, max(first, target))
    after = positions[i] if i < len(positions) else None
    before = positions[i - 1] if i > 0 and positions[i - 1] >= first else None
    if before is None or after is not None and after - target < target - before:
        return after
    return before


@dataclass
class TextPlan:
    """A text cut into kept pieces (str) and segments to translate (Segment), in order."""

    pieces: list

    @property
    def segments(self) -> list[Segment]:
        return [p for p in self.pieces if isinstance(p, Segment)]

    def render(self, translations: dict[tuple[str, str], str]) -> str:
        """translations: (src, segment text) -> translated text."""
        return "".join(
            p.restore(translations[(p.src, p.text)]) if isinstance(p, Segment) else p for p in self.pieces
        )


def plan_text(
    text: str,
    tgt: str,
    src: str = "auto",
    max_tokens: int = config.MAX_SEGMENT_TOKENS,
    count_tokens: TokenCounter = approx_tokens,
) -> TextPlan:
    """Cut a text into what stays and what is translated. Paragraphs already in `tgt` stay (src='auto').
    Logs one warning when some segments had to be cut between characters to fit `max_tokens`."""
    pieces: list = []
    forced = [0]
    block_start = None
    lines = [m for m in _LINE.finditer(text) if m.end() > m.start()]
    for i, m in enumerate(lines):
        if m.group().strip():
            if block_start is None:
                block_start = m.start()
            is_last = i + 1 == len(lines) or not lines[i + 1].group().strip()
            if not is_last:
                continue
            body = text[block_start:m.end()].rstrip("\r\n")
            pieces += _plan_paragraph(body, tgt, src, max_tokens, count_tokens, forced)
            pieces.append(text[block_start + len(body):m.end()])
            block_start = None
        else:
            pieces.append(m.group())
    if forced[0]:
        log.warning("%d segment%s had no space or punctuation to cut at and %s cut between characters to fit "
                    "the model (%d tokens a segment)", forced[0], "s" if forced[0] > 1 else "",
                    "were" if forced[0] > 1 else "was", max_tokens)
    return TextPlan([p for p in pieces if not (isinstance(p, str) and p == "")])


def _plan_paragraph(body: str, tgt: str, src: str, max_tokens: int, count: TokenCounter, forced: list) -> list:
    if detect_language(body) is None:
        return [body]
    pieces, cursor = [], 0
    for unit_start, unit_end in line_units(body):
        unit = body[unit_start:unit_end]
        lang = detect_language(unit) if src == "auto" else src  # each line unit is translated on its own
        if lang is None or (src == "auto" and lang == tgt):
            continue
        for start, end in sentence_spans(unit, lang):
            sentence = unit[start:end]
            if nothing_to_translate(sentence):
                continue  # URLs, numbers, code, symbols: kept as they are, never sent to the model
            cuts: set = set()
            for a, b in split_long(sentence, max_tokens, count, cuts):
                if nothing_to_translate(sentence[a:b]):
                    continue  # a long sentence's piece of citations or markup alone: kept as it is
                pieces.append(body[cursor:unit_start + start + a])
                pieces.append(Segment.from_original(lang, sentence[a:b]))
                cursor = unit_start + start + b
                forced[0] += a in cuts or b in cuts
    pieces.append(body[cursor:])
    return pieces
