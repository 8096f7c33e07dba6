"""Builds a Word document that has text in every place a reader can see it (used by tests and examples)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import docx
from docx.enum.section import WD_SECTION
from docx.oxml import parse_xml
from docx.shared import Pt, RGBColor

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
R_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def tiny_png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def build(path: Path, sentences: list[str]) -> Path:
    """sentences: at least 12 plain sentences to place around the document."""
    s = iter(sentences)
    d = docx.Document()
    d.add_heading(next(s), level=1)

    p = d.add_paragraph()
    first = next(s)
    cut = len(first) // 2
    p.add_run(first[:cut]).bold = True  # a word split over two runs, as editors do
    run = p.add_run(first[cut:] + " ")
    run.italic = True
    run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    p.add_run(next(s)).font.size = Pt(14)

    # an external hyperlink with two runs inside it
    p = d.add_paragraph(next(s) + " ")
    rel = d.part.relate_to("https://example.com/guide", docx.opc.constants.RELATIONSHIP_TYPE.HYPERLINK,
                           is_external=True)
    words = next(s).split(" ", 1)
    p._p.append(parse_xml(
        f'<w:hyperlink {W_NS} {R_NS} r:id="{rel}"><w:r><w:rPr><w:rStyle w:val="Hyperlink"/></w:rPr>'
        f'<w:t xml:space="preserve">{words[0]} </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>{words[1]}</w:t></w:r>'
        f'</w:hyperlink>'))

    # tracked insertion, deleted text, smart tag, simple field, a field code, a content control
    p = d.add_paragraph()
    p._p.append(parse_xml(f'<w:ins {W_NS} w:id="1" w:author="a" w:date="2024-01-01T00:00:00Z">'
                          f'<w:r><w:t xml:space="preserve">{next(s)} </w:t></w:r></w:ins>'))
    p._p.append(parse_xml(f'<w:del {W_NS} w:id="2" w:author="a" w:date="2024-01-01T00:00:00Z">'
                          f'<w:r><w:delText>Removed words stay removed.</w:delText></w:r></w:del>'))
    p._p.append(parse_xml(f'<w:smartTag {W_NS} w:uri="urn:x" w:element="place"><w:r><w:t xml:space="preserve">'
                          f'{next(s)} </w:t></w:r></w:smartTag>'))
    p._p.append(parse_xml(f'<w:fldSimple {W_NS} w:instr=" AUTHOR "><w:r><w:t>{next(s)}</w:t></w:r></w:fldSimple>'))
    p = d.add_paragraph()
    p._p.append(parse_xml(f'<w:r {W_NS}><w:fldChar w:fldCharType="begin"/></w:r>'))
    p._p.append(parse_xml(f'<w:r {W_NS}><w:instrText xml:space="preserve"> DATE \\@ "yyyy" </w:instrText></w:r>'))
    p._p.append(parse_xml(f'<w:r {W_NS}><w:fldChar w:fldCharType="end"/></w:r>'))
    d.element.body.append(parse_xml(
        f'<w:sdt {W_NS}><w:sdtPr><w:alias w:val="Box"/></w:sdtPr><w:sdtContent><w:p><w:r><w:t>{next(s)}</w:t>'
        f'</w:r></w:p></w:sdtContent></w:sdt>'))

    # a table with a nested table
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = next(s)
    table.cell(0, 1).text = "2024"
    inner = table.cell(1, 0).add_table(rows=1, cols=1)
    inner.cell(0, 0).text = next(s)

    d.add_picture(io.BytesIO(tiny_png()), width=Pt(20))
    d.add_comment(d.paragraphs[1].runs[0], text=next(s), author="Reviewer")

    # headers and footers: default, first page, even pages; a second section with its own
    sec = d.sections[0]
    sec.different_first_page_header_footer = True
    d.settings.odd_and_even_pages_header_footer = True
    sec.header.paragraphs[0].text = next(s)
    sec.first_page_header.paragraphs[0].text = next(s)
    sec.even_page_header.paragraphs[0].add_run(next(s)).bold = True
    sec.footer.paragraphs[0].text = next(s)
    new = d.add_section(WD_SECTION.NEW_PAGE)
    new.header.is_linked_to_previous = False
    new.header.paragraphs[0].text = next(s)
    d.add_paragraph(next(s))
    d.save(path)
    return path



# Transitional namespaces and relationship types -> their Strict Open XML names (ECMA-376 Part 1, Strict), as
# Word's "Strict Open XML Document" writes them; the package (OPC) namespaces are the same in both.
STRICT_NAMES = {
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main": "http://purl.oclc.org/ooxml/wordprocessingml/main",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships":
        "http://purl.oclc.org/ooxml/officeDocument/relationships",
    "http://schemas.openxmlformats.org/drawingml/2006/main": "http://purl.oclc.org/ooxml/drawingml/main",
    "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing":
        "http://purl.oclc.org/ooxml/drawingml/wordprocessingDrawing",
    "http://schemas.openxmlformats.org/drawingml/2006/picture": "http://purl.oclc.org/ooxml/drawingml/picture",
}


def to_strict(data: bytes) -> bytes:
    """A transitional .docx as a Strict Open XML one: every XML member's namespaces mapped (STRICT_NAMES), the
    main document marked w:conformance="strict"; member order and compression kept."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename.endswith((".xml", ".rels")):
                text = body.decode("utf-8")
                for old, new in STRICT_NAMES.items():
                    text = text.replace(old, new)
                if item.filename == "word/document.xml":
                    start = text.index("<w:document")
                    end = text.index(">", start)
                    text = text[:end] + ' w:conformance="strict"' + text[end:]
                body = text.encode("utf-8")
            dst.writestr(item, body)
    return out.getvalue()
