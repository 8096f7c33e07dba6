import re

import pytest
from markdown_it import MarkdownIt

from conftest import DATA, IdentityTranslator, MarkTranslator
from gugugo_cli.api import translate_documents
from gugugo_cli.errors import InputError
from gugugo_cli.formats import FormatOptions, read_document
from gugugo_cli.formats.markdown import MarkdownDocument
from gugugo_cli.inert import nothing_to_translate

REAL = DATA / "realworld"
DOCS = sorted(p for p in REAL.glob("markdown-it-py_*.md") if not p.name.endswith(
    ("_commonmark_spec.md", "_tables.md", "_strikethrough.md", "_commonmark_extras.md")))
FIXTURES = [REAL / f"markdown-it-py_{n}.md" for n in ("commonmark_spec", "tables", "strikethrough", "commonmark_extras")]
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
URL_OR_MATH = re.compile(r"(?:https?|ftp)://\S+|www\.\S+|\$[^$\n]+\$")


def translate_bytes(data: bytes, translator, tgt="ko", name="x.md") -> bytes:
    return translate_documents([MarkdownDocument(data, name, FormatOptions(tgt=tgt))], tgt, "auto", translator)[0]


def examples(path):
    """The Markdown source of every example of a markdown-it fixture file (title, `.`, source, `.`, html, `.`)."""
    text = "\n" + path.read_text(encoding="utf-8")
    return [m.group(1) + "\n" for m in re.finditer(r"\n\.\n(.*?)\n\.\n(.*?)\n\.\n", text, re.S)]


def visible(children) -> str:
    """The text a reader sees in an inline token, with code spans, inline HTML and autolinks as gaps."""
    out, in_autolink = [], False
    for t in children or []:
        if t.type in ("link_open", "link_close") and t.markup == "autolink":
            in_autolink = t.type == "link_open"
        elif t.type == "text" and not in_autolink:
            out.append(t.content)
        elif t.type == "image":
            out.append(" " + visible(t.children) + " ")
        else:
            out.append(" ")
    return "".join(out)


def protected(tokens):
    """Everything that must come back unchanged: code, HTML, URLs and titles of links and images."""
    out = []
    for t in tokens:
        if t.type in ("fence", "code_block", "html_block", "code_inline", "html_inline"):
            out.append((t.type, t.content))
        if t.type in ("link_open", "image"):
            out.append((t.type, t.attrGet("href"), t.attrGet("src"), t.attrGet("title")))
        if t.children:
            out += protected(t.children)
    return out


def block_types(tokens):
    return [(t.type, t.tag, t.markup, t.level) for t in tokens]


def squash(html: str) -> str:
    return " ".join(html.split())


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_identity_gives_back_the_same_bytes(path):
    data = path.read_bytes()
    assert translate_bytes(data, IdentityTranslator()) == data


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_marking_reaches_every_visible_text_and_nothing_protected(path):
    src = path.read_text(encoding="utf-8")
    out = translate_bytes(path.read_bytes(), MarkTranslator()).decode("utf-8")
    front = src.index("\n---\n", 4) + 5 if src.startswith("---\n") else 0
    assert out[:front] == src[:front]  # front matter (using.md has one) is left alone
    src, out = src[front:], out[front:]
    before, after = MD.parse(src), MD.parse(out)
    assert block_types(after) == block_types(before)  # same blocks: headings, lists, quotes, tables, code
    assert protected(after) == protected(before)
    assert squash(MD.render(out).replace("«", "").replace("»", "")) == squash(MD.render(src))
    for tok in after:
        if tok.type != "inline":
            continue
        text = URL_OR_MATH.sub(" ", re.sub(r"«[^«»]*»", " ", visible(tok.children)))
        assert nothing_to_translate(text), (path.name, tok.content)  # what is left has no words: a handle, a path


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_spec_example(path):
    """Each example of the CommonMark spec and markdown-it's table and strikethrough fixtures: identity gives
    the same bytes, and marked output renders to the same HTML once the marks are taken out."""
    failures = []
    for i, example in enumerate(examples(path)):
        if "«" in example or "»" in example:
            continue
        data = example.encode("utf-8")
        if translate_bytes(data, IdentityTranslator()) != data:
            failures.append((i, "identity", example))
            continue
        out = translate_bytes(data, MarkTranslator()).decode("utf-8")
        if squash(MD.render(out).replace("«", "").replace("»", "")) != squash(MD.render(example)):
            failures.append((i, "marked", example, out))
    assert not failures, failures[:3]
    assert len(examples(path)) > 10


SAMPLE = """\
---
title: Front Matter Title
---

# Install *the* tool

Run `pip install gugugo` first, then read the [user guide](https://example.com/guide "Guide")
and the [reference][ref] or just [Setup]. See https://example.com/docs for more
about $x^2 + y$ and <kbd>Ctrl</kbd> keys.

> Quoted text on one line
> and on another line.

| Column | Other |
|--------|-------|
| first cell | `code cell` |

![A cat on a mat](cat.png)

$$
a = b + c
$$

[ref]: https://example.com/ref
[setup]: https://example.com/setup
"""


def test_sample_keeps_protected_parts_and_line_structure():
    marker = MarkTranslator()
    out = translate_bytes(SAMPLE.encode(), marker).decode()
    assert out.startswith("---\ntitle: Front Matter Title\n---\n")
    assert "# «Install *the* tool»\n" in out
    assert "«Run» `pip install gugugo` «first, then read the» [«user guide»](https://example.com/guide \"Guide\")" in out
    assert "[«reference»][ref]" in out
    assert "[«Setup»][Setup]" in out  # a shortcut reference keeps its name after the translated label
    assert "https://example.com/docs" in out and "$x^2 + y$" in out and "<kbd>«Ctrl»</kbd>" in out
    assert "> «Quoted text on one line\n> and on another line.»\n" in out
    assert "| «first cell» | `code cell` |" in out
    assert "![«A cat on a mat»](cat.png)" in out
    assert "$$\na = b + c\n$$\n" in out and "[ref]: https://example.com/ref\n" in out
    for seg in marker.segments:  # nothing protected reached the translator
        assert "`" not in seg and "https://" not in seg and "$" not in seg and "Front Matter" not in seg
    links = lambda text: [t.attrGet("href") for tok in MD.parse(text) if tok.children for t in tok.children
                          if t.type == "link_open"]
    assert links(out) == links(SAMPLE)
    assert len(out.splitlines()) == len(SAMPLE.splitlines())


class Fixed:
    def __init__(self, answer):
        self.answer = answer

    def translate_batch(self, texts, src, tgt):
        return [self.answer(t) for t in texts]


def test_a_pipe_in_a_translated_cell_is_escaped():
    src = "| a | b |\n|---|---|\n| cat | dog |\n"
    out = translate_bytes(src.encode(), Fixed(lambda t: t + " | x")).decode()
    assert MD.render(out).count("<td>") == 2
    assert "| cat \\| x | dog \\| x |" in out


def test_an_emphasis_marker_the_translation_lost_is_dropped_in_pairs():
    src = "Some **bold** words here.\n"
    out = translate_bytes(src.encode(), Fixed(lambda t: t.replace("**bold**", "*bold"))).decode()
    assert out == "Some bold words here.\n"


def test_emphasis_around_a_link_keeps_its_closing_marker_when_a_translation_drops_markers():
    # the `__` after the link closes the one before it: it is no part of the text after the link
    src = "__[Set up the tool]__ by the author.\n\n** Updates of today **\n\n[Set up the tool]: /setup\n"
    out = translate_bytes(src.encode(), Fixed(lambda t: t.replace("_", "").replace("*", "").upper())).decode()
    assert out.startswith("__[SET UP THE TOOL][Set up the tool]__ BY THE AUTHOR.\n\n** UPDATES OF TODAY **\n")
    assert block_types(MD.parse(out)) == block_types(MD.parse(src))


def test_line_endings_and_bom_are_kept():
    src = "\ufeff# Title\r\n\r\nLine one of a paragraph\r\nline two of it.\r\n"
    data = src.encode("utf-8")
    assert translate_bytes(data, IdentityTranslator()) == data
    out = translate_bytes(data, MarkTranslator())
    assert out == "\ufeff# «Title»\r\n\r\n«Line one of a paragraph\r\nline two of it.»\r\n".encode("utf-8")


def test_already_in_target_language_is_left_alone():
    src = "# 제목\n\n한국어 문단입니다.\n".encode()
    assert translate_bytes(src, MarkTranslator(), tgt="ko") == src


def test_a_translation_that_would_change_the_blocks_is_not_applied():
    src = "Hello world.\n\nAnother paragraph.\n"
    out = translate_bytes(src.encode(), Fixed(lambda t: "# " + t if t.startswith("Hello") else f"«{t}»")).decode()
    assert out == "Hello world.\n\n«Another paragraph.»\n"


def test_registered_for_md_and_markdown(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Notes\n\nA `code` word.\n", encoding="utf-8")
    doc = read_document(path)
    assert translate_documents([doc], "ko", "auto", MarkTranslator())[0].decode() == "# «Notes»\n\n«A» `code` «word.»\n"
    assert read_document(tmp_path / "x.markdown", data=b"# Hi\n").texts() == ["Hi"]


def test_bad_and_hostile_files_are_refused_or_read_in_bounds(tmp_path):
    with pytest.raises(InputError) as e:
        MarkdownDocument(b"\x00\x01\x02binary" * 100, "bin.md", FormatOptions())
    assert "\n" not in str(e.value) and "bin.md" in str(e.value)
    for hostile in ("> " * 20000 + "a\n", "[" * 20000 + "a" + "]" * 20000 + "\n", "*a " * 20000 + "\n"):
        data = hostile.encode()
        assert translate_bytes(data, IdentityTranslator()) == data


def test_wide_tables_and_long_paragraphs_are_handled_in_linear_time():
    import time

    start = time.perf_counter()
    n = 3000  # each cell split its whole row again: over a minute here
    table = ("| " + " | ".join(f"Head {i}" for i in range(n)) + " |\n|" + "---|" * n + "\n| "
             + " | ".join(f"Cell number {i}" for i in range(n)) + " |\n").encode()
    doc = MarkdownDocument(table, "wide.md", FormatOptions())
    assert len(doc.texts()) == 2 * n
    assert doc.render([t.upper() for t in doc.texts()]) == table.upper()
    lines = 5000  # every line break put back searched the whole translation again: over a minute here
    paragraph = "".join(f"Word number {i} goes on\n" for i in range(lines)).encode()
    doc = MarkdownDocument(paragraph, "long.md", FormatOptions())
    assert len(doc.texts()) == 1
    assert doc.render([t.upper() for t in doc.texts()]) == paragraph.upper()
    assert time.perf_counter() - start < 20
