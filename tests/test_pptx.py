import io
import re

import pytest
from lxml import etree

from conftest import DATA, IdentityTranslator, MarkTranslator
from gugugo_cli.errors import InputError
from gugugo_cli.formats import FormatOptions, read_document
from gugugo_cli.formats.pptx import PptxDocument
from package_helpers import (SAFE, assert_refused_in_one_line, changed_members, contents,
                             members, translate_package, zipped)

pptx = pytest.importorskip("pptx")

A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
MARK = re.compile(r"\s*«[^«»]*»\s*")
LETTER = re.compile(r"[^\W\d_]")
REAL = sorted((DATA / "realworld").glob("python-pptx_*.pptx"))


def translate_bytes(data: bytes, translator, tgt="ko") -> bytes:
    return translate_package(PptxDocument, "deck.pptx", data, translator, tgt)


def build_deck() -> bytes:
    """Placeholders with several runs, a table, a group, a chart, notes, a slide-number field, and a text box
    and placeholder prompts on the master."""
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.util import Inches

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text_frame.text = "Annual review"
    body = slide.placeholders[1].text_frame
    first = body.paragraphs[0]
    for text, bold in (("Sales grew ", False), ("strongly", True), (" this year.", False)):
        run = first.add_run()
        run.text, run.font.bold = text, bold
    body.add_paragraph().text = "Costs fell."
    body.add_paragraph().text = "First line\vSecond line"  # a line break (a:br) between two runs
    slide.notes_slide.notes_text_frame.text = "Speak slowly here."

    second = prs.slides.add_slide(prs.slide_layouts[6])
    table = second.shapes.add_table(2, 2, Inches(1), Inches(1), Inches(4), Inches(1)).table
    for (r, c), text in {(0, 0): "Region", (0, 1): "Result", (1, 0): "North coast", (1, 1): "2,345"}.items():
        table.cell(r, c).text = text
    group = second.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(3), Inches(2), Inches(1)).text_frame.text = "Inside a group"
    inner = group.shapes.add_group_shape()
    inner.shapes.add_textbox(Inches(4), Inches(3), Inches(2), Inches(1)).text_frame.text = "Deeper still"
    data = CategoryChartData()
    data.categories = ["East", "West"]
    data.add_series("Sales", (1.5, 2.5))
    chart = second.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(4), Inches(4), Inches(3),
                                    data).chart
    chart.has_title = True
    chart.chart_title.text_frame.text = "Revenue by region"
    box = second.shapes.add_textbox(Inches(6), Inches(6), Inches(2), Inches(1)).text_frame.paragraphs[0]
    box.add_run().text = "Page "
    field = etree.SubElement(box._p, f"{A}fld", id="{B6F15528-21DE-4FAA-801E-634DDDAF4B2B}", type="slidenum")
    etree.SubElement(field, f"{A}t").text = "2"

    master_box = prs.slides.add_slide(prs.slide_layouts[6]).shapes.add_textbox(Inches(0), Inches(7), Inches(3),
                                                                               Inches(1))
    master_box.text_frame.text = "Company confidential"
    prs.slide_master.shapes._spTree.append(master_box._element)  # moved onto the master
    del prs.slides._sldIdLst[2]
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


DECKS = {"built": build_deck(), **{p.name: p.read_bytes() for p in REAL}}


@pytest.mark.parametrize("deck", DECKS)
def test_identity_gives_back_the_same_bytes(deck):
    data = DECKS[deck]
    assert translate_bytes(data, IdentityTranslator()) == data


def shapes_of(shapes):
    for shape in shapes:
        yield shape
        if shape.shape_type == pptx.enum.shapes.MSO_SHAPE_TYPE.GROUP:
            yield from shapes_of(shape.shapes)


def frames(prs):
    """Every text frame a reader sees on the slides (shapes, groups, tables) and in the notes."""
    for slide in prs.slides:
        for shape in shapes_of(slide.shapes):
            if shape.has_text_frame:
                yield shape.text_frame
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    for cell in row.cells:
                        yield cell.text_frame
        if slide.has_notes_slide:
            yield slide.notes_slide.notes_text_frame


def run_texts(frame):
    """The text of the runs of each line of each paragraph (fields and line breaks apart)."""
    lines = []
    for p in frame.paragraphs:
        line = []
        for child in p._p:
            if child.tag == f"{A}r":
                line.append(child.findtext(f"{A}t") or "")
            elif child.tag == f"{A}br":
                lines.append("".join(line))
                line = []
        lines.append("".join(line))
    return lines


@pytest.mark.parametrize("deck", DECKS)
def test_marking_reaches_every_visible_text(deck):
    data = DECKS[deck]
    out = translate_bytes(data, MarkTranslator())
    changed = changed_members(data, out)
    assert all(re.match(r"ppt/(slides|notesSlides|charts|diagrams|slideMasters)/[^/]+\.xml$", n) for n in changed)
    old, new = pptx.Presentation(io.BytesIO(data)), pptx.Presentation(io.BytesIO(out))
    seen = 0
    for old_frame, new_frame in zip(frames(old), frames(new)):
        olds, news = run_texts(old_frame), run_texts(new_frame)
        assert len(olds) == len(news)
        for o, n in zip(olds, news):
            if LETTER.search(o):
                assert MARK.fullmatch(n) and n.replace("«", "").replace("»", "").strip() == o.strip(), (o, n)
                seen += 1
            else:
                assert n == o
    assert seen > 0


def test_built_deck_details():
    data = DECKS["built"]
    out = translate_bytes(data, MarkTranslator())
    prs = pptx.Presentation(io.BytesIO(out))
    first, second = prs.slides[0], prs.slides[1]
    body = first.placeholders[1].text_frame.paragraphs[0]
    assert [r.text for r in body.runs] == ["«Sales grew strongly this year.»", "", ""]
    assert [r.font.bold for r in body.runs] == [False, True, False]  # every run kept, with its formatting
    lines = first.placeholders[1].text_frame.paragraphs[2]
    assert lines.text == "«First line»\v«Second line»"  # each line on its own, the break kept
    assert first.notes_slide.notes_text_frame.text == "«Speak slowly here.»"
    table = next(s for s in second.shapes if s.has_table).table
    assert [c.text for c in table.rows[1].cells] == ["«North coast»", "2,345"]
    chart = next(s for s in second.shapes if s.has_chart).chart
    assert chart.chart_title.text_frame.text == "«Revenue by region»"
    assert list(chart.plots[0].categories) == ["East", "West"]  # the embedded workbook's cells: left alone
    assert chart.series[0].name == "Sales"
    before, after = members(data), members(out)
    slide_xml = after["ppt/slides/slide2.xml"][0].decode()
    # the slide number stays a field, after the translated text
    assert '<a:r><a:t>«Page» </a:t></a:r><a:fld id="{B6F15528-21DE-4FAA-801E-634DDDAF4B2B}" type="slidenum">' \
           '<a:t>2</a:t></a:fld>' in slide_xml
    master = after["ppt/slideMasters/slideMaster1.xml"][0].decode()
    assert "«Company confidential»" in master
    assert "Click to edit Master title style" in master  # a placeholder's prompt, not content
    assert not any(n.startswith("ppt/slideLayouts/") and after[n][0] != before[n][0] for n in before)
    embedded = "ppt/embeddings/Microsoft_Excel_Sheet1.xlsx"
    assert after[embedded] == before[embedded]


def test_smartart_data_and_drawing_translated_alike():
    data = (DATA / "realworld" / "python-pptx_shp-shapes.pptx").read_bytes()
    out = contents(translate_bytes(data, MarkTranslator()))
    for part in ("ppt/diagrams/data1.xml", "ppt/diagrams/drawing1.xml"):
        texts = ["".join(t.text or "" for t in p.iter(f"{A}t"))
                 for p in etree.fromstring(out[part], SAFE).iter(f"{A}p")]
        assert " «Smart Art»" in texts, part
    chart = etree.fromstring(out["ppt/charts/chart1.xml"], SAFE)
    assert "«shapes[4]»" in "".join(chart.itertext())  # the chart's title


def test_registered_and_bad_decks_refused_in_one_line(tmp_path):
    path = tmp_path / "deck.pptx"
    path.write_bytes(DECKS["built"])
    assert "Annual review" in read_document(path).texts()

    parts = contents(DECKS["built"])
    bad = {
        "empty": b"",
        "not a zip": b"Slide 1: hello\n",
        "truncated": DECKS["built"][: len(DECKS["built"]) // 2],
        "old ppt": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
        "encrypted": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le") + bytes(600),
        "a workbook": (DATA / "realworld" / "python-pptx_cht-charts-embedded.xlsx").read_bytes(),
        "entity bomb": zipped({**parts, "ppt/slides/slide1.xml":
                               '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
                               '<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">&b;'
                               '</p:sld>'}),
        "broken xml": zipped({**parts, "ppt/slides/slide1.xml": "<p:sld><a:p>"}),
        "bomb": zipped({**parts, "ppt/slides/slide1.xml": b"<p:sld>" + b" " * (20 << 20)}),
    }
    assert_refused_in_one_line(tmp_path, ".pptx", bad)
    assert ".ppt" in str(pytest.raises(InputError, PptxDocument, bad["old ppt"], "b.pptx", FormatOptions()).value)


def test_comments_old_and_modern():
    parts = contents(DECKS["built"])
    parts["ppt/comments/comment1.xml"] = (
        b'<p:cmLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cm authorId="0" '
        b'dt="2024-01-01T10:00:00.000" idx="1"><p:pos x="10" y="10"/><p:text>Please check the figures.</p:text>'
        b'</p:cm></p:cmLst>')
    parts["ppt/comments/modernComment_1.xml"] = (
        b'<p188:cmLst xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        b'xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main"><p188:cm id="{1}" authorId="{2}" '
        b'created="2024-01-01T10:00:00.000"><p188:txBody><a:bodyPr/><a:p><a:r><a:t>Is this up to date?</a:t></a:r>'
        b'</a:p></p188:txBody></p188:cm></p188:cmLst>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/ppt/comments/comment1.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.presentationml.comments+xml"/><Override PartName="/ppt/comments/modernComment_1'
                     b'.xml" ContentType="application/vnd.ms-powerpoint.comments+xml"/></Types>')
    out = contents(translate_bytes(zipped(parts), MarkTranslator()))
    assert b"<p:text>\xc2\xabPlease check the figures.\xc2\xbb</p:text>" in out["ppt/comments/comment1.xml"]
    assert "<a:t>«Is this up to date?»</a:t>" in out["ppt/comments/modernComment_1.xml"].decode()


class KoreanTranslator:
    def translate_batch(self, texts, src, tgt):
        return [f"번역 «{t}»" for t in texts]


def tagged_runs(data: bytes, marker: str) -> list:
    """The runs (a:r) whose text starts with marker."""
    return [t.getparent() for xml in contents(data).values() if xml.lstrip().startswith(b"<")
            for t in etree.fromstring(xml, SAFE).iter(f"{A}t")
            if (t.text or "").lstrip().startswith(marker) and t.getparent().tag == f"{A}r"]


@pytest.mark.parametrize("deck", DECKS)
def test_runs_translated_into_korean_are_tagged_korean(deck):
    data = DECKS[deck]
    out = translate_bytes(data, KoreanTranslator())
    pptx.Presentation(io.BytesIO(out))  # still opens
    runs = tagged_runs(out, "번역 «")
    assert runs
    for run in runs:  # a:rPr first in its run, with the language
        assert run[0].tag == f"{A}rPr" and run[0].get("lang") == "ko-KR", etree.tostring(run)
    # a translation without Hangul (a name kept as it was) is not tagged Korean
    unchanged = translate_bytes(data, MarkTranslator())
    assert all(r[0].tag != f"{A}rPr" or r[0].get("lang") != "ko-KR" for r in tagged_runs(unchanged, "«"))


def test_runs_translated_into_english_are_tagged_english():
    from pptx import Presentation

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text_frame.text = "연간 보고서"
    run = slide.placeholders[1].text_frame.paragraphs[0].add_run()
    run.text = "매출이 크게 늘었습니다."
    run.font._rPr.set("lang", "ko-KR")
    out = io.BytesIO()
    prs.save(out)
    runs = tagged_runs(translate_bytes(out.getvalue(), MarkTranslator(), "en"), "«")
    assert len(runs) == 2 and all(r[0].get("lang") == "en-US" for r in runs)
