"""Sentence splitters, loaded on first use, and texts cut at safe sentence ends into chunks of bounded size.

Korean: Kiwi (kiwipiepy, the `kiwi` extra) by default, kss (`punct` backend) with `--splitter kss` or when
kiwipiepy is not installed; English: pysbd. A text is first cut at the sentence ends no splitter disputes (a
Korean final ending, or an English word that is no abbreviation or a number, maybe a closing quote, then a
space and a new sentence, outside quotes), and where there is none for CHUNK_CHARS characters at another
sentence end or a space; the splitter runs only on chunks that may hold more than one sentence (pysbd not on
those whose only inner full stops are where it never cuts: Mr. Smith, U.S. troops). So splitting
costs the same per character whatever the length of a paragraph (splitters search their whole input again and
again: quadratic on one long paragraph), and most sentences need no splitter at all.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import sys
import warnings
from functools import lru_cache
from typing import Optional

log = logging.getLogger("gugugo_cli")

KOREAN_SPLITTERS = ("kiwi", "kss")
DEFAULT_KOREAN = "kiwi"
SPLITTER_ENV_VAR = "GUGUGO_SPLITTER"
_PACKAGE = {"kiwi": "kiwipiepy", "kss": "kss"}

# Chunks given to a splitter hold at most this many characters (unless that many hold no space).
CHUNK_CHARS = 2000
# A quote or bracket still open after this many characters is taken as unpaired.
QUOTE_CHARS = 150

Span = tuple[int, int]


def use_splitter(name: Optional[str]) -> None:
    """Split Korean with `name` (kiwi or kss) in this process and in the processes it starts."""
    if name:
        os.environ[SPLITTER_ENV_VAR] = name


@lru_cache(maxsize=None)
def available(name: str) -> bool:
    """Whether the splitter's package is installed (nothing is imported)."""
    return importlib.util.find_spec(_PACKAGE[name]) is not None


@lru_cache(maxsize=None)
def _warn_once(message: str) -> None:
    log.warning(message)


def korean_splitter() -> str:
    """The Korean splitter to use: the one asked for, else Kiwi; kss when kiwipiepy is not installed."""
    name = os.environ.get(SPLITTER_ENV_VAR) or DEFAULT_KOREAN
    if name not in KOREAN_SPLITTERS:
        _warn_once(f"unknown {SPLITTER_ENV_VAR}={name}: Korean sentences are split with {DEFAULT_KOREAN}")
        name = DEFAULT_KOREAN
    if name == "kiwi" and not available("kiwi"):
        _warn_once("kiwipiepy is not installed: Korean sentences are split with kss, which is slower "
                   "(pip install kiwipiepy)")
        name = "kss"
    return name


@lru_cache(maxsize=1)
def _kiwi():
    from kiwipiepy import Kiwi

    # Without the multi-word dictionary (proper nouns of several words) Kiwi loads in less than half the time,
    # with ~180 MB less memory, and no sentence end on the gold sets or the dev sets moved (bench/README.md).
    with warnings.catch_warnings():  # num_workers=0 meant all cores before kiwipiepy 0.21
        warnings.simplefilter("ignore", DeprecationWarning)
        # no thread of its own (1 would start one): worker processes may be forked from this one once it is loaded
        return Kiwi(num_workers=0, load_multi_dict=False)


def preload(lang: str) -> None:
    """The splitter of `lang` loaded now: worker processes forked afterwards share its memory."""
    split("첫째 문장이다. 둘째 문장이다." if lang == "ko" else "One sentence. And another.", lang)


@lru_cache(maxsize=1)
def _english_segmenter():
    import pysbd

    for name in _PYSBD_MODULES:
        module = sys.modules.get(f"pysbd.{name}")
        if getattr(module, "re", None) is re:
            module.re = _CompiledOnce()
    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    segmenter.language_module = _english_with_fewer_searches()
    return segmenter


def _english_with_fewer_searches():
    """pysbd's English, whose abbreviation search skips the abbreviations the text does not hold with a period
    after them: every change it makes for one replaces such a period, and it looked for each one that begins a
    word (`al` in `also`) again and again, about a third of the time of English splitting."""
    from pysbd.lang.english import English

    re_ = _CompiledOnce()

    class Replacer(English.AbbreviationReplacer):
        def search_for_abbreviations_in_string(self, text):
            lowered = text.lower()
            for abbr in self.lang.Abbreviation.ABBREVIATIONS:
                stripped = abbr.strip()
                if stripped + "." not in lowered:  # pysbd's own loop but for this test (`stripped not in`)
                    continue
                abbrev_match = re_.findall(r"(?:^|\s|\r|\n){}".format(stripped), text, flags=re.IGNORECASE)
                if not abbrev_match:
                    continue
                char_array = re_.findall(r"(?<={" + str(re.escape(stripped)) + "} ).{1}", text)
                for ind, match in enumerate(abbrev_match):
                    text = self.scan_for_replacements(text, match, ind, char_array)
            return text

    return type("English", (English,), {"AbbreviationReplacer": Replacer})


_PYSBD_MODULES = ("abbreviation_replacer", "between_punctuation", "exclamation_words", "lists_item_replacer",
                  "processor", "punctuation_replacer", "segmenter", "utils")


class _CompiledOnce:
    """`re` as pysbd's modules see it, each pattern compiled once. pysbd passes its patterns as strings, several
    for each abbreviation it meets: more than `re`'s own cache holds (512), so `re` compiled most of them again
    on every call, about half the time of English splitting."""

    def __getattr__(self, name):
        return getattr(re, name)

    @staticmethod
    @lru_cache(maxsize=4096)
    def compile(pattern, flags=0):
        return re.compile(pattern, flags)

    def sub(self, pattern, repl, string, count=0, flags=0):
        return self.compile(pattern, flags).sub(repl, string, count)

    def subn(self, pattern, repl, string, count=0, flags=0):
        return self.compile(pattern, flags).subn(repl, string, count)

    def search(self, pattern, string, flags=0):
        return self.compile(pattern, flags).search(string)

    def match(self, pattern, string, flags=0):
        return self.compile(pattern, flags).match(string)

    def findall(self, pattern, string, flags=0):
        return self.compile(pattern, flags).findall(string)

    def finditer(self, pattern, string, flags=0):
        return self.compile(pattern, flags).finditer(string)

    def split(self, pattern, string, maxsplit=0, flags=0):
        return self.compile(pattern, flags).split(string, maxsplit)


@lru_cache(maxsize=1)
def _kss():
    """kss, without the root-logger handler it installs when imported (logging.basicConfig): that handler
    would print every library's log lines, and a program's own, once more with a `[Kss]: ` prefix."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    import kss

    root.handlers[:] = handlers
    root.setLevel(level)
    return kss


def _kss_sentences(text: str) -> list[str]:
    kss = _kss()
    # 'punct' is the backend chosen on purpose: the default ('pecab' without mecab) took minutes on one
    # long paragraph, and 'fast' over-split (bench/README.md).
    return kss.split_sentences(text, backend="punct", num_workers=1)


def _align(text: str, pieces: list[str]) -> Optional[list[Span]]:
    """Find each piece in order in text; None when a splitter changed the text."""
    spans, cursor = [], 0
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        start = text.find(piece, cursor)
        if start < 0:
            return None
        spans.append((start, start + len(piece)))
        cursor = start + len(piece)
    return spans


# A Korean particle that makes what is before it (a quote) part of the sentence that goes on.
_QUOTATIVE_WORD = "(?:이?라?고|이?라며|이?라는|이?란|하고|하며|며|면서|라면서)"
# Where a sentence can end inside a text: before a space, and (in a text that has such an end) before an
# opening tag; a text without one is one sentence. A closing quote before a quotative particle (“가자.” 라고)
# ends none: a splitter's cut there is joined again (_quote_goes_on).
_SPACE_END = rf"(?:[\"'”’)\]]*[\"'”’]\s+(?!{_QUOTATIVE_WORD}(?:\s|$))|(?:[\"'”’)\]]*[)\]])?\s+)\S"
_INNER_END = re.compile(rf"[.!?。？！…]+{_SPACE_END}")
_INNER_END_OR_TAG = re.compile(rf"[.!?。？！…]+(?:{_SPACE_END}|[\"'”’)\]]*<(?!/))")


def may_hold_sentences(text: str, before_tags: bool = False) -> bool:
    """Whether text (stripped) may hold more than one sentence, so that a splitter must look at it."""
    return (_INNER_END_OR_TAG if before_tags else _INNER_END).search(text) is not None


def split(text: str, lang: str) -> Optional[list[Span]]:
    """Spans of the sentences of text (no line breaks in it), found by the language's splitter; None or an
    empty list when the splitter gave back text it was not given."""
    if lang != "ko":
        if not _pysbd_may_split(text):
            stripped = text.strip()
            start = len(text) - len(text.lstrip())
            return [(start, start + len(stripped))]
        return _align(text, [s.sent for s in _english_segmenter().segment(text)])
    if korean_splitter() == "kss":
        return _align(text, _kss_sentences(text))
    spans: list[Span] = []
    for sentence in _kiwi().split_into_sents(text, return_sub_sents=False):
        piece = text[sentence.start:sentence.end]
        start = sentence.start + len(piece) - len(piece.lstrip())
        end = sentence.end - len(piece) + len(piece.rstrip())
        if end <= start:
            continue
        if spans and _quote_goes_on(text, spans[-1][1], start):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


# pysbd cuts at these and, for lists and "(CNN)" openings, at quotes and brackets
_PYSBD_STOP = re.compile(r"[.!?。．！？…]")
_PYSBD_WORD = re.compile(r"(?<!\S)[^\s.!?。．！？…]*[.!?。．！？…]\S*")  # a word with a stop in it
_PYSBD_MARK = re.compile(r"[\"“”‘()\[\]{}«»「」『』]|(?<![A-Za-z])['’]|['’](?![A-Za-z])")
_LETTERS_WITH_PERIODS = re.compile(r"[A-Za-z](?:\.[A-Za-z])+")


def _pysbd_may_split(text: str) -> bool:
    """Whether pysbd may cut text (no quote or bracket in it) anywhere but at its end: yes unless every word with
    a full stop inside it is an abbreviation written before a name (Mr. Smith: pysbd keeps such a period before
    any space) or letters with periods before a lower-case word (U.S. troops, p.m. on)."""
    text = text.strip()
    if _PYSBD_MARK.search(text):
        return True
    prepositive = _abbreviations()[1]
    for m in _PYSBD_WORD.finditer(text):
        word = m.group()
        if m.end() == len(text):
            return _PYSBD_STOP.search(word, 0, len(word) - 1) is not None or word[-1] not in ".!?"
        body = word[:-1]
        if word[-1] != "." or len(body) < 2:
            return True
        if body.isascii() and body.isalpha() and body.lower() in prepositive:
            continue
        after = _SPACE.match(text, m.end()).end()
        if not (_LETTERS_WITH_PERIODS.fullmatch(body) and "a" <= text[after] <= "z"):
            return True
    return False


_CLOSING_QUOTE = re.compile("[\"'”’」』]$")
_QUOTATIVE = re.compile(rf"{_QUOTATIVE_WORD}(?:\s|$)")


def _quote_goes_on(text: str, end: int, start: int) -> bool:
    """Whether a cut after a closing quote is inside a sentence: the quote's particle follows without a space
    ("클리퍼"와, “됐어요."하고), or a quotative one after a space (“뭐라고요?" 라며)."""
    if not _CLOSING_QUOTE.search(text, 0, end):
        return False
    return (start == end and "\uac00" <= text[start] <= "\ud7a3") or bool(_QUOTATIVE.match(text, start))


# --- Chunks ------------------------------------------------------------------------------------------------

# Quote marks and brackets: a straight quote opens after a space or a bracket (or at the start), closes elsewhere.
_MARKS = re.compile(r'[“«「『(\[”»」』)\]"]')
_OPENING = "“«「『(["
_QUOTE_MARK = re.compile(r'[“«「『”»」』"]')
# Sentence ends every splitter takes: a Hangul syllable (a final ending: 다. 요. 까?) or a word of Latin letters
# that is no abbreviation (in Korean three or more, lower-case but the first; in English two or more, an
# all-capital word, or a number of two or more digits); then its punctuation, maybe a closing quote, a space
# and a new sentence (in Korean, not a quotative particle: 왜? 하고 물었다). Counted from the last cut, the
# quotes and brackets up to it are closed, so a quote after the space opens the next sentence. The pattern
# finds the punctuation and what follows (it starts with the punctuation, so `re` skips to it quickly);
# _WORD_BEFORE is what must end right before it.
_SAFE_END = {
    "ko": re.compile(rf"[.!?]+(?P<close>[”\"」』]?)\s+(?=[\"“‘']?[\uac00-\ud7a3A-Za-z0-9])"
                     rf"(?!{_QUOTATIVE_WORD}\s)"),
    "en": re.compile(r"[.!?]+(?P<close>[”\"]?)\s+(?=[\"“]?(?:[A-Z][A-Za-z]|[A-Z]\.[A-Z]|[AI][\s'’]|\())"),
}
_WORD_BEFORE = {
    "ko": re.compile(r"(?<![\w.'’-])(?P<word>[A-Za-z][a-z]{2,})"),
    "en": re.compile(r"(?<![\w.,'’-])(?P<compound>(?:[A-Za-z0-9]+-)*)"
                     r"(?:(?P<word>[A-Za-z][a-z]+|[A-Z]{2,})|[0-9]{2,})"),
}
# After an abbreviation pysbd keeps the period unless a capital follows (not "I" alone or "I'm"), so an
# English abbreviation ends a sentence before such a capital; one written before a name (Dr., Sen.) never does.
_CAPITAL_AFTER = re.compile(r"[\"“]?(?!I[\s'’])[A-Z]")
_ASCII_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_WEAK_END = re.compile(r"[.!?。？！…]+[\"'”’)\]]*\s+")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _abbreviations() -> tuple[frozenset, frozenset, frozenset]:
    """pysbd's English abbreviations, those of them written before a name, and the words it takes with their
    exclamation mark (Yahoo!)."""
    from pysbd.exclamation_words import ExclamationWords
    from pysbd.lang.english import English

    lower = frozenset(a.lower() for a in English.Abbreviation.ABBREVIATIONS)
    exclaimed = frozenset(w[:-1] for w in ExclamationWords.EXCLAMATION_WORDS if w.endswith("!"))
    return lower, frozenset(English.Abbreviation.PREPOSITIVE_ABBREVIATIONS), exclaimed


def _safe_cuts(text: str, lang: str):
    """The starts of the sentences after each safe sentence end outside quotes and brackets, in order. A mark
    that closes what was never opened (in an earlier sentence) is let go; a quote still open at a sentence end
    is taken as unpaired when no quote mark closes within QUOTE_CHARS characters after that end (the next one
    opens, or none comes), and a quote or bracket still open after QUOTE_CHARS characters is forgotten (a
    typo, a mark for inches, an emoticon)."""
    lang = "ko" if lang == "ko" else "en"
    quotes = brackets = counted = since = 0
    for m in _SAFE_END[lang].finditer(text):
        if not _ends_a_word(text, m, lang):
            continue
        for q in _MARKS.finditer(text, counted, m.end("close")):
            mark = q.group()
            step = 1 if _opens(text, q.start()) else -1
            if mark in "()[]":
                brackets = max(0, brackets + step)
            else:
                quotes = max(0, quotes + step)
        counted = m.end("close")
        if quotes and not _closes_soon(text, m.end()):
            quotes = 0
        if quotes == brackets == 0:
            since = m.end()
            yield m.end()
        elif m.start() - since > QUOTE_CHARS:
            quotes = brackets = 0
            since = m.end()


def _opens(text: str, at: int) -> bool:
    """Whether the quote mark or bracket at `at` opens (a straight quote: after a space or a bracket)."""
    mark = text[at]
    return mark in _OPENING or mark == '"' and (at == 0 or text[at - 1] in "([" or text[at - 1].isspace())


def _ends_a_word(text: str, m: re.Match, lang: str) -> bool:
    """Whether what ends before the punctuation `m` found can end a sentence: a Hangul syllable (in Korean), or
    a word or a number as _WORD_BEFORE takes them (in English also the last of words joined by hyphens:
    well-known.) that is no abbreviation, or one that pysbd ends a sentence after (_CAPITAL_AFTER)."""
    end = m.start()
    if lang == "ko" and end and "\uac00" <= text[end - 1] <= "\ud7a3":
        return True
    start = end
    while start and (text[start - 1] in _ASCII_ALNUM or lang == "en" and start < end and text[start - 1] == "-"
                     and start > 1 and text[start - 2] in _ASCII_ALNUM):
        start -= 1
    found = _WORD_BEFORE[lang].fullmatch(text, start, end) if start < end else None
    if found is None:
        return False
    word = found.group("word")
    abbreviations, prepositive, exclaimed = _abbreviations()
    if lang == "ko":
        return word.lower() not in abbreviations
    if word is None or text[end] == "?":
        return True
    if text[end] == "!":
        return word not in exclaimed
    if found.group("compound") or word.lower() not in abbreviations:
        return True  # pysbd takes an abbreviation only after a space
    return (word.lower() not in prepositive and m.start("close") == end + 1
            and _CAPITAL_AFTER.match(text, m.end()) is not None)


def _closes_soon(text: str, pos: int) -> bool:
    """Whether the next quote mark within QUOTE_CHARS characters of pos closes a quote."""
    mark = _QUOTE_MARK.search(text, pos, pos + QUOTE_CHARS)
    return mark is not None and not _opens(text, mark.start())


def _last_match(pattern: re.Pattern, text: str, lo: int, hi: int) -> Optional[int]:
    end = None
    for m in pattern.finditer(text, lo, hi):
        end = m.end()
    return end


def _bounded_cut(text: str, start: int, size: int) -> int:
    """Where a chunk with no safe sentence end in its first `size` characters ends: at the last sentence end
    in the second half of them, else at the last space in them; with none, at the next space."""
    lo, hi = start + size // 2, start + size
    for pattern, first in ((_WEAK_END, lo), (_SPACE, lo), (_SPACE, start + 1)):
        cut = _last_match(pattern, text, first, hi)
        if cut is not None and start < cut < len(text):
            return cut
    space = _SPACE.search(text, hi)
    return space.end() if space else len(text)


def chunk_spans(text: str, lang: str, size: Optional[int] = None) -> list[Span]:
    """text cut into consecutive chunks at every safe sentence end (the whitespace after it goes with the
    chunk before), and where there is none for `size` characters at another sentence end or a space; a
    chunk is longer than `size` only where that many characters hold no space."""
    size = size or CHUNK_CHARS
    spans, start = [], 0
    for cut in [*_safe_cuts(text, lang), len(text)]:
        while cut - start > size:
            end = _bounded_cut(text, start, size)
            if end >= cut:
                break
            spans.append((start, end))
            start = end
        if cut > start:
            spans.append((start, cut))
            start = cut
    return spans
