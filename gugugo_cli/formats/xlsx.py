"""Excel workbooks (.xlsx): the text of every cell on every sheet, comments and the text of shapes are
translated in the package's XML parts; everything else stays as it was.

- Shared strings (xl/sharedStrings.xml): each string is translated once, whatever the number of cells that
  show it; a rich-text string is one unit across its runs (the translation goes into the first run, the others
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

from dataclasses import dataclass

from ..errors import InputError
from .base import FormatOptions
from .xmlzip import Paragraph, Part, XmlZipDocument, content_types, drawing_paragraphs, open_package

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
                root = self.read_part(member)
                ns = _ns(root)
                self._add(member, root, [p for p in map(_rich_text, root.iterchildren(f"{ns}si")) if wanted(p)])
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


def _index(items, value):
    try:
        return items[int(value)]
    except (TypeError, ValueError, IndexError):
        return None
