"""PowerPoint presentations (.pptx): the text of every slide and of the speaker notes is translated in the
package's XML parts; everything else stays as it was.

The unit is a DrawingML paragraph (a:p) across its runs, as for Word: the translation goes into the first run's
text and the other runs are emptied, never removed, so fonts, colours, links and animations keep their place.
Paragraphs are found wherever a reader sees them:

- slides: the text frames of every shape, placeholders, grouped shapes (at any depth), tables, both branches of
  mc:AlternateContent;
- speaker notes (notes slides);
- slide layouts and masters, notes and handout masters: only shapes that are not placeholders (a text box or a
  footer written on the master shows on every slide); a placeholder's text there is the prompt shown while
  editing ("Click to edit Master title style") and is left alone;
- charts: titles, axis titles and other rich text in the chart part and text boxes drawn on the chart. Series
  names and category labels are copies of the cells of the workbook embedded in the chart (c:strCache) and
  are left alone, as is that workbook: PowerPoint would put the old names back when the data is edited;
- SmartArt: the diagram's data (what PowerPoint lays the diagram out from) and its saved drawing (what is
  shown), both translated the same way, so they stay in step;
- comments (the old p:cm text and modern comments).

Field runs (a:fld: slide number, date) and equations are not part of a paragraph's text and stay as they are.
A run that receives a translation is tagged with its language (a:rPr/@lang ko-KR or en-US), so PowerPoint
checks its spelling as that language (its East Asian font is left to the theme).
Nothing is read with python-pptx: the package is rewritten with only the changed parts serialized again
(formats/xmlzip.py), after the package checks and with a hardened XML parser.
"""

from __future__ import annotations

from ..errors import InputError
from ..languages import LANGUAGE_TAGS, has_hangul
from .base import FormatOptions
from .xmlzip import A, Paragraph, Part, XmlZipDocument, content_types, drawing_paragraphs, open_package

P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"
_PML = "application/vnd.openxmlformats-officedocument.presentationml."
_DML = "application/vnd.openxmlformats-officedocument.drawingml."
_MAIN = tuple(_PML + t for t in ("presentation.main+xml", "slideshow.main+xml", "template.main+xml")) + tuple(
    "application/vnd.ms-powerpoint." + t for t in ("presentation.macroEnabled.main+xml",
                                                    "slideshow.macroEnabled.main+xml",
                                                    "template.macroEnabled.main+xml"))
_EVERY_PARAGRAPH = {_PML + "slide+xml", _PML + "notesSlide+xml", _DML + "chart+xml", _DML + "chartshapes+xml",
                    _DML + "diagramData+xml", "application/vnd.ms-office.drawingml.diagramDrawing+xml",
                    "application/vnd.ms-powerpoint.comments+xml"}
_NOT_PLACEHOLDERS = {_PML + "slideLayout+xml", _PML + "slideMaster+xml", _PML + "notesMaster+xml",
                     _PML + "handoutMaster+xml"}
_OLD_COMMENTS = _PML + "comments+xml"


def _outside_placeholders(p) -> bool:
    """Whether the paragraph is not in a placeholder shape (its text would be a prompt, not content)."""
    shape = p.getparent()
    while shape is not None and shape.tag != f"{P}sp":
        shape = shape.getparent()
    return shape is None or shape.find(f"{P}nvSpPr/{P}nvPr/{P}ph") is None


class PptxDocument(XmlZipDocument):
    kind = "PowerPoint presentation"

    def __init__(self, data: bytes, name: str, options: FormatOptions):
        zip_file = open_package(data, name, self.kind, "old binary PowerPoint format (.ppt): save it as .pptx first",
                                limits=options.limits)
        super().__init__(data, name, zip_file)
        self.options = options
        types = content_types(self.zip, name, self.kind)
        if not any(ct in _MAIN for ct in types.values()):
            raise InputError(name, "a zip file that is not a PowerPoint presentation (no presentation part)")
        for member, ct in types.items():
            if ct in _EVERY_PARAGRAPH:
                root = self.read_part(member)
                paragraphs = drawing_paragraphs(root)
            elif ct in _NOT_PLACEHOLDERS:
                root = self.read_part(member)
                paragraphs = drawing_paragraphs(root, keep=_outside_placeholders)
            elif ct == _OLD_COMMENTS:
                root = self.read_part(member)
                paragraphs = [Paragraph([t]) for t in root.iter(f"{P}text") if t.text]
            else:
                continue
            if paragraphs:
                self.parts.append(Part(member, root, paragraphs))

    def place(self, paragraph: Paragraph, text: str) -> None:
        super().place(paragraph, text)
        run = paragraph.texts[0].getparent()
        tag = LANGUAGE_TAGS.get(self.options.tgt)
        if tag is None or run.tag != f"{{{A}}}r" or (self.options.tgt == "ko" and not has_hangul(text)):
            return
        properties = run.find(f"{{{A}}}rPr")
        if properties is None:  # a:rPr comes first in a run
            properties = run.makeelement(f"{{{A}}}rPr", {})
            run.insert(0, properties)
        properties.set("lang", tag)
