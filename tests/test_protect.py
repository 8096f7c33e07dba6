"""Protected spans: URLs, code, paths, entities, placeholders and numbers with units come back byte for byte,
whatever the translator does with the text around them."""

import random
import re

import pytest

from gugugo_cli.guards import GuardedTranslator
from gugugo_cli.protect import ProtectingTranslator, find_spans, mask

SPANS = {
    "url": "https://example.com/a_(b)?q=1&x=%20",
    "www": "www.example.org/docs",
    "email": "bob.smith+tag@mail.example.co.kr",
    "abs path": "/etc/nginx/nginx.conf",
    "home path": "~/.config/gugugo/terms.tsv",
    "relative file": "src/main.py",
    "windows path": "C:\\Users\\me\\notes.txt",
    "inline code": "`pip install -U gugugo`",
    "named entity": "&amp;",
    "numeric entity": "&#39;",
    "hex entity": "&#x27;",
    "format": "{name}",
    "format spec": "{count:>5d}",
    "positional": "{0}",
    "template": "{{ user.name }}",
    "printf": "%s",
    "printf named": "%(count)d",
    "printf positional": "%1$s",
    "shell": "${HOME}",
    "regex group": "$1",
    "size": "3.5 GB",
    "size glued": "512MB",
    "distance": "10 km",
    "frequency": "60Hz",
}

# what is text, not a span (conservative: only clearly technical things)
NOT_SPANS = ["and/or", "24/7", "50% of them", "costs $100", "version 3.5 is out", "10 people", "100%done",
             "He said {", "a -> b", "e.g. this", "3 km/h"]


@pytest.mark.parametrize("kind", list(SPANS))
def test_each_kind_of_span_is_found_whole_in_a_sentence(kind):
    span = SPANS[kind]
    for text in (f"See {span} for details.", f"{span}에서 확인하세요.", f"Is it ({span})?"):
        found = [text[a:b] for a, b, _ in find_spans(text)]
        assert found == [span], (text, found)


@pytest.mark.parametrize("text", NOT_SPANS)
def test_ordinary_text_is_not_protected(text):
    assert find_spans(text) == [], [text[a:b] for a, b, _ in find_spans(text)]


def test_spans_are_those_the_whole_pattern_finds_at_every_character():
    from gugugo_cli.patterns import trim_url
    from gugugo_cli.protect import _SPANS

    def every_kind_everywhere(text):
        spans = []
        for m in _SPANS.finditer(text):
            start, end = m.span()
            if m.lastgroup == "url":
                end = start + len(trim_url(m.group()))
                if end - start < 8:
                    continue
            elif m.lastgroup == "path":
                end = start + len(m.group().rstrip("."))
            spans.append((start, end, m.lastgroup))
        return spans

    rng = random.Random(6)
    pieces = list(SPANS.values()) + NOT_SPANS + ["3", "GB", " ", "km", "MB", ".", ",", "/", "www", "가", "word", "9"]
    texts = [" ".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))) for _ in range(2000)]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))) for _ in range(2000)]
    assert [find_spans(t) for t in texts] == [every_kind_everywhere(t) for t in texts]


def test_a_url_ends_before_the_sentence_punctuation_and_a_korean_particle():
    text = "Go to https://example.com/path. Or (https://example.org/x)! 또는 https://example.net/y에서 받으세요."
    assert [text[a:b] for a, b, _ in find_spans(text)] == [
        "https://example.com/path", "https://example.org/x", "https://example.net/y"]


@pytest.mark.parametrize("text, url", [
    ("문서는 https://ko.wikipedia.org/wiki/서울 에 있습니다.", "https://ko.wikipedia.org/wiki/서울"),
    ("https://ko.wikipedia.org/wiki/서울_(도시)를 보세요.", "https://ko.wikipedia.org/wiki/서울_(도시)"),
    ("See https://de.wikipedia.org/wiki/Straße.", "https://de.wikipedia.org/wiki/Straße"),
    ("http://poi.apache.org/에서 받으세요.", "http://poi.apache.org/"),
    ("www.naver.com을 여세요.", "www.naver.com"),
    ("링크(https://example.com)에서 확인.", "https://example.com"),
    ("주소는 https://example.com/a。다음", "https://example.com/a"),
])
def test_an_iri_keeps_its_letters_and_leaves_the_particle_after_it(text, url):
    assert [text[a:b] for a, b, _ in find_spans(text)] == [url]


def test_a_code_block_is_one_span():
    text = "Run this:\n```\nfor i in range(3):\n    print(i)\n```\nthen stop."
    assert [text[a:b] for a, b, _ in find_spans(text)] == ["```\nfor i in range(3):\n    print(i)\n```"]


class Scrambler:
    """Turns every letter into another (upper case, reversed words) and keeps the masks it is given."""

    def __init__(self):
        self.calls = []

    def translate_batch(self, texts, src, tgt):
        self.calls.append(list(texts))
        return [" ".join(self.scramble(w) for w in reversed(t.split(" "))) for t in texts]

    @staticmethod
    def scramble(word):
        parts = re.split(r"(‹\d+›)", word)
        return "".join(p if p.startswith("‹") else p[::-1].swapcase().replace("/", "|").replace(".", "。")
                       for p in parts)


SENTENCE = ("Open https://example.com/a?b=1, run `make test` and edit ~/.bashrc; then print %s of {name} "
            "&amp; copy 3.5 GB to /srv/data/backup. Mail admin@example.org, $1.")


def test_spans_are_intact_under_a_translator_that_scrambles_everything_else():
    inner = Scrambler()
    out = ProtectingTranslator(inner).translate_batch([SENTENCE], "en", "ko")[0]
    for span in ["https://example.com/a?b=1", "`make test`", "~/.bashrc", "%s", "{name}", "&amp;", "3.5 GB",
                 "/srv/data/backup", "admin@example.org", "$1"]:
        assert out.count(span) == 1, span
    assert "Open" not in out and "NEPo" in out  # the rest was scrambled
    assert "https" not in inner.calls[0][0]  # the model never saw a span


class DropsMasks:
    """A model that loses the first mask of every text it is given and wraps the rest in «»."""

    def __init__(self, duplicate=False):
        self.calls = []
        self.duplicate = duplicate

    def translate_batch(self, texts, src, tgt):
        self.calls.append(list(texts))
        if self.duplicate:
            return [f"«{t}» {m.group()}" if (m := re.search("‹0›", t)) else f"«{t}»" for t in texts]
        return [f"«{re.sub('‹0›', '', t, count=1)}»" for t in texts]


@pytest.mark.parametrize("duplicate", [False, True])
def test_a_dropped_or_repeated_mask_falls_back_to_the_pieces_between_spans(duplicate):
    inner = DropsMasks(duplicate)
    texts = ["Visit https://example.com/a for help.", "Nothing protected here.",
             "Use {name} and %s in the template."]
    out = ProtectingTranslator(inner).translate_batch(texts, "en", "ko")
    assert out == ["«Visit» https://example.com/a «for help.»", "«Nothing protected here.»",
                   "«Use» {name} «and» %s «in the template.»"]
    # one call for everything, then one call for all the pieces of all fallbacks
    assert len(inner.calls) == 2 and inner.calls[1] == ["Visit", "for help.", "Use", "and", "in the template."]


def test_text_that_is_only_spans_does_not_reach_the_model(marker):
    out = ProtectingTranslator(marker).translate_batch(["https://example.com/x", "`ls -la` &amp; {0}", "Hi."],
                                                       "en", "ko")
    assert out == ["https://example.com/x", "`ls -la` &amp; {0}", "«Hi.»"]
    assert marker.segments == ["Hi."]


def test_a_source_with_mask_characters_of_its_own_is_translated_in_pieces(marker):
    text = "Quote ‹0› and see https://example.com/q today."
    assert ProtectingTranslator(marker).translate_batch([text], "en", "ko") == \
        ["«Quote ‹0› and see» https://example.com/q «today.»"]


def test_protection_off_leaves_spans_to_the_model(marker):
    out = ProtectingTranslator(marker, protect=False).translate_batch(["See https://example.com/x."], "en", "ko")
    assert out == ["«See https://example.com/x.»"]


def test_restore_needs_every_mask_exactly_once():
    m = mask("a {x} b {y} c")
    assert m.text == "a ‹0› b ‹1› c"
    assert m.restore("‹1› B ‹0› A") == "{y} B {x} A"
    assert m.restore("‹0› A") is None and m.restore("‹0› ‹0› ‹1›") is None and m.restore("‹0› ‹1› ‹2›") is None


def test_guards_outside_protection_repair_and_report_real_text():
    class Looping:
        def __init__(self, answer):
            self.answer = answer

        def translate_batch(self, texts, src, tgt):
            return [self.answer(t) for t in texts]

        def variant(self, **changes):
            return Looping(lambda t: t.replace("The price went up", "가격이 올랐다"))

    inner = Looping(lambda t: "가격이 올랐다 올랐다 올랐다 올랐다 올랐다 올랐다")
    guarded = GuardedTranslator(ProtectingTranslator(inner))
    source = "The price went up, see https://example.com/p."
    (result,) = guarded.translate_stream([source], "en", "ko")
    assert result.text == "가격이 올랐다, see https://example.com/p."
    assert result.repaired and "repeats" in result.suspect


def test_echo_model_keeps_spans_and_the_rest(echo_translator):
    texts = ["Download 3.5 GB from https://example.com/files today.", "Edit ~/.bashrc and run `make`.",
             "Print %s items for {name}."]
    protected = ProtectingTranslator(echo_translator)
    assert protected.translate_batch(texts, "en", "ko") == texts
    assert protected.fallbacks == 0  # the echo model copied every mask


def test_random_model_loses_masks_but_never_a_span(tiny_model_dir):
    from gugugo_cli import load_translator

    tr = load_translator(str(tiny_model_dir), device="cpu", dtype="float32", max_new_tokens=6)
    texts = ["Download 3.5 GB from https://example.com/files today.", "Run `make` and mail a@example.org."]
    out = tr.translate_batch(texts, "en", "ko")
    assert out[0].count("3.5 GB") == 1 and out[0].count("https://example.com/files") == 1
    assert out[1].count("`make`") == 1 and out[1].count("a@example.org") == 1


def test_protection_and_glossary_are_part_of_the_cache_key(tmp_path):
    from conftest import ECHO_MODEL
    from gugugo_cli.engines.loading import resolve

    a, b, c = tmp_path / "a.tsv", tmp_path / "b.tsv", tmp_path / "c.tsv"
    a.write_text("Frodo\t프로도\n", encoding="utf-8")
    b.write_text("# same terms, another file\nFrodo\t프로도\n", encoding="utf-8")
    c.write_text("Frodo\t프로도 배긴스\n", encoding="utf-8")
    key = lambda **o: resolve(str(ECHO_MODEL), "cpu", "float32", **o).cache_key  # noqa: E731
    assert key() != key(protect=False)
    assert key(glossary=a) == key(glossary=str(b)) != key(glossary=c)
    assert key(glossary=a) != key()
    assert key(glossary={"Frodo": "프로도"}) == key(glossary=a)

