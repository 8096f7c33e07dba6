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


def test_guarded_run_repairs_in_place_and_reports_where(tmp_path):
    from gugugo_cli import job
    from gugugo_cli.formats import FormatOptions

    srt = tmp_path / "a.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nThe museum is closed on Mondays.\n\n"
                   "2\n00:00:03,000 --> 00:00:04,000\nThe price went up.\n", encoding="utf-8")

    class Looping(Scripted):
        def variant(self, **changes):
            return Scripted(lambda t: "가격이 올랐다.")

    guarded = GuardedTranslator(Looping(lambda t: "가격이 올랐다 올랐다 올랐다 올랐다 올랐다 올랐다"))
    summary = job.Summary()
    tasks = job.plan_tasks(job.find_inputs([str(srt)], "ko", None, False, summary=summary), FormatOptions(tgt="ko"),
                           "auto", summary)
    job.run(tasks, "ko", lambda: guarded, "k", job.SegmentCache(None), summary)
    out = (tmp_path / "a.ko.srt").read_text(encoding="utf-8")
    assert "박물관은 월요일에 문을 닫습니다." in out and "가격이 올랐다." in out and "올랐다 올랐다" not in out
    assert summary.suspects == [dict(file=str(srt), segment=1, src="en", tgt="ko", source="The price went up.",
                                     output="가격이 올랐다.", reason=summary.suspects[0]["reason"], repaired=True)]


def test_cli_guard_report_lists_what_stayed_suspect(tmp_path):
    import json

    from click.testing import CliRunner

    from conftest import ECHO_MODEL, read_lines
    from gugugo_cli.cli import cli

    en = read_lines("echo_sentences.en")[:3]
    path = tmp_path / "notes.txt"
    path.write_text("\n".join(en) + "\n", encoding="utf-8")
    report = tmp_path / "report.jsonl"
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(ECHO_MODEL), "--dtype", "float32",
                                      "--report", str(report), "--no-cache"])
    assert result.exit_code == 0, result.output
    # the echo model answers in English: every segment is reported, none could be repaired, the text is kept
    assert (tmp_path / "notes.ko.txt").read_text(encoding="utf-8") == path.read_text(encoding="utf-8")
    rows = [json.loads(l) for l in report.read_text(encoding="utf-8").splitlines()]
    assert [(r["file"], r["segment"], r["source"]) for r in rows] == [(str(path), i, s) for i, s in enumerate(en)]
    assert all("target language" in r["reason"] and not r["repaired"] for r in rows)
    assert "3 segments looked wrong: 0 repaired" in result.stderr


def test_a_translation_that_stops_at_its_token_limit_is_caught_through_protection(tiny_model_dir):
    from gugugo_cli import load_translator

    # random weights never write the end marker: every row stops at its limit, URL masked or not
    guarded = load_translator(str(tiny_model_dir), device="cpu", dtype="float32", max_new_tokens=6, guard=True)
    texts = ["Hello there.", "See https://example.com/a for more."]
    guarded.translate_batch(texts, "en", "ko")
    reasons = {s.source: s.reason for s in guarded.suspects}
    assert set(reasons) == set(texts)
    assert all("token limit" in r for r in reasons.values())
