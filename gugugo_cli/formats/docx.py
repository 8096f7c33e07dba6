"""Word documents (.docx): every paragraph a reader sees is translated; the rest of the package is untouched.

Paragraphs are found in the XML of every part that holds text — the document body (tables, nested tables,
text boxes in both branches of mc:AlternateContent, content controls), headers and footers of every section,
footnotes, endnotes and comments. A paragraph is translated whole (runs split words at random places) and
its translation goes into the paragraph's first text of its own runs; the other texts are emptied. No run,
hyperlink, bookmark, drawing, break or tab is removed, so formatting and links stay where they were.
Field codes (w:instrText) and deleted text (w:delText) are not w:t elements and are never touched. A Strict
Open XML document (Word's "Strict Open XML Document", namespace purl.oclc.org/ooxml) is read and written in its
own namespace.
A translated run is tagged with its language (w:lang), and Korean text gets a font that has Hangul where the
run's own has none (formats/wordml.py). With options.bilingual the originals stay as they are and each
translation is a new paragraph right under its original, in the same style.

The package is edited as the other zip formats are (formats/xmlzip.py), not saved by python-docx, which would
serialize every part again and reorder the members: the package is checked first (sizes, bounded reads, no
DOCTYPE), the text parts are parsed with a parser that resolves no entity, loads no DTD and reaches no network,
only the parts whose text changed are written again, and every other member comes back byte for byte.
"""

from __future__ import annotations

import posixpath
from urllib.parse import unquote

from ..errors import InputError
from ..languages import has_hangul
from .base import FormatOptions
from .wordml import W, W_STRICT, WordStyles, bilingual_copy, mark_language, namespace
from .xmlzip import Paragraph, Part, XmlZipDocument, content_types, open_package

_MAIN = "document.main+xml"
_TEXT_PARTS = (_MAIN, "header+xml", "footer+xml", "footnotes+xml", "endnotes+xml", "comments+xml")
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def _own_texts(p) -> list:
    """w:t elements whose nearest enclosing paragraph is p (not those of a text box inside one of its runs)."""
    ns = namespace(p)
    tag_p, tag_t = f"{{{ns}}}p", f"{{{ns}}}t"
    found = []
    for t in p.iter(tag_t):
        ancestor = t.getparent()
        while ancestor is not None and ancestor.tag != tag_p:
            ancestor = ancestor.getparent()
        if ancestor is p:
            found.append(t)
    return found


class DocxDocument(XmlZipDocument):
    kind = "Word document"

    def __init__(self, data: bytes, name: str, options: FormatOptions):
        zip_file = open_package(data, name, self.kind, "old binary Word format (.doc): save it as .docx first",
                                limits=options.limits)
        super().__init__(data, name, zip_file)
        self.options = options
        types = content_types(self.zip, name, self.kind)
        main = [member for member, ct in types.items() if ct.endswith(_MAIN)]
        if not main:
            raise InputError(name, "a zip file that is not a Word document (no main document part)")
        self.main = main[0]
        self.ns = W  # the main document's WordprocessingML namespace: transitional, or Strict
        for member, ct in types.items():
            if not ct.endswith(_TEXT_PARTS):
                continue
            root = self.read_part(member)
            if member == self.main and namespace(root) == W_STRICT:
                self.ns = W_STRICT
            paragraphs = []
            for p in root.iter(f"{{{W}}}p", f"{{{W_STRICT}}}p"):
                texts = _own_texts(p)
                if texts:
                    paragraphs.append(Paragraph(texts, preserve_space=True))
            if paragraphs:
                self.parts.append(Part(member, root, paragraphs))
        self._styles = None

    def place(self, paragraph: Paragraph, text: str) -> None:
        """The translation in place of the paragraph's text, or with options.bilingual in a new paragraph under
        it; its run tagged with the target language (and, into Korean, given a font with Hangul)."""
        run = paragraph.texts[0].getparent()
        element = next(run.iterancestors(f"{{{namespace(run)}}}p"))  # the paragraph's own w:p (_own_texts)
        styles = self.styles()
        if self.options.bilingual:
            numbered, indent = styles.list_item(element)
            # the copy stands alone: no space that joined the text to a footnote mark or a tab
            element, run = bilingual_copy(element, run, text.strip(), numbered, indent)
        else:
            paragraph.set_text(text)
        if self.options.tgt != "ko" or has_hangul(text):
            mark_language(run, element, self.options.tgt, styles)

    def styles(self) -> WordStyles:
        """The main document's styles, theme and numbering definitions, as far as the package has them."""
        if self._styles is None:
            related = self._related(self.main)
            roots = {kind: self.read_part(related[kind]) if kind in related else None
                     for kind in ("styles", "theme", "numbering")}
            self._styles = WordStyles(roots["styles"], roots["theme"], roots["numbering"], self.ns)
        return self._styles

    def _related(self, member: str) -> dict[str, str]:
        """Relationship type (its last word: styles, theme…) -> the package member it points at."""
        folder, base = posixpath.split(member)
        rels, names = posixpath.join(folder, "_rels", base + ".rels"), set(self.zip.namelist())
        if rels not in names:
            return {}
        found = {}
        for rel in self.read_part(rels).iter(_RELATIONSHIP):
            target = rel.get("Target") or ""
            if rel.get("TargetMode") == "External" or not target:
                continue
            target = unquote(target)
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            if path in names:
                found.setdefault((rel.get("Type") or "").rsplit("/", 1)[-1], path)
        return found
