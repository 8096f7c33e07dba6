"""Units with nothing to translate (a URL, an e-mail address, a number, code) never reach the model, in every
format and in datasets, and come back byte for byte."""

import io
import json
import zipfile

import pytest

from conftest import MarkTranslator
from gugugo_cli.api import translate_documents
from gugugo_cli.datasets import translate_dataset
from gugugo_cli.formats import FormatOptions, read_document
from gugugo_cli.inert import nothing_to_translate
from gugugo_cli.segment import plan_text

INERT = ["http://poi.apache.org/", "http://www.idpf.org/epub/30/spec/", "https://example.com/a_b?x=1#top",
         "www.example.org", "someone@example.com", "3.14", "2,345", "v1.2.3", "2020-01-01", "README.md",
         "foo_bar()", "os.path.join(a,b)", "`make install`", "x=y+1;", "C++", "---", "&nbsp;", "(1)"]
WORDS = ["Hello.", "See http://x.org for more.", "(optional)", "*Important*", "API", "Python 3.10", "Mr. Smith",
         "README.md를 읽으세요.", "Wi-Fi", "안녕", "<b>Note</b>: <i>see</i> below"]
SENTENCE = "The project has a home page."


@pytest.mark.parametrize("text", INERT)
def test_inert_texts_are_found(text):
    assert nothing_to_translate(text)
    assert plan_text(text, "ko").segments == []
    assert plan_text(text, "en", src="ko").segments == []


@pytest.mark.parametrize("text", WORDS)
def test_texts_with_words_are_translated(text):
    assert not nothing_to_translate(text)


def translated(name: str, data: bytes, translator, tgt="ko") -> bytes:
    doc = read_document(name, data, FormatOptions(tgt=tgt))
    return translate_documents([doc], tgt, "auto", translator)[0]


def never_sent(translator: MarkTranslator, inert: list[str]) -> None:
    assert SENTENCE in translator.segments  # the translator was called, for the sentence
    for sent in translator.segments:
        assert not nothing_to_translate(sent), sent


def pptx_with(paragraphs: list[str]) -> bytes:
    from pptx import Presentation

    prs = Presentation()
    frame = prs.slides.add_slide(prs.slide_layouts[1]).placeholders[1].text_frame
    frame.text = paragraphs[0]
    for text in paragraphs[1:]:
        frame.add_paragraph().text = text
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def docx_with(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pptx_texts(data: bytes) -> list[str]:
    from pptx import Presentation

    return [p.text for s in Presentation(io.BytesIO(data)).slides for sh in s.shapes if sh.has_text_frame
            for p in sh.text_frame.paragraphs if p.text]


def docx_texts(data: bytes) -> list[str]:
    import docx

    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]


@pytest.mark.parametrize("kind", ["pptx", "docx"])
def test_office_paragraphs_that_are_urls_stay(kind):
    paragraphs = [SENTENCE] + INERT[:6]
    build, read = (pptx_with, pptx_texts) if kind == "pptx" else (docx_with, docx_texts)
    marker = MarkTranslator()
    out = read(translated(f"deck.{kind}", build(paragraphs), marker))
    assert out == [f"«{SENTENCE}»"] + INERT[:6]
    never_sent(marker, INERT)


def test_html_units_that_are_urls_stay():
    cells = "".join(f"<dt>Link</dt><dd>{t}</dd>" if "&" not in t else f"<dd>{t}</dd>" for t in INERT)
    source = f"<html><body><p>{SENTENCE}</p><dl>{cells}</dl><p><a href='x'>http://x.org/a</a></p></body></html>"
    marker = MarkTranslator()
    out = translated("page.html", source.encode(), marker).decode()
    for text in INERT:
        assert f"<dd>{text}</dd>" in out
    assert "<a href='x'>http://x.org/a</a>" in out
    never_sent(marker, INERT)


def test_markdown_srt_and_text_units_that_are_urls_stay():
    md = "\n\n".join([f"# {SENTENCE}"] + [f"- {t}" for t in INERT if "`" not in t]) + "\n"
    srt = "".join(f"{i}\n00:00:0{i},000 --> 00:00:0{i},900\n{t}\n\n" for i, t in enumerate([SENTENCE] + INERT[:8], 1))
    txt = "\n".join([SENTENCE] + INERT) + "\n"
    for name, source in (("a.md", md), ("a.srt", srt), ("a.txt", txt)):
        marker = MarkTranslator()
        out = translated(name, source.encode(), marker).decode()
        assert out == source.replace(SENTENCE, f"«{SENTENCE}»"), name
        never_sent(marker, INERT)


def test_dataset_fields_that_are_urls_stay(tmp_path):
    rows = [{"q": SENTENCE, "a": t} for t in INERT]
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    marker = MarkTranslator()
    summary = translate_dataset(src, ["q", "a"], "ko", marker)
    out = [json.loads(line) for line in summary.dest.read_text(encoding="utf-8").splitlines()]
    assert [r["a"] for r in out] == INERT
    assert all(r["q"] == f"«{SENTENCE}»" for r in out)
    never_sent(marker, INERT)


def test_an_epub_definition_that_is_a_url_stays():
    chapter = ('<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><head>'
               f'<title>T</title></head><body><p>{SENTENCE}</p><dl><dt>Specification</dt>'
               '<dd>http://www.idpf.org/epub/30/spec/</dd></dl></body></html>')
    data = _book({"OEBPS/c.xhtml": chapter})
    marker = MarkTranslator()
    out = translated("book.epub", data, marker)
    text = zipfile.ZipFile(io.BytesIO(out)).read("OEBPS/c.xhtml").decode()
    assert "<dd>http://www.idpf.org/epub/30/spec/</dd>" in text
    never_sent(marker, INERT)


def _book(chapters: dict) -> bytes:
    container = ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:'
                 'container"><rootfiles><rootfile full-path="OEBPS/content.opf" '
                 'media-type="application/oebps-package+xml"/></rootfiles></container>')
    items = "".join(f'<item id="c{i}" href="{n.split("/")[-1]}" media-type="application/xhtml+xml"/>'
                    for i, n in enumerate(chapters))
    refs = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    opf = ('<?xml version="1.0" encoding="UTF-8"?>\n<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
           'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Book</dc:title>'
           f'<dc:language>en</dc:language><dc:identifier id="id">x</dc:identifier></metadata><manifest>{items}'
           f'</manifest><spine>{refs}</spine></package>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr("META-INF/container.xml", container)
        z.writestr("OEBPS/content.opf", opf)
        for name, content in chapters.items():
            z.writestr(name, content)
    return out.getvalue()
