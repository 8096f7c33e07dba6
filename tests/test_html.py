import re

import lxml.html
import pytest

from conftest import DATA, IdentityTranslator, MarkTranslator
from gugugo_cli.api import translate_documents
from gugugo_cli.errors import InputError
from gugugo_cli.formats import FormatOptions, read_document
from gugugo_cli.formats.html import ATTRS, SKIP, HtmlDocument
from gugugo_cli.inert import nothing_to_translate
from gugugo_cli.languages import detect_language

REAL = sorted((DATA / "realworld").glob("readability_*.html"))
MARK = re.compile(r"«[^«»]*»")


def translate_bytes(data: bytes, translator, tgt="ko", name="x.html") -> bytes:
    return translate_documents([HtmlDocument(data, name, FormatOptions(tgt=tgt))], tgt, "auto", translator)[0]


def skipped(el) -> bool:
    a = el
    while a is not None:
        if isinstance(a.tag, str) and a.tag in SKIP or a.get("translate", "").lower() == "no" or "notranslate" in (a.get("class") or "").split():
            return True
        a = a.getparent()
    return False


def text_flow(root) -> str:
    """Every text a reader sees, in document order (not that of script, style, code, pre, translate=no ...);
    comments, images and line breaks count as gaps."""
    out = []

    def walk(el, hidden):
        if isinstance(el.tag, str):
            hidden = hidden or skipped(el)
            if el.tag in ("br", "img", "input", "hr"):
                out.append(" ")
            if el.text and not hidden:
                out.append(el.text)
            for child in el:
                walk(child, hidden)
                if child.tail and not hidden:
                    out.append(child.tail)
        else:
            out.append(" ")

    walk(root, False)
    return "".join(out)


def squash(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_identity_gives_back_the_same_bytes(path):
    data = path.read_bytes()
    assert translate_bytes(data, IdentityTranslator()) == data


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_marking_reaches_every_visible_text_and_nothing_else(path):
    data = path.read_bytes()
    out = translate_bytes(data, MarkTranslator())
    parser = lxml.html.HTMLParser(encoding="utf-8")  # all the real pages are UTF-8
    before, after = lxml.html.document_fromstring(data, parser), lxml.html.document_fromstring(out, parser)
    assert after.get("lang") == "ko"
    old_elements, new_elements = list(before.iter()), list(after.iter())
    assert [e.tag for e in new_elements] == [e.tag for e in old_elements]  # same tree: no tag lost or added
    for old, new in zip(old_elements, new_elements):
        if not isinstance(old.tag, str):
            assert new.text == old.text  # comments untouched
            continue
        if old.tag in SKIP or skipped(old):
            assert new.text == old.text, old.tag
        for name, value in old.attrib.items():
            translated = name in ATTRS and old.tag not in ("link", "meta", "style", "script", "base") or (old.tag == "meta" and name == "content"
                                           and (old.get("name") or "").lower() == "description")
            if translated and not nothing_to_translate(value) and not skipped(old) and value.strip() == value \
                    and detect_language(value) != "ko":  # (a Korean title is already in the target language)
                marked = new.get(name)  # each sentence of it marked
                assert marked.startswith("«") and marked.replace("«", "").replace("»", "") == value, (old.tag, name)
            elif not (old.tag == "html" and name in ("lang", "xml:lang")):
                assert new.get(name) == value, (old.tag, name)
        if old.text or new.text:
            assert squash((new.text or "").replace("«", "").replace("»", "")) == squash(old.text or ""), old.tag
        if old.tail or new.tail:
            assert squash((new.tail or "").replace("«", "").replace("»", "")) == squash(old.tail or ""), old.tag
    left = re.sub("[\uac00-\ud7a3]+", " ", MARK.sub(" ", text_flow(after)))  # Korean is in the target language
    assert nothing_to_translate(left), left[:300]  # what is left: domain names, file names, numbers
    assert MARK.search(text_flow(after))


SAMPLE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>My Page Title</title>
<meta name="description" content="A page about &quot;things&quot;.">
<style>p { color: red; }</style>
<script>var s = "Hello script";</script>
</head>
<body>
<h1 class="x">Welcome to <em>my</em> site</h1>
<p>This is a <b>bold</b> and <a href="https://example.com/?a=1&amp;b=2" title="Example link">linked</a>
  paragraph with &amp; entities&nbsp;here.</p>
<p>Use <code>pip install x</code> to install.</p>
<pre>preformatted text stays</pre>
<p translate="no">Brand Name Stays</p>
<ul><li>First item<li>Second <i>item</i></ul>
<img src="a.png" alt="A picture of a cat">
<input placeholder='Type here'>
<table><tr><td>Cell one</td><td>Cell <span class="notranslate">two</span></td></tr></table>
<!-- a comment with words -->
</body>
</html>
"""


def test_sample_inline_tags_are_carried_and_protected_parts_kept():
    marker = MarkTranslator()
    out = translate_bytes(SAMPLE.encode(), marker).decode()
    assert '<html lang="ko">' in out
    assert "<title>«My Page Title»</title>" in out
    assert 'content="«A page about &quot;things&quot;.»"' in out
    assert '<h1 class="x">«Welcome to <em>my</em> site»</h1>' in out
    assert ('<p>«This is a <b>bold</b> and <a href="https://example.com/?a=1&amp;b=2" title="«Example link»">'
            'linked</a>\n  paragraph with &amp; entities&nbsp;here.»</p>') in out
    assert "<p>«Use» <code>pip install x</code> «to install.»</p>" in out
    assert "<pre>preformatted text stays</pre>" in out and '<p translate="no">Brand Name Stays</p>' in out
    assert 'var s = "Hello script";' in out and "<!-- a comment with words -->" in out
    assert "<li>«First item»<li>«Second <i>item</i>»" in out
    assert 'alt="«A picture of a cat»"' in out and "placeholder='«Type here»'" in out
    assert '<td>«Cell» <span class="notranslate">two</span></td>' in out
    # the translator saw the text with bare inline tags and decoded entities, never a URL or code
    assert "This is a <b>bold</b> and <a>linked</a> paragraph with & entities\xa0here." in marker.segments
    assert not any("https://" in s or "pip install" in s or "script" in s for s in marker.segments)


class Fixed:
    def __init__(self, answer):
        self.answer = answer

    def translate_batch(self, texts, src, tgt):
        return [self.answer(t) for t in texts]


def test_tags_that_do_not_come_back_are_translated_again_masked():
    src = b'<p>Click <a href="/x">here</a> to <b>go on</b> now.</p>'
    out = translate_bytes(src, Fixed(lambda t: t.replace("</a>", "").replace("here", "HERE")))
    assert out == b'<p>Click <a href="/x">HERE</a> to <b>go on</b> now.</p>'
    # reordered but well nested: each tag gets its own attributes back
    out = translate_bytes(src, Fixed(lambda t: "<b>GO</b> <a>HERE</a> CLICK"))
    assert b'<p><b>GO</b> <a href="/x">HERE</a> CLICK</p>' in out


def test_a_tag_that_closes_outside_the_unit_stays_where_it_was():
    src = b"<p><b>Bold start <code>x</code> bold end</b> after.</p>"
    out = translate_bytes(src, Fixed(lambda t: re.sub("</?b>", "", t).upper()))
    assert out == b"<p><b>BOLD START <code>x</code> BOLD END</b> AFTER.</p>"
    root = lxml.html.fromstring(out)
    assert root.find(".//b/code").text == "x"


def test_encoding_declaration_is_kept_and_respected():
    src = ('<html lang="en"><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
           '</head><body><p>Caf\xe9 menu</p></body></html>').encode("iso-8859-1")
    out = translate_bytes(src, Fixed(lambda t: "카페 메뉴"))
    assert b"charset=iso-8859-1" in out and b'lang="ko"' in out
    assert "&#52852;&#54168; &#47700;&#45684;".encode() in out  # not in Latin-1: character references
    assert lxml.html.fromstring(out).text_content().endswith("카페 메뉴")
    korean = '<html><head><meta charset="euc-kr"></head><body><p>안녕하세요 반갑습니다</p></body></html>'.encode("cp949")
    assert translate_bytes(korean, IdentityTranslator(), tgt="en") == korean
    out = translate_bytes(korean, MarkTranslator(), tgt="en")
    assert "<p>&#171;안녕하세요 반갑습니다&#187;</p>".encode("cp949") in out


def test_xhtml_stays_well_formed():
    from lxml import etree

    src = ('<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en">'
           '<head><title>T one</title></head><body><p>A &amp; B<br/>next line</p></body></html>').encode()
    out = translate_bytes(src, MarkTranslator(), name="x.xhtml")
    root = etree.fromstring(out)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "ko"
    assert b"<p>\xc2\xabA &amp; B\xc2\xbb<br/>\xc2\xabnext line\xc2\xbb</p>" in out


def test_registered_and_bad_files_refused_in_one_line(tmp_path):
    for ext in (".html", ".htm", ".xhtml"):
        path = tmp_path / f"page{ext}"
        path.write_bytes(b"<p>Hello there</p>")
        assert read_document(path).texts() == ["Hello there"]
    for data in (b"\x00\x01\x02\x03" * 1000, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10):
        with pytest.raises(InputError) as e:
            HtmlDocument(data, "bad.html", FormatOptions())
        assert "\n" not in str(e.value) and "bad.html" in str(e.value)
    deep = b"<div>" * 100000 + b"text" + b"</div>" * 100000
    assert translate_bytes(deep, IdentityTranslator()) == deep


def test_markup_cut_short_by_the_end_of_the_file_stays_as_it_was():
    for tail in ("<!-- secret note: do not publish", "<b class='x'", "</di", "<"):
        src = f"<html><body><p>Hello world.</p>\n<p>More text here {tail}".encode()
        doc = HtmlDocument(src, "cut.html", FormatOptions())
        assert doc.texts() == ["Hello world.", "More text here"]
        out = translate_bytes(src, MarkTranslator())
        assert out.endswith(f"<p>«More text here» {tail}".encode())
    assert translate_bytes(src, IdentityTranslator()) == src


def test_deeply_nested_inline_tags_are_read_in_linear_time():
    import time

    n = 8_000  # pairing the tags again for every one taken off took minutes here
    src = ("<p>" + "<b>" * n + "Hello world" + "</b>" * n + "</p>").encode()
    start = time.perf_counter()
    doc = HtmlDocument(src, "deep.html", FormatOptions())
    assert doc.texts() == ["Hello world"]
    assert doc.render(["HELLO WORLD"]) == src.replace(b"Hello world", b"HELLO WORLD")
    mixed = ("<p>" + "<b>x " * n + "Hello world" + "</b>" * n + "</p>").encode()
    doc = HtmlDocument(mixed, "deep.html", FormatOptions())
    assert doc.render([t.replace("Hello", "Howdy") for t in doc.texts()]) == mixed.replace(b"Hello", b"Howdy")
    assert time.perf_counter() - start < 20


def test_a_declared_charset_is_read_or_the_file_refused():
    mixed = ('<html><head><meta charset="utf-8"></head><body><p>안녕하세요 여러분</p>'.encode()
             + "<p>반갑습니다 친구들</p></body></html>".encode("cp949"))
    with pytest.raises(InputError) as e:
        HtmlDocument(mixed, "mixed.html", FormatOptions(tgt="en"))
    assert "mixed.html" in str(e.value) and "utf-8" in str(e.value) and "\n" not in str(e.value)
    for label in ("rot13", "base64", "idna", "undefined", "hex"):
        src = f'<html><head><meta charset="{label}"></head><body><p>Hello there</p></body></html>'.encode()
        with pytest.raises(InputError) as e:
            HtmlDocument(src, "odd.html", FormatOptions())
        assert label in str(e.value) and "\n" not in str(e.value)
    unknown = b'<html><head><meta charset="no-such-charset"></head><body><p>Hello there</p></body></html>'
    assert HtmlDocument(unknown, "x.html", FormatOptions()).texts() == ["Hello there"]


def test_a_file_with_a_codec_that_is_no_charset_fails_alone_in_a_folder(tmp_path):
    from click.testing import CliRunner

    from gugugo_cli.cli import cli

    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.html").write_bytes(b'<html><head><meta charset="rot13"></head><body><p>Hello there</p></body></html>')
    (folder / "b.html").write_bytes(b"<html><body><p>Good morning</p></body></html>")
    result = CliRunner().invoke(cli, [str(folder), "--to", "ko", "--dry-run", "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "a.html" in result.stderr and "rot13" in result.stderr and "unexpected" not in result.stderr
    assert "files to translate: 1" in result.output and "files failed: 1" in result.output


def test_xhtml_that_declares_entities_is_refused():
    src = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html [<!ENTITY e "entity text">]>\n'
           '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Hello &e; world</p></body></html>').encode()
    for name in ("page.xhtml", "page.html"):
        with pytest.raises(InputError) as e:
            HtmlDocument(src, name, FormatOptions())
        assert name in str(e.value) and "DOCTYPE" in str(e.value) and "\n" not in str(e.value)
    plain = src.replace(b' [<!ENTITY e "entity text">]', b"").replace(b"&e;", b"&amp;")
    assert HtmlDocument(plain, "page.xhtml", FormatOptions()).texts() == ["Hello & world"]


def test_raw_text_elements_are_left_alone():
    # a browser reads noembed, noframes, iframe and xmp as raw text: what looks like tags in them is none
    source = ('<html><body><p>Read this.</p><noembed id="pin"><span class="x">\n<img src="#{src}"/> Pin it</span>'
              '</noembed><xmp><b>Bold</b> text</xmp><iframe><p>Old browsers</p></iframe></body></html>')
    marker = MarkTranslator()
    out = translate_bytes(source.encode(), marker).decode()
    assert marker.segments == ["Read this."]
    assert out == source.replace("<html>", '<html lang="ko">').replace("Read this.", "«Read this.»")
