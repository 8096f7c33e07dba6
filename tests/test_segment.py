import random

import pytest

from conftest import DATA, SHARED, read_lines
from gugugo_cli import translate_text
from gugugo_cli.languages import detect_language
from gugugo_cli.segment import Segment, _sequential, approx_tokens, plan_text, sentence_spans, split_long

ODD_TEXTS = [
    "",
    "\n",
    "\n\n\n",
    "Hello world.",
    "no newline at the end",
    "  Indented. Two sentences here!\n\tTabbed line.\n",
    "Line one.\r\nLine two.\r\n\r\n\r\nAfter blanks.\r\n",
    "Mixed   spacing.    Between  sentences.  \n   \n  trailing spaces   \n",
    "First paragraph runs over\n  two lines. Then ends.\n\nSecond.\n",
    "안녕하세요.  반갑습니다!\n오늘은 날씨가\n좋네요.\n\n\t둘째 문단입니다.",
    "Numbers only:\n12345\n---\n***\n",
    "Mixed: 한국어 문장입니다. And English.\r\n",
    "\ufeffBOM-like character at start.",
    "Old Mac line ends.\rSecond line.\r",
]


@pytest.mark.parametrize("text", ODD_TEXTS)
@pytest.mark.parametrize("to", ["ko", "en"])
def test_identity_translation_gives_back_the_input_byte_for_byte(text, to, identity):
    assert translate_text(text, to=to, translator=identity) == text


def _corpus_files():
    files = sorted(DATA.glob("*.ko")) + sorted(DATA.glob("*.en"))
    if (SHARED / "data").is_dir():
        files += sorted((SHARED / "data").glob("*.ko")) + sorted((SHARED / "data").glob("*.en"))
    return files


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_identity_on_real_corpus_files(path, identity):
    text = path.read_text(encoding="utf-8")
    to = "en" if path.suffix == ".ko" else "ko"
    assert translate_text(text, to=to, translator=identity) == text
    # the same lines as long paragraphs, CRLF line ends
    lines = text.splitlines()[:100]
    joined = "\r\n\r\n".join("  ".join(lines[i:i + 5]) for i in range(0, len(lines), 5))
    assert translate_text(joined, to=to, translator=identity) == joined


def test_every_sentence_is_translated_in_place(marker):
    text = "  Mr. Smith went to Washington. He met Dr. Lee!\n\nSecond paragraph?\n"
    out = translate_text(text, to="ko", translator=marker)
    assert out == "  «Mr. Smith went to Washington.» «He met Dr. Lee!»\n\n«Second paragraph?»\n"
    assert all(src == "en" and tgt == "ko" for _, src, tgt in marker.calls)


@pytest.mark.parametrize("text, lang, sentences", [
    ("Go to https://go.microsoft.com/fwlink/?linkid=870924 now. Mail a.b@c.com? Sure.", "en",
     ["Go to https://go.microsoft.com/fwlink/?linkid=870924 now.", "Mail a.b@c.com?", "Sure."]),
    ("Is it www.example.com/x?y=1 or not? See https://a.org/b. Then go.", "en",
     ["Is it www.example.com/x?y=1 or not?", "See https://a.org/b.", "Then go."]),
    ("주소는 https://example.com/faq?q=1!a 입니다. 감사합니다!", "ko",
     ["주소는 https://example.com/faq?q=1!a 입니다.", "감사합니다!"]),
])
def test_an_address_is_never_cut_into_two_sentences(text, lang, sentences):
    assert [text[a:b] for a, b in sentence_spans(text, lang)] == sentences


def test_korean_sentences_split_with_kss(marker):
    text = "오늘은 날씨가 좋다. 우리는 공원에 갔다. 저녁에는 비가 왔다."
    out = translate_text(text, to="en", translator=marker)
    assert out == "«오늘은 날씨가 좋다.» «우리는 공원에 갔다.» «저녁에는 비가 왔다.»"


def test_paragraph_already_in_target_language_is_left_alone(marker):
    text = "이미 한국어입니다.\n\nThis is English.\n"
    assert translate_text(text, to="ko", translator=marker) == "이미 한국어입니다.\n\n«This is English.»\n"
    assert marker.segments == ["This is English."]


def test_forced_source_language_translates_every_paragraph(marker):
    text = "Hello there.\n\n안녕하세요.\n"
    out = translate_text(text, to="ko", translator=marker, src="en")
    assert out == "«Hello there.»\n\n«안녕하세요.»\n"


def test_duplicates_reach_the_translator_once(marker):
    text = "Yes.\nNo.\nYes.\nYes.\n"
    assert translate_text(text, to="ko", translator=marker) == "«Yes.»\n«No.»\n«Yes.»\n«Yes.»\n"
    assert sorted(marker.segments) == ["No.", "Yes."]


def test_sentence_over_a_line_break_is_translated_whole_and_the_break_is_kept():
    class Upper:
        def translate_batch(self, texts, src, tgt):
            return [t.upper() + " EXTRA WORDS" for t in texts]

    text = "This sentence is wrapped at the end of its line and\n    goes on to a second one.\n"
    out = translate_text(text, to="ko", translator=Upper())
    assert out.count("\n") == 2 and "\n    " in out
    assert out.replace("\n    ", " ") == "THIS SENTENCE IS WRAPPED AT THE END OF ITS LINE AND GOES ON TO A SECOND ONE. EXTRA WORDS\n"


def test_segment_restore_without_spaces_in_translation():
    seg = Segment.from_original("en", "one\ntwo")
    assert seg.text == "one two"
    out = seg.restore("하나둘")
    assert out.count("\n") == 1 and out.replace("\n", "") == "하나둘"


def test_language_detection():
    assert detect_language("안녕하세요, Mr. Kim.") == "ko"
    assert detect_language("오늘 Apple의 iPhone 발표가 있었다.") == "ko"
    assert detect_language("Yesterday I met 김철수 at the park.") == "en"
    assert detect_language("123 - 456 ...") is None


def test_long_sentence_is_cut_at_clause_punctuation():
    sentence = ("The committee met on Monday; it discussed the budget, the schedule, and the staff, "
                "and it agreed to meet again next week, after the holiday, to decide.")
    parts = split_long(sentence, limit=12, count=lambda s: len(s.split()))
    pieces = [sentence[a:b] for a, b in parts]
    assert len(pieces) > 1
    assert all(len(p.split()) <= 12 for p in pieces)
    assert pieces[0] == "The committee met on Monday;"
    # nothing lost but the whitespace between pieces
    assert "".join(pieces).replace(" ", "") == sentence.replace(" ", "")


def test_plan_uses_the_token_counter_for_the_guard():
    text = "a, b, c, d, e, f, g, h, i, j, k, l."
    plan = plan_text(text, "ko", max_tokens=4, count_tokens=lambda s: len(s.split()))
    assert all(len(s.text.split()) <= 4 for s in plan.segments)
    assert len(plan.segments) >= 3
    assert plan.render({(s.src, s.text): s.text for s in plan.segments}) == text


def test_kss_backend_spans_align_with_the_text():
    text = "  그는 \"안녕!\"이라고 말했다.  그리고 떠났다...  정말?  "
    spans = sentence_spans(text, "ko")
    # three sentences, the quoted exclamation kept inside the first, each span exactly its sentence
    assert [text[a:b] for a, b in spans] == ['그는 "안녕!"이라고 말했다.', "그리고 떠났다...", "정말?"]


def test_line_breaks_go_back_into_a_long_translation_in_linear_time():
    import time

    lines = 50_000  # each break searched the rest of the translation for spaces: quadratic
    original = "".join(f"word {i} goes on\n" for i in range(lines))
    start = time.perf_counter()
    segment = Segment.from_original("en", original)
    assert "\n" not in segment.text and len(segment.breaks) == lines
    restored = segment.restore(segment.text.upper())
    assert restored == original.upper()
    assert time.perf_counter() - start < 10


def test_token_estimate_is_its_float_sum_part_by_part():
    texts = [l for name in ("korean-english-park.dev.en", "korean-english-park.dev.ko", "jhe-koen-dev.ko")
             for l in read_lines(name)[:300]] + ODD_TEXTS
    texts += [" 12 ab", "ab 12", "  ...", "a" * 24, "b" * 25 + " c", "😀 x", "\x00 A", "가" * 30, "17 letters here!!",
              "abcdefghijklmnopq 가나", " " * 17 + "가나", "x\u3000y"]
    rng = random.Random(3)
    alphabet = list("aZ가힣 .,!1\té😀\u3000") + ["https://example.com/" + "p" * 20]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    assert [approx_tokens(t) for t in texts] == [_sequential(t) for t in texts]
