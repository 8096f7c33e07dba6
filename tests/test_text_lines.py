"""Plain text: the line is the unit a reader sees. One line in, one line out, the translation of line N on
line N; lines are joined only where they are hard-wrapped prose; every segment fits the model."""

import logging
import random
import re
import textwrap
import unicodedata

import pytest

from conftest import DATA, ECHO_MODEL
from gugugo_cli import config, translate_text
from gugugo_cli.lines import _columns, _columns_by_character
from gugugo_cli.segment import approx_tokens, ends_sentence, line_units, plan_text

LIMIT = config.MAX_SEGMENT_TOKENS


def _unmark(line: str) -> str:
    return line.replace("«", "").replace("»", "")


def _check_line_for_line(text: str, to: str, marker) -> list[str]:
    """Every line comes back on its own line, its translation and nothing else; returns the output lines."""
    out = translate_text(text, to=to, translator=marker)
    src_lines, out_lines = text.split("\n"), out.split("\n")
    assert len(out_lines) == len(src_lines)
    for src, new in zip(src_lines, out_lines):
        assert _unmark(new) == src
        if re.search(r"\w", src):
            assert "«" in new, f"line not translated: {src!r}"
    # no segment runs over a line break
    assert all("\n" not in s for s in marker.segments)
    return out_lines


@pytest.fixture(scope="module")
def echo_tokens():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(ECHO_MODEL / "tokenizer.json"))
    return lambda s: len(tok.encode(s).ids)


# --- one sentence per line ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["korean-english-park.dev.en", "jhe-koen-dev.en", "echo_sentences.en",
                                  "korean-english-park.dev.ko", "jhe-koen-dev.ko", "echo_sentences.ko"])
def test_corpus_with_one_sentence_per_line_comes_back_line_for_line(name, marker, identity):
    text = (DATA / name).read_text(encoding="utf-8")
    to = "ko" if name.endswith(".en") else "en"
    lines = _check_line_for_line(text, to, marker)
    # the same line count, and most lines are one segment: «whole line»
    whole = sum(1 for line, src in zip(lines, text.split("\n")) if src.strip() and line == f"«{src}»")
    assert whole >= 0.9 * sum(1 for src in text.split("\n") if src.strip())
    assert translate_text(text, to=to, translator=identity) == text


def test_a_line_that_opens_a_quote_does_not_swallow_the_next_lines(marker):
    text = ('"Naturally, there are differences of opinion between us and the Syrian side.\n'
            "The minister arrived in Damascus on Sunday.\n"
            "He will meet the president on Monday.\n"
            "Talks are expected to last two days.\n")
    out = translate_text(text, to="ko", translator=marker)
    assert out == ('«"Naturally, there are differences of opinion between us and the Syrian side.»\n'
                   "«The minister arrived in Damascus on Sunday.»\n"
                   "«He will meet the president on Monday.»\n"
                   "«Talks are expected to last two days.»\n")


def test_korean_line_that_opens_a_quote_does_not_swallow_the_next_lines(marker):
    text = ("그는 “우리는 시리아 측과 의견 차이가 있다고 말했다.\n"
            "장관은 일요일에 다마스쿠스에 도착했다.\n"
            "회담은 이틀 동안 계속될 예정이다.\n")
    out = translate_text(text, to="en", translator=marker)
    assert out == ("«그는 “우리는 시리아 측과 의견 차이가 있다고 말했다.»\n"
                   "«장관은 일요일에 다마스쿠스에 도착했다.»\n"
                   "«회담은 이틀 동안 계속될 예정이다.»\n")


def test_several_sentences_on_one_line_stay_on_that_line(marker):
    text = "Hello there. How are you?\nI am fine.\n"
    assert translate_text(text, to="ko", translator=marker) == "«Hello there.» «How are you?»\n«I am fine.»\n"


# --- lists, lyrics -------------------------------------------------------------------------------------------

def test_bullet_list_keeps_its_markers_and_each_item_on_its_line(marker):
    text = ("Things to pack\n"
            "- a warm jacket\n"
            "- two pairs of hiking boots for the long walk on the mountain\n"
            "  * spare socks\n"
            "• sunscreen\n"
            "1. passport\n"
            "2) tickets\n"
            "(3) the map of the city\n")
    out = translate_text(text, to="ko", translator=marker)
    assert out == ("«Things to pack»\n"
                   "- «a warm jacket»\n"
                   "- «two pairs of hiking boots for the long walk on the mountain»\n"
                   "  * «spare socks»\n"
                   "• «sunscreen»\n"
                   "1. «passport»\n"
                   "2) «tickets»\n"
                   "(3) «the map of the city»\n")


def test_korean_bullet_list_keeps_its_markers_and_each_item_on_its_line(marker):
    text = "준비물\n- 따뜻한 겉옷\n- 등산화 두 켤레\n① 여권\n가. 비행기 표\n※ 도시 지도\n"
    out = translate_text(text, to="en", translator=marker)
    assert out == "«준비물»\n- «따뜻한 겉옷»\n- «등산화 두 켤레»\n① «여권»\n가. «비행기 표»\n※ «도시 지도»\n"


@pytest.mark.parametrize("text,to", [
    ("milk\neggs\nbread and butter\nthree green apples\na bag of rice\n", "ko"),
    ("우유\n계란 한 판\n식빵과 버터\n사과 세 개\n쌀 한 포대\n", "en"),
])
def test_shopping_list_without_punctuation_is_one_item_a_line(text, to, marker):
    _check_line_for_line(text, to, marker)
    assert len(marker.segments) == 5


@pytest.mark.parametrize("text,to", [
    ("Is this the real life? Is this just fantasy?\n"
     "Caught in a landslide, no escape from reality\n"
     "Open your eyes, look up to the skies and see\n"
     "I'm just a poor boy, I need no sympathy\n", "ko"),
    ("i'm walking down the street\nthinking about you\nand the rain keeps falling\non my window\n", "ko"),
    ("너를 처음 만난 그날부터\n나는 너만 바라봤어\n시간이 흘러도\n변하지 않아\n", "en"),
    ("창밖에는 비가 내리고 나는 또 너를 그리워한다\n그때 우리가 함께 걷던 그 길을 기억하나요\n"
     "아무 말도 하지 못한 채 돌아서던 그 밤이었죠\n", "en"),
])
def test_lyrics_like_short_lines_stay_line_for_line(text, to, marker):
    _check_line_for_line(text, to, marker)


# --- hard-wrapped prose --------------------------------------------------------------------------------------

EN_WRAPPED = """\
After keeping the world's most powerful supercomputer to themselves for
a year, government researchers showed off the machine and said it might
help save the world from nuclear war. Those simulations must be as
precise as possible.
"""

KO_WRAPPED = """\
오늘은 날씨가 정말 좋아서 우리는 아침 일찍 공원으로 산책을
나갔는데 그곳에는 벌써 많은 사람들이 나와 있었다. 우리는 오래된
벤치에 앉아 지난 여름에 있었던 일에 대해 한참 동안 이야기를
나눴다.
"""


def test_hard_wrapped_english_prose_is_translated_a_sentence_at_a_time(marker):
    out = translate_text(EN_WRAPPED, to="ko", translator=marker)
    assert marker.segments == [
        "After keeping the world's most powerful supercomputer to themselves for a year, government researchers "
        "showed off the machine and said it might help save the world from nuclear war.",
        "Those simulations must be as precise as possible.",
    ]
    assert out.count("\n") == EN_WRAPPED.count("\n")
    assert _unmark(out).split() == EN_WRAPPED.split()


def test_hard_wrapped_korean_prose_is_translated_a_sentence_at_a_time(marker):
    out = translate_text(KO_WRAPPED, to="en", translator=marker)
    assert marker.segments == [
        "오늘은 날씨가 정말 좋아서 우리는 아침 일찍 공원으로 산책을 나갔는데 그곳에는 벌써 많은 사람들이 나와 있었다.",
        "우리는 오래된 벤치에 앉아 지난 여름에 있었던 일에 대해 한참 동안 이야기를 나눴다.",
    ]
    assert out.count("\n") == KO_WRAPPED.count("\n")


def test_korean_quote_closed_at_a_line_end_goes_on_with_its_particle(marker):
    text = ("외교부 대변인은 이날 정례 브리핑에서 “회담 일정은 아직 정해지지 않았다”\n"
            "고 말했다. 회담은 다음 달에 열릴 것으로 보인다.\n")
    translate_text(text, to="en", translator=marker)
    assert marker.segments[0] == ("외교부 대변인은 이날 정례 브리핑에서 “회담 일정은 아직 정해지지 않았다” "
                                  "고 말했다.")


def test_wrapped_list_item_is_joined_but_the_next_item_is_not(marker):
    text = ("- Pack two pairs of hiking boots, because the trail along the river\n"
            "  is wet and muddy in the spring\n"
            "- Bring sunscreen\n")
    out = translate_text(text, to="ko", translator=marker)
    assert marker.segments == ["Pack two pairs of hiking boots, because the trail along the river is wet and "
                               "muddy in the spring", "Bring sunscreen"]
    assert out.split("\n")[0].startswith("- «Pack") and out.split("\n")[2] == "- «Bring sunscreen»"


def test_never_joined_across_a_sentence_end_a_short_line_or_a_list_marker():
    text = ("The committee met for the first time on Monday morning and it decided\n"   # joined
            "to wait.\n"                                                              # ends a sentence
            "The committee met for the first time on Monday morning, and after it\n"  # joined: "they" did not fit
            "they left,\" the spokesman said.”)\n"                                    # ends before closers
            "Short line\n"                                                            # much shorter
            "and another one that is long enough to reach the width of the others\n"
            "- item\n")
    spans = [text[a:b] for a, b in line_units(text)]
    assert spans == [
        "The committee met for the first time on Monday morning and it decided\nto wait.",
        "The committee met for the first time on Monday morning, and after it\nthey left,\" the spokesman said.”)",
        "Short line",
        "and another one that is long enough to reach the width of the others",
        "item",
    ]


@pytest.mark.parametrize("line,ends", [
    ("He left.", True), ('He said "yes."', True), ("Really?)", True), ("Wait…", True), ("그만!」", True),
    ("He met Mr.", False), ("as in e.g.", False), ("George W.", False), ("and then", False),
    ("그는 정말 좋은 사람이다", True), ("정말 그렇군요", True), ("우리는 친구입니까", True), ("그렇죠", True),
    ("합니다”", True), ("그것보다", False), ("날마다", False), ("가장 중요", False), ("비가 오니까", False),
    ("우리는 아침 일찍 공원으로 산책을", False), ("나는 너만 바라봤어", False),
])
def test_ends_sentence(line, ends):
    assert ends_sentence(line) is ends


def _wrapped_breaks(path, width: int, per: int = 4):
    """Sentences of a corpus as paragraphs wrapped at `width`; (right, joined across a sentence end, total)."""
    sentences = [l.strip() for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
    right = wrong_join = total = 0
    for i in range(0, len(sentences), per):
        group = sentences[i:i + per]
        para = " ".join(group)
        ends, pos = set(), 0
        for s in group:
            pos += len(s)
            ends.add(pos)
            pos += 1
        wrapped = textwrap.fill(para, width)
        unit_ends = {b for _, b in line_units(wrapped)}
        at = 0
        for line in wrapped.split("\n")[:-1]:
            at += len(line)
            split, sentence_end = at in unit_ends, at in ends  # textwrap keeps offsets: one space per break
            right += split == sentence_end
            wrong_join += sentence_end and not split
            total += 1
            at += 1
    return right, wrong_join, total


@pytest.mark.parametrize("name,width", [("korean-english-park.dev.en", 72), ("jhe-koen-dev.en", 50),
                                        ("korean-english-park.dev.ko", 40), ("jhe-koen-dev.ko", 30)])
def test_hard_wrapped_corpus_paragraphs_are_joined_where_sentences_run_on(name, width):
    right, wrong_join, total = _wrapped_breaks(DATA / name, width)
    assert total > 100
    assert right >= 0.97 * total
    assert wrong_join <= 0.005 * total


# --- line N on line N, with everything together --------------------------------------------------------------

def test_translation_of_line_n_is_on_line_n_in_a_mixed_document(marker, identity):
    text = ("Shopping\r\n"
            "- milk\r\n"
            "- eggs\r\n"
            "\r\n"
            "After keeping the world's most powerful supercomputer to themselves for\r\n"
            "a year, government researchers showed it off.\r\n"
            "\r\n"
            "    오늘은 날씨가 좋다\r\n"
            "    우리는 공원에 갔다\r\n"
            "    \"An open quote that never closes, and a line that ends a sentence.\r\n"
            "    and the line after it\r\n")
    out = translate_text(text, to="ko", src="auto", translator=marker)
    assert out.split("\r\n") == [
        "«Shopping»",
        "- «milk»",
        "- «eggs»",
        "",
        "«After keeping the world's most powerful supercomputer to themselves for",
        "a year, government researchers showed it off.»",
        "",
        "    오늘은 날씨가 좋다",  # already Korean: each line's language is its own
        "    우리는 공원에 갔다",
        "    «\"An open quote that never closes, and a line that ends a sentence.»",
        "    «and the line after it»",
        "",
    ]
    assert translate_text(text, to="ko", translator=identity) == text
    assert translate_text(text, to="en", translator=identity) == text


# --- segments fit the model ----------------------------------------------------------------------------------

LONG_LINES = {
    "letters": ("abcdefghij" * 5000, "ko"),
    "digits": ("x0123456789" * 4600, "ko"),
    "base64": ("aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQ+/==" * 1300, "ko"),
    "hangul": ("가나다라마바사아자차카타파하" * 1200, "en"),
    "emoji": ("Hi👨‍👩‍👧‍👦🇰🇷👍🏽é" * 2000, "ko"),
    "urls": (" ".join(f"https://example.com/a/very/long/path/{i}?query=value&x={i * 7}" for i in range(800)), "ko"),
}


@pytest.mark.parametrize("kind", sorted(LONG_LINES))
def test_a_50kb_line_is_cut_into_segments_that_fit(kind, identity, echo_tokens, caplog):
    body, to = LONG_LINES[kind]
    text = "Before.\n" + body + "\nAfter.\n" if to == "ko" else "앞 문장이다.\n" + body + "\n뒤 문장이다.\n"
    with caplog.at_level(logging.WARNING, logger="gugugo_cli"):
        plan = plan_text(text, to)
    records = list(caplog.records)
    assert len(text.encode()) > 40_000
    inert = kind in ("base64", "urls")  # nothing to translate: no piece of the long line reaches the model
    assert len(plan.segments) == 2 if inert else len(plan.segments) > 10
    for seg in plan.segments:
        assert approx_tokens(seg.text) <= LIMIT
        assert echo_tokens(seg.text) <= LIMIT  # a real byte-level BPE, smaller (so longer) than the model's
    assert plan.render({(s.src, s.text): s.text for s in plan.segments}) == text
    assert translate_text(text, to=to, translator=identity) == text
    if inert:
        assert not records  # nothing was sent, so nothing was cut between characters
    else:
        assert len(records) == 1  # one warning for the text, with the count
        forced = int(re.match(r"(\d+) segments had no space or punctuation to cut at", records[0].getMessage())[1])
        assert forced >= len(plan.segments) - 2  # all but the sentences before and after


def test_character_cuts_keep_every_character_whole():
    text = ("👨‍👩‍👧" * 300) + ("e\u0301" * 300) + unicodedata.normalize("NFD", "한국어" * 300) + "🇰🇷" * 300
    plan = plan_text("A line. " + text, "ko")
    for seg in plan.segments:
        first, last = seg.text[0], seg.text[-1]
        assert first != "\u200d" and last != "\u200d"
        assert not unicodedata.combining(first)
        assert not 0x1160 <= ord(first) <= 0x11FF  # no Hangul vowel or final consonant cut off its syllable
    flags = [s.text for s in plan.segments if "🇰" in s.text or "🇷" in s.text]
    assert all(f.count("🇰") == f.count("🇷") and f.startswith("🇰") for f in flags)


def test_korean_without_spaces_is_cut_at_its_punctuation_first(caplog):
    text = "오늘은날씨가정말좋아서우리는공원에갔다。" * 200
    with caplog.at_level(logging.WARNING, logger="gugugo_cli"):
        plan = plan_text(text, "en")
    assert all(s.text.endswith("。") for s in plan.segments)
    assert not caplog.records


@pytest.mark.parametrize("text", [
    "Call 010-1234-5678 or 02-345-6789, or write to support@example.com, before 2024-12-31.",
    "See https://www.example.com/path/to/page?x=1&y=2 and http://example.org/index.html for details.",
    "The key is 4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c.",
    "Great job 🎉🎉🎉👍👍👍😀😀😀🙌🙌🙌 everyone!!!",
    "회의는 ㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋ ^^;; 😂😂 010-9876-5432",
])
def test_token_estimate_is_not_below_a_real_tokenizer_on_odd_text(text, echo_tokens):
    assert approx_tokens(text) >= echo_tokens(text)


def test_token_estimate_stays_close_on_ordinary_sentences(echo_tokens):
    for name in ["korean-english-park.dev.en", "jhe-koen-dev.ko"]:
        lines = [l for l in (DATA / name).read_text(encoding="utf-8").splitlines() if l.strip()]
        ratio = sum(map(echo_tokens, lines)) / sum(map(approx_tokens, lines))
        assert 0.85 < ratio < 1.15


def test_display_columns_are_counted_as_character_by_character():
    rng = random.Random(4)
    alphabet = list("aZ 1.\t가힣ㄱ\u1100\u1161\u0301\u200b\ufeffé漢ｗ😀\u3000\x00")
    texts = ["", "plain ascii", "한국어 문장", "tab\tin ascii", "가\t나"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    assert [_columns(t) for t in texts] == [_columns_by_character(t) for t in texts]
