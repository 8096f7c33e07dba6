"""Patterns more than one module looks for in text: one definition of each."""

from __future__ import annotations

_A = r"A-Za-z0-9"  # ASCII letters and digits: Hangul around a URL (a particle) is not part of it

# A URL: a scheme (http, https, ftp, file) or www., then the characters a URL may hold; take its end through
# trim_url, which gives back the sentence's punctuation after it.
URL = rf"(?<![{_A}])(?:(?:https?|ftp|file)://|www\.)[{_A}\-._~:/?#\[\]@!$&'()*+,;=%]+"

_TRAILING = ".,;:!?'\""


def trim_url(text: str) -> str:
    """A URL's end without the sentence's punctuation, and without a closing bracket it did not open."""
    while text:
        last = text[-1]
        if last in _TRAILING:
            text = text[:-1]
        elif last in ")]" and text.count(last) > text.count("(" if last == ")" else "["):
            text = text[:-1]
        else:
            break
    return text
