"""HTML (.html, .htm, .xhtml): the text a reader sees is translated in place; every other byte stays.

Python's HTML parser (tolerant of real-world markup) reports where every tag, text, entity and comment
starts; translations are spliced into the original text, so nothing is re-serialised: doctype, comments,
attribute order and quoting, entities and whitespace outside the translated text come back as they were.

Units: the text of each block (a paragraph, heading, list item, table cell, caption, `<title>`...), one unit
from one block-level tag to the next. Inline elements inside it (`<b>`, `<i>`, `<em>`, `<strong>`, `<a>`,
`<span>`, ... see INLINE) go to the translator as bare tags (`<a>`, `</a>`, without attributes) inside the
sentence, so a link stays on the words it was on. When the translation gives back the same tags, properly
nested, each gets its original tag (attributes and all) again; when it does not, the unit's paired inline
tags are dropped (the text stays, the pair goes) and tags that open or close outside the unit stay where
they were, so the markup is never left unbalanced. `<br>`, images and other void or unknown elements end a
unit. Attributes translated: alt, title, placeholder, aria-label (not on link, meta, style,
script, where a title names a style sheet), and the content of `<meta name="description">`.

Never translated: script, style, code, pre, kbd, samp, var, tt, textarea, svg, math, template, and any
element with translate="no" (or class "notranslate"), with everything inside them. The root element's
lang (and xml:lang) is set to the target language, added when missing. The output keeps the input's
encoding (and so its declaration); a character it cannot hold is written as a character reference.
"""

from __future__ import annotations

import codecs
import html
import logging
import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Optional

from ..errors import InputError
from ..segment import Segment
from ..textio import decode_bytes
from .base import FormatOptions

log = logging.getLogger(__name__)

INLINE = frozenset(
    "a abbr acronym b bdi bdo big cite data del dfn em font i ins label mark nobr q s small span strike "
    "strong sub sup time u".split()
)
SKIP = frozenset("script style code pre kbd samp var tt textarea svg math template".split())
VOID = frozenset("area base br col embed hr img input keygen link meta param source track wbr".split())
ATTRS = ("alt", "title", "placeholder", "aria-label")
_HEAD_ONLY = frozenset("base link meta script style".split())
_MAX_BYTES = 64 * 1024 * 1024
_ATTR = re.compile(r"""([^\s/>"'=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_TAG_NAME = re.compile(r"<\s*([^\s/>]+)")
_XML_DECL = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


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


class _Scanner(HTMLParser):
    """Start offset of everything the parser reports, in order."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.events: list[tuple] = []  # (kind, offset, tag, attrs)

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", self._offset(), tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.events.append(("startend", self._offset(), tag, attrs))

    def handle_endtag(self, tag):
        self.events.append(("end", self._offset(), tag, None))

    def handle_data(self, data):
        self.events.append(("text", self._offset(), None, None))

    def handle_entityref(self, name):
        self.events.append(("text", self._offset(), None, None))

    def handle_charref(self, name):
        self.events.append(("text", self._offset(), None, None))

    def handle_comment(self, data):
        self.events.append(("other", self._offset(), None, None))

    def handle_decl(self, decl):
        self.events.append(("other", self._offset(), None, None))

    def handle_pi(self, data):
        self.events.append(("other", self._offset(), None, None))

    def unknown_decl(self, data):
        self.events.append(("other", self._offset(), None, None))


def sniff_encoding(data: bytes) -> Optional[str]:
    """The encoding a document says it has: its byte-order mark, XML declaration or meta charset."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    head = data[:4096]
    m = _XML_DECL.match(head) or _META_CHARSET.search(head)
    if m:
        try:
            return codecs.lookup(m.group(1).decode("ascii")).name
        except LookupError:
            return None
    return None


class HtmlText:
    """An HTML or XHTML text split into units, and written back with their translations."""

    def __init__(self, text: str, tgt: str, xml: bool = False, only: Optional[frozenset] = None):
        self.text, self.tgt, self.xml, self.only = text, tgt, xml, only
        self.units: list[_Unit] = []
        self.lang_edits: list[tuple[int, int, str]] = []
        scanner = _Scanner(text)
        scanner.feed(text)
        scanner.close()
        events = scanner.events
        ends = [e[1] for e in events[1:]] + [len(text)]
        self._walk([(kind, start, end, tag, attrs) for (kind, start, tag, attrs), end in zip(events, ends)])

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
                if _no_translate(attrs) or tag in SKIP:
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
        for m, name, value_span in _attributes(raw):
            if name in ("lang", "xml:lang"):
                found = True
                a, b, quote = value_span
                if quote is None:  # `lang` with no value
                    self.lang_edits.append((start + m.end(), start + m.end(), f'="{self.tgt}"'))
                else:
                    self.lang_edits.append((start + a, start + b, self.tgt if quote else f'"{self.tgt}"'))
        if not found:
            name_end = start + _TAG_NAME.match(raw).end()
            extra = f' lang="{self.tgt}"' + (f' xml:lang="{self.tgt}"' if self.xml else "")
            self.lang_edits.append((name_end, name_end, extra))

    def _attributes(self, tag: str, start: int, end: int, attrs) -> None:
        names = dict((k.lower(), (v or "")) for k, v in attrs or [])
        wanted = set(ATTRS) if tag not in _HEAD_ONLY else set()  # a <link> title names a style sheet
        if tag == "meta" and names.get("name", "").lower() == "description":
            wanted.add("content")
        if not wanted & names.keys():
            return
        for m, name, (a, b, quote) in _attributes(self.text[start:end]):
            if name in wanted and quote is not None:
                raw = self.text[start + a:start + b]
                value = html.unescape(raw)
                if any(ch.isalpha() for ch in value) and value.strip() == value:
                    self.units.append(_Unit(start + a, start + b, [], value, quote=quote, nbsp=_nbsp_form(raw)))

    def _flush(self, run: list) -> None:
        parts = list(run)
        run.clear()
        # whitespace at the edges stays outside the unit, and so do tags at its edges that pair with nothing
        # in it (a closer of what opened before it) or wrap all of it (<b>...</b>)
        while parts:
            before = len(parts)
            while parts and parts[0].tag is None and not self.text[parts[0].start:parts[0].end].strip():
                parts.pop(0)
            while parts and parts[-1].tag is None and not self.text[parts[-1].start:parts[-1].end].strip():
                parts.pop()
            if not parts:
                break
            paired = _paired([(p.tag, p.opening) for p in parts])
            if parts[0].tag and not paired[0]:
                parts.pop(0)
            elif parts[-1].tag and not paired[-1]:
                parts.pop()
            elif len(parts) > 2 and parts[0].tag and parts[0].opening and _matching_close(parts, 0) == len(parts) - 1:
                parts = parts[1:-1]
            if len(parts) == before:
                break
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
        self.units.append(_Unit(start, end, parts, "".join(model), nbsp=_nbsp_form(raw_text)))

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
        return _splice(self.text, edits), True

    def _raw(self, start: int, end: int, attrs: list) -> str:
        """The original text of a range, with the translated attribute values inside it."""
        inner = [(a - start, b - start, v) for a, b, v in attrs if start <= a and b <= end]
        return _splice(self.text[start:end], inner)

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
        if Counter(found) == Counter(source) and _shape(found) is not None and _shape(found) == _shape(source) \
                or found == source:
            raws: dict = {}
            for p in tags:
                raws.setdefault((p.tag, p.opening), []).append(self._raw(p.start, p.end, attrs))
            out = [self._escape(texts[0], unit.nbsp)]
            for (name, opening), text in zip(found, texts[1:]):
                out += [raws[(name, opening)].pop(0), self._escape(text, unit.nbsp)]
            return "".join(out)
        # The tags did not come back as they were: drop the pairs, keep the tags that pair outside the unit.
        plain = self._escape("".join(texts), unit.nbsp)
        paired = _paired(source)
        orphans = [p for p, is_paired in zip(tags, paired) if not is_paired]
        text_parts = [p for p in unit.parts if p.tag is None]
        biggest = max(text_parts, key=lambda p: len(self.text[p.start:p.end].strip()))
        before = sum(1 for p in orphans if p.start < biggest.start)
        return "".join([self._raw(p.start, p.end, attrs) for p in orphans[:before]] + [plain]
                       + [self._raw(p.start, p.end, attrs) for p in orphans[before:]])


def _splice(text: str, edits) -> str:
    pieces, cursor = [], 0
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1])):
        pieces += [text[cursor:start], replacement]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _no_translate(attrs) -> bool:
    for k, v in attrs or []:
        k = k.lower()
        if k == "translate" and (v or "").strip().lower() == "no":
            return True
        if k == "class" and "notranslate" in (v or "").split():
            return True
    return False


def _attributes(raw_tag: str):
    """(match, lowercase name, (value start, value end, quote)) of each attribute of a raw start tag; quote is
    '"', "'", '' (unquoted) or None (no value)."""
    name_end = _TAG_NAME.match(raw_tag).end()
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


def _nbsp_form(raw: str) -> str:
    for form in ("&nbsp;", "&#160;", "&#xa0;", "&#xA0;"):
        if form in raw:
            return form
    return "\xa0"


def _matching_close(parts: list, i: int) -> Optional[int]:
    depth = 0
    for k in range(i, len(parts)):
        p = parts[k]
        if p.tag == parts[i].tag:
            depth += 1 if p.opening else -1
            if depth == 0:
                return k
    return None


def _shape(seq) -> Optional[tuple]:
    """Tags left unpaired once properly nested pairs are taken out (closers, then openers); None if they cross."""
    stack, closers = [], []
    for name, opening in seq:
        if opening:
            stack.append(name)
        elif stack and stack[-1] == name:
            stack.pop()
        elif not stack:
            closers.append(name)
        else:
            return None
    return tuple(closers), tuple(stack)


def _paired(seq) -> list[bool]:
    """For each tag: whether its partner is in the same sequence."""
    paired = [False] * len(seq)
    stack = []
    for i, (name, opening) in enumerate(seq):
        if opening:
            stack.append(i)
        else:
            for k in range(len(stack) - 1, -1, -1):
                if seq[stack[k]][0] == name:
                    paired[i] = paired[stack[k]] = True
                    del stack[k]
                    break
    return paired


def decode_html(data: bytes, name: str) -> tuple[str, str, bytes]:
    """(text, encoding, byte-order mark): the declared encoding first, else as for text files."""
    declared = sniff_encoding(data)
    if declared:
        bom = next((b for b, e in _BOMS if data.startswith(b)), b"")
        body = data[len(bom):]
        if bom:
            declared = next(e for b, e in _BOMS if b == bom)
        if b"\x00" in body[:8192] and not declared.startswith("utf-16"):
            raise InputError(name, "looks like a binary file, not HTML")
        for encoding in (declared, "cp949") if declared in ("euc_kr", "euc-kr") else (declared,):
            try:
                return body.decode(encoding), encoding, bom
            except UnicodeDecodeError:
                pass
        log.debug("%s: not valid %s, guessing the encoding", name, declared)
    decoded = decode_bytes(data, name)
    bom = next((b for b, e in _BOMS if data.startswith(b)), b"") if decoded.bom else b""
    return decoded.text, decoded.encoding, bom


def encode_html(text: str, encoding: str, bom: bytes) -> bytes:
    return bom + text.encode(encoding, errors="xmlcharrefreplace")


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

    def texts(self) -> list[str]:
        return self.html.texts()

    def render(self, translated: list[str]) -> bytes:
        text, changed = self.html.render(translated)
        if not changed:
            return self.data
        return encode_html(text, self.encoding, self.bom)
