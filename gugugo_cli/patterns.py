"""Patterns more than one module looks for in text: one definition of each."""

from __future__ import annotations

import re

_A = r"A-Za-z0-9"  # ASCII letters and digits

# A URL or IRI: a scheme (http, https, ftp, file) or www., then the characters a URL may hold, and letters of any
# script (an IRI such as https://ko.wikipedia.org/wiki/서울). Take its end through trim_url, which gives back
# the sentence's punctuation and a Korean particle written straight after it.
URL = rf"(?<![{_A}])(?:(?:https?|ftp|file)://|www\.)(?:[{_A}\-._~:/?#\[\]@!$&'()*+,;=%]|[^\W_])+"

_TRAILING = ".,;:!?'\""
_NON_ASCII_END = re.compile(r"[^\x00-\x7f]+\Z")
# Particles and endings Korean attaches to a word; written after a URL they belong to the sentence.
_PARTICLES = frozenset(
    "은 는 이 가 을 를 의 에 에서 에서는 에는 에게 로 으로 로는 으로는 와 과 도 만 까지 부터 처럼 이나 나 이다 입니다 "
    "이며 이고".split())


def _particle_end(text: str) -> int:
    """How many characters at the end of a URL are a Korean word attached to it rather than part of it: a run of
    non-ASCII letters straight after an ASCII letter, digit or closing bracket (`…/y에서`, `….com을`), or a
    particle alone after any other character (`…/에서`). A run after `/`, `=`, `_` … is a path segment."""
    m = _NON_ASCII_END.search(text)
    if not m or m.start() == 0:
        return 0
    before = text[m.start() - 1]
    if before.isascii() and (before.isalnum() or before in ")]") or m.group() in _PARTICLES:
        return len(m.group())
    return 0


def trim_url(text: str) -> str:
    """A URL's end without the sentence's punctuation, a Korean particle after it, or a closing bracket it did
    not open."""
    while text:
        last = text[-1]
        if last in _TRAILING:
            text = text[:-1]
        elif last in ")]" and text.count(last) > text.count("(" if last == ")" else "["):
            text = text[:-1]
        elif cut := _particle_end(text):
            text = text[:-cut]
        else:
            break
    return text
