"""Datasets: named fields of every row translated, everything else (and the order) kept, per format."""

import csv
import io
import json

import pytest

from gugugo_cli.datasets import list_fields, translate_dataset
from gugugo_cli.datasets.formats import JsonArray
from gugugo_cli.errors import FieldError, UsageError
from gugugo_cli.job.cache import SegmentCache


class StreamingMarker:
    """Streams «text» results in reverse order; can stop (like Ctrl-C) after `stop_after` results."""

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.yielded: list[str] = []
        self.asked: list[str] = []

    def translate_batch(self, texts, src, tgt):  # pragma: no cover - the stream is used
        raise AssertionError("translate_stream should be used")

    def translate_stream(self, texts, src, tgt):
        self.asked += texts
        for i in reversed(range(len(texts))):
            if self.stop_after is not None and len(self.yielded) >= self.stop_after:
                raise KeyboardInterrupt
            self.yielded.append(texts[i])
            yield i, f"«{texts[i]}»"


def write_jsonl(path, rows, extra=b""):
    path.write_bytes(b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows) + extra)


ROWS = [
    {"id": 1, "instruction": "Say hello. Then wave.", "output": "Hello!", "meta": {"title": "Greeting", "n": 3}},
    {"id": 2, "messages": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "It is 4."}]},
    {"id": 3, "instruction": "Count.", "output": "1 2 3", "meta": {"title": "Numbers", "n": 1}},
]


def test_jsonl_nested_paths_in_place(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    write_jsonl(src, ROWS)
    summary = translate_dataset(src, ["instruction", "meta.title", "messages[*].content"], "ko", marker)
    out = [json.loads(l) for l in (tmp_path / "data.ko.jsonl").read_text(encoding="utf-8").splitlines()]
    assert out == [
        {"id": 1, "instruction": "«Say hello.» «Then wave.»", "output": "Hello!", "meta": {"title": "«Greeting»", "n": 3}},
        {"id": 2, "messages": [{"role": "user", "content": "«What is 2+2?»"},
                               {"role": "assistant", "content": "«It is 4.»"}]},
        {"id": 3, "instruction": "«Count.»", "output": "1 2 3", "meta": {"title": "«Numbers»", "n": 1}},
    ]
    assert (summary.rows, summary.rows_changed, summary.rows_failed) == (3, 3, 0)
    assert not (tmp_path / "data.ko.failed.jsonl").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_jsonl_unchanged_lines_are_copied_byte_for_byte(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    # odd spacing, escapes and a blank line that a re-serialization would change
    lines = [b'{"other" :  "\\u00e9t\\u00e9", "x": 1.0e0, "q": "2024-01-01"}\r\n', b"\r\n",
             b'{"q": "Translate me.", "x": 1E3}\r\n', b'{"q": "12345"}\r\n']
    src.write_bytes(b"".join(lines))
    translate_dataset(src, ["q"], "ko", marker)
    out = (tmp_path / "data.ko.jsonl").read_bytes().split(b"\r\n")
    assert out[0] + b"\r\n" == lines[0]  # no letters in q: nothing to translate, line as it was
    assert out[1] == b""
    assert json.loads(out[2]) == {"q": "«Translate me.»", "x": 1000.0}
    assert out[3] + b"\r\n" == lines[3]  # numbers only: nothing to translate, line as it was


def test_keep_source_adds_field_to_beside_each(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    write_jsonl(src, ROWS)
    translate_dataset(src, ["instruction", "messages[*].content"], "ko", marker, keep_source=True)
    out = [json.loads(l) for l in (tmp_path / "data.ko.jsonl").read_text(encoding="utf-8").splitlines()]
    assert list(out[0]) == ["id", "instruction", "instruction_ko", "output", "meta"]
    assert out[0]["instruction"] == "Say hello. Then wave."
    assert out[0]["instruction_ko"] == "«Say hello.» «Then wave.»"
    assert out[1]["messages"] == [
        {"role": "user", "content": "What is 2+2?", "content_ko": "«What is 2+2?»"},
        {"role": "assistant", "content": "It is 4.", "content_ko": "«It is 4.»"},
    ]


def test_keep_source_needs_a_path_ending_in_a_key(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    write_jsonl(src, [{"tags": ["one tag"]}])
    with pytest.raises(FieldError, match=r"--keep-source needs a path that ends in a key") as raised:
        translate_dataset(src, ["tags[*]"], "ko", marker, keep_source=True)
    assert not isinstance(raised.value, UsageError)  # a library error; the command line makes it exit 2
    translate_dataset(src, ["tags[*]"], "ko", marker)
    assert json.loads((tmp_path / "data.ko.jsonl").read_text(encoding="utf-8")) == {"tags": ["«one tag»"]}


def test_missing_and_non_string_fields(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    rows = [{"instruction": "First row.", "output": "Fine."},
            {"instruction": "No output here."},  # missing: nothing to translate there, the rest is
            {"instruction": "Null output.", "output": None},
            {"instruction": "A number.", "output": 42},  # not a string: the row fails and stays as it was
            {"instruction": ["a", "list"], "output": "Some text."}]
    write_jsonl(src, rows, extra=b"{not json}\n")
    summary = translate_dataset(src, ["instruction", "output"], "ko", marker)
    out = (tmp_path / "data.ko.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(l) for l in out[:5]] == [
        {"instruction": "«First row.»", "output": "«Fine.»"},
        {"instruction": "«No output here.»"},
        {"instruction": "«Null output.»", "output": None},
        {"instruction": "A number.", "output": 42},
        {"instruction": ["a", "list"], "output": "Some text."},
    ]
    assert out[5] == "{not json}"
    failed = [json.loads(l) for l in (tmp_path / "data.ko.failed.jsonl").read_text(encoding="utf-8").splitlines()]
    assert failed == [
        {"row": 3, "line": 4, "reason": "output is a number, not a string"},
        {"row": 4, "line": 5, "reason": "instruction is a list, not a string"},
        {"row": 5, "line": 6, "reason": "not valid JSON (Expecting property name enclosed in double quotes)"},
    ]
    assert (summary.rows, summary.rows_failed, summary.rows_missing) == (6, 3, 2)
    assert "A number." not in marker.segments and "Some text." not in marker.segments


def test_a_failed_run_leaves_no_stale_failed_list(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    write_jsonl(src, [{"q": 1}])
    translate_dataset(src, ["q"], "ko", marker)
    assert (tmp_path / "data.ko.failed.jsonl").exists()
    write_jsonl(src, [{"q": "Fixed."}])
    translate_dataset(src, ["q"], "ko", marker)
    assert not (tmp_path / "data.ko.failed.jsonl").exists()


def test_fences_inline_code_urls_and_lists_are_kept(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    text = ("Run `pip install x` first. See https://example.com/a_(b).\n\n"
            "```python\nprint('Hello. World.')\n```\n"
            "- First item here.\n- Second item.\n1. Step one.\n## A heading")
    write_jsonl(src, [{"output": text}])
    translate_dataset(src, ["output"], "ko", marker)
    out = json.loads((tmp_path / "data.ko.jsonl").read_text(encoding="utf-8"))["output"]
    assert out == ("«Run» `pip install x` «first.» «See» https://example.com/a_(b).\n\n"
                   "```python\nprint('Hello. World.')\n```\n"
                   "- «First item here.»\n- «Second item.»\n1. «Step one.»\n## «A heading»")


def test_a_dataset_field_keeps_urls_as_the_documents_do(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    text = "자세한 내용은 https://ko.wikipedia.org/wiki/서울 문서와 https://example.net/y에서 확인하세요."
    write_jsonl(src, [{"q": text}])
    translate_dataset(src, ["q"], "en", marker)
    out = json.loads((tmp_path / "data.en.jsonl").read_text(encoding="utf-8"))["q"]
    assert out == "«자세한 내용은» https://ko.wikipedia.org/wiki/서울 «문서와» https://example.net/y«에서 확인하세요.»"


def test_short_fields_are_pooled_across_rows_and_deduplicated(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    write_jsonl(src, [{"system": "You are a helpful assistant.", "q": f"Question number {i}."} for i in range(50)])
    translate_dataset(src, ["system", "q"], "ko", marker, window_rows=20)
    assert len(marker.calls) == 3  # one batch per window of 20 rows
    assert marker.segments.count("You are a helpful assistant.") == 3  # once per window
    assert len(marker.calls[0][0]) == 21


def test_json_array_streamed_and_layout_kept(tmp_path, marker, monkeypatch):
    monkeypatch.setattr(JsonArray, "CHUNK", 7)  # refill the buffer many times inside rows
    src = tmp_path / "data.json"
    rows = [{"q": "First question.", "n": 1.5}, {"q": "99", "n": 2}, {"q": "Third one, längere Frage?", "n": None}]
    text = json.dumps(rows, indent=4, ensure_ascii=False) + "\n"
    src.write_text(text, encoding="utf-8")
    translate_dataset(src, ["q"], "ko", marker)
    out = (tmp_path / "data.ko.json").read_text(encoding="utf-8")
    expected = [dict(rows[0], q="«First question.»"), rows[1], dict(rows[2], q="«Third one, längere Frage?»")]
    assert out == json.dumps(expected, indent=4, ensure_ascii=False) + "\n"
    # compact array on one line
    src.write_text('[{"q":"Hi there."},{"q":"7"}]', encoding="utf-8")
    translate_dataset(src, ["q"], "ko", marker, output=tmp_path / "compact.json")
    assert (tmp_path / "compact.json").read_text(encoding="utf-8") == '[{"q":"«Hi there.»"},{"q":"7"}]'


def test_json_that_is_not_an_array_is_refused(tmp_path, marker):
    src = tmp_path / "data.json"
    src.write_text('{"rows": []}', encoding="utf-8")
    with pytest.raises(Exception, match="array of rows"):
        translate_dataset(src, ["q"], "ko", marker)
    assert not [p for p in tmp_path.iterdir() if p.name != "data.json"]


def test_csv_quoting_embedded_newlines_and_keep_source(tmp_path, marker):
    src = tmp_path / "data.csv"
    data = ('id,text,note\r\n'
            '1,"Hello, world.\nSecond line here.","say ""hi"""\r\n'
            '2,42,plain note\r\n'
            '3,Only text\r\n')
    src.write_text(data, encoding="utf-8", newline="")
    translate_dataset(src, ["text"], "ko", marker)
    out = open(tmp_path / "data.ko.csv", encoding="utf-8", newline="").read()
    assert out == ('id,text,note\r\n'
                   '1,"«Hello, world.»\n«Second line here.»","say ""hi"""\r\n'
                   '2,42,plain note\r\n'
                   '3,«Only text»\r\n')
    translate_dataset(src, ["text", "note"], "ko", marker, keep_source=True, output=tmp_path / "k.csv")
    rows = list(csv.reader(io.StringIO(open(tmp_path / "k.csv", encoding="utf-8", newline="").read(), newline="")))
    assert rows == [["id", "text", "text_ko", "note", "note_ko"],
                    ["1", "Hello, world.\nSecond line here.", "«Hello, world.»\n«Second line here.»",
                     'say "hi"', '«say "hi"»'],
                    ["2", "42", "42", "plain note", "«plain note»"],
                    ["3", "Only text", "«Only text»"]]


def test_tsv_and_unknown_column(tmp_path, marker):
    src = tmp_path / "data.tsv"
    src.write_text("en\tscore\nGood morning.\t0.9\n", encoding="utf-8")
    translate_dataset(src, ["en"], "ko", marker)
    assert (tmp_path / "data.ko.tsv").read_text(encoding="utf-8") == "en\tscore\n«Good morning.»\t0.9\n"
    with pytest.raises(FieldError, match="no column 'ko'"):
        translate_dataset(src, ["ko"], "ko", marker)
    write_jsonl(tmp_path / "d.jsonl", [{"a": "Hi."}])
    with pytest.raises(FieldError, match="empty key"):
        translate_dataset(tmp_path / "d.jsonl", ["a..b"], "ko", marker)


def test_parquet_types_kept_and_nested_keep_source(tmp_path, marker):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({
        "id": pa.array([1, 2, 3], pa.int32()),
        "text": pa.array(["Hello there.", None, "Good bye."], pa.large_string()),
        "score": [0.5, 1.5, None],
        "when": pa.array([1, 2, 3], pa.timestamp("ms")),
        "meta": [{"title": "A title", "k": 1}, {"title": "B title", "k": 2}, None],
        "msgs": [[{"content": "Hi.", "role": "u"}], [], None],
    }, metadata={"source": "test"})
    src = tmp_path / "data.parquet"
    pq.write_table(table, src)
    translate_dataset(src, ["text", "meta.title", "msgs[*].content"], "ko", marker, window_rows=2)
    out = pq.read_table(tmp_path / "data.ko.parquet")
    assert out.schema == table.schema and out.schema.metadata == table.schema.metadata
    for name in ("id", "score", "when"):
        assert out.column(name).equals(table.column(name))
    assert out.column("text").to_pylist() == ["«Hello there.»", None, "«Good bye.»"]
    assert out.column("meta").to_pylist() == [{"title": "«A title»", "k": 1}, {"title": "«B title»", "k": 2}, None]
    assert out.column("msgs").to_pylist() == [[{"content": "«Hi.»", "role": "u"}], [], None]

    translate_dataset(src, ["text", "meta.title", "msgs[*].content"], "ko", marker, keep_source=True,
                      output=tmp_path / "k.parquet")
    with pytest.raises(FieldError, match="no column 'nope'"):
        translate_dataset(src, ["nope"], "ko", marker)
    kept = pq.read_table(tmp_path / "k.parquet")
    assert kept.schema.names == ["id", "text", "text_ko", "score", "when", "meta", "msgs"]
    assert kept.column("text").equals(table.column("text"))
    assert kept.column("text_ko").type == pa.large_string()
    assert kept.column("meta").to_pylist()[0] == {"title": "A title", "title_ko": "«A title»", "k": 1}
    assert kept.column("msgs").to_pylist()[0] == [{"content": "Hi.", "content_ko": "«Hi.»", "role": "u"}]


def test_interrupted_run_resumes_without_translating_anything_twice(tmp_path):
    src = tmp_path / "data.jsonl"
    rows = [{"q": f"Sentence number {i}.", "a": f"Answer {i}. Done {i}."} for i in range(40)]
    write_jsonl(src, rows)
    cache = SegmentCache(tmp_path / "cache.sqlite3")
    first = StreamingMarker(stop_after=50)
    with pytest.raises(KeyboardInterrupt):
        translate_dataset(src, ["q", "a"], "ko", first, cache=cache, translator_key="k", window_rows=15)
    # nothing half-written is left
    assert not (tmp_path / "data.ko.jsonl").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    second = StreamingMarker()
    summary = translate_dataset(src, ["q", "a"], "ko", second, cache=cache, translator_key="k", window_rows=15)
    assert len(first.yielded) == 50
    assert not set(first.yielded) & set(second.asked)
    assert len(first.yielded) + len(second.asked) == 120  # 40 q + 80 sentences of a, each translated once
    assert summary.cache_hits == 50
    out = [json.loads(l) for l in (tmp_path / "data.ko.jsonl").read_text(encoding="utf-8").splitlines()]
    assert out == [{"q": f"«Sentence number {i}.»", "a": f"«Answer {i}.» «Done {i}.»"} for i in range(40)]
    cache.close()


class CappingTranslator:
    """Reports every segment containing 'loop' as suspect, stopped at its limit, as guards.GuardedTranslator does."""

    def __init__(self):
        self.asked = []

    def translate_batch(self, texts, src, tgt):  # pragma: no cover
        raise AssertionError

    def translate_stream(self, texts, src, tgt):
        from gugugo_cli.engines.base import Translation

        self.asked += texts
        for i, t in enumerate(texts):
            if "loop" in t:
                yield Translation(i, "반복 반복 반복", capped=True,
                                  suspect="stopped at its token limit without finishing")
            else:
                yield Translation(i, f"«{t}»")


def test_a_segment_the_translator_reports_failed_fails_its_row_again_from_the_cache(tmp_path):
    src = tmp_path / "data.jsonl"
    write_jsonl(src, [{"q": "Fine one."}, {"q": "This will loop."}, {"q": "Fine two."}])
    cache = SegmentCache(tmp_path / "cache.sqlite3")
    for run in range(2):  # the second run finds every segment in the cache, the failed one with its verdict
        translator = CappingTranslator()
        summary = translate_dataset(src, ["q"], "ko", translator, cache=cache, translator_key="k")
        assert translator.asked == ([] if run else ["Fine one.", "This will loop.", "Fine two."])
        out = [json.loads(l) for l in (tmp_path / "data.ko.jsonl").read_text(encoding="utf-8").splitlines()]
        assert out == [{"q": "«Fine one.»"}, {"q": "This will loop."}, {"q": "«Fine two.»"}]
        assert summary.rows_failed == 1
        failed = json.loads((tmp_path / "data.ko.failed.jsonl").read_text(encoding="utf-8"))
        assert failed == {"row": 1, "line": 2, "field": "q",
                          "reason": "translation stopped at its token limit without finishing"}
    cache.close()


def test_dry_run_counts_and_writes_nothing(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    write_jsonl(src, ROWS)
    summary = translate_dataset(src, ["instruction", "output"], "ko", marker, dry_run=True)
    assert (summary.rows, summary.segments) == (3, 4)  # "1 2 3" has no letters
    assert marker.calls == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl"]


def test_list_fields_of_first_rows(tmp_path):
    src = tmp_path / "data.jsonl"
    write_jsonl(src, ROWS)
    found = list_fields(src)
    assert list(found) == ["instruction", "output", "meta.title", "messages[*].role", "messages[*].content"]
    assert found["instruction"] == (2, "Say hello. Then wave.")


def test_rows_whose_translation_stops_at_the_token_limit_fail_without_guards(tmp_path, tiny_model_dir):
    from gugugo_cli import load_translator

    src = tmp_path / "data.jsonl"
    write_jsonl(src, [{"q": "Hello there."}, {"q": "1 2 3"}])
    # random weights never finish a translation: the engine reports each row as stopped at its limit
    tr = load_translator(str(tiny_model_dir), device="cpu", dtype="float32", max_new_tokens=6)
    summary = translate_dataset(src, ["q"], "ko", tr)
    out = [json.loads(l) for l in (tmp_path / "data.ko.jsonl").read_text(encoding="utf-8").splitlines()]
    assert out == [{"q": "Hello there."}, {"q": "1 2 3"}]  # kept as it was
    assert summary.rows_failed == 1
    failed = json.loads((tmp_path / "data.ko.failed.jsonl").read_text(encoding="utf-8"))
    assert failed["row"] == 0 and "token limit" in failed["reason"]


def test_translate_dataset_is_part_of_the_public_api(tmp_path, marker):
    import gugugo_cli

    src = tmp_path / "data.jsonl"
    write_jsonl(src, [{"q": "Hello there."}, {"q": 3}])
    summary = gugugo_cli.translate_dataset(src, ["q"], to="ko", translator=marker)
    assert isinstance(summary, gugugo_cli.DatasetSummary)
    assert (summary.dest, summary.rows, summary.rows_failed) == (tmp_path / "data.ko.jsonl", 2, 1)
    assert summary.failed_path == tmp_path / "data.ko.failed.jsonl"
    assert {"translate_dataset", "DatasetSummary", "FieldError"} <= set(gugugo_cli.__all__)
    with pytest.raises(gugugo_cli.FieldError):
        gugugo_cli.translate_dataset(src, ["q[0]"], to="ko", translator=marker, keep_source=True)


def test_the_dataset_progress_bar_counts_rows_and_gives_logging_back(tmp_path, marker):
    import logging

    from gugugo_cli.console import RichDatasetProgress

    log = logging.getLogger("gugugo_cli")
    handlers = log.handlers[:]
    src = tmp_path / "data.jsonl"
    write_jsonl(src, [{"q": f"Row {i}."} for i in range(5)], extra=b"\n")
    progress = RichDatasetProgress()
    translate_dataset(src, ["q"], "ko", marker, window_rows=2, progress=progress)
    assert (progress.rows, progress.segments) == (5, 5)
    task = progress.bar.tasks[progress.task]
    assert task.completed == task.total == src.stat().st_size and "5 rows, 5 segments" in task.fields["counts"]
    assert log.handlers == handlers


def test_an_output_folder_that_cannot_be_written_names_the_output_and_the_cause(tmp_path, marker):
    import os

    from gugugo_cli.errors import InputError

    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    src = tmp_path / "data.jsonl"
    write_jsonl(src, [{"q": "Hello there."}])
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(InputError) as caught:
            translate_dataset(src, ["q"], "ko", marker, output=locked / "out.jsonl")
    finally:
        locked.chmod(0o755)
    assert caught.value.path == str(locked / "out.jsonl") and "cannot write" in caught.value.problem


def test_a_write_that_fails_midway_names_the_output_and_leaves_nothing(tmp_path, marker, monkeypatch):
    """A full disk (ENOSPC) while rows are written: one error naming the output, no temp file left behind."""
    import errno

    from gugugo_cli.datasets.formats import jsonl
    from gugugo_cli.errors import InputError

    src = tmp_path / "data.jsonl"
    write_jsonl(src, [{"q": "Hello there."}])

    def full(self, records):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(jsonl.JsonLinesWriter, "write", full)
    with pytest.raises(InputError) as caught:
        translate_dataset(src, ["q"], "ko", marker)
    assert caught.value.path == str(tmp_path / "data.ko.jsonl")
    assert caught.value.problem == "cannot write (No space left on device)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl"]


def test_a_damaged_parquet_page_names_the_file(tmp_path, marker):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from gugugo_cli.errors import InputError

    src = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": [f"Sentence number {i}." for i in range(2000)]}), src,
                   compression="NONE", use_dictionary=False)
    data = bytearray(src.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = b"\xff" * 64  # inside the column's data page
    src.write_bytes(bytes(data))
    with pytest.raises(InputError) as caught:
        translate_dataset(src, ["text"], "ko", marker)
    assert caught.value.path == str(src) and "damaged" in caught.value.problem
    assert not (tmp_path / "d.ko.parquet").exists()


def test_temp_files_a_killed_run_left_beside_the_output_are_removed(tmp_path, marker):
    import os
    import time

    src = tmp_path / "data.jsonl"
    write_jsonl(src, [{"q": "Hello there."}])
    stale = [tmp_path / ".data.ko.jsonl.abcd1234.part", tmp_path / ".data.ko.failed.jsonl.x1y2z3w4.part"]
    other = tmp_path / ".notes.txt.abcd1234.part"  # another tool's, or another output's: left alone
    for p in stale + [other]:
        p.write_text("half")
        os.utime(p, (time.time() - 60, time.time() - 60))
    translate_dataset(src, ["q"], "ko", marker)
    assert not any(p.exists() for p in stale) and other.exists()
    assert (tmp_path / "data.ko.jsonl").exists()
