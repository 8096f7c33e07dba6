"""Guards: failures of a translator detected per segment, repaired where possible, reported where not."""

import pytest

from gugugo_cli.guards import GuardedTranslator, check

GOOD = {"Hello there, how are you doing today?": "안녕하세요, 오늘 어떻게 지내세요?",
        "The museum is closed on Mondays.": "박물관은 월요일에 문을 닫습니다.",
        "It rained all day,": "하루 종일 비가 왔고,",
        "so we stayed inside and read books.": "그래서 우리는 안에 머물며 책을 읽었다."}
LONG = "It rained all day, so we stayed inside and read books."


class Scripted:
    """Answers from a table; `broken` says what goes wrong with a text."""

    def __init__(self, broken):
        self.broken = broken
        self.calls = []

    def translate_batch(self, texts, src, tgt):
        self.calls.append(list(texts))
        return [self.broken(t) if t not in GOOD else GOOD[t] for t in texts]


def test_check_names_each_failure():
    assert check("Hello there, how are you doing today?", "안녕하세요, 오늘 어떻게 지내세요?", "en", "ko") is None
    assert "repeats" in check("The price went up.", "가격이 올랐다 올랐다 올랐다 올랐다 올랐다", "en", "ko")
    assert "repeats" in check("Go.", "가가가가가가가가가가가가가가가가가가가가가가", "en", "ko")
    assert check("Ha ha ha ha ha!", "하 하 하 하 하!", "en", "ko") is None  # the source repeats itself
    assert check("The committee will meet again next Tuesday to decide.", "위원회", "en", "ko").startswith("length")
    assert "target language" in check("The museum is closed on Mondays.", "The museum is closed on Mondays.", "en", "ko")
    assert check("Hello.", "  ", "en", "ko") == "empty translation"
    assert check("1234", "", "en", "ko") is None  # nothing to translate
    assert "limit" in check("Hello.", "안녕", "en", "ko", capped=True)


def test_good_results_pass_untouched_and_first():
    inner = Scripted(lambda t: "x")
    guarded = GuardedTranslator(inner)
    texts = list(GOOD)
    assert list(guarded.translate_stream(texts, "en", "ko")) == list(enumerate(GOOD.values()))
    assert guarded.suspects == [] and len(inner.calls) == 1


def test_a_dropped_half_is_repaired_by_translating_the_parts():
    # the long sentence loses most of itself; its two clauses alone are translated well
    inner = Scripted(lambda t: "비가 왔다")
    guarded = GuardedTranslator(inner)
    out = guarded.translate_batch(["The museum is closed on Mondays.", LONG], "en", "ko")
    assert out == [GOOD["The museum is closed on Mondays."], "하루 종일 비가 왔고, 그래서 우리는 안에 머물며 책을 읽었다."]
    (suspect,) = guarded.suspects
    assert suspect.index == 1 and suspect.repaired and suspect.reason.startswith("length")
    assert inner.calls[0] == ["The museum is closed on Mondays.", LONG]  # passed results were not retried
    assert all("The museum is closed on Mondays." not in call for call in inner.calls[1:])


def test_a_loop_is_retried_with_a_repetition_limiting_variant():
    class Looping(Scripted):
        def variant(self, **changes):
            assert changes["repetition_penalty"] > 1
            return Scripted(lambda t: "가격이 올랐다.")

    guarded = GuardedTranslator(Looping(lambda t: "가격이 올랐다 올랐다 올랐다 올랐다 올랐다 올랐다"))
    assert guarded.translate_batch(["The price went up."], "en", "ko") == ["가격이 올랐다."]
    assert guarded.suspects[0].repaired and "repeats" in guarded.suspects[0].reason


def test_what_cannot_be_repaired_keeps_the_best_attempt_and_is_reported():
    inner = Scripted(lambda t: t)  # answers in the source language, whatever it is asked
    guarded = GuardedTranslator(inner)
    assert guarded.translate_batch([LONG.replace("It rained all day", "It snowed")], "en", "ko") == \
        [LONG.replace("It rained all day", "It snowed")]
    (suspect,) = guarded.suspects
    assert not suspect.repaired and "target language" in suspect.reason


def test_repetition_penalty_variant_changes_loops_only_and_not_by_batch_mates(echo_translator):
    texts = ["Ha ha ha ha ha ha.", "We will go, we will go, we will go.", "Hello there."]
    assert echo_translator.translate_batch(texts, "en", "ko") == texts
    penalized = echo_translator.variant(repetition_penalty=3.0)
    together = penalized.translate_batch(texts, "en", "ko")
    assert together[0] != texts[0] and together[1] != texts[1] and together[2] == texts[2]
    assert together == [penalized.translate_batch([t], "en", "ko")[0] for t in texts]
    assert echo_translator.options.repetition_penalty == 1.0  # the original engine is unchanged
