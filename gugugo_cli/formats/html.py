"""HTML (.html, .htm, .xhtml): the text a reader sees is translated in place; every other byte stays.

Python's HTML parser (tolerant of real-world markup) reports where every tag, text, entity and comment
starts; translations are spliced into the original text, so nothing is re-serialised: doctype, comments,
attribute order and quoting, entities and whitespace outside the translated text come back as they were.

Units: the text of each block (a paragraph, heading, list item, table cell, caption, `<title>`...), one unit
from one block-level tag to the next. Inline elements inside it (`<b>`, `<i>`, `<em>`, `<strong>`, `<a>`,
`<span>`, ... see INLINE) go to the translator as bare tags (`<a>`, `</a>`, without attributes) inside the
sentence, so a link stays on the words it was on. The translation stream gives the same tags back
(inline_tags.py: a segment that loses one is translated again with its tags masked, then piece by piece
between them); each gets its original tag (attributes and all) again. A unit whose translation still lacks
its tags (one not made by that stream) is left as it was, so no element is lost and no debris is left. `<br>`, images and other void or unknown elements end a
unit. Attributes translated: alt, title, placeholder, aria-label (not on link, meta, style,
script, where a title names a style sheet), and the content of `<meta name="description">`.

Never translated: script, style, code, pre, kbd, samp, var, tt, textarea, svg, math, template, and any
element with translate="no" (or class "notranslate"), with everything inside them. The root element's
lang (and xml:lang) is set to the target language, added when missing. The output keeps the input's
encoding (and so its declaration); a character it cannot hold is written as a character reference.
An XHTML file that declares entities in its DOCTYPE (an internal subset) is refused.
"""

from __future__ import annotations

import html
import re
from collections import Counter, deque
from dataclasses import dataclass
from typing import Optional

from ..errors import InputError
from ..segment import Segment
from .base import FormatOptions
from .html_charset import decode_html, encode_html, sniff_encoding
from .html_scan import scan
from ..inline_tags import shape
from .html_tags import TAG_NAME, attributes, nbsp_form, no_translate, partners, splice

__all__ = ["ATTRS", "INLINE", "SKIP", "VOID", "HtmlDocument", "HtmlText", "decode_html", "encode_html",
           "sniff_encoding"]

INLINE = frozenset(
    "a abbr acronym b bdi bdo big cite data del dfn em font i ins label mark nobr q s small span strike "
    "strong sub sup time u".split()
)
# (noembed, noframes, iframe and xmp hold raw text to a browser, never markup: what looks like tags in them is not)
SKIP = frozenset("script style code pre kbd samp var tt textarea svg math template noembed noframes iframe xmp".split())
VOID = frozenset("area base br col embed hr img input keygen link meta param source track wbr".split())
ATTRS = ("alt", "title", "placeholder", "aria-label")
_HEAD_ONLY = frozenset("base link meta script style".split())
_MAX_BYTES = 64 * 1024 * 1024


@dataclass
class _Part:
    start: int
    end: int
    tag: Optional[str] = None  # None: text; else the element's name
    opening: bool = False


@dataclass
class _Unit:
    start: int
    end: int
    parts: list  # _Part, in order (text and inline tags), or [] for an attribute value
    text: str  # what the translator gets
    lines: Segment = None
    quote: Optional[str] = None  # for an attribute value: its quote character ('' when unquoted)
    nbsp: str = "\xa0"

    def __post_init__(self):
        self.lines = Segment.from_original("", self.text)


class HtmlText:
    """An HTML or XHTML text split into units, and written back with their translations."""

    def __init__(self, text: str, tgt: str, xml: bool = False, only: Optional[frozenset] = None):
        self.text, self.tgt, self.xml, self.only = text, tgt, xml, only
        self.units: list[_Unit] = []
        self.lang_edits: list[tuple[int, int, str]] = []
        events, self.internal_subset = scan(text)  # internal_subset: entity declarations in a DOCTYPE
        self._walk(events)

    def _walk(self, events) -> None:
        skip: Optional[list] = None  # [tag, depth] of the element being skipped
        run: list[_Part] = []
        root_seen = False
        # `only`: names of the elements whose text is translated (and nothing else), for XML like OPF and NCX
        inside_only = 0
        for kind, start, end, tag, attrs in events:
            if skip is not None:
                if tag == skip[0] and kind == "start":
                    skip[1] += 1
                elif tag == skip[0] and kind == "end":
                    skip[1] -= 1
                    if skip[1] == 0:
                        skip = None
                continue
            if kind == "text":
                if self.only is None or inside_only:
                    run.append(_Part(start, end))
                continue
            if kind in ("start", "startend"):
                if not root_seen and self.only is None:
                    root_seen = True
                    if tag == "html":
                        self._lang(start, end)
                if self.only is None:
                    self._attributes(tag, start, end, attrs)
                if no_translate(attrs) or tag in SKIP:
                    self._flush(run)
                    if kind == "start" and tag not in VOID:
                        skip = [tag, 1]
                    continue
            if self.only is not None:
                if tag in self.only and kind in ("start", "end"):
                    self._flush(run)
                    inside_only = max(0, inside_only + (1 if kind == "start" else -1))
                continue
            if kind in ("start", "end") and tag in INLINE:
                run.append(_Part(start, end, tag, kind == "start"))
            else:
                self._flush(run)
        self._flush(run)

    def _lang(self, start: int, end: int) -> None:
        raw = self.text[start:end]
        found = False
        for m, name, value_span in attributes(raw):
            if name in ("lang", "xml:lang"):
                found = True
                a, b, quote = value_span
                if quote is None:  # `lang` with no value
                    self.lang_edits.append((start + m.end(), start + m.end(), f'="{self.tgt}"'))
                else:
                    self.lang_edits.append((start + a, start + b, self.tgt if quote else f'"{self.tgt}"'))
        if not found:
            name_end = start + TAG_NAME.match(raw).end()
            extra = f' lang="{self.tgt}"' + (f' xml:lang="{self.tgt}"' if self.xml else "")
            self.lang_edits.append((name_end, name_end, extra))

    def _attributes(self, tag: str, start: int, end: int, attrs) -> None:
        names = dict((k.lower(), (v or "")) for k, v in attrs or [])
        wanted = set(ATTRS) if tag not in _HEAD_ONLY else set()  # a <link> title names a style sheet
        if tag == "meta" and names.get("name", "").lower() == "description":
            wanted.add("content")
        if not wanted & names.keys():
            return
        for m, name, (a, b, quote) in attributes(self.text[start:end]):
            if name in wanted and quote is not None:
                raw = self.text[start + a:start + b]
                value = html.unescape(raw)
                if any(ch.isalpha() for ch in value) and value.strip() == value:
                    self.units.append(_Unit(start + a, start + b, [], value, quote=quote, nbsp=nbsp_form(raw)))

    def _flush(self, run: list) -> None:
        parts = list(run)
        run.clear()
        lo, hi = self._trim(parts)
        parts = parts[lo:hi + 1]
        texts = [p for p in parts if p.tag is None]
        if not texts:
            return
        raw_text = "".join(self.text[p.start:p.end] for p in texts)
        if not any(ch.isalpha() for ch in html.unescape(raw_text)):
            return
        start, end = parts[0].start, parts[-1].end
        first = parts[0]
        if first.tag is None:  # leading whitespace of the first text stays outside
            raw = self.text[first.start:first.end]
            start = first.start + len(raw) - len(raw.lstrip())
        last = parts[-1]
        if last.tag is None:
            raw = self.text[last.start:last.end]
            end = last.start + len(raw.rstrip())
        model = []
        for p in parts:
            if p.tag is None:
                model.append(html.unescape(self.text[max(p.start, start):min(p.end, end)]))
            else:
                model.append(f"<{'' if p.opening else '/'}{p.tag}>")
        self.units.append(_Unit(start, end, parts, "".join(model), nbsp=nbsp_form(raw_text)))

    def _trim(self, parts: list) -> tuple[int, int]:
        """The first and last part of a unit: whitespace at the edges stays outside it, and so do tags at its
        edges that pair with nothing in it (a closer of what opened before it) or wrap all of it (<b>...</b>).
        Taking out such tags leaves the others' partners as they were, so they are paired once."""
        partner = partners([(p.tag, p.opening) for p in parts])
        lo, hi = 0, len(parts) - 1
        while lo <= hi:
            before = (lo, hi)
            while lo <= hi and parts[lo].tag is None and not self.text[parts[lo].start:parts[lo].end].strip():
                lo += 1
            while lo <= hi and parts[hi].tag is None and not self.text[parts[hi].start:parts[hi].end].strip():
                hi -= 1
            if lo > hi:
                break
            first, last = parts[lo], parts[hi]
            if first.tag and partner[lo] is None:
                lo += 1
            elif last.tag and partner[hi] is None:
                hi -= 1
            elif hi - lo + 1 > 2 and first.tag and first.opening and partner[lo] == hi:
                lo, hi = lo + 1, hi - 1
            if (lo, hi) == before:
                break
        return lo, hi

    def texts(self) -> list[str]:
        return [u.lines.text for u in self.units]

    def render(self, translated: list[str]) -> tuple[str, bool]:
        """The text with the translations spliced in, and whether anything changed."""
        changed = [(u, u.lines.restore(new.replace("\n", " "))) for u, new in zip(self.units, translated)
                   if new != u.lines.text]
        if not changed:
            return self.text, False
        attrs = [(u.start, u.end, self._attribute_value(u, new)) for u, new in changed if u.quote is not None]
        edits = []
        for unit, new in changed:
            if unit.quote is None:
                edits.append((unit.start, unit.end, self._markup(unit, new, attrs)))
        # an attribute of an inline tag inside a translated unit went in with its tag
        edits += [a for a in attrs if not any(s <= a[0] and a[1] <= e for s, e, _ in edits)]
        edits += self.lang_edits
        return splice(self.text, edits), True

    def _raw(self, start: int, end: int, attrs: list) -> str:
        """The original text of a range, with the translated attribute values inside it."""
        inner = [(a - start, b - start, v) for a, b, v in attrs if start <= a and b <= end]
        return splice(self.text[start:end], inner)

    def _escape(self, text: str, nbsp: str) -> str:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return text.replace("\xa0", nbsp) if nbsp != "\xa0" else text

    def _attribute_value(self, unit: _Unit, new: str) -> str:
        value = self._escape(new, unit.nbsp)
        if unit.quote == "'":
            return value.replace("'", "&#39;")
        value = value.replace('"', "&quot;")
        return value if unit.quote == '"' else f'"{value}"'

    def _markup(self, unit: _Unit, new: str, attrs: list) -> str:
        tags = [p for p in unit.parts if p.tag]
        if not tags:
            return self._escape(new, unit.nbsp)
        names = sorted({p.tag for p in tags}, key=len, reverse=True)
        pattern = re.compile(r"<(/?)(" + "|".join(map(re.escape, names)) + r")>")
        pieces = pattern.split(new)  # text, slash, name, text, ...
        found = [(pieces[i + 1], pieces[i] != "/") for i in range(1, len(pieces), 3)]
        source = [(p.tag, p.opening) for p in tags]
        texts = pieces[0::3]
        if not (Counter(found) == Counter(source) and shape(found) is not None and shape(found) == shape(source)
                or found == source):
            # The tags did not come back (the translation stream retries such segments, so this is a
            # translation from elsewhere): the unit stays as it was, no element lost, no tag debris left.
            return self._raw(unit.start, unit.end, attrs)
        raws: dict = {}
        for p in tags:
            raws.setdefault((p.tag, p.opening), deque()).append(self._raw(p.start, p.end, attrs))
        out = [self._escape(texts[0], unit.nbsp)]
        for (name, opening), text in zip(found, texts[1:]):
            out += [raws[(name, opening)].popleft(), self._escape(text, unit.nbsp)]
        return "".join(out)


class HtmlDocument:
    def __init__(self, data: bytes, name: str, options: FormatOptions):
        if len(data) > _MAX_BYTES:
            raise InputError(name, f"HTML file too large ({len(data) // 2**20} MiB; at most {_MAX_BYTES // 2**20})")
        self.data = data
        text, self.encoding, self.bom = decode_html(data, name)
        if not re.search(r"<[A-Za-z!?/]", text) and text.strip():
            raise InputError(name, "not an HTML document (no tags)")
        xml = name.lower().endswith(".xhtml") or text.lstrip("\ufeff").startswith("<?xml")
        try:
            self.html = HtmlText(text, options.tgt, xml=xml)
        except (AssertionError, RecursionError, ValueError) as e:
            raise InputError(name, f"cannot read as HTML ({type(e).__name__}: {str(e)[:100]})") from None
        if xml and self.html.internal_subset:
            raise InputError(name, "declares entities in its DOCTYPE (an internal DTD subset); refused")

    def texts(self) -> list[str]:
        return self.html.texts()

    def render(self, translated: list[str]) -> bytes:
        text, changed = self.html.render(translated)
        if not changed:
            return self.data
        return encode_html(text, self.encoding, self.bom)
