"""HTML inline tags go through the translator and come back: no element is lost (links, anchors, references),
element counts stay, and no tag debris is left, whatever the translator does with the tags."""

import re
from collections import Counter

import lxml.html
import pytest

from conftest import DATA
from gugugo_cli.api import translate_documents
from gugugo_cli.formats import FormatOptions
from gugugo_cli.formats.html import ATTRS, HtmlDocument
from gugugo_cli.inline_tags import TAG, TagKeepingTranslator, tags_kept
from gugugo_cli.job.cache import SegmentCache
from gugugo_cli.job.stream import CachedStream

PAGES = sorted((DATA / "realworld").glob("readability_*.html"))
TRANSLATED_ATTRIBUTES = set(ATTRS) | {"content", "lang", "xml:lang"}


class Recording:
    def __init__(self):
        self.calls: list[list[str]] = []

    def translate_batch(self, texts, src, tgt):
        self.calls.append(list(texts))
        return [self.answer(t) for t in texts]


class Words(Recording):
    """Marks every word (a tag inside a word moves with it)."""

    def answer(self, text):
        return " ".join("§" + w for w in text.split(" "))


class Reverse(Recording):
    """Puts the words in the opposite order: tags that wrapped several words cross."""

    def answer(self, text):
        return " ".join(reversed(text.split(" ")))


class Mangle(Recording):
    """What the echo model did to `Hello <b>world</b>.`: the first tag loses its `<`, its closer is dropped;
    masks come back."""

    def answer(self, text):
        m = re.search(r"<(\w+)>", text)
        text = text if not m else text.replace(m.group(), m.group()[1:], 1).replace(f"</{m.group(1)}>", "", 1)
        return re.sub(r"[a-z]+", lambda w: w.group().upper(), text)  # tags stay lower case


class Careless(Recording):
    """Loses every tag and every mask."""

    def answer(self, text):
        return re.sub(r"</?\w+>|‹\d+›", "", text).upper()


def translate(data: bytes, translator) -> bytes:
    return translate_documents([HtmlDocument(data, "x.html", FormatOptions(tgt="ko"))], "ko", "auto", translator)[0]


def elements(data: bytes) -> list[tuple]:
    root = lxml.html.document_fromstring(data, lxml.html.HTMLParser(encoding="utf-8"))
    return [(e.tag, tuple(sorted((k, v) for k, v in e.attrib.items() if k not in TRANSLATED_ATTRIBUTES)))
            for e in root.iter() if isinstance(e.tag, str)]


def brackets(data: bytes) -> int:
    text = lxml.html.document_fromstring(data, lxml.html.HTMLParser(encoding="utf-8")).text_content()
    return text.count("<") + text.count(">")


@pytest.mark.parametrize("translator", [Words, Reverse, Mangle, Careless])
@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_element_survives_real_pages(path, translator):
    data, translator = path.read_bytes(), translator()
    out = translate(data, translator)
    before, after = elements(data), elements(out)
    assert len(after) == len(before)
    assert Counter(after) == Counter(before)  # every element with its attributes (href, src, id) is there
    assert brackets(out) == brackets(data)  # no tag debris in the text
    assert translator.calls


@pytest.mark.parametrize("translator", [Mangle, Careless])
def test_a_unit_whose_tags_do_not_come_back_keeps_them_and_leaves_no_debris(translator):
    data = b'<p>Hello <b>world</b>.</p>\n<p>See <a href="/docs" id="d">the docs</a> for <i>more</i> details.</p>'
    out = translate(data, translator()).decode()
    assert out == '<p>HELLO <b>WORLD</b>.</p>\n<p>SEE <a href="/docs" id="d">THE DOCS</a> FOR <i>MORE</i> DETAILS.</p>'


def test_the_retries_mask_the_tags_then_translate_between_them():
    careless = Careless()
    out = list(TagKeepingTranslator(careless).translate_batch(["See <a>the docs</a> now.", "No tags."], "en", "ko"))
    assert out == ["SEE <a>THE DOCS</a> NOW.", "NO TAGS."]
    first, masked, pieces = careless.calls
    assert first == ["See <a>the docs</a> now.", "No tags."]
    assert masked == ["See ‹0›the docs‹1› now."]
    assert pieces == ["See", "the docs", "now."]  # never a tag, and only the texts that needed it


def test_a_cached_translation_that_lost_its_tags_is_translated_again(tmp_path):
    cache = SegmentCache(tmp_path / "cache.sqlite3")
    cache.put_many("k", "en", "ko", [("Hello <b>world</b>.", "Hello b>world", None), ("Plain.", "PLAIN.", None)])
    stream = CachedStream(cache, "k", "ko", lambda: Words())
    found = stream.look_up([("en", "Hello <b>world</b>."), ("en", "Plain.")])
    assert list(found) == [("en", "Plain.")]
    results = {r.key[1]: r.text for r in stream([("en", "Hello <b>world</b>."), ("en", "Plain.")])}
    assert results == {"Hello <b>world</b>.": "§Hello §<b>world</b>.", "Plain.": "PLAIN."}


def test_tags_kept_accepts_reordered_nesting_and_refuses_debris():
    assert tags_kept("a <b>b</b> <i>c</i>", "<i>c</i> a <b>b</b>")
    assert not tags_kept("a <b>b c</b>", "c</b> <b>b a")  # crossed
    assert not tags_kept("Hello <b>world</b>.", "Hello b>world")
    assert not tags_kept("x <a>y</a>", "x <a>y</a> b>")
    assert tags_kept("1 < 2 <b>x</b>", "1 < 2 <b>x</b>")
    assert TAG.findall("<a>x</a><br>") == ["a", "a", "br"]


def test_echo_model_keeps_the_tags(echo_translator):
    page = (b'<html><body><p>Hello <b>world</b>.</p>\n<p>See <a href="http://x.org/a">the docs</a> for '
            b'<i>more</i> details.</p>\n<dl><dd>http://www.idpf.org/epub/30/spec/</dd></dl></body></html>\n')
    out = translate(page, echo_translator)
    assert Counter(elements(out)) == Counter(elements(page))
    assert brackets(out) == 0 and b"&gt;" not in out
    assert b"<dd>http://www.idpf.org/epub/30/spec/</dd>" in out
