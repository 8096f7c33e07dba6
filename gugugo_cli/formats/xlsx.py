"""Excel workbooks (.xlsx): the text of every cell on every sheet, comments and the text of shapes are
translated in the package's XML parts; everything else stays as it was.

- Shared strings (xl/sharedStrings.xml): each string is translated once, whatever the number of cells that
  show it; only their texts are held in memory, and the strings left alone keep their bytes; a rich-text string is one unit across its runs (the translation goes into the first run, the others
  are emptied, so run formatting stays). Phonetic guides (rPh: readings over characters of a Japanese string)
  are not translated; a string that is translated loses them, as they would name characters it no longer has.
- Inline strings of the worksheets (cells with t="inlineStr"), the same way.
- Comments (notes) and threaded comments; the author's name Excel puts in bold before a note is kept.
- Text boxes and shapes drawn on the sheets (xl/drawings): DrawingML paragraphs, as in PowerPoint.
- Strict Open XML workbooks (Excel's "Strict Open XML Spreadsheet", namespace purl.oclc.org/ooxml) are read and
  written like the usual (transitional) ones.
- Left alone: formulas and their cached results, numbers, dates, booleans, styles, sheet names, defined names,
  headers and footers, data validation messages, charts, images, pivot tables. A string that names a column of
  a table (a structured reference such as Table1[Price] depends on it) or a field of a pivot table (refreshing
  it looks the name up in the source's header row) is not translated.

No part is read with openpyxl (which drops charts and images on save): the package is rewritten with only the
changed parts serialized again (formats/xmlzip.py).
"""

from __future__ import annotations

import io
import re
from array import array
from dataclasses import dataclass

from ..errors import InputError
from .base import FormatOptions
from .xmlzip import (_DECLARATION, _ENCODING, Paragraph, Part, XmlZipDocument, _reason, content_types,
                     drawing_paragraphs, open_package, parser, serialize, write_package)

S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
STRICT = "{http://purl.oclc.org/ooxml/spreadsheetml/main}"
_TC = "{http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments}"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml."
_WORKBOOK = (_CT + "sheet.main+xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")


def _ns(root) -> str:
    """The SpreadsheetML namespace a part is written in: transitional or Strict."""
    return STRICT if root.tag.startswith(STRICT) else S


@dataclass
class _StringItem(Paragraph):
    """A string item (si, is, comment text) whose phonetic guides (rPh) go when its text is changed."""

    item: object = None

    def set_text(self, new: str) -> None:
        super().set_text(new)
        for guide in self.item.findall(f"{_ns(self.item)}rPh"):
            self.item.remove(guide)


def _rich_text(element, preserve=True):
    """The texts of a string item (si, is, comment text): its own t, or the t of each run; not rPh."""
    ns = _ns(element)
    texts = element.findall(f"{ns}t") + element.findall(f"{ns}r/{ns}t")
    if not texts:
        return None
    return _StringItem(texts, preserve_space=preserve, item=element)


class XlsxDocument(XmlZipDocument):
    kind = "Excel workbook"

    def __init__(self, data: bytes, name: str, options: FormatOptions):
        zip_file = open_package(data, name, self.kind, "old binary Excel format (.xls): save it as .xlsx first",
                                limits=options.limits)
        super().__init__(data, name, zip_file)
        self.options = options
        types = content_types(self.zip, name, self.kind)
        if not any(ct in _WORKBOOK for ct in types.values()):
            raise InputError(name, "a zip file that is not an Excel workbook (no workbook part)")
        columns = set()
        for member, ct in types.items():
            if ct == _CT + "table+xml":
                columns.update(c.get("name") for c in self.read_part(member).iter(f"{S}tableColumn",
                                                                                   f"{STRICT}tableColumn"))
            elif ct == _CT + "pivotCacheDefinition+xml":
                columns.update(c.get("name") for c in self.read_part(member).iter(f"{S}cacheField",
                                                                                   f"{STRICT}cacheField"))

        def wanted(paragraph):
            return paragraph is not None and paragraph.text not in columns

        for member, ct in types.items():
            if ct == _CT + "sharedStrings+xml":
                self.parts.append(_SharedStrings(self, member, wanted))
            elif ct == _CT + "worksheet+xml":
                if b"inlineStr" not in self.zip.read(member):
                    continue
                root = self.read_part(member)
                ns = _ns(root)
                cells = (c for c in root.iter(f"{ns}c") if c.get("t") == "inlineStr" and c.find(f"{ns}f") is None)
                self._add(member, root, [p for p in (_rich_text(c.find(f"{ns}is")) for c in cells
                                                     if c.find(f"{ns}is") is not None) if wanted(p)])
            elif ct == _CT + "comments+xml":
                root = self.read_part(member)
                ns = _ns(root)
                authors = [a.text or "" for a in root.iter(f"{ns}author")]
                paragraphs = []
                for comment in root.iter(f"{ns}comment"):
                    p = _rich_text(comment.find(f"{ns}text")) if comment.find(f"{ns}text") is not None else None
                    if p is None:
                        continue
                    author = _index(authors, comment.get("authorId"))
                    if len(p.texts) > 1 and author and (p.texts[0].text or "").strip() == author + ":":
                        p.texts = p.texts[1:]  # "Author:" in bold, as Excel writes a note
                    paragraphs.append(p)
                self._add(member, root, paragraphs)
            elif ct == "application/vnd.ms-excel.threadedcomments+xml":
                root = self.read_part(member)
                self._add(member, root, [Paragraph([t]) for t in root.iter(f"{_TC}text")])
            elif ct == "application/vnd.openxmlformats-officedocument.drawing+xml":
                root = self.read_part(member)
                self._add(member, root, drawing_paragraphs(root))

    def _add(self, member, root, paragraphs) -> None:
        if paragraphs:
            self.parts.append(Part(member, root, paragraphs))

    def texts(self) -> list[str]:
        return [t for part in self.parts for t in (part.texts if isinstance(part, _SharedStrings) else
                                                    (p.text for p in part.paragraphs))]

    def render(self, translated: list[str]) -> bytes:
        new: dict[str, bytes] = {}
        cursor = 0
        for part in self.parts:
            if isinstance(part, _SharedStrings):
                count = len(part.texts)
                data = part.render(translated[cursor:cursor + count])
            else:
                count = len(part.paragraphs)
                data = self._render_part(part, translated[cursor:cursor + count])
            cursor += count
            if data is not None:
                new[part.member] = data
        return write_package(self.zip, new, self.mimetype) if new else self.data

    def _render_part(self, part: Part, translated: list[str]):
        changed = False
        for paragraph, text in zip(part.paragraphs, translated):
            if text != paragraph.text:
                self.place(paragraph, text)
                changed = True
        return serialize(part.root, self.zip.read(part.member)) if changed else None


class _SharedStrings:
    """xl/sharedStrings.xml, kept as the texts of its strings and their places only (a workbook may have a
    million of them, and a tree of elements costs about ten times the text): the part is read as a stream,
    and written back by splicing the changed items into its bytes (_Splice)."""

    def __init__(self, doc: XlsxDocument, member: str, wanted):
        self.doc, self.member = doc, member
        self.texts: list[str] = []
        self.places = array("q")  # the place of each text among the part's string items (si)
        for i, item in enumerate(_stream_items(doc, member)):
            p = _rich_text(item)
            if wanted(p):
                self.texts.append(p.text)
                self.places.append(i)

    def render(self, translated: list[str]):
        """The part with the changed string items written again and every other byte as it was."""
        if all(old == text for old, text in zip(self.texts, translated)):
            return None
        data = self.doc.zip.read(self.member)
        head = _DECLARATION.match(data)
        encoding = _ENCODING.search(head.group(0)) if head else None
        if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (
                encoding and encoding.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8")):
            return self._render_whole(data, translated)
        from xml.parsers import expat

        try:
            return _Splice(self, data, translated).run()
        except expat.ExpatError:  # a part lxml reads that expat does not: written whole, as other parts are
            return self._render_whole(data, translated)

    def _render_whole(self, data: bytes, translated: list[str]):
        changes = {self.places[k]: text for k, (old, text) in enumerate(zip(self.texts, translated)) if text != old}
        root = self.doc.read_part(self.member)
        for i, item in enumerate(root.iterchildren(f"{_ns(root)}si")):
            if i in changes:
                self.doc.place(_rich_text(item), changes[i])
        return serialize(root, data)


class _Splice:
    """The shared-strings part written as it was, but for the runs of string items (CHUNK at a time) in which a
    text changed: such a run is parsed inside the part's root start tag, given its translations and written as
    lxml writes it. expat (which tells where each tag begins) finds the items; the part was checked when it
    was read (well-formed, no DOCTYPE)."""

    CHUNK = 256

    def __init__(self, strings: _SharedStrings, data: bytes, translated: list[str]):
        from xml.parsers import expat

        self.strings, self.data, self.translated = strings, data, translated
        self.out, self.at, self.k, self.n, self.depth = io.BytesIO(), 0, 0, 0, 0
        self.root = self.si = self.close = self.head = None
        self.pending: list = []  # (item's number in the chunk, its new text)
        self.chunk_start = self.chunk_end = 0
        self.parser = parser()
        self.expat = expat.ParserCreate(namespace_separator=" ")
        self.expat.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.expat.StartElementHandler, self.expat.EndElementHandler = self.start, self.end

    def run(self) -> bytes:
        self.expat.Parse(self.data, True)
        self.flush()
        self.out.write(self.data[self.at:])
        return self.out.getvalue()

    def start(self, name, attrs):
        self.depth += 1
        if self.depth == 1:
            at = self.expat.CurrentByteIndex
            self.root = self.data[at:_tag_end(self.data, at)]
            self.close = b"</" + re.match(rb"<([^\s/>]+)", self.root).group(1) + b">"
            self.si = name.rsplit(" ", 1)[0] + " si" if " " in name else "si"
        elif self.depth == 2 and name == self.si and self.n % self.CHUNK == 0:
            self.flush()
            self.chunk_start = self.expat.CurrentByteIndex

    def end(self, name):
        self.depth -= 1
        if self.depth != 1 or name != self.si:
            return
        self.chunk_end = self.data.index(b">", self.expat.CurrentByteIndex) + 1  # an end tag has no quotes
        places, k = self.strings.places, self.k
        if k < len(places) and places[k] == self.n:
            self.k += 1
            if self.translated[k] != self.strings.texts[k]:
                self.pending.append((self.n % self.CHUNK, self.translated[k]))
        self.n += 1

    def flush(self) -> None:
        if not self.pending:
            return
        from lxml import etree

        root = etree.fromstring(self.root + self.data[self.chunk_start:self.chunk_end] + self.close, self.parser)
        items = list(root.iterchildren(f"{_ns(root)}si"))
        for number, text in self.pending:
            self.strings.doc.place(_rich_text(items[number]), text)
        self.pending = []
        full = etree.tostring(root, encoding="UTF-8")
        if self.head is None:
            for child in list(root):
                root.remove(child)
            root.text = ""
            empty = etree.tostring(root, encoding="UTF-8")  # <sst ...></sst>
            self.head = empty.rindex(b"</")  # the length of the start tag as lxml writes it
        self.out.write(self.data[self.at:self.chunk_start])
        self.out.write(full[self.head:len(full) - len(self.close)])
        self.at = self.chunk_end


def _tag_end(data: bytes, at: int) -> int:
    """Where the tag that begins at `at` ends (after its '>'; a '>' inside a quoted attribute value does not)."""
    quote = None
    for i in range(at, len(data)):
        c = data[i]
        if quote is not None:
            if c == quote:
                quote = None
        elif c in b"\"'":
            quote = c
        elif c == 0x3E:  # '>'
            return i + 1
    return len(data)


def _stream_items(doc: XlsxDocument, member: str):
    """The string items (si) of a shared-strings part one by one, each dropped once seen; the same checks as
    XmlZipDocument.read_part (well-formed, no DOCTYPE)."""
    from lxml import etree

    try:
        data = doc.zip.read(member)
    except KeyError:
        raise InputError(doc.name, f"damaged {doc.kind} (its package names {member}, which is not in it)") from None
    events = etree.iterparse(io.BytesIO(data), events=("start", "end"), resolve_entities=False, load_dtd=False,
                             no_network=True, huge_tree=False, remove_blank_text=False)
    depth, tag = 0, None
    try:
        for event, element in events:
            if event == "start":
                if depth == 0:
                    docinfo = element.getroottree().docinfo
                    if docinfo.doctype or docinfo.internalDTD is not None:
                        raise InputError(doc.name, f"{doc.kind} member {member} has a DOCTYPE (a DTD or entity "
                                                   "declarations); refused")
                    tag = f"{_ns(element)}si"
                depth += 1
                continue
            depth -= 1
            if depth == 1 and element.tag == tag:
                yield element
                element.clear(keep_tail=True)
                parent = element.getparent()
                while element.getprevious() is not None:
                    del parent[0]
    except (etree.XMLSyntaxError, ValueError) as e:
        raise InputError(doc.name, f"damaged {doc.kind}: {member} is not well-formed XML ({_reason(e)})") from None


def _index(items, value):
    try:
        return items[int(value)]
    except (TypeError, ValueError, IndexError):
        return None
