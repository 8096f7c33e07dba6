import datetime
import io
import re

import pytest
from lxml import etree

from conftest import DATA, IdentityTranslator, MarkTranslator
from gugugo_cli.errors import InputError
from gugugo_cli.formats import FormatOptions, read_document
from gugugo_cli.formats.xlsx import XlsxDocument
from package_helpers import (SAFE, assert_refused_in_one_line, changed_members, contents, members,
                             translate_package, zipped)

openpyxl = pytest.importorskip("openpyxl")
pytestmark = [pytest.mark.filterwarnings("ignore:Unknown extension"),  # openpyxl on Excel's newer parts and a
               pytest.mark.filterwarnings("ignore:File contains an invalid specification"),  # Strict workbook
               pytest.mark.filterwarnings("ignore:Defined names for sheet index")]

EMBEDDED = DATA / "realworld" / "python-pptx_cht-charts-embedded.xlsx"
# workbooks from other projects' test suites (data/README.md); one more whose member names use '\\' (below)
BACKSLASHES = DATA / "realworld" / "calamine_issue_530.xlsx"
REAL = sorted(p for p in (DATA / "realworld").glob("*.xlsx") if p != BACKSLASHES)
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
STRICT = "{http://purl.oclc.org/ooxml/spreadsheetml/main}"


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


BOOKS = {"built": build_workbook(), **{path.name: path.read_bytes() for path in REAL}}


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
    data = BOOKS[EMBEDDED.name]
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


A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
TC = "{http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments}"


def _string(item, ns) -> str:
    """What a reader sees of a string item (si, is, a note's text): its t, or its runs' t; not phonetic guides."""
    return "".join(t.text or "" for t in item.findall(f"{ns}t") + item.findall(f"{ns}r/{ns}t"))


def visible(data: bytes) -> dict:
    """Everything of a workbook a reader sees, read with lxml alone (openpyxl reads no Strict workbook):
    (member, where) -> ("text", string) for cell strings, notes, threaded comments and the paragraphs of
    shapes; ("value", type, formula, value) for every other cell."""
    parts = {name: etree.fromstring(content, SAFE) for name, content in contents(data).items()
             if name.endswith(".xml")}
    local = {name: etree.QName(root).localname for name, root in parts.items()}
    shared = []
    for name, root in parts.items():
        if local[name] == "sst":
            ns = root.tag[: root.tag.index("}") + 1]
            shared = [_string(si, ns) for si in root.iterchildren(f"{ns}si")]
    seen = {}
    for name, root in parts.items():
        ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        if local[name] == "worksheet":
            for c in root.iter(f"{ns}c"):
                v, f, t = c.findtext(f"{ns}v"), c.findtext(f"{ns}f"), c.get("t", "n")
                if t == "s" and v is not None:
                    seen[name, c.get("r")] = ("text", shared[int(v)])
                elif t == "inlineStr" and c.find(f"{ns}is") is not None:
                    seen[name, c.get("r")] = ("text", _string(c.find(f"{ns}is"), ns))
                elif v is not None or f is not None:
                    seen[name, c.get("r")] = ("value", t, f, v)
        elif local[name] == "comments":
            for comment in root.iter(f"{ns}comment"):
                seen[name, comment.get("ref")] = ("text", _string(comment.find(f"{ns}text"), ns))
        elif root.tag == f"{TC}ThreadedComments":
            for comment in root.iter(f"{TC}threadedComment"):
                seen[name, comment.get("id")] = ("text", comment.findtext(f"{TC}text"))
        elif local[name] == "wsDr":
            for i, paragraph in enumerate(root.iter(f"{A}p")):
                seen[name, i] = ("text", "".join(t.text or "" for t in paragraph.iterfind(f"{A}r/{A}t")))
    return seen


def names_kept(data: bytes) -> set:
    """Table column and pivot field names, which the workbook's references depend on."""
    found = set()
    for content in contents(data).values():
        if b"tableColumn" in content or b"cacheField" in content:
            root = etree.fromstring(content, SAFE)
            found.update(e.get("name") for e in root.iter(f"{{*}}tableColumn", f"{{*}}cacheField"))
    return found


def translated(text: str, tgt: str) -> bool:
    """Whether the pipeline translates some of text into tgt: a paragraph (lines between blank lines) with
    words (not only part numbers, codes or URLs) that is not in tgt already."""
    from gugugo_cli.inert import nothing_to_translate
    from gugugo_cli.languages import detect_language

    return any(detect_language(block) not in (None, tgt) and not nothing_to_translate(block)
               for block in re.split(r"\n[ \t]*\n", text))


def unmarked(text: str) -> str:
    return text.replace("«", "").replace("»", "")


@pytest.mark.parametrize("tgt", ["ko", "en"])
@pytest.mark.parametrize("book", [path.name for path in REAL])
def test_real_workbooks_marked_everywhere_a_reader_looks(book, tgt):
    """Every string a reader sees (cells on every sheet, notes, threaded comments, shapes) is marked when the
    pipeline translates it, and only marked; formulas, numbers and dates, the workbook part (sheet and defined
    names), styles, charts, tables and pivot tables keep their bytes; the output opens with openpyxl."""
    data = BOOKS[book]
    out = translate_bytes(data, MarkTranslator(), tgt)
    document = XlsxDocument(data, book, FormatOptions(tgt=tgt))
    changed = changed_members(data, out)
    assert changed <= {part.member for part in document.parts}
    assert not any(re.search(r"(workbook|styles|chart|table|pivot|theme)", name) for name in changed), changed

    before, after, kept = visible(data), visible(out), names_kept(data)
    assert set(after) == set(before)
    marked = 0
    for key, old in before.items():
        new = after[key]
        if old[0] == "value":
            assert new == old, key
            continue
        assert unmarked(new[1]) == old[1], key  # the text is still there, only marked
        wanted = translated(old[1], tgt) and old[1] not in kept
        assert ("«" in new[1]) == wanted, (key, old[1], new[1])
        marked += wanted
    if tgt == "ko" or book == "poi_1_NoIden.xlsx":  # the Korean workbook's strings are translated into English
        assert marked

    wb = openpyxl.load_workbook(io.BytesIO(out))  # opens; where openpyxl reads the workbook, it sees the same
    texts = sorted(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                   if c.data_type == "s" and c.value is not None)
    if texts:
        cells = [v for (name, _), v in after.items() if name.startswith("xl/worksheets/") and v[0] == "text"]
        assert texts == sorted(text for _, text in cells)
        notes = sorted(c.comment.text for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.comment)
        assert notes == sorted(v[1] for (name, _), v in after.items() if re.match(r"xl/comments", name))


def test_real_workbooks_reach_every_kind_of_text():
    """What the real files hold between them, so that the test above covers it."""
    kinds = set()
    for path in REAL:
        data = path.read_bytes()
        for (name, _), value in visible(data).items():
            if value[0] == "text":
                kinds.add(name.split("/")[1] if "/" in name else name)
        kinds.update(k for k, needle in [("shared", b"<sst"), ("inline", b"inlineStr"), ("formula", b"<f>"),
                                         ("strict", STRICT[1:-1].encode()), ("phonetic", b"<rPh"),
                                         ("defined name", b"<definedName "), ("chart", b"drawingml/2006/chart")]
                     if any(needle in content for content in contents(data).values()))
        kinds.update(k for k, needle in [("hangul", "하천"), ("kana", "きく"), ("kanji", "図形")]
                     if any(needle in v[1] for v in visible(data).values() if v[0] == "text"))
    assert {"worksheets", "shared", "comments1.xml", "threadedComments", "drawings", "inline", "formula",
            "strict", "phonetic", "defined name", "chart", "hangul", "kana", "kanji"} <= kinds, kinds


def test_real_notes_keep_their_authors_and_threaded_comments_are_translated():
    out = visible(translate_bytes(BOOKS["openpyxl_comments.xlsx"], MarkTranslator()))
    assert out["xl/comments1.xml", "B9"] == ("text", "Not Cuke:\n«Because it has a different author»")
    assert out["xl/comments2.xml", "A1"] == ("text", "«comment has one run»")  # no author before it
    out = visible(translate_bytes(BOOKS["poi_64759.xlsx"], MarkTranslator()))
    assert out["xl/comments1.xml", "B3"] == ("text", "Microsoft Office User:\n«Sample Notes»\n")
    assert out["xl/threadedComments/threadedComment1.xml", "{9FE0EFFC-F649-7D41-B909-522703F4B7ED}"] == (
        "text", "«testing»\n")
    legacy = out["xl/comments1.xml", "C2"][1]  # what older Excel shows of the threaded comment
    assert legacy.startswith("«[Threaded comment]»") and legacy.endswith("«testing»\n")


def test_strict_workbook_translated_in_its_own_namespace():
    data = BOOKS["calamine_strict_iso_paths.xlsx"]
    out = translate_bytes(data, MarkTranslator())
    assert changed_members(data, out) == {"xl/sharedStrings.xml"}
    sst = etree.fromstring(contents(out)["xl/sharedStrings.xml"], SAFE)
    assert sst.tag == f"{STRICT}sst" and S[1:-1].encode() not in contents(out)["xl/sharedStrings.xml"]
    assert sst.findtext(f"{STRICT}si/{STRICT}t") == "«Thickness»"


def test_phonetic_guides_go_with_the_text_they_read():
    """A Japanese string's readings (rPh) name characters of the original: the translation drops them, keeps the
    string's phonetic properties, and a string left as it was keeps its readings."""
    data = BOOKS["calamine_rph.xlsx"]
    out = translate_bytes(data, MarkTranslator())
    si = etree.fromstring(contents(out)["xl/sharedStrings.xml"], SAFE).find(f"{S}si")
    assert si.find(f"{S}rPh") is None and si.find(f"{S}phoneticPr") is not None
    assert _string(si, S) == "«課きく\u3000毛こ»"
    assert openpyxl.load_workbook(io.BytesIO(out)).active["A1"].value == "«課きく\u3000毛こ»"
    before = etree.fromstring(contents(data)["xl/sharedStrings.xml"], SAFE).find(f"{S}si")
    assert len(before.findall(f"{S}rPh")) == 2
    assert translate_bytes(data, MarkTranslator(), tgt="en") == data  # not translated: readings kept


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
        **{f"{path.name} cut short": BOOKS[path.name][: len(BOOKS[path.name]) * 2 // 3] for path in REAL},
        "strict workbook, broken strings": zipped({**contents(BOOKS["calamine_strict_iso_paths.xlsx"]),
                                                   "xl/sharedStrings.xml": "<sst><si><t>open"}),
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


def test_member_names_written_with_backslashes_are_read_and_written_with_slashes():
    """Some writers separate folders with '\\' (the zip format says '/'); openpyxl cannot open such a
    workbook. They are translated, and written back with '/' and every member's content as it was."""
    data = BACKSLASHES.read_bytes()
    names = list(members(data))
    assert "xl\\workbook.xml" in names
    out = translate_bytes(data, MarkTranslator())
    after, before = contents(out), contents(data)
    assert list(after) == [n.replace("\\", "/") for n in names]
    changed = {n for n in names if after[n.replace("\\", "/")] != before[n]}
    assert changed and all(re.match(r"xl\\(sharedStrings|comments\d+|worksheets\\sheet\d+|drawings\\drawing\d+)\.xml$", n)
                           for n in changed), changed
    wb = openpyxl.load_workbook(io.BytesIO(out))
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "«报表导出人：»" in texts and all(t.startswith("«") or not re.search(r"[^\W\d_]", t) for t in texts)


def test_shapes_in_the_strict_drawingml_namespace_are_translated_too():
    """A Strict Open XML package writes DrawingML in purl.oclc.org/ooxml/drawingml/main; its text boxes are found
    as the transitional ones are."""
    data = BOOKS["poi_50299.xlsx"]
    transitional, strict = b"http://schemas.openxmlformats.org/drawingml/2006/main", b"http://purl.oclc.org/ooxml/drawingml/main"
    drawings = {name: content.replace(transitional, strict) for name, content in contents(data).items()
                if name.startswith("xl/drawings/drawing")}
    assert all(strict in content for content in drawings.values())
    rewritten = zipped({**contents(data), **drawings})
    texts = XlsxDocument(rewritten, "strict.xlsx", FormatOptions()).texts()
    assert texts == XlsxDocument(data, "book.xlsx", FormatOptions()).texts()
    assert any(re.search("[\u3040-\u30ff\u4e00-\u9fff]", t) for t in texts)  # the shapes' Japanese text is among them
    out = contents(translate_bytes(rewritten, MarkTranslator()))
    assert any("«" in "".join(etree.fromstring(out[name], SAFE).itertext()) for name in drawings)


def _workbook_with_strings(items: list[str], root: str = '<sst xmlns="%s" count="9" note="a>b">' % S[1:-1]) -> bytes:
    ct = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
          'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    close = "</" + root[1:].split()[0] + ">"
    sst = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' + root + "".join(items) + close
    return zipped({"[Content_Types].xml": ct, "xl/workbook.xml": f'<workbook xmlns="{S[1:-1]}"/>',
                   "xl/sharedStrings.xml": sst})


class OnlySome:
    """Marks the texts that hold 'change'; gives every other text back."""

    def translate_batch(self, texts, src, tgt):
        return [f"«{t}»" if "change" in t else t for t in texts]


def test_shared_strings_are_kept_as_texts_and_unchanged_ones_keep_their_bytes():
    import tracemalloc

    n = 20000
    items = [f"<si><t>Customer note {i} says hello.</t></si>" for i in range(n)]
    items[3] = "<si><t>Please change this.</t></si>"
    items[7000] = '<si><r><rPr><b/></rPr><t>Bold</t></r><r><t xml:space="preserve"> change too</t></r></si>'
    items[9000] = "<si><t>Char &#x41; reference</t></si>"  # lxml would write it as "A"
    data = _workbook_with_strings(items)
    tracemalloc.start()
    try:
        doc = XlsxDocument(data, "book.xlsx", FormatOptions(tgt="ko"))
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held / n < 250, held / n  # the texts only, not a tree of elements
    out = contents(translate_package(XlsxDocument, "book.xlsx", data, OnlySome(), "ko"))["xl/sharedStrings.xml"]
    before = contents(data)["xl/sharedStrings.xml"]
    assert out.startswith(before[:before.index(b"<si>")])  # declaration and root start tag as they were
    assert b"<si><t>Char &#x41; reference</t></si>" in out
    sst = etree.fromstring(out, SAFE)
    texts = ["".join(si.itertext()) for si in sst.iterchildren(f"{S}si")]
    assert len(texts) == n
    assert texts[3] == "«Please change this.»" and texts[7000] == "«Bold change too»" and texts[8] == "Customer note 8 says hello."
    assert sst.get("note") == "a>b"


def test_shared_strings_with_a_prefix_or_in_utf16_are_written_back():
    x = S[1:-1]
    data = _workbook_with_strings(["<x:si><x:t>Do change.</x:t></x:si>", "<x:si><x:t>Stay.</x:t></x:si>"],
                                  root=f'<x:sst xmlns:x="{x}">')
    out = contents(translate_package(XlsxDocument, "book.xlsx", data, OnlySome(), "ko"))["xl/sharedStrings.xml"]
    assert out.endswith(b'<x:si><x:t>\xc2\xabDo change.\xc2\xbb</x:t></x:si><x:si><x:t>Stay.</x:t></x:si></x:sst>')
    utf16 = _workbook_with_strings(["<si><t>Do change.</t></si>"])
    members16 = contents(utf16)
    members16["xl/sharedStrings.xml"] = members16["xl/sharedStrings.xml"].decode().replace(
        'encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    out = contents(translate_package(XlsxDocument, "book.xlsx", zipped(members16), OnlySome(), "ko"))
    assert "".join(etree.fromstring(out["xl/sharedStrings.xml"], SAFE).itertext()) == "«Do change.»"
