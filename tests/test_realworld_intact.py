"""Every real file of tests/data/realworld (and of ../shared/realworld where it is there) through the public
API, both ways (to Korean and to English): a translator that gives its input back gives back the file (bytes,
or the same text where the file is re-encoded as UTF-8); a translator that marks every text («…») reaches every
text not already in the target language, marks no label, marker, URL, tag or block syntax, and the file keeps
its structure (elements and their href/src/id, blocks, cues and timings, rows and the cells not translated)."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from pathlib import Path

import lxml.etree
import lxml.html
import pytest
from markdown_it import MarkdownIt

from conftest import DATA, SHARED, IdentityTranslator, MarkTranslator
from gugugo_cli import translate_dataset
from gugugo_cli.api import translate_documents
from gugugo_cli.formats import DATASET_SUFFIXES, FormatOptions, read_document, supported
from gugugo_cli.formats.html import SKIP
from gugugo_cli.inert import nothing_to_translate
from gugugo_cli.languages import detect_language
from gugugo_cli.textio import decode_bytes

REAL = DATA / "realworld"
# the fields translated in each dataset file
DATASETS = {
    "kornlu_sts-dev-forums.tsv": ["sentence1", "sentence2"],
    "kornlu_xnli.dev.ko-head.tsv": ["sentence1", "sentence2"],
    "songys_ChatbotData-head.csv": ["Q", "A"],
    "nsmc_raw-100039.json": ["review"],
}
DOCS = sorted(p for p in REAL.iterdir() if supported(p))
if (SHARED / "realworld").is_dir():
    DOCS += sorted(p for d in sorted((SHARED / "realworld").iterdir()) if d.is_dir() for p in sorted(d.iterdir())
                   if supported(p) and p.name != "invalid.srt")  # (a file the SubRip reader refuses)
MARK = re.compile(r"«[^«»]*»")
# a mark, or the part of one that a text holds (a sentence spread over consecutive cues or runs)
MARK_PART = re.compile(r"«[^«»]*(?:»|$)|^[^«»]*»")
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def test_every_real_file_is_checked():
    names = {p.name for p in REAL.iterdir()}
    assert names == {p.name for p in DOCS if p.parent == REAL} | set(DATASETS)


def translated(path: Path, translator, tgt: str) -> bytes:
    doc = read_document(path, options=FormatOptions(tgt=tgt))
    return translate_documents([doc], tgt, "auto", translator)[0]


def unmark(text: str) -> str:
    return text.replace("«", "").replace("»", "")


def squash(text: str) -> str:
    return "".join(text.split())


def left_over(text: str, tgt: str) -> list[str]:
    """The pieces of a text outside its marks (marks and blank lines cut it) with words to translate that are in
    the other language (Japanese or Latin is neither; a Roman numeral is a number)."""
    other = "en" if tgt == "ko" else "ko"
    return [piece for piece in re.split(r"\n\s*\n", MARK_PART.sub("\n\n", text))
            if not nothing_to_translate(piece) and not ROMAN.fullmatch(piece.strip())
            and detect_language(piece) == other and (other == "ko" or re.search("[A-Za-z]{2}", piece))]


ROMAN = re.compile(r"[IVXLC]+\.?|\(?[가-하]\.|\(?[가-하]\)")  # also the Korean list labels 가. 나. (다)


# ---------------------------------------------------------------------------------------------- identity

@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
@pytest.mark.parametrize("tgt", ["ko", "en"])
def test_identity_gives_the_file_back(path, tgt):
    data = path.read_bytes()
    out = translated(path, IdentityTranslator(), tgt)
    if out != data:  # re-encoded (the output is UTF-8): the same text
        assert decode_bytes(out, "out").text.lstrip("\ufeff") == decode_bytes(data, path.name).text.lstrip("\ufeff")


# ---------------------------------------------------------------------------------------------- marking

@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
@pytest.mark.parametrize("tgt", ["ko", "en"])
def test_marking_reaches_every_text_and_keeps_the_structure(path, tgt, caplog):
    data, marker = path.read_bytes(), MarkTranslator()
    out = translated(path, marker, tgt)
    assert not [s for s in marker.segments if nothing_to_translate(s)]  # no URL, number or markup alone sent
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        # the markdown-it fixtures hold examples, not prose: their blocks and bytes are checked, and each
        # example is translated on its own in test_markdown.py
        fixture = path.name.startswith("markdown-it-py_") and path.stem.split("_", 1)[1] in FIXTURES
        check_markdown(data.decode("utf-8-sig"), out.decode("utf-8-sig"), tgt, caplog, not fixture)
    elif suffix in (".html", ".htm", ".xhtml"):
        check_html(data, out, tgt)
    elif zipfile.is_zipfile(io.BytesIO(data)):
        check_package(data, out, tgt)
    else:
        check_text_file(path, data, out, tgt)


# Kept parts of a Markdown text that are no words to translate: footnote labels and inline notes' markers,
# alert types, template tags, attribute lists, math and URLs.
FIXTURES = ("commonmark_spec", "commonmark_extras", "tables", "strikethrough")
MD_SYNTAX = {"link_open", "image", "code_inline", "html_inline"}
MD_KEPT = re.compile(r"\[\^[^\]\s]+\]:?|\^\[|\[![\w-]+\]|\{\{[<%]|[%>]\}\}|^[ \t]*:{3,}[ \t]*[\w-]*|^[ \t]*(?:!!!|\?\?\?\+?|===\+?)[ \t]+(?:[\w-]+[ \t]*)*\"?|^import[ \t].*\bfrom[ \t]+['\"]|\{\{[^{}]*\}\}|\{%.*?%\}"
                     r"|\{[ \t]*(?:[#.:]|[\w-]+=)[^{}\n]*\}|:[a-z0-9]+(?:[-_][a-z0-9]+)+:|\$[^$\n]+\$|(?:https?|ftp)://\S+|www\.\S+", re.M)
SHORTCODE = re.compile(r"\{\{[<%][\s\S]*?[%>]\}\}")
REF_LABEL = re.compile(r"\[([^\[\]]+)\]\[([^\[\]]*)\]")  # `[Go]`, `[Go][]`: a translated label gets its reference


def shortcut(text: str) -> str:
    """Links named by their label written as `[label]` (the label's words after it: `[label][label]`, `[label][]`)."""
    return REF_LABEL.sub(lambda m: f"[{m[1]}]" if m[2].split() in ([], m[1].split()) else m[0], text)


def check_markdown(src: str, out: str, tgt: str, caplog, coverage: bool) -> None:
    assert blocks(out) == blocks(src)  # the same blocks (headings stay headings), read by plain CommonMark
    if "«" in src or "»" in src:
        return
    assert squash(shortcut(unmark(out))) == squash(shortcut(src))  # marks only
    for mark in MARK.findall(out):
        assert not MD_KEPT.search(mark), mark  # no label, URL or template tag sent
        syntax = [t.type for t in MD.parseInline(mark[1:-1])[0].children if t.type in MD_SYNTAX]
        assert not syntax, (mark, syntax)  # no link, image, code span, inline HTML or autolink sent
    if not coverage:
        return
    reverted = sum("would change the Markdown structure" in r.getMessage() for r in caplog.records)
    left = []
    for tok in MD.parse(prose(out)):
        if tok.type == "inline":
            left += left_over(MD_KEPT.sub(" ", SHORTCODE.sub(" ", visible(tok.children))), tgt)
    assert len(left) <= reverted, left[:5]  # a text left as it was is one whose translation changed the blocks


# What a Markdown page holds that is no prose: front matter, math blocks and the blocks of the shortcodes
# that hold code or data (the inner text of Hugo's code-toggle is TOML).
NOT_PROSE = re.compile(r"\A(?:---\n.*?\n---|\+\+\+\n.*?\n\+\+\+|\{\n.*?\n\})\n|^\$\$\n.*?^\$\$$|^\\\[\n.*?^\\\]$"
                       r"|^[ \t]*\{\{< (code-toggle|highlight)[^\n]*>\}\}\n.*?^[ \t]*\{\{< /\1 >\}\}$"
                       r"|^[ \t]*\{\{[<%](?:(?!\}\}).)*?[>%]\}\}", re.S | re.M)


def prose(text: str) -> str:
    return NOT_PROSE.sub(lambda m: "\n" * m.group().count("\n"), text)


def blocks(text: str) -> list[tuple]:
    return [(t.type, t.tag, t.markup) for t in MD.parse(text) if t.type != "inline"]


def visible(children) -> str:
    """The text a reader sees in an inline token: code spans, inline HTML and autolinks are gaps."""
    out, in_autolink = [], False
    for t in children or []:
        if t.type in ("link_open", "link_close") and t.markup == "autolink":
            in_autolink = t.type == "link_open"
        elif t.type == "text" and not in_autolink:
            out.append(t.content)
        elif t.type == "image":
            out.append(" " + visible(t.children) + " ")
        elif t.type in ("softbreak", "hardbreak"):
            out.append("\n")
        else:
            out.append(" ")
    return "".join(out)


KEPT_ATTRS = ("href", "src", "id", "name", "class", "xml:id", "epub:type", "idref")


def check_html(data: bytes, out: bytes, tgt: str, xml: bool = False) -> None:
    before, after = parse_markup(data, xml), parse_markup(out, xml)
    old_elements, new_elements = list(before.iter()), list(after.iter())
    assert [e.tag for e in new_elements] == [e.tag for e in old_elements]  # no element lost or added
    for old, new in zip(old_elements, new_elements):
        for name in KEPT_ATTRS:
            assert new.get(name) == old.get(name), (old.tag, name)
        assert squash(unmark(new.text or "")) == squash(unmark(old.text or "")), old.tag  # (a page may hold «»)
        assert squash(unmark(new.tail or "")) == squash(unmark(old.tail or "")), old.tag
    assert not left_over(text_flow(after), tgt), left_over(text_flow(after), tgt)[:3]


def parse_markup(data: bytes, xml: bool):
    if xml:
        return lxml.etree.fromstring(data, lxml.etree.XMLParser(resolve_entities=False, huge_tree=True))
    return lxml.html.document_fromstring(data, lxml.html.HTMLParser(encoding=sniff_charset(data)))


def sniff_charset(data: bytes) -> str:
    m = re.search(rb"charset=[\"']?([\w-]+)", data[:4096])
    return m.group(1).decode() if m else "utf-8"


def skipped(el) -> bool:
    while el is not None:
        tag = el.tag.split("}")[-1] if isinstance(el.tag, str) else ""
        if tag in SKIP or tag in ("head",) or el.get("translate", "").lower() == "no" \
                or "notranslate" in (el.get("class") or "").split():
            return True
        el = el.getparent()
    return False


def text_flow(root) -> str:
    """Every text a reader sees, in document order; block elements and comments are gaps."""
    out = []

    def walk(el, hidden):
        if not isinstance(el.tag, str):
            out.append("\n\n")
            return
        hidden = hidden or skipped(el)
        block = el.tag.split("}")[-1] in BLOCKS
        out.append("\n\n" if block else "")
        if el.text and not hidden:
            out.append(el.text)
        for child in el:
            walk(child, hidden)
            if child.tail and not hidden:
                out.append(child.tail)
        out.append("\n\n" if block else "")

    walk(root, False)
    return "".join(out)


BLOCKS = frozenset("p div li td th tr h1 h2 h3 h4 h5 h6 dt dd figcaption caption option title hr section article "
                   "header footer nav aside blockquote ul ol dl table body".split())


# Office and HWPX parts: a paragraph's text is that of its <t> elements (w:t, a:t, hp:t, a shared string's t)
PARAGRAPHS = ("p", "si", "is")
LANG_ATTRS = {"lang", "val", "eastAsia", "bidi", "altLang", "language"}


def check_package(data: bytes, out: bytes, tgt: str) -> None:
    a, b = zipfile.ZipFile(io.BytesIO(data)), zipfile.ZipFile(io.BytesIO(out))
    columns = {m.decode() for n in a.namelist() if re.match(r"xl[/\\]tables[/\\]", n)
               for m in re.findall(rb'<(?:\w+:)?tableColumn [^>]*?name="([^"]*)"', a.read(n))}
    assert [n.replace("\\", "/") for n in b.namelist()] == [n.replace("\\", "/") for n in a.namelist()]
    for name, new_name in zip(a.namelist(), b.namelist()):
        old, new = a.read(name), b.read(new_name)
        if old == new or not name.lower().endswith((".xml", ".rels", ".xhtml", ".html", ".opf", ".ncx")):
            assert new == old or name.lower().endswith((".xml", ".xhtml", ".html", ".opf", ".ncx")), name
            continue
        if name.lower().endswith((".xhtml", ".html")):
            check_html(old, new, tgt, xml=True)
            continue
        before, after = parse_markup(old, True), parse_markup(new, True)
        before, after = without_dropped(before), without_dropped(after)
        old_elements, new_elements = list(before.iter()), list(after.iter())
        assert [e.tag for e in new_elements] == [e.tag for e in old_elements], name
        for o, n in zip(old_elements, new_elements):
            for key, value in o.attrib.items():
                if key.split("}")[-1] not in LANG_ATTRS:
                    assert unmark(n.get(key) or "") == value, (name, o.tag, key)
        # the same characters (a paragraph's translation goes into its first run: text that followed an inline
        # object in the paragraph now comes before it, as the formats' documents say)
        assert sorted(squash(unmark(own_text(after)))) == sorted(squash(unmark(own_text(before)))), name
        for p in after.iter():
            if isinstance(p.tag, str) and p.tag.split("}")[-1] in PARAGRAPHS:
                text = "".join(t.text or "" for t in p.iter() if isinstance(t.tag, str)
                               and t.tag.split("}")[-1] == "t")
                if text not in columns:  # (a table's column name is a structured reference's key)
                    assert not left_over(text, tgt), (name, text[:200])


def cue_words(text: str) -> str:
    """A subtitle file's characters less spaces, line breaks and the tags inside cue text (a translation has no
    place for a tag inside a line: it is dropped, as the formats' documents say), references decoded."""
    return squash(html.unescape(CUE_TAG.sub("", text.replace("\\N", " ").replace("\\n", " "))))


CUE_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d[\d:.]*>|\{[^{}]*\}")
def without_dropped(root):
    """The part less what a new text drops, as the formats' documents say: phonetic guides (Excel's rPh,
    readings of the original's characters) and line-layout caches (HWPX's linesegarray, laid out again by
    Hangul); and less the text of EPUB's dc:language, which follows the translation."""
    for el in [e for e in root.iter() if isinstance(e.tag, str) and e.tag.endswith(("}rPh", "}linesegarray"))]:
        el.getparent().remove(el)
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.endswith("}language"):
            el.text = ""
    return root


def own_text(root) -> str:
    return "".join(root.itertext())


CUE_TIMING = re.compile(r"^.*-->.*$|<sync[^>]*>", re.M | re.I)


def check_text_file(path: Path, data: bytes, out: bytes, tgt: str) -> None:
    src, new = decode_bytes(data, path.name).text.lstrip("\ufeff"), decode_bytes(out, "out").text.lstrip("\ufeff")
    suffix = path.suffix.lower()
    if suffix in (".ass", ".ssa"):
        events = [l.split(",", 9)[:9] for l in src.splitlines() if l.startswith(("Dialogue:", "Comment:"))]
        assert [l.split(",", 9)[:9] for l in new.splitlines() if l.startswith(("Dialogue:", "Comment:"))] == events
    else:
        assert [squash(t) for t in CUE_TIMING.findall(new)] == [squash(t) for t in CUE_TIMING.findall(src)]
    if suffix not in (".smi", ".sami"):  # (SAMI's class names follow the language)
        assert cue_words(unmark(new)) == cue_words(unmark(src))
    again = read_document(path.with_name("again" + path.suffix), out, FormatOptions(tgt=tgt))
    for text in again.texts():
        assert not left_over(text, tgt), text


# ---------------------------------------------------------------------------------------------- datasets

def dataset_rows(path: Path) -> list:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".json":
        return json.loads(text)
    return text.splitlines()


@pytest.mark.parametrize("name", sorted(DATASETS))
@pytest.mark.parametrize("tgt", ["ko", "en"])
def test_datasets_come_back_whole(tmp_path, name, tgt):
    path, fields = REAL / name, DATASETS[name]
    same = tmp_path / f"same{path.suffix}"
    translate_dataset(path, fields, tgt, IdentityTranslator(), output=same)
    if path.suffix == ".json":
        assert json.loads(same.read_bytes()) == json.loads(path.read_bytes())
    else:
        assert same.read_bytes() == path.read_bytes()
    marked = tmp_path / f"marked{path.suffix}"
    summary = translate_dataset(path, fields, tgt, MarkTranslator(), output=marked)
    assert summary.rows_failed == 0
    before, after = dataset_rows(path), dataset_rows(marked)
    assert len(after) == len(before)
    if path.suffix == ".json":
        for old, new in zip(before, after):
            assert new.keys() == old.keys()
            for key in old:
                if key in fields:
                    assert unmark(new[key]) == old[key] and not left_over(new[key], tgt), new[key]
                else:
                    assert new[key] == old[key]
        return
    sep = "\t" if path.suffix == ".tsv" else ","
    header = before[0].split(sep)
    assert after[0] == before[0]
    columns = [header.index(f) for f in fields]
    for old, new in zip(before[1:], after[1:]):
        old_cells, new_cells = old.split(sep), new.split(sep)
        if len(old_cells) == len(header) and '"' not in old:
            assert len(new_cells) == len(old_cells)
            for i, (o, n) in enumerate(zip(old_cells, new_cells)):
                if i in columns:
                    assert unmark(n) == o and not left_over(n, tgt), n
                else:
                    assert n == o
