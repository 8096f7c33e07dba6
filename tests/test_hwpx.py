import re
import zipfile

import pytest
from lxml import etree

from conftest import DATA, IdentityTranslator, MarkTranslator
from gugugo_cli.errors import InputError
from gugugo_cli.formats import FormatOptions, read_document
from gugugo_cli.formats.hwpx import HwpxDocument
from package_helpers import (SAFE, assert_mimetype_first, assert_refused_in_one_line, changed_members, contents,
                             translate_package, zipped)

HP = "{http://www.hancom.co.kr/hwpml/2011/paragraph}"
HANGUL = re.compile(r"[가-힣]")
MARK = re.compile(r"«[^«»]*»")
REAL = {p.name: p.read_bytes() for p in sorted((DATA / "realworld").glob("hwpxlib_*.hwpx"))}


def translate_bytes(data: bytes, translator, tgt="en") -> bytes:
    return translate_package(HwpxDocument, "doc.hwpx", data, translator, tgt)


def pieces(p) -> list:
    """The text of a paragraph's own runs, cut at line breaks and tabs, deleted text left out."""
    out, current, deleted = [], [], False
    for t in p.findall(f"{HP}run/{HP}t"):
        if not deleted:
            current.append(t.text or "")
        for child in t:
            if child.tag == f"{HP}deleteBegin":
                deleted = True
            elif child.tag == f"{HP}deleteEnd":
                deleted = False
            elif child.tag in (f"{HP}lineBreak", f"{HP}tab"):
                out.append("".join(current))
                current = []
            if not deleted:
                current.append(child.tail or "")
    out.append("".join(current))
    return out


def paragraphs(data: bytes) -> dict:
    """section part -> [(paragraph pieces, has its line layout)] for every hp:p, nested ones included."""
    found = {}
    for name, content in contents(data).items():
        if re.match(r"Contents/section\d+\.xml$", name):
            root = etree.fromstring(content, SAFE)
            found[name] = [(pieces(p), p.find(f"{HP}linesegarray") is not None) for p in root.iter(f"{HP}p")]
    return found


@pytest.mark.parametrize("name", REAL)
def test_identity_gives_back_the_same_bytes(name):
    assert translate_bytes(REAL[name], IdentityTranslator()) == REAL[name]


@pytest.mark.parametrize("name", REAL)
def test_marking_reaches_every_paragraph_and_keeps_the_package(name):
    data = REAL[name]
    out = translate_bytes(data, MarkTranslator())
    changed = changed_members(data, out)  # same members, same order, compression methods and dates
    assert changed and all(re.match(r"Contents/section\d+\.xml$", n) for n in changed)
    assert_mimetype_first(out, b"application/hwp+zip")
    before, after = contents(data), contents(out)
    for member in changed:  # the part's own declaration, then well-formed XML with the same elements but layouts
        assert after[member].startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>')
        old, new = etree.fromstring(before[member], SAFE), etree.fromstring(after[member], SAFE)
        assert [e.tag for e in new.iter() if "lineseg" not in e.tag] == \
               [e.tag for e in old.iter() if "lineseg" not in e.tag]
    seen = 0
    for member, old_paragraphs in paragraphs(data).items():
        new_paragraphs = paragraphs(out)[member]
        assert len(new_paragraphs) == len(old_paragraphs)
        for (old_pieces, old_layout), (new_pieces, new_layout) in zip(old_paragraphs, new_paragraphs):
            assert len(new_pieces) == len(old_pieces)
            for o, n in zip(old_pieces, new_pieces):
                if HANGUL.search(o):
                    # every sentence marked; list markers ("1.", "가.") are kept outside by the segmenter
                    left = re.sub(r"^\s*(\d+|[가-하])\.\s", " ", MARK.sub(" ", n))
                    assert "«" in n and not re.search(r"[^\W\d_]", left), (o, n)
                    seen += 1
            if new_pieces == old_pieces:
                assert new_layout == old_layout  # an untouched paragraph keeps its line layout
            else:
                assert not new_layout  # Hangul lays a changed paragraph out again
    assert seen


def texts_of(data: bytes) -> list:
    return [" | ".join(pc) for ps in paragraphs(data).values() for pc, _ in ps if "".join(pc).strip()]


def test_places_a_reader_sees():
    header = texts_of(translate_bytes(REAL["hwpxlib_HeaderFooter.hwpx"], MarkTranslator()))
    assert "«꼬리말»" in header and "«머리말 테스트»" in header  # footer and header
    table = texts_of(translate_bytes(REAL["hwpxlib_Table.hwpx"], MarkTranslator()))
    assert "«C반 기말고사»" in table and "«개똥이»" in table and "89" in table  # cells; numbers stay
    boxes = texts_of(translate_bytes(REAL["hwpxlib_RectInPara.hwpx"], MarkTranslator()))
    assert "«오각형이 아니에요»" in boxes and "«2번째 사각형»" in boxes  # text boxes inside a paragraph
    notice = translate_bytes(REAL["hwpxlib_notice-20230413.hwpx"], MarkTranslator())
    # a paragraph whose words are split over runs is translated whole, into its first run
    section = contents(notice)["Contents/section0.xml"].decode()
    assert "«  「서울특별시 강남구 공무직 관리 규정」을 개정함에 있어" not in section
    assert "  «「서울특별시 강남구 공무직 관리 규정」을 개정함에 있어 그 입법취지와 주요내용을 구민에게 알려 의견을 구하고자" \
           "「서울특별시 강남구 법제 사무처리 규칙」에 따라 다음과 같이 입법예고합니다.»" in texts_of(notice)


def test_change_tracking_deleted_text_kept():
    out = contents(translate_bytes(REAL["hwpxlib_ChangeTrack.hwpx"], MarkTranslator()))
    section = out["Contents/section0.xml"].decode()
    assert re.search(r'<hp:t>«변경» <hp:deleteBegin Id="2" TcId="2"/> 추적<hp:deleteEnd [^>]*/><hp:tab [^>]*/>'
                     r'<hp:insertBegin [^>]*/>«인간은»<hp:insertEnd [^>]*/></hp:t>', section), section[:3000]


def test_registered_and_bad_documents_refused_in_one_line(tmp_path):
    good = REAL["hwpxlib_Table.hwpx"]
    path = tmp_path / "doc.hwpx"
    path.write_bytes(good)
    assert "C반 기말고사" in read_document(path).texts()

    parts = contents(good)
    bad = {
        "empty": b"",
        "not a zip": "한글 문서가 아닙니다".encode(),
        "truncated": good[: len(good) // 2],
        "old hwp": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
        "wrong mimetype": zipped({**parts, "mimetype": "application/zip"}),
        "no sections": zipped({"mimetype": "application/hwp+zip", "version.xml": parts["version.xml"]}),
        "a workbook": (DATA / "realworld" / "python-pptx_cht-charts-embedded.xlsx").read_bytes(),
        "password": zipped({**parts, "META-INF/manifest.xml":
                            '<odf:manifest xmlns:odf="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                            '<odf:file-entry odf:full-path="Contents/section0.xml"><odf:encryption-data/>'
                            '</odf:file-entry></odf:manifest>'}),
        "entity bomb": zipped({**parts, "Contents/section0.xml":
                               '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
                               '<hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section">&b;</hs:sec>'}),
        "broken xml": zipped({**parts, "Contents/section0.xml": "<hs:sec><hp:p>"}),
        "bomb": zipped({**parts, "Contents/section0.xml": b"<hs:sec>" + b" " * (20 << 20)}),
    }
    assert_refused_in_one_line(tmp_path, ".hwpx", bad)
    assert ".hwp)" in str(pytest.raises(InputError, HwpxDocument, bad["old hwp"], "b.hwpx", FormatOptions()).value)


def test_footnotes_and_endnotes_are_paragraphs_of_their_own():
    parts = contents(REAL["hwpxlib_HeaderFooter.hwpx"])
    section = parts["Contents/section0.xml"].decode()
    note = ('<hp:run charPrIDRef="0"><hp:t>본문 문장입니다.</hp:t><hp:ctrl><hp:{kind} number="1" instId="1">'
            '<hp:subList id="" textDirection="HORIZONTAL" lineWrap="BREAK" vertAlign="TOP"><hp:p id="0" '
            'paraPrIDRef="0" styleIDRef="0" pageBreak="0" columnBreak="0" merged="0"><hp:run charPrIDRef="0">'
            '<hp:t>{text}</hp:t></hp:run></hp:p></hp:subList></hp:{kind}></hp:ctrl><hp:t> 뒤의 문장입니다.</hp:t>'
            '</hp:run>')
    marker = "<hp:run charPrIDRef=\"2\"><hp:t>꼬리말</hp:t></hp:run>"
    assert marker in section
    section = section.replace(marker, marker + note.format(kind="footNote", text="각주 내용입니다.")
                              + note.format(kind="endNote", text="미주 내용입니다."), 1)
    parts["Contents/section0.xml"] = section.encode()
    data = zipped(parts, zipfile.ZIP_STORED)
    doc = HwpxDocument(data, "notes.hwpx", FormatOptions(tgt="en"))
    assert "각주 내용입니다." in doc.texts() and "미주 내용입니다." in doc.texts()
    texts = texts_of(translate_bytes(data, MarkTranslator()))
    assert "«각주 내용입니다.»" in texts and "«미주 내용입니다.»" in texts
    outer = next(t for t in texts if t.startswith("«꼬리말"))  # the paragraph holding the notes, without them
    assert "각주" not in outer and "미주" not in outer and not HANGUL.search(MARK.sub("", outer))
