import io
import re
import zipfile

import pytest
from lxml import etree

from conftest import DATA, IdentityTranslator, MarkTranslator
from gugugo_cli.errors import InputError
from gugugo_cli.formats import FormatOptions, read_document
from gugugo_cli.formats.epub import EpubDocument
from package_helpers import SAFE, assert_mimetype_first, changed_members, contents, translate_package, zipped

WASTELAND = DATA / "realworld" / "epub3-samples_wasteland.epub"
RENDITIONS = DATA / "realworld" / "epubcheck_edupub-multiple-renditions-valid.epub"
OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"
XHTML = "{http://www.w3.org/1999/xhtml}"
NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
MARK = re.compile(r"«[^«»]*»")


def translate_bytes(data: bytes, translator, tgt="ko") -> bytes:
    return translate_package(EpubDocument, "book.epub", data, translator, tgt)


def build_epub2() -> bytes:
    """An EPUB 2 book with the DOCTYPEs such books carry (XHTML 1.1, NCX), an entity, a comment and a font."""
    container = ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                 '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
                 '</rootfiles></container>')
    opf = ('<?xml version="1.0" encoding="UTF-8"?>\n<package xmlns="http://www.idpf.org/2007/opf" version="2.0" '
           'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
           '<dc:title>A Small Book</dc:title><dc:language>en</dc:language><dc:identifier id="id">x1</dc:identifier>'
           '<dc:creator>Some Author</dc:creator></metadata><manifest>'
           '<item id="c1" href="chapter%201.xhtml" media-type="application/xhtml+xml"/>'
           '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
           '<item id="f" href="font.otf" media-type="font/otf"/></manifest>'
           '<spine toc="ncx"><itemref idref="c1"/></spine></package>')
    chapter = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" '
               '"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml">'
               '<head><title>Chapter One</title></head><body>\n<h1>Chapter One</h1>\n'
               '<p>It was a <em>dark</em> night &amp; the <a href="#n1">rain</a> fell.</p>\n'
               '<!-- editor note -->\n<p>Code: <code>rm -rf</code> done.</p>\n</body></html>')
    ncx = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ncx PUBLIC "-//NISO//DTD ncx 2005-1//EN" '
           '"http://www.daisy.org/z3986/2005/ncx-2005-1.dtd">\n<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" '
           'version="2005-1"><head><meta name="dtb:uid" content="x1"/></head><docTitle><text>A Small Book</text>'
           '</docTitle><navMap><navPoint id="p1" playOrder="1"><navLabel><text>Chapter One</text></navLabel>'
           '<content src="chapter%201.xhtml"/></navPoint></navMap></ncx>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype", (2020, 1, 2, 3, 4, 6)), "application/epub+zip")
        for name, content, method in (("META-INF/container.xml", container, zipfile.ZIP_DEFLATED),
                                      ("OEBPS/content.opf", opf, zipfile.ZIP_DEFLATED),
                                      ("OEBPS/chapter 1.xhtml", chapter, zipfile.ZIP_DEFLATED),
                                      ("OEBPS/toc.ncx", ncx, zipfile.ZIP_STORED),
                                      ("OEBPS/font.otf", bytes(range(256)) * 4, zipfile.ZIP_STORED)):
            info = zipfile.ZipInfo(name, (2020, 1, 2, 3, 4, 6))
            info.compress_type = method
            z.writestr(info, content.encode() if isinstance(content, str) else content)
    return out.getvalue()


BOOKS = {"wasteland": WASTELAND.read_bytes(), "epub2": build_epub2(), "renditions": RENDITIONS.read_bytes()}


@pytest.mark.parametrize("book", BOOKS)
def test_identity_gives_back_the_same_bytes(book):
    data = BOOKS[book]
    assert translate_bytes(data, IdentityTranslator()) == data


def texts_of(root) -> str:
    return "".join(root.itertext())


def visible(el, out=None) -> str:
    """The text of an element, less that of code and pre elements inside it."""
    out = [] if out is None else out
    if isinstance(el.tag, str) and el.tag not in (f"{XHTML}code", f"{XHTML}pre"):  # not code, nor a comment
        out.append(el.text or "")
        for child in el:
            visible(child, out)
            out.append(child.tail or "")
    return "".join(out)


@pytest.mark.parametrize("book", BOOKS)
def test_marking_reaches_every_text_and_the_package_stays_valid(book):
    data = BOOKS[book]
    out = translate_bytes(data, MarkTranslator())
    assert_mimetype_first(out, b"application/epub+zip")
    assert out[30:38] == b"mimetype" and out[38:58] == b"application/epub+zip"  # readable at a fixed offset
    changed = changed_members(data, out)  # same members, same order, compression methods and dates
    assert all(n.endswith((".xhtml", ".ncx", ".opf")) for n in changed) and changed
    before, after = contents(data), contents(out)
    for name in changed:
        old, new = etree.fromstring(before[name], SAFE), etree.fromstring(after[name], SAFE)
        assert [e.tag for e in new.iter()] == [e.tag for e in old.iter()], name
        if name.endswith(".xhtml"):
            assert new.get("{http://www.w3.org/XML/1998/namespace}lang", new.get("lang")) == "ko"
            body = new.find(f"{XHTML}body")
            for code in body.iter(f"{XHTML}code", f"{XHTML}pre"):
                assert "«" not in texts_of(code)
            # roman numerals of headings ("I. THE BURIAL OF THE DEAD") are list markers the segmenter keeps
            left = re.sub(r"\b[IVXLC]+\.", " ", MARK.sub(" ", visible(body)))
            assert not re.search(r"[^\W\d_]", left), (name, left[:200])
            assert new.find(f"{XHTML}head/{XHTML}title").text.startswith("«")
        if name.endswith(".ncx"):
            for text in new.iter(f"{NCX}text"):
                assert MARK.fullmatch(re.sub(r"^[IVXLC]+\. ", "", text.text)), text.text
        if name.endswith(".opf"):
            assert new.find(f".//{DC}title").text.startswith("«")
            assert new.find(f".//{DC}language").text == "ko"
            assert new.findtext(f".//{DC}creator") == old.findtext(f".//{DC}creator")
            assert new.findtext(f".//{DC}identifier") == old.findtext(f".//{DC}identifier")


def test_epub2_details():
    out = contents(translate_bytes(BOOKS["epub2"], MarkTranslator()))
    chapter = out["OEBPS/chapter 1.xhtml"].decode()
    assert '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN"' in chapter
    assert '<html lang="ko" xml:lang="ko" xmlns="http://www.w3.org/1999/xhtml">' in chapter
    assert '<p>«It was a <em>dark</em> night &amp; the <a href="#n1">rain</a> fell.»</p>' in chapter
    assert "<!-- editor note -->" in chapter and "<code>rm -rf</code>" in chapter
    assert out["OEBPS/font.otf"] == bytes(range(256)) * 4
    assert "<navLabel><text>«Chapter One»</text></navLabel>" in out["OEBPS/toc.ncx"].decode()


def test_registered_and_bad_books_refused_in_one_line(tmp_path):
    path = tmp_path / "book.epub"
    path.write_bytes(BOOKS["epub2"])
    assert "Chapter One" in read_document(path).texts()

    container = contents(BOOKS["epub2"])["META-INF/container.xml"]
    bad = {
        "empty": b"",
        "not a zip": b"This is plain text, not a book.",
        "truncated": BOOKS["epub2"][: len(BOOKS["epub2"]) // 2],
        "no container": zipped({"mimetype": "application/epub+zip", "a.xhtml": "<html/>"}),
        "wrong mimetype": zipped({"mimetype": "application/zip", "META-INF/container.xml": container}),
        "no package": zipped({"mimetype": "application/epub+zip", "META-INF/container.xml": container}),
        "entity bomb": zipped({"mimetype": "application/epub+zip", "META-INF/container.xml":
                               '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
                               '<container>&b;</container>'}),
        "bomb": zipped({"mimetype": "application/epub+zip", "big.xhtml": b"<p>" + b" " * (20 << 20)}),
    }
    for what, data in bad.items():
        with pytest.raises(InputError) as e:
            EpubDocument(data, "bad.epub", FormatOptions())
        assert "\n" not in str(e.value) and str(e.value).startswith("bad.epub"), what


def rebuild(data: bytes, change) -> bytes:
    """The book with change(name, content) -> (name, content) applied to each member."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as z, zipfile.ZipFile(out, "w") as target:
        for info in z.infolist():
            name, content = change(info.filename, z.read(info))
            copy = zipfile.ZipInfo(name, info.date_time)
            copy.compress_type = info.compress_type
            target.writestr(copy, content)
    return out.getvalue()


def utf32_opf(name, content):
    """The package document in UTF-32, with entity declarations."""
    if name.endswith(".opf"):
        text = content.decode().replace("\n<package", '\n<!DOCTYPE package [<!ENTITY e "entity text">]>\n<package', 1)
        return name, text.replace('encoding="UTF-8"', 'encoding="UTF-32"').encode("utf-32")
    return name, content


def late_subset(name, content):
    """The chapter with entity declarations after 5,000 bytes of comment."""
    if name.endswith(".xhtml"):
        text = content.decode().replace("<!DOCTYPE html PUBLIC", "<!-- " + "x" * 5000 + " -->\n"
                                        + '<!DOCTYPE html [<!ENTITY e "entity text">]>\n<!--', 1)
        text = text.replace('xhtml11.dtd">', 'xhtml11.dtd" -->', 1).replace("fell.", "fell &e;.", 1)
        return name, text.encode()
    return name, content


@pytest.mark.parametrize("change", [utf32_opf, late_subset], ids=lambda f: f.__name__)
def test_a_doctype_is_found_in_the_parsed_document_not_in_the_first_bytes(change):
    book = rebuild(BOOKS["epub2"], change)
    with pytest.raises(InputError) as e:
        EpubDocument(book, "bad.epub", FormatOptions())
    assert "DOCTYPE" in str(e.value) and "\n" not in str(e.value)


def test_member_names_written_with_backslashes_are_read():
    book = rebuild(BOOKS["epub2"], lambda name, content: (name.replace("/", "\\"), content))
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        assert "OEBPS\\content.opf" in z.namelist()
    assert EpubDocument(book, "book.epub", FormatOptions()).texts() == \
        EpubDocument(BOOKS["epub2"], "book.epub", FormatOptions()).texts()
    out = translate_bytes(book, MarkTranslator())
    assert "«Chapter One»" in contents(out)["OEBPS/chapter 1.xhtml"].decode()


def test_every_rendition_is_translated_with_its_navigation():
    data = BOOKS["renditions"]
    out = translate_bytes(data, MarkTranslator())
    assert changed_members(data, out) == {"EPUB/package.opf", "EPUB/package-fxl.opf", "EPUB/reflow/content_001.xhtml",
                                          "EPUB/reflow/nav.xhtml", "EPUB/fxl/content_001.xhtml", "EPUB/fxl/nav.xhtml"}
    after = contents(out)
    for rendition in ("reflow", "fxl"):
        nav = etree.fromstring(after[f"EPUB/{rendition}/nav.xhtml"], SAFE)
        assert [a.text for a in nav.iter(f"{XHTML}a")] == ["«content 001»"]
    for opf in ("EPUB/package.opf", "EPUB/package-fxl.opf"):
        assert etree.fromstring(after[opf], SAFE).find(f".//{DC}language").text == "ko"
