import copy
import io
import time
import zipfile

import docx
import docx.enum.section
import docx.enum.style
import docx.enum.text
from docx.oxml import parse_xml
from docx.shared import Pt, RGBColor
import pytest
from click.testing import CliRunner
from lxml import etree

from conftest import DATA, UNLOADABLE_MODEL, SHARED, IdentityTranslator, MarkTranslator, read_lines
from docx_builder import W_NS, build, to_strict
from package_helpers import changed_members
from gugugo_cli.cli import cli
from gugugo_cli.formats import FormatOptions, read_document
from gugugo_cli.formats.docx import W
from gugugo_cli.api import translate_documents

ECHO = DATA.parent / "models" / "echo"
NS = {"w": W, "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
TEXT_PARTS = ("document.main+xml", "header+xml", "footer+xml", "footnotes+xml", "endnotes+xml", "comments+xml")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("docx") / "built.docx", read_lines("korean-english-park.dev.en")[:30])


def real_docx():
    files = sorted((DATA / "realworld").glob("*.docx"))
    shared = SHARED / "realworld" / "docx"
    if shared.is_dir():
        names = {p.name for p in files}
        files += [p for p in sorted(shared.glob("*.docx")) if p.name not in names]
    return files


def parts(data: bytes) -> dict[str, etree._Element]:
    """name -> XML root of every part that holds text."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        types = etree.fromstring(z.read("[Content_Types].xml"))
        names = [o.get("PartName").lstrip("/") for o in types if (o.get("ContentType") or "").endswith(TEXT_PARTS)]
        return {n: etree.fromstring(z.read(n)) for n in sorted(names) if n in z.namelist()}


def paragraph_texts(root):
    out = []
    for p in root.iter(f"{{{W}}}p"):
        own = [t.text or "" for t in p.iter(f"{{{W}}}t") if next(a for a in t.iterancestors(f"{{{W}}}p")) is p]
        out.append("".join(own))
    return out


def counts(data: bytes) -> dict:
    c = {"parts": 0, "p": 0, "r": 0, "hyperlink": 0, "tbl": 0, "drawing": 0, "sectPr": 0, "txbxContent": 0,
         "delText": 0, "instrText": 0}
    for root in parts(data).values():
        c["parts"] += 1
        for tag in list(c)[1:]:
            c[tag] += len(root.findall(f".//w:{tag}", NS))
    return c


def run_properties(data: bytes):
    """Each run's formatting as (tag, attributes) of every element of its w:rPr."""
    out = []
    for root in parts(data).values():
        for r in root.iter(f"{{{W}}}r"):
            rpr = r.find("w:rPr", NS)
            out.append([] if rpr is None else [(e.tag, sorted(e.attrib.items())) for e in rpr.iter()])
    return out


def hyperlink_targets(data: bytes):
    d = docx.Document(io.BytesIO(data))
    return sorted(r.target_ref for r in d.part.rels.values() if r.is_external)


def translate(path, translator, tgt="ko"):
    doc = read_document(path, options=FormatOptions(tgt=tgt))
    return translate_documents([doc], tgt, "auto", translator)[0]


def docs_to_check(built):
    return real_docx() + [built]


def test_identity_changes_nothing_a_reader_sees(built):
    for path in docs_to_check(built):
        data = path.read_bytes()
        out = translate(path, IdentityTranslator())
        assert counts(out) == counts(data), path.name
        before, after = parts(data), parts(out)
        assert before.keys() == after.keys()
        for name in before:
            assert paragraph_texts(after[name]) == paragraph_texts(before[name]), (path.name, name)
        d1, d2 = docx.Document(io.BytesIO(data)), docx.Document(io.BytesIO(out))
        assert len(d2.sections) == len(d1.sections)
        assert len(d2.inline_shapes) == len(d1.inline_shapes)


def test_only_parts_with_translated_text_change_and_nothing_else(built):
    for path in docs_to_check(built):
        data = path.read_bytes()
        assert translate(path, IdentityTranslator()) == data, path.name  # nothing translated: the same bytes
        for out in (translate(path, MarkTranslator()), translate(path, KoreanTranslator())):
            # same members in the same order, dates and compression; only the parts with text are new
            changed = changed_members(data, out)
            assert changed <= set(parts(data)), (path.name, changed - set(parts(data)))
            assert bool(changed) == bool(with_letters(data)), path.name


def test_marking_reaches_every_paragraph_in_every_part(built):
    for path in docs_to_check(built):
        data = path.read_bytes()
        out = translate(path, MarkTranslator())
        assert counts(out) == counts(data), path.name
        assert run_properties(out) == run_properties(data), path.name
        assert hyperlink_targets(out) == hyperlink_targets(data)
        docx.Document(io.BytesIO(out))  # still opens
        before, after = parts(data), parts(out)
        for name in before:
            for old, new in zip(paragraph_texts(before[name]), paragraph_texts(after[name])):
                if any(ch.isalpha() for ch in old):
                    assert "«" in new and "»" in new, (path.name, name, old, new)
                    assert new.replace("«", "").replace("»", "").split() == old.split()
                else:
                    assert new == old


def test_every_kind_of_place_is_translated(built):
    marker = MarkTranslator()
    out = translate(built, marker)
    text = {name: " ".join(paragraph_texts(root)) for name, root in parts(out).items()}
    assert sum("header" in n for n in text) >= 4 and all("«" in t for n, t in text.items() if "header" in n)
    assert all("«" in t for n, t in text.items() if "footer" in n and t.strip())
    assert "«" in text["word/comments.xml"]
    body = parts(out)["word/document.xml"]
    for xpath in (".//w:hyperlink", ".//w:ins", ".//w:smartTag", ".//w:fldSimple", ".//w:sdtContent//w:r",
                  ".//w:tbl//w:tbl//w:r"):
        place = body.findall(xpath, NS)[0]
        paragraph = next(place.iterancestors(f"{{{W}}}p"))
        assert paragraph_texts(paragraph)[0].startswith("«"), xpath
    # field codes and deleted text are not text to translate
    assert [t.text for t in body.findall(".//w:delText", NS)] == ["Removed words stay removed."]
    assert " DATE " in body.findall(".//w:instrText", NS)[0].text


@pytest.mark.parametrize("name", ["mammoth_footnotes.docx", "mammoth_text-box.docx"])
def test_footnotes_and_text_boxes(name):
    out = translate(DATA / "realworld" / name, MarkTranslator())
    all_parts = parts(out)
    if name == "mammoth_footnotes.docx":
        notes = paragraph_texts(all_parts["word/footnotes.xml"]) + paragraph_texts(all_parts["word/endnotes.xml"])
        assert any("«" in t for t in notes)
    else:
        body = all_parts["word/document.xml"]
        boxes = body.findall(".//w:txbxContent//w:t", NS)
        assert boxes and all("«" in (t.text or "") or "»" in (t.text or "") or not (t.text or "").strip()
                             for t in boxes)


def test_formatting_of_first_run_is_kept_and_other_runs_emptied(built):
    out = translate(built, MarkTranslator())
    d = docx.Document(io.BytesIO(out))
    p = d.paragraphs[1]
    assert p.runs[0].bold and p.runs[0].text.startswith("«")
    italic = [r for r in p.runs if r.italic]
    sized = [r for r in p.runs if r.font.size == Pt(14)]
    assert len(italic) == 1 and italic[0].text == "" and italic[0].font.color.rgb == RGBColor(0xC0, 0, 0)
    assert len(sized) == 1 and sized[0].text == ""


def test_two_thousand_paragraphs_outside_the_model_is_fast(tmp_path):
    sentences = read_lines("korean-english-park.dev.en")
    d = docx.Document()
    for i in range(2000):
        d.add_paragraph(sentences[i % len(sentences)] + f" Item {i}.")
    path = tmp_path / "big.docx"
    d.save(path)
    start = time.perf_counter()
    out = translate(path, IdentityTranslator())
    elapsed = time.perf_counter() - start
    assert len(docx.Document(io.BytesIO(out)).paragraphs) == 2000
    assert elapsed < 10, elapsed


def test_echo_model_through_the_cli(tmp_path):
    en = read_lines("echo_sentences.en")
    d = docx.Document()
    d.add_paragraph(en[0])
    d.add_paragraph().add_run(en[1]).bold = True
    path = tmp_path / "report.docx"
    d.save(path)
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(ECHO)])
    assert result.exit_code == 0, result.stderr
    out = docx.Document(tmp_path / "report.ko.docx")
    assert [p.text for p in out.paragraphs] == [en[0], en[1]]
    assert out.paragraphs[1].runs[0].bold


@pytest.mark.parametrize("content, problem", [
    (b"PK\x03\x04 this zip is cut short", "not a Word document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old binary Word format"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 600, "password"),
    (b"", "empty file"),
])
def test_bad_word_files_are_refused(tmp_path, content, problem):
    path = tmp_path / "bad.docx"
    path.write_bytes(content)
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(UNLOADABLE_MODEL)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.docx" in lines[0] and problem in lines[0], result.stderr
    assert not (tmp_path / "bad.ko.docx").exists()


def test_zip_that_is_not_a_word_document(tmp_path):
    path = tmp_path / "notes.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(UNLOADABLE_MODEL)])
    assert result.exit_code == 1 and "not a Word document" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_damaged_part_in_a_word_document(tmp_path, built):
    path = tmp_path / "damaged.docx"
    with zipfile.ZipFile(built) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[: len(data) // 2] if item.filename == "word/document.xml" else data)
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(UNLOADABLE_MODEL)])
    assert result.exit_code == 1 and "damaged.docx" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# Korean-ready output: language tags, a font with Hangul, and --bilingual

RPR_ORDER = ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline",
             "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing", "w",
             "kern", "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign",
             "rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath", "rPrChange"]


class KoreanTranslator:
    """A Korean 'translation' that keeps the source findable: 번역 «source»."""

    def translate_batch(self, texts, src, tgt):
        return [f"번역 «{t}»" for t in texts]


def w_(name):
    return f"{{{W}}}{name}"


def translated_runs(data: bytes):
    """(part, run) of every run holding a translation of KoreanTranslator."""
    for name, root in parts(data).items():
        for t in root.iter(w_("t")):
            if (t.text or "").lstrip().startswith("번역 «"):
                yield name, t.getparent()


def with_letters(data: bytes) -> int:
    return sum(any(ch.isalpha() for ch in t) for root in parts(data).values() for t in paragraph_texts(root))


def east_asian_font(run):
    fonts = run.find("w:rPr/w:rFonts", NS)
    return None if fonts is None else fonts.get(w_("eastAsia"))


def assert_schema_order(run):
    rpr = run.find("w:rPr", NS)
    names = [e.tag.rsplit("}", 1)[-1] for e in rpr if e.tag.startswith(f"{{{W}}}")]
    assert names == sorted(names, key=RPR_ORDER.index), names
    assert run[0] is rpr


def with_theme_font(path, out, typeface):
    """A copy of a .docx whose theme's Hangul font (a:font script="Hang") is typeface."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/theme/theme1.xml":
                data = data.replace('script="Hang" typeface="맑은 고딕"'.encode(), f'script="Hang" typeface="{typeface}"'.encode())
            dst.writestr(item, data)
    return out


def test_korean_runs_get_language_and_a_font_with_hangul(built):
    for path in docs_to_check(built):
        data = path.read_bytes()
        out = translate(path, KoreanTranslator())
        docx.Document(io.BytesIO(out))  # still opens
        assert counts(out) == counts(data), path.name
        runs = list(translated_runs(out))
        assert len(runs) == with_letters(data), path.name
        for name, run in runs:
            lang = run.find("w:rPr/w:lang", NS)
            assert (lang.get(w_("val")), lang.get(w_("eastAsia"))) == ("ko-KR", "ko-KR"), (path.name, name)
            # none of these documents names an East Asian font with Hangul; their theme's Hangul font is 맑은 고딕
            assert east_asian_font(run) == "맑은 고딕", (path.name, name)
            assert run.find("w:rPr/w:rFonts", NS).get(w_("eastAsiaTheme")) is None
            assert_schema_order(run)


def test_the_themes_hangul_font_is_used_and_a_font_with_hangul_is_kept(tmp_path, built):
    path = with_theme_font(built, tmp_path / "themed.docx", "HCR Batang")
    for _, run in translated_runs(translate(path, KoreanTranslator())):
        assert east_asian_font(run) == "HCR Batang"

    d = docx.Document()
    d.add_paragraph().add_run("Direct font with Hangul.")._r.get_or_add_rPr().get_or_add_rFonts().set(
        w_("eastAsia"), "Batang")
    d.add_paragraph().add_run("Direct font without Hangul.")._r.get_or_add_rPr().get_or_add_rFonts().set(
        w_("eastAsia"), "SimSun")
    style = d.styles.add_style("Korean body", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(w_("eastAsia"), "나눔고딕")
    d.add_paragraph("Style with a Hangul font.", style="Korean body")
    d.save(tmp_path / "fonts.docx")
    fonts = {run.find("w:t", NS).text: east_asian_font(run)
             for _, run in translated_runs(translate(tmp_path / "fonts.docx", KoreanTranslator()))}
    assert fonts == {"번역 «Direct font with Hangul.»": "Batang",
                     "번역 «Direct font without Hangul.»": "맑은 고딕",
                     "번역 «Style with a Hangul font.»": None}


def test_english_output_is_tagged_english_and_fonts_are_left_alone(tmp_path):
    ko = read_lines("korean-english-park.dev.ko")[:3]
    d = docx.Document()
    for line in ko:
        d.add_paragraph(line)
    d.save(tmp_path / "ko.docx")
    out = translate(tmp_path / "ko.docx", MarkTranslator(), tgt="en")
    runs = [r for r in parts(out)["word/document.xml"].iter(w_("r")) if "«" in "".join(r.itertext())]
    assert len(runs) == 3
    for run in runs:
        assert run.find("w:rPr/w:lang", NS).get(w_("val")) == "en-US"
        assert run.find("w:rPr/w:rFonts", NS) is None
        assert_schema_order(run)


def bilingual(path, translator=None):
    doc = read_document(path, options=FormatOptions(tgt="ko", bilingual=True))
    return translate_documents([doc], "ko", "auto", translator or KoreanTranslator())[0]


def test_bilingual_puts_each_translation_under_its_original(built):
    for path in docs_to_check(built):
        data = path.read_bytes()
        out = bilingual(path)
        d = docx.Document(io.BytesIO(out))  # still opens
        assert len(d.sections) == len(docx.Document(io.BytesIO(data)).sections), path.name
        before, after = parts(data), parts(out)
        added = 0
        for name in before:
            old = paragraph_texts(before[name])
            new = paragraph_texts(after[name])
            # the originals, in order, unchanged, each translation right under its original
            assert [t for t in new if not t.startswith("번역 «")] == old, (path.name, name)
            for i, text in enumerate(new):
                if text.startswith("번역 «"):
                    source = text.replace("번역 «", "").replace("»", "")  # sentence by sentence
                    assert source.split() == new[i - 1].split() and text == text.strip(), (path.name, name, text)
                    added += 1
        c_before, c_after = counts(data), counts(out)
        assert c_after["p"] == c_before["p"] + added == c_before["p"] + with_letters(data), path.name
        for key in ("hyperlink", "tbl", "drawing", "sectPr", "txbxContent", "delText", "instrText"):
            assert c_after[key] == c_before[key], (path.name, key)
        for name, run in translated_runs(out):
            assert east_asian_font(run) == "맑은 고딕"
            assert_schema_order(run)


def test_bilingual_copy_keeps_the_style_and_is_not_numbered_again(tmp_path):
    d = docx.Document()
    d.add_heading("Quarterly report", level=1)
    centered = d.add_paragraph("Centered line.")
    centered.alignment = docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER
    d.add_paragraph("First item.", style="List Number")
    d.add_paragraph("Second item.", style="List Number")
    d.add_paragraph("2024")
    d.save(tmp_path / "styled.docx")
    out = docx.Document(io.BytesIO(bilingual(tmp_path / "styled.docx")))
    rows = [(p.style.name, p.alignment, p.text) for p in out.paragraphs]
    assert [r[2] for r in rows] == ["Quarterly report", "번역 «Quarterly report»", "Centered line.",
                                    "번역 «Centered line.»", "First item.", "번역 «First item.»", "Second item.",
                                    "번역 «Second item.»", "2024"]
    assert rows[1][:2] == rows[0][:2] and rows[3][:2] == rows[2][:2]
    items = out.paragraphs[4:8]
    assert all(p.style.name == "List Number" for p in items)
    # the originals keep their numbers 1 and 2: the copies switch numbering off (numId 0), indented to the text
    assert [p._p.pPr.find("w:numPr/w:numId", NS) for p in items[::2]] == [None, None]
    for copy_ in items[1::2]:
        assert copy_._p.pPr.find("w:numPr/w:numId", NS).get(w_("val")) == "0"
        assert copy_._p.pPr.find("w:ind", NS).get(w_("left")) is not None


def test_bilingual_keeps_a_section_break_after_the_translation(tmp_path):
    d = docx.Document()
    first = d.add_paragraph("Page one.")
    first._p.get_or_add_pPr().append(copy.deepcopy(d.element.body.sectPr))  # the first section ends here
    d.add_paragraph("Page two.")
    d.save(tmp_path / "sections.docx")
    out = docx.Document(io.BytesIO(bilingual(tmp_path / "sections.docx")))
    body = [(p.text, p._p.pPr is not None and p._p.pPr.find("w:sectPr", NS) is not None) for p in out.paragraphs]
    breaks = [text for text, ends_section in body if ends_section]
    assert len(out.sections) == 2 and breaks == ["번역 «Page one.»"]


def test_bilingual_strict_document_moves_its_revision_marks_and_section_break_as_a_transitional_one(tmp_path):
    d = docx.Document()
    first = d.add_paragraph("Page one.")
    first._p.get_or_add_pPr().append(copy.deepcopy(d.element.body.sectPr))
    first._p.get_or_add_pPr().append(parse_xml(f'<w:pPrChange {W_NS} w:id="7" w:author="a"><w:pPr/></w:pPrChange>'))
    d.add_paragraph("Page two.")
    d.save(tmp_path / "sections.docx")
    strict = tmp_path / "strict.docx"
    strict.write_bytes(to_strict((tmp_path / "sections.docx").read_bytes()))
    want = zipfile.ZipFile(io.BytesIO(to_strict(bilingual(tmp_path / "sections.docx"))))
    got = zipfile.ZipFile(io.BytesIO(bilingual(strict)))
    assert got.read("word/document.xml") == want.read("word/document.xml")
    assert got.read("word/document.xml").count(b"sectPr") == want.read("word/document.xml").count(b"sectPr") == 4


def test_bilingual_through_the_command_line(tmp_path, monkeypatch):
    from gugugo_cli.engines import loading

    monkeypatch.setattr(loading, "load", lambda resolved: KoreanTranslator())
    d = docx.Document()
    d.add_paragraph("The museum is closed on Mondays.")
    d.save(tmp_path / "note.docx")
    result = CliRunner().invoke(cli, [str(tmp_path / "note.docx"), "--to", "ko", "--bilingual", "--no-cache",
                                      "--model", str(ECHO)])
    assert result.exit_code == 0, result.stderr
    out = docx.Document(tmp_path / "note.ko.docx")
    assert [p.text for p in out.paragraphs] == ["The museum is closed on Mondays.",
                                                "번역 «The museum is closed on Mondays.»"]


@pytest.mark.parametrize("bilingual", [False, True])
def test_strict_open_xml_document_is_translated_and_stays_strict(built, tmp_path, bilingual):
    strict = tmp_path / "strict.docx"
    strict.write_bytes(to_strict(built.read_bytes()))
    outputs = []
    for path in (built, strict):
        doc = read_document(path, options=FormatOptions(tgt="ko", bilingual=bilingual))
        outputs.append(translate_documents([doc], "ko", "auto", KoreanTranslator())[0])
    transitional, out = outputs
    assert sum(1 for _ in translated_runs(transitional)) >= 12
    # the Strict document's output is the transitional one's, every name in its Strict namespace
    with zipfile.ZipFile(io.BytesIO(to_strict(transitional))) as want, zipfile.ZipFile(io.BytesIO(out)) as got:
        assert got.namelist() == want.namelist()
        for name in want.namelist():
            assert got.read(name) == want.read(name), name
        assert not any(W.encode() in got.read(name) for name in got.namelist())
