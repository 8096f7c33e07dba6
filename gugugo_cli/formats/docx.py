"""Word documents (.docx): every paragraph a reader sees is translated; the rest of the package is untouched.

Paragraphs are found in the XML of every part that holds text — the document body (tables, nested tables,
text boxes in both branches of mc:AlternateContent, content controls), headers and footers of every section,
footnotes, endnotes and comments. A paragraph is translated whole (runs split words at random places) and
its translation goes into the paragraph's first text of its own runs; the other texts are emptied. No run,
hyperlink, bookmark, drawing, break or tab is removed, so formatting and links stay where they were.
Field codes (w:instrText) and deleted text (w:delText) are not w:t elements and are never touched.
A translated run is tagged with its language (w:lang), and Korean text gets a font that has Hangul where the
run's own has none (formats/wordml.py). With options.bilingual the originals stay as they are and each
translation is a new paragraph right under its original, in the same style.

Parsing is hardened: read_document checks the package first (formats/package.py: sizes, bounded reads, no
DOCTYPE in any XML part); python-docx parses its parts with resolve_entities=False (and lxml's defaults of
no DTD loading and no network), the parts it keeps as bytes are parsed here with a parser that resolves no
entity, loads no DTD and reaches no network, and a part that still has a DOCTYPE is refused.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from ..errors import InputError
from ..languages import has_hangul
from .base import FormatOptions
from .wordml import W, XML_SPACE, WordStyles, bilingual_copy, mark_language
from .xmlzip import open_package, parser
_TEXT_PARTS = ("document.main+xml", "header+xml", "footer+xml", "footnotes+xml", "endnotes+xml",
               "comments+xml")


def _refuse_doctype(root, name, partname) -> None:
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise InputError(name, f"Word document part {partname} has a DOCTYPE (a DTD or entity declarations); refused")


@dataclass
class _Paragraph:
    element: object  # the w:p
    texts: list  # the w:t elements of the paragraph's own runs, in order

    @property
    def text(self) -> str:
        return "".join(t.text or "" for t in self.texts)

    def set_text(self, new: str) -> None:
        first, *rest = self.texts
        first.text = new
        if new != new.strip():
            first.set(XML_SPACE, "preserve")
        for t in rest:
            t.text = ""


def _own_texts(p) -> list:
    """w:t elements whose nearest enclosing paragraph is p (not those of a text box inside one of its runs)."""
    tag_p, tag_t = f"{{{W}}}p", f"{{{W}}}t"
    found = []
    for t in p.iter(tag_t):
        ancestor = t.getparent()
        while ancestor is not None and ancestor.tag != tag_p:
            ancestor = ancestor.getparent()
        if ancestor is p:
            found.append(t)
    return found


class DocxDocument:
    def __init__(self, data: bytes, name: str, options: FormatOptions):
        self.options = options
        self.document = _open(data, name, options.limits)
        self._reserialize = []  # (part, root) for parts python-docx keeps as bytes
        self.paragraphs: list[_Paragraph] = []
        from docx.opc.part import XmlPart
        from lxml import etree

        for part in self.document.part.package.iter_parts():
            if not part.content_type.endswith(_TEXT_PARTS):
                continue
            if isinstance(part, XmlPart):
                root = part.element
            else:
                try:
                    root = etree.fromstring(part.blob, parser())
                except etree.XMLSyntaxError as e:
                    raise InputError(name, f"damaged Word document: {part.partname} is not valid XML ({e})") from None
                self._reserialize.append((part, root))
            _refuse_doctype(root, name, part.partname)
            for p in root.iter(f"{{{W}}}p"):
                texts = _own_texts(p)
                if texts:
                    self.paragraphs.append(_Paragraph(p, texts))

    def texts(self) -> list[str]:
        return [p.text for p in self.paragraphs]

    def render(self, translated: list[str]) -> bytes:
        """Each translation in place of its paragraph's text, or with options.bilingual as a new paragraph under
        it; translated runs are tagged with the target language (and, into Korean, get a font with Hangul)."""
        from lxml import etree

        styles = self._styles()
        for paragraph, new in zip(self.paragraphs, translated):
            if new == paragraph.text:
                continue
            run = paragraph.texts[0].getparent()
            if self.options.bilingual:
                numbered, indent = styles.list_item(paragraph.element)
                # the copy stands alone: no space that joined the text to a footnote mark or a tab
                element, run = bilingual_copy(paragraph.element, run, new.strip(), numbered, indent)
            else:
                paragraph.set_text(new)
                element = paragraph.element
            if self.options.tgt != "ko" or has_hangul(new):
                mark_language(run, element, self.options.tgt, styles)
        for part, root in self._reserialize:
            part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        out = io.BytesIO()
        self.document.save(out)
        return out.getvalue()

    def _styles(self) -> WordStyles:
        """The document's styles, theme and numbering definitions, as far as the package has them."""
        from docx.opc.constants import RELATIONSHIP_TYPE as RT
        from docx.opc.part import XmlPart
        from lxml import etree

        roots = {}
        for rel in self.document.part.rels.values():
            if rel.is_external or rel.reltype not in (RT.STYLES, RT.THEME, RT.NUMBERING):
                continue
            part = rel.target_part
            try:
                roots[rel.reltype] = part.element if isinstance(part, XmlPart) else etree.fromstring(
                    part.blob, parser())
            except etree.XMLSyntaxError:
                continue  # a damaged theme only costs the theme's font choice
        return WordStyles(roots.get(RT.STYLES), roots.get(RT.THEME), roots.get(RT.NUMBERING))


def _open(data: bytes, name: str, limits):
    """python-docx Document, or an InputError saying what the file is instead."""
    package = open_package(data, name, "Word document", limits=limits,
                           old_format="old binary Word format (.doc): save it as .docx first")
    package.close()
    import docx

    try:
        return docx.Document(io.BytesIO(data))
    except (KeyError, ValueError) as e:
        raise InputError(name, f"a zip file that is not a Word document ({_reason(e)})") from None
    except Exception as e:  # zlib, lxml and zipfile errors of a damaged package
        raise InputError(name, f"damaged Word document ({_reason(e)})") from None


def _reason(e: Exception) -> str:
    text = str(e).strip().strip("'\"")
    return (text.splitlines()[0] if text else type(e).__name__)[:120]
