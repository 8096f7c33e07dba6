"""Guards: failures of a translator detected per segment, repaired where possible, reported where not."""

import pytest

from gugugo_cli.engines.base import Translation
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
    assert list(guarded.translate_stream(texts, "en", "ko")) == [Translation(i, t) for i, t in enumerate(GOOD.values())]
    assert len(inner.calls) == 1


def test_a_dropped_half_is_repaired_by_translating_the_parts():
    # the long sentence loses most of itself; its two clauses alone are translated well
    inner = Scripted(lambda t: "비가 왔다")
    guarded = GuardedTranslator(inner)
    out = list(guarded.translate_stream(["The museum is closed on Mondays.", LONG], "en", "ko"))
    assert out[0] == Translation(0, GOOD["The museum is closed on Mondays."])
    (suspect,) = out[1:]
    assert suspect.index == 1 and suspect.text == GOOD["It rained all day,"] + " " + GOOD[LONG[19:]]
    assert suspect.repaired and suspect.suspect.startswith("length") and suspect.failure is None
    assert inner.calls[0] == ["The museum is closed on Mondays.", LONG]  # passed results were not retried
    assert all("The museum is closed on Mondays." not in call for call in inner.calls[1:])


def test_a_loop_is_retried_with_a_repetition_limiting_variant():
    class Looping(Scripted):
        def variant(self, **changes):
            assert changes["repetition_penalty"] > 1
            return Scripted(lambda t: "가격이 올랐다.")

    guarded = GuardedTranslator(Looping(lambda t: "가격이 올랐다 올랐다 올랐다 올랐다 올랐다 올랐다"))
    (result,) = guarded.translate_stream(["The price went up."], "en", "ko")
    assert result.text == "가격이 올랐다." and result.repaired and "repeats" in result.suspect


def test_what_cannot_be_repaired_keeps_the_best_attempt_and_is_reported():
    inner = Scripted(lambda t: t)  # answers in the source language, whatever it is asked
    guarded = GuardedTranslator(inner)
    (suspect,) = guarded.translate_stream([LONG.replace("It rained all day", "It snowed")], "en", "ko")
    assert suspect.text == LONG.replace("It rained all day", "It snowed")
    assert not suspect.repaired and "target language" in suspect.suspect and suspect.failure == suspect.suspect


def test_repetition_penalty_variant_changes_loops_only_and_not_by_batch_mates(echo_translator):
    texts = ["Ha ha ha ha ha ha.", "We will go, we will go, we will go.", "Hello there."]
    assert echo_translator.translate_batch(texts, "en", "ko") == texts
    penalized = echo_translator.variant(repetition_penalty=3.0)
    together = penalized.translate_batch(texts, "en", "ko")
    assert together[0] != texts[0] and together[1] != texts[1] and together[2] == texts[2]
    assert together == [penalized.translate_batch([t], "en", "ko")[0] for t in texts]
    assert echo_translator.unwrapped.options.repetition_penalty == 1.0  # the original engine is unchanged


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
    results = list(guarded.translate_stream(texts, "en", "ko"))
    assert sorted(r.index for r in results) == [0, 1]
    assert all("token limit" in r.suspect and r.failure for r in results)


def test_a_retry_that_also_stops_at_its_token_limit_is_not_accepted(tiny_model_dir, tmp_path):
    import json

    from gugugo_cli import load_translator
    from gugugo_cli.datasets import translate_dataset

    # random weights never finish: the first translation and every retry stop at the limit, so each row fails
    rows = [{"q": "Hello there."}, {"q": "The museum is closed on Mondays."}, {"q": "We need more time."}]
    src = tmp_path / "data.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    tr = load_translator(str(tiny_model_dir), device="cpu", dtype="float32", max_new_tokens=4, guard=True)
    summary = translate_dataset(src, ["q"], "ko", tr)
    assert summary.rows_failed == 3
    assert [json.loads(l) for l in (tmp_path / "data.ko.jsonl").read_text(encoding="utf-8").splitlines()] == rows
    reasons = [json.loads(l)["reason"] for l in (tmp_path / "data.ko.failed.jsonl").read_text().splitlines()]
    assert all("token limit" in r for r in reasons)


def test_a_run_from_the_cache_reports_the_same_suspects(tmp_path):
    import json

    from click.testing import CliRunner

    from conftest import ECHO_MODEL, read_lines
    from gugugo_cli.cli import cli

    path = tmp_path / "notes.txt"
    path.write_text("\n".join(read_lines("echo_sentences.en")[:2]) + "\n", encoding="utf-8")
    reports = []
    for run in range(2):  # the second run translates nothing: every segment comes from the cache
        report = tmp_path / f"report{run}.jsonl"
        result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(ECHO_MODEL), "--dtype", "float32",
                                          "--report", str(report), "--cache", str(tmp_path / "c.sqlite3"),
                                          "--overwrite"])
        assert result.exit_code == 0, result.output
        reports.append([json.loads(l) for l in report.read_text(encoding="utf-8").splitlines()])
    assert len(reports[0]) == 2 and reports[1] == reports[0]


def test_a_cache_file_without_verdicts_gains_them_and_keeps_its_translations(tmp_path):
    import sqlite3

    from gugugo_cli.job.cache import SegmentCache

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE segments (key TEXT PRIMARY KEY, translation TEXT NOT NULL)")
    db.execute("INSERT INTO segments VALUES (?, ?)", (SegmentCache.key("k", "en", "ko", "Hi."), "안녕."))
    db.commit()
    db.close()
    cache = SegmentCache(path)
    assert cache.get_many("k", "en", "ko", ["Hi.", "Bye."]) == {"Hi.": ("안녕.", None)}
    verdict = {"capped": False, "suspect": "empty translation", "repaired": False}
    cache.put_many("k", "en", "ko", [("Bye.", "", verdict)])
    assert cache.get_many("k", "en", "ko", ["Bye."]) == {"Bye.": ("", verdict)}
    cache.close()
