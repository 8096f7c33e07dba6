import datetime
import io
import re

import pytest
from lxml import etree

from conftest import DATA, IdentityTranslator, MarkTranslator
from gugugo_cli.errors import InputError
from gugugo_cli.formats import FormatOptions, read_document
from gugugo_cli.formats.xlsx import XlsxDocument
from package_helpers import (SAFE, assert_refused_in_one_line, changed_members, contents,
                             translate_package, zipped)

openpyxl = pytest.importorskip("openpyxl")
pytestmark = pytest.mark.filterwarnings("ignore:Unknown extension")

EMBEDDED = DATA / "realworld" / "python-pptx_cht-charts-embedded.xlsx"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def translate_bytes(data: bytes, translator, tgt="ko") -> bytes:
    return translate_package(XlsxDocument, "book.xlsx", data, translator, tgt)


def _png() -> bytes:
    from PIL import Image as PILImage

    out = io.BytesIO()
    PILImage.new("RGB", (4, 3), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


def build_workbook() -> bytes:
    """Shared, rich-text and inline strings, a formula, numbers, a date, a note, a chart, an image, a table, a
    defined name and a text box."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont
    from openpyxl.comments import Comment
    from openpyxl.drawing.image import Image
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.table import Table

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Report"
    ws["A1"] = "Quarterly sales were good."
    ws["A2"] = "Quarterly sales were good."
    ws["A3"] = CellRichText(TextBlock(InlineFont(b=True), "Bold words"), " and plain words.")
    ws["A4"] = "  Leading spaces stay."
    ws["B1"] = "=SUM(C1:C3)"
    ws["C1"], ws["C2"], ws["C3"] = 42, 3.5, 7
    ws["D1"] = datetime.datetime(2024, 5, 17, 9, 30)
    ws["D1"].number_format = "yyyy-mm-dd hh:mm"
    ws["E1"] = "12345"
    ws["A1"].comment = Comment("Check these numbers before Friday.", "Ann")
    chart = BarChart()
    chart.title = "Sales by quarter"
    chart.add_data(Reference(ws, min_col=3, min_row=1, max_row=3))
    ws.add_chart(chart, "G2")
    ws.add_image(Image(io.BytesIO(_png())), "G20")
    wb.defined_names["Total"] = DefinedName("Total", attr_text="Report!$C$1")
    items = wb.create_sheet("Items")
    items.append(["Name", "Price"])
    items.append(["Green apple", 3])
    items.append(["Red pepper", 5])
    items["D1"] = "=SUM(Prices[Price])"
    items.add_table(Table(displayName="Prices", ref="A1:B3"))
    out = io.BytesIO()
    wb.save(out)
    # openpyxl writes every string inline: sheet 1's become shared strings, as Excel writes them; sheet 2 keeps
    # an inline rich-text string; a text box is drawn on sheet 1
    parts = contents(out.getvalue())
    sheet1 = etree.fromstring(parts["xl/worksheets/sheet1.xml"], SAFE)
    sst = etree.Element(f"{S}sst", nsmap={None: S[1:-1]})
    index = {}
    for c in sheet1.iter(f"{S}c"):
        if c.get("t") == "inlineStr":
            item = c.find(f"{S}is")
            key = etree.tostring(item)
            if key not in index:
                index[key] = len(index)
                item.tag = f"{S}si"
                sst.append(item)
            else:
                c.remove(item)
            c.set("t", "s")
            etree.SubElement(c, f"{S}v").text = str(index[key])
    parts["xl/worksheets/sheet1.xml"] = etree.tostring(sheet1, xml_declaration=True, encoding="UTF-8")
    parts["xl/sharedStrings.xml"] = etree.tostring(sst, xml_declaration=True, encoding="UTF-8")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/'
                             b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    sheet2 = parts["xl/worksheets/sheet2.xml"].decode()
    sheet2 = sheet2.replace('<c r="D1">', '<c r="E1" t="inlineStr"><is><r><rPr><i/></rPr><t>Inline </t></r>'
                                          '<r><t>text here.</t></r></is></c><c r="D1">')
    assert "inlineStr" in sheet2
    parts["xl/worksheets/sheet2.xml"] = sheet2.encode()
    box = ('<oneCellAnchor><from><col>1</col><colOff>0</colOff><row>30</row><rowOff>0</rowOff></from>'
           '<ext cx="1000000" cy="300000"/><sp macro="" textlink="" '
           'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><nvSpPr><cNvPr id="9" name="Box"/>'
           '<cNvSpPr txBox="1"/></nvSpPr><spPr/><txBody><a:bodyPr/><a:p><a:r><a:t>A note drawn </a:t></a:r>'
           '<a:r><a:rPr b="1"/><a:t>in a box.</a:t></a:r></a:p></txBody></sp><clientData/></oneCellAnchor></wsDr>')
    assert parts["xl/drawings/drawing1.xml"].endswith(b"</wsDr>")
    parts["xl/drawings/drawing1.xml"] = parts["xl/drawings/drawing1.xml"].replace(b"</wsDr>", box.encode())
    return zipped(parts)


BOOKS = {"built": build_workbook(), "embedded": EMBEDDED.read_bytes()}


@pytest.mark.parametrize("book", BOOKS)
def test_identity_gives_back_the_same_bytes(book):
    data = BOOKS[book]
    assert translate_bytes(data, IdentityTranslator()) == data


def cell_texts(data: bytes) -> dict:
    wb = openpyxl.load_workbook(io.BytesIO(data), rich_text=True)
    return {(ws.title, c.coordinate): c.value for ws in wb for row in ws.iter_rows() for c in row
            if c.value is not None}


def test_marking_reaches_every_text_and_keeps_the_rest():
    data = BOOKS["built"]
    marker = MarkTranslator()
    out = translate_bytes(data, marker)
    before, after = contents(data), contents(out)
    assert changed_members(data, out) == {"xl/sharedStrings.xml", "xl/worksheets/sheet2.xml",
                                          "xl/comments/comment1.xml", "xl/drawings/drawing1.xml"}
    # the chart, the image, styles, the workbook (defined names) and the table are the same bytes
    assert any(n.startswith("xl/charts/") for n in before) and any(n.startswith("xl/media/") for n in before)

    old, new = cell_texts(data), cell_texts(out)
    assert set(new) == set(old)
    assert new["Report", "A1"] == new["Report", "A2"] == "«Quarterly sales were good.»"
    assert str(new["Report", "A3"]) == "«Bold words and plain words.»"
    assert new["Report", "A4"] == "  «Leading spaces stay.»"  # the spaces kept (xml:space)
    assert str(new["Items", "E1"]) == "«Inline text here.»"
    for key in [("Report", "B1"), ("Report", "C1"), ("Report", "C2"), ("Report", "D1"), ("Report", "E1"),
                ("Items", "A1"), ("Items", "B1"), ("Items", "B2"), ("Items", "D1")]:
        assert new[key] == old[key], key  # formulas, numbers, dates, digits, table headers
    assert new["Items", "A2"] == "«Green apple»"
    assert marker.segments.count("Quarterly sales were good.") == 1  # a shared string is translated once

    wb = openpyxl.load_workbook(io.BytesIO(out))
    report = wb["Report"]
    assert report["A1"].comment.text == "«Check these numbers before Friday.»" and report["A1"].comment.author == "Ann"
    assert report["D1"].value == datetime.datetime(2024, 5, 17, 9, 30)
    assert len(report._charts) == 1 and len(report._images) == 1
    assert wb.defined_names["Total"].attr_text == "Report!$C$1"
    assert wb["Items"].tables["Prices"].ref == "A1:B3"

    sst = etree.fromstring(after["xl/sharedStrings.xml"], SAFE)
    rich = [si for si in sst.iter(f"{S}si") if si.find(f"{S}r") is not None][0]
    runs = rich.findall(f"{S}r")
    assert len(runs) == 2 and runs[0].find(f"{S}rPr/{S}b") is not None  # bold run kept, holding the text
    assert runs[0].find(f"{S}t").text == "«Bold words and plain words.»" and not runs[1].find(f"{S}t").text
    drawing = after["xl/drawings/drawing1.xml"].decode()
    assert "«A note drawn in a box.»" in drawing and '<a:rPr b="1"/><a:t></a:t>' in drawing


def test_real_workbook_from_excel():
    data = BOOKS["embedded"]
    out = translate_bytes(data, MarkTranslator())
    assert changed_members(data, out) == {"xl/sharedStrings.xml"}
    before, after = contents(data), contents(out)
    declaration = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<sst '
    assert before["xl/sharedStrings.xml"].startswith(declaration)
    assert after["xl/sharedStrings.xml"].startswith(declaration)  # the part's own declaration kept
    new = cell_texts(out)
    assert new["Sheet1", "A2"] == "«Category 1»"
    assert new["Sheet1", "B1"] == "Series 1"  # a table column's name: structured references depend on it
    assert new["Sheet1", "B2"] == 4.3
    assert new["Sheet1", "B8"].startswith("«To update the chart")


def test_registered_and_bad_workbooks_refused_in_one_line(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(BOOKS["built"])
    assert "Green apple" in read_document(path).texts()

    parts = contents(BOOKS["built"])
    bad = {
        "empty": b"",
        "not a zip": b"Name,Price\napple,3\n",
        "truncated": BOOKS["built"][: len(BOOKS["built"]) // 2],
        "old xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
        "encrypted": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le") + bytes(600),
        "no content types": zipped({"xl/workbook.xml": parts["xl/workbook.xml"]}),
        "a word document": (DATA / "realworld").joinpath(next(p.name for p in (DATA / "realworld").glob("*.docx")))
        .read_bytes(),
        "entity bomb": zipped({**parts, "xl/sharedStrings.xml":
                               '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
                               '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                               '<si><t>&b;</t></si></sst>'}),
        "broken xml": zipped({**parts, "xl/sharedStrings.xml": "<sst><si><t>open"}),
        "bomb": zipped({**parts, "xl/worksheets/sheet1.xml": b"<worksheet>" + b" " * (20 << 20)}),
    }
    assert_refused_in_one_line(tmp_path, ".xlsx", bad)
    for data in bad.values():
        with pytest.raises(InputError):
            XlsxDocument(data, "bad.xlsx", FormatOptions())
    assert re.search(r"\.xls\b", str(pytest.raises(InputError, XlsxDocument, bad["old xls"], "b.xlsx",
                                                    FormatOptions()).value))


def test_note_keeps_the_authors_name_excel_writes_before_it():
    parts = contents(BOOKS["built"])
    parts["xl/comments/comment1.xml"] = (
        b'<comments xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><authors><author>Ann Lee'
        b'</author></authors><commentList><comment ref="A1" authorId="0" shapeId="0"><text><r><rPr><b/></rPr>'
        b'<t>Ann Lee:</t></r><r><t xml:space="preserve">\nCheck these numbers before Friday.</t></r></text>'
        b'</comment></commentList></comments>')
    out = translate_bytes(zipped(parts), MarkTranslator())
    comment = openpyxl.load_workbook(io.BytesIO(out))["Report"]["A1"].comment
    assert comment.text == "Ann Lee:\n«Check these numbers before Friday.»"


def test_pivot_table_field_names_stay():
    parts = contents(BOOKS["built"])
    parts["xl/pivotCache/pivotCacheDefinition1.xml"] = (
        b'<pivotCacheDefinition xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cacheSource '
        b'type="worksheet"><worksheetSource ref="A1:A4" sheet="Report"/></cacheSource><cacheFields count="1">'
        b'<cacheField name="Quarterly sales were good." numFmtId="0"/></cacheFields></pivotCacheDefinition>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/pivotCache/pivotCacheDefinition1.xml" ContentType="application/vnd.'
                     b'openxmlformats-officedocument.spreadsheetml.pivotCacheDefinition+xml"/></Types>')
    texts = XlsxDocument(zipped(parts), "pivot.xlsx", FormatOptions()).texts()
    assert "Quarterly sales were good." not in texts and "Green apple" in texts
