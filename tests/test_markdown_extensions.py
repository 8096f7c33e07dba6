"""Markdown beyond CommonMark, as real documentation sites write it: footnotes, heading attribute lists and
Hugo shortcodes. Labels, markers and block syntax never pass through the translator, only the text inside."""

import re

import pytest

from conftest import DATA, IdentityTranslator, MarkTranslator
from gugugo_cli.api import translate_documents
from gugugo_cli.formats import FormatOptions
from gugugo_cli.formats.markdown import MarkdownDocument, _parse_source, _parser

REAL = DATA / "realworld"
HUGO = sorted(REAL.glob("hugoDocs_*.md"))
FOOTNOTES = REAL / "mdit-py-plugins_footnote.md"
LABEL = re.compile(r"\[\^[^\]\s]+\]")
ATTRIBUTES = re.compile(r"\{[#.][^{}\n]*\}")
SHORTCODE = re.compile(r"\{\{[<%].*?[%>]\}\}")


class WordMarker(MarkTranslator):
    """Marks every word, as a translator that moves words about would touch each of them."""

    def translate_batch(self, texts, src, tgt):
        self.calls.append((list(texts), src, tgt))
        return [" ".join("§" + w for w in t.split(" ")) for t in texts]


def translate(source: str, translator) -> str:
    doc = MarkdownDocument(source.encode(), "x.md", FormatOptions(tgt="ko"))
    return translate_documents([doc], "ko", "auto", translator)[0].decode()


def fixture_examples(path) -> list[str]:
    text = "\n" + path.read_text(encoding="utf-8")
    return [m.group(1) + "\n" for m in re.finditer(r"\n\.\n(.*?)\n\.\n(.*?)\n\.\n", text, re.S)]


def blocks(text: str) -> list[tuple]:
    return [(t.type, t.tag, t.markup) for t in _parser().parse(_parse_source(text)[2], {}) if t.type != "inline"]


def headings(text: str) -> list[str]:
    tokens = _parser().parse(_parse_source(text)[2], {})
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]


@pytest.mark.parametrize("path", HUGO + [FOOTNOTES], ids=lambda p: p.name)
def test_identity_gives_back_the_same_bytes(path):
    assert translate(path.read_text(encoding="utf-8"), IdentityTranslator()).encode() == path.read_bytes()


@pytest.mark.parametrize("source", fixture_examples(FOOTNOTES))
def test_footnote_labels_never_reach_the_translator(source):
    marker = WordMarker()
    out = translate(source, marker)
    assert not any(LABEL.search(s) for s in marker.segments), marker.segments
    assert LABEL.findall(out) == LABEL.findall(source)
    # a definition (not in indented code) still starts its line, and its text was translated
    definitions = re.findall(r"^(?: {0,3}>)* {0,3}(\[\^[^\]\s]+\]:)[ \t]*(.*)$", out, re.M)
    assert [d for d, _ in definitions] == re.findall(r"^(?: {0,3}>)* {0,3}(\[\^[^\]\s]+\]:)", source, re.M)
    for _, text in definitions:
        assert not text or text.startswith("§") or not re.search(r"[A-Za-z]", text), text
    assert blocks(out) == blocks(source)


def test_a_footnote_of_several_blocks_is_translated_and_keeps_its_indentation():
    first = fixture_examples(FOOTNOTES)[0]
    out = translate(first, WordMarker())
    assert "\n    §Subsequent §paragraphs" in out and "\n    §The §whole §paragraph" in out
    assert "\n        { some.code }\n" in out  # code inside the note stays code


def test_a_one_word_footnote_is_a_note_not_a_link_reference():
    out = translate("Text[^1].\n\n[^1]: Ibid.\n", WordMarker())
    assert out == "§Text[^1].\n\n[^1]: §Ibid.\n"


@pytest.mark.parametrize("path", HUGO, ids=lambda p: p.name)
def test_hugo_pages_keep_headings_attributes_shortcodes_and_notes(path):
    source = path.read_text(encoding="utf-8")
    marker = WordMarker()
    out = translate(source, marker)
    assert blocks(out) == blocks(source)
    before, after = headings(source), headings(out)
    assert len(after) == len(before) and all(a.startswith("§") for a in after)
    assert [ATTRIBUTES.findall(h) for h in after] == [ATTRIBUTES.findall(h) for h in before]
    for pattern in (LABEL, SHORTCODE):
        assert pattern.findall(out) == pattern.findall(source)
        assert not any(pattern.search(s) for s in marker.segments)
    assert not any(ATTRIBUTES.search(s) for s in marker.segments)
    # a definition list's `: ` (Goldmark's extension) starts its line still, before the translated definition
    markers = re.findall(r"^: (\S)", out, re.M)
    assert len(markers) == len(re.findall(r"^: \S", source, re.M))
    assert all(m in "§(`[{" for m in markers)  # a word, a code span, a link or a shortcode


def test_the_inner_text_of_a_hugo_block_shortcode_stays_and_a_markdown_one_is_translated():
    source = ("Intro.\n\n{{< code-toggle file=hugo >}}\n[markup.goldmark]\nenable = true\n{{< /code-toggle >}}\n\n"
              "{{% note %}}\nRead this.\n{{% /note %}}\n")
    out = translate(source, WordMarker())
    assert out == source.replace("Intro.", "§Intro.").replace("Read this.", "§Read §this.")


def test_an_inline_note_is_translated_inside_its_markers():
    source = "Here is a sentence.^[And an inline note with a [link](https://x.example) inside.] More text.\n"
    marker = WordMarker()
    out = translate(source, marker)
    assert not any("^[" in s or s.startswith("]") or s.endswith("]") for s in marker.segments), marker.segments
    assert out == ("§Here §is §a §sentence.^[§And §an §inline §note §with §a [§link](https://x.example) §inside.] "
                   "§More §text.\n")


def test_the_type_of_an_alert_stays_out_of_its_text():
    source = "> [!NOTE]\n> Place the divider on its own line.\n\n> [!WARNING] A title\n> Body text here.\n"
    marker = WordMarker()
    out = translate(source, marker)
    assert not any("[!" in s for s in marker.segments), marker.segments
    assert out.startswith("> [!NOTE]\n> §Place §the §divider") and "> [!WARNING] §A §title\n> §Body" in out
    assert blocks(out) == blocks(source)


def test_a_shortcode_over_several_lines_stays_whole():
    source = ('Create the filter:\n\n{{< img\n  src="a.jpg"\n  alt="Zion National Park"\n  example=true\n>}}\n\n'
              "Text with {{< x\n  a=1 >}} inside it.\n")
    marker = WordMarker()
    out = translate(source, marker)
    assert not any("{{" in s or "}}" in s or "src=" in s for s in marker.segments), marker.segments
    assert out == source.replace("Create the filter:", "§Create §the §filter:").replace(
        "Text with", "§Text §with").replace("inside it.", "§inside §it.")


def test_json_front_matter_and_display_math_stay_as_they_are():
    source = '{\n  "title": "A JSON front matter title"\n}\n\n# The heading\n\nText.\n\n\\[\nx = y + z\n\\]\n'
    out = translate(source, WordMarker())
    assert out == source.replace("# The heading", "# §The §heading").replace("Text.", "§Text.")


def test_directive_fences_and_mdx_imports_stay_and_a_title_is_translated():
    source = ("import Tabs from '@theme/Tabs';\n\n:::note Your Title\n\nSome text.\n\n:::\n\n"
              ":::tip\nBody text.\n:::\n")
    marker = WordMarker()
    out = translate(source, marker)
    assert out == ("import Tabs from '@theme/Tabs';\n\n:::note §Your §Title\n\n§Some §text.\n\n:::\n\n"
                   ":::tip\n§Body §text.\n:::\n")


def test_the_text_of_a_prose_shortcode_is_translated_and_a_code_one_kept():
    source = ("{{< note >}}\nA note to read.\n{{< /note >}}\n\n{{< highlight go >}}\nfunc main() {}\n"
              "{{< /highlight >}}\n\n{{< custom-data >}}\nkey = Some value\n{{< /custom-data >}}\n")
    out = translate(source, WordMarker())
    assert out == source.replace("A note to read.", "§A §note §to §read.")


def test_the_links_and_images_inside_an_image_description_stay_out_of_its_text():
    source = "![foo ![bar](/url) baz](/url2)\n\n![*strip* [markdown in alt](#)](/img)\n"
    marker = WordMarker()
    out = translate(source, marker)
    assert not any("](" in s for s in marker.segments), marker.segments
    assert out == "![§foo ![§bar](/url) §baz](/url2)\n\n![§*strip* [§markdown §in §alt](#)](/img)\n"


def test_mkdocs_admonitions_and_tabs_are_translated_inside_and_their_code_stays():
    source = ('!!! note "Phasellus posuere"\n\n    Lorem ipsum dolor sit amet.\n\n        indented code\n\n'
              "    ??? tip\n        Nested tip text.\n\n"
              '=== "Tab one"\n\n    ```sh\n    pip install x\n    ```\n\n    Text of the tab.\n\nAfter the blocks.\n')
    marker = WordMarker()
    out = translate(source, marker)
    assert not any("!!!" in s or "???" in s or "===" in s or "install" in s for s in marker.segments)
    assert out == source.replace('"Phasellus posuere"', '"§Phasellus §posuere"').replace(
        "Lorem ipsum dolor sit amet.", "§Lorem §ipsum §dolor §sit §amet.").replace(
        "Nested tip text.", "§Nested §tip §text.").replace('"Tab one"', '"§Tab §one"').replace(
        "Text of the tab.", "§Text §of §the §tab.").replace("After the blocks.", "§After §the §blocks.")


def test_a_link_named_by_a_label_over_two_lines_keeps_its_list_item():
    source = "- Do not [upgrade to the next\n  major version] by mistake.\n\n[upgrade to the next major version]: /u\n"
    out = translate(source, WordMarker())
    assert blocks(out) == blocks(source)
    assert out.startswith("- §Do §not [§upgrade §to §the §next\n  §major §version][upgrade to the next major version]")


def test_icons_attached_attribute_lists_and_titles_before_their_text_stay_out_of_it():
    source = ('-   :material-clock-fast:{ .lg .middle } __Set up in 5 minutes__\n\n'
              "[Get started](x.md){ .md-button } now.\n\n"
              '!!! question "Feedback wanted!"\n    Content follows directly.\n\n:::note Title here\nBody text.\n:::\n')
    marker = WordMarker()
    out = translate(source, marker)
    assert not any("{" in s or ":material" in s or "!!!" in s or ":::" in s for s in marker.segments), marker.segments
    assert out == ('-   :material-clock-fast:{ .lg .middle } §__Set §up §in §5 §minutes__\n\n'
                   "[§Get §started](x.md){ .md-button } §now.\n\n"
                   '!!! question "§Feedback §wanted!"\n    §Content §follows §directly.\n\n'
                   ":::note §Title §here\n§Body §text.\n:::\n")


def test_directives_in_quotes_and_list_items_and_attribute_lists_starting_a_line_stay_out_of_the_text():
    # cases of mdit-py-plugins' container, colon_fence, admon and attrs fixtures
    source = ("> ::: name\n> Quoted text.\n> :::\n\n -  ::: name\n    Listed text.\n    :::\n\n"
              "!!!note\n    Noted text.\n\n{#a .a b=c} Attributed text.\n")
    marker = WordMarker()
    out = translate(source, marker)
    assert marker.segments == ["Quoted text.", "Listed text.", "Noted text.", "Attributed text."]
    assert blocks(out) == blocks(source)
