"""One field's text -> segments and kept pieces, like any text (segment.plan_text), with what must not be
translated cut out first: fenced code blocks, inline code, URLs; and list items, headings and quotes
planned one by one with their markers kept, so a list is not read as one long sentence."""

from __future__ import annotations

import re
from functools import lru_cache

from . import config
from .patterns import URL, trim_url
from .segment import TextPlan, approx_tokens, plan_text

_FENCE = r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n]*(?:\n.*?(?:\n[ \t]*(?P=fence)[ \t]*(?=\n|\Z))|.*\Z)"
_INLINE_CODE = r"(?P<ticks>`+)[^`\n](?:[^\n]*?[^`\n])??(?P=ticks)(?!`)"
_PROTECTED = re.compile(f"{_FENCE}|{_INLINE_CODE}|{URL}", re.M | re.S)
# markers at the start of a line: list bullets and numbers, headings, quotes
_MARKER = re.compile(r"^[ \t]*(?:[-*+•]|\d{1,3}[.)]|#{1,6}|>)[ \t]+(?=\S)", re.M)


def _protected(text: str):
    if not ("`" in text or "~" in text or "://" in text or "www." in text):  # what each of them holds
        return
    for m in _PROTECTED.finditer(text):
        start, end = m.span()
        if m.group("fence") is None and m.group("ticks") is None:  # a URL: not its trailing punctuation
            end = start + len(trim_url(m.group()))
        yield start, end


def _plan_prose(text: str, at_line_start: bool, tgt: str, src: str) -> list:
    pieces, pos = [], 0
    for m in _MARKER.finditer(text):
        if m.start() == 0 and not at_line_start:
            continue
        pieces += _plain(text[pos:m.start()], tgt, src)
        pieces.append(m.group())
        pos = m.end()
    return pieces + _plain(text[pos:], tgt, src)


def _plain(text: str, tgt: str, src: str) -> list:
    return plan_text(text, tgt, src, config.MAX_SEGMENT_TOKENS, approx_tokens).pieces if text else []


@lru_cache(maxsize=8192)
def plan_field(text: str, tgt: str, src: str = "auto") -> TextPlan:
    """The plan of one field's text (the same text always gives the same plan; datasets repeat texts such
    as system prompts, so plans are remembered)."""
    pieces, pos = [], 0
    for start, end in _protected(text):
        if start < pos or end <= start:
            continue
        pieces += _plan_prose(text[pos:start], pos == 0 or text[pos - 1] == "\n", tgt, src)
        pieces.append(text[start:end])
        pos = end
    pieces += _plan_prose(text[pos:], pos == 0 or text[pos - 1] == "\n", tgt, src)
    return TextPlan([p for p in pieces if not (isinstance(p, str) and p == "")])
