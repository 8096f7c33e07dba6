"""Sentence splitters, loaded on first use, and texts cut at safe sentence ends into chunks of bounded size.

Korean: Kiwi (kiwipiepy, the `kiwi` extra) by default, kss (`punct` backend) with `--splitter kss` or when
kiwipiepy is not installed; English: pysbd. A text is first cut at the sentence ends no splitter disputes (a
Korean final ending or an English word that is no abbreviation, then a space and a new sentence, outside
quotes), and where there is none for CHUNK_CHARS characters at another sentence end or a space; the splitter
runs only on chunks that may hold more than one sentence. So splitting costs the same per character whatever
the length of a paragraph (splitters search their whole input again and again: quadratic on one long
paragraph), and most sentences need no splitter at all.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
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

    with warnings.catch_warnings():  # num_workers=0 meant all cores before kiwipiepy 0.21
        warnings.simplefilter("ignore", DeprecationWarning)
        # no thread of its own (1 would start one): worker processes may be forked from this one once it is loaded
        return Kiwi(num_workers=0)


def preload(lang: str) -> None:
    """The splitter of `lang` loaded now: worker processes forked afterwards share its memory."""
    split("첫째 문장이다. 둘째 문장이다." if lang == "ko" else "One sentence. And another.", lang)


@lru_cache(maxsize=1)
def _english_segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


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


# Where a sentence can end inside a text: before a space, and (in a text that has such an end) before an
# opening tag; a text without one is one sentence.
_INNER_END = re.compile(r"[.!?。？！…]+[\"'”’)\]]*\s+\S")
_INNER_END_OR_TAG = re.compile(r"[.!?。？！…]+[\"'”’)\]]*(?:\s+\S|<(?!/))")


def may_hold_sentences(text: str, before_tags: bool = False) -> bool:
    """Whether text (stripped) may hold more than one sentence, so that a splitter must look at it."""
    return (_INNER_END_OR_TAG if before_tags else _INNER_END).search(text) is not None


def split(text: str, lang: str) -> Optional[list[Span]]:
    """Spans of the sentences of text (no line breaks in it), found by the language's splitter; None or an
    empty list when the splitter gave back text it was not given."""
    if lang != "ko":
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


_CLOSING_QUOTE = re.compile("[\"'”’」』]$")
_QUOTATIVE = re.compile(r"(?:이?라?고|이?라며|이?라는|이?란|하고|하며|며|면서|라면서)(?:\s|$)")


def _quote_goes_on(text: str, end: int, start: int) -> bool:
    """Whether a cut after a closing quote is inside a sentence: the quote's particle follows without a space
    ("클리퍼"와, “됐어요."하고), or a quotative one after a space (“뭐라고요?" 라며)."""
    if not _CLOSING_QUOTE.search(text, 0, end):
        return False
    return (start == end and "\uac00" <= text[start] <= "\ud7a3") or bool(_QUOTATIVE.match(text, start))


# --- Chunks ------------------------------------------------------------------------------------------------

# Quote marks and brackets: a straight quote opens after a space or a bracket (or at the start), closes elsewhere.
_QUOTES = re.compile(r'(?P<open>[“«「『(\[]|(?<![^\s(\[])")|(?P<close>[”»」』)\]"])')
# Sentence ends every splitter takes: a Hangul syllable (a final ending: 다. 요. 까?) or a word of three or more
# Latin letters, lower-case but the first, that is no abbreviation; then its punctuation, a space and a new
# sentence (in Korean, not a quotative particle: 왜? 하고 물었다). Counted from the last cut, the quotes and
# brackets before it are closed, so a quote after the space opens the next sentence.
_LATIN_WORD = r"(?<![\w.'’-])(?P<word>[A-Za-z][a-z]{2,})"
_SAFE_END = {
    "ko": re.compile(rf"(?:(?<=[\uac00-\ud7a3])|{_LATIN_WORD})[.!?]+\s+(?=[\"“]?[\uac00-\ud7a3A-Za-z0-9])"
                     r"(?!(?:이?라?고|이?라며|하고|하며|며|면서)\s)"),
    "en": re.compile(rf"{_LATIN_WORD}[.!?]+\s+(?=[\"“]?(?:[A-Z][a-z]|I[\s'’]))"),
}
_WEAK_END = re.compile(r"[.!?。？！…]+[\"'”’)\]]*\s+")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _abbreviations() -> frozenset:
    from pysbd.lang.english import English

    return frozenset(a.lower() for a in English.Abbreviation.ABBREVIATIONS)


def _safe_cuts(text: str, lang: str):
    """The starts of the sentences after each safe sentence end outside quotes and brackets, in order. A mark
    that closes what was never opened (in an earlier sentence) is let go; a quote or bracket still open after
    QUOTE_CHARS characters is taken as unpaired (a typo, a mark for inches, an emoticon) and forgotten."""
    pattern = _SAFE_END["ko" if lang == "ko" else "en"]
    depth, counted, since = 0, 0, 0
    for m in pattern.finditer(text):
        if m.group("word") and m.group("word").lower() in _abbreviations():
            continue
        for q in _QUOTES.finditer(text, counted, m.start()):
            depth = depth + 1 if q.lastgroup == "open" else max(0, depth - 1)
        counted = m.start()
        if depth == 0:
            since = m.end()
            yield m.end()
        elif m.start() - since > QUOTE_CHARS:
            depth, since = 0, m.end()


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
