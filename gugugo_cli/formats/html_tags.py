"""Tags and attributes of an HTML text: reading a raw start tag's attributes, pairing inline tags, splicing."""

from __future__ import annotations

import re
from typing import Optional

_ATTR = re.compile(r"""([^\s/>"'=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
TAG_NAME = re.compile(r"<\s*([^\s/>]+)")


def splice(text: str, edits) -> str:
    pieces, cursor = [], 0
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1])):
        pieces += [text[cursor:start], replacement]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def no_translate(attrs) -> bool:
    for k, v in attrs or []:
        k = k.lower()
        if k == "translate" and (v or "").strip().lower() == "no":
            return True
        if k == "class" and "notranslate" in (v or "").split():
            return True
    return False


def attributes(raw_tag: str):
    """(match, lowercase name, (value start, value end, quote)) of each attribute of a raw start tag; quote is
    '"', "'", '' (unquoted) or None (no value)."""
    name_end = TAG_NAME.match(raw_tag).end()
    for m in _ATTR.finditer(raw_tag, name_end):
        name = m.group(1).lower()
        if m.group(2) is not None:
            yield m, name, (m.start(2), m.end(2), '"')
        elif m.group(3) is not None:
            yield m, name, (m.start(3), m.end(3), "'")
        elif m.group(4) is not None:
            yield m, name, (m.start(4), m.end(4), "")
        else:
            yield m, name, (m.end(), m.end(), None)


def nbsp_form(raw: str) -> str:
    for form in ("&nbsp;", "&#160;", "&#xa0;", "&#xA0;"):
        if form in raw:
            return form
    return "\xa0"


def partners(seq) -> list[Optional[int]]:
    """For each (name, opening) tag: the index of its partner in the same sequence, or None. A closer pairs
    with the nearest opener of its name that is still open (whatever else is open above it)."""
    found: list[Optional[int]] = [None] * len(seq)
    open_by_name: dict = {}
    for i, (name, opening) in enumerate(seq):
        if opening:
            open_by_name.setdefault(name, []).append(i)
        elif open_by_name.get(name):
            k = open_by_name[name].pop()
            found[i], found[k] = k, i
    return found
