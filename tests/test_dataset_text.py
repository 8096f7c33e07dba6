"""Datasets whose text is not plain UTF-8: unpaired surrogate escapes in JSON (scraped chat dumps) fail their
row alone, and CSV/TSV files in CP949 (EUC-KR) or UTF-16 are read and written back in their own encoding."""

import json

import pytest
from click.testing import CliRunner

from conftest import ECHO_MODEL
from gugugo_cli.cli import cli
from gugugo_cli.datasets import translate_dataset
from gugugo_cli.job.cache import SegmentCache

COMMON = ["--model", ECHO_MODEL, "--device", "cpu"]
ROWS = ['{"id": 1, "text": "Hello there."}',
        '{"id": 2, "text": "Broken \\ud83d emoji."}',
        '{"id": 3, "text": "Good night.", "note": "kept \\ud83d as it was"}']


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("kind", ["jsonl", "json"])
def test_an_unpaired_surrogate_fails_its_row_alone_through_the_cli(tmp_path, kind):
    src = tmp_path / f"chat.{kind}"
    src.write_text("\n".join(ROWS) + "\n" if kind == "jsonl" else "[" + ",\n ".join(ROWS) + "]\n", encoding="utf-8")
    result = run(src, "--to", "ko", *COMMON, "--field", "text", "--keep-source")
    assert result.exit_code == 1, result.stderr  # a failed row: exit 1, the output written all the same
    assert "unexpected" not in result.stderr and "1 row failed" in result.stderr
    out = (tmp_path / f"chat.ko.{kind}").read_text(encoding="utf-8")
    rows = [json.loads(l) for l in out.splitlines()] if kind == "jsonl" else json.loads(out)
    assert [r.get("text_ko") for r in rows] == ["Hello there.", None, "Good night."]
    assert rows[1] == json.loads(ROWS[1]) and rows[2]["note"] == "kept \ud83d as it was"
    assert ROWS[1] in out and '"note": "kept \\ud83d as it was"' in out  # the failed row as it was, the escape kept
    failed = [json.loads(l) for l in (tmp_path / f"chat.ko.failed.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(failed) == 1 and failed[0]["row"] == 1 and failed[0]["field"] == "text"
    assert "unpaired surrogate" in failed[0]["reason"] and "\\ud83d" in failed[0]["reason"]

    dry = run(src, "--to", "ko", *COMMON, "--field", "text", "--dry-run")
    assert dry.exit_code == 1 and "failed: 1" in dry.stdout, dry.stderr


class SurrogateTranslator:
    """Answers 'Bad.' with a lone surrogate, as a careless remote API might."""

    def translate_batch(self, texts, src, tgt):
        return ["\ud83d" if t == "Bad." else f"«{t}»" for t in texts]


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet"])
def test_a_translation_that_cannot_be_written_fails_its_row_and_is_not_cached(tmp_path, kind):
    rows = [{"id": 1, "text": "Good."}, {"id": 2, "text": "Bad."}, {"id": 3, "text": "Fine."}]
    src = tmp_path / f"d.{kind}"
    if kind == "jsonl":
        src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif kind == "csv":
        src.write_text("id,text\n" + "".join(f"{r['id']},{r['text']}\n" for r in rows), encoding="utf-8")
    else:
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), src)
    cache = SegmentCache(tmp_path / "cache.sqlite3")
    summary = translate_dataset(src, ["text"], "ko", SurrogateTranslator(), cache=cache, translator_key="t")
    assert summary.rows == 3 and summary.rows_failed == 1 and summary.rows_changed == 2
    failed = json.loads((tmp_path / f"d.ko.failed.jsonl").read_text(encoding="utf-8"))
    assert failed["row"] == 1 and failed["field"] == "text" and "cannot be written" in failed["reason"]
    assert cache.get_many("t", "en", "ko", ["Good.", "Bad."]) == {"Good.": ("«Good.»", None)}
    cache.close()


def test_a_cp949_csv_is_read_and_written_in_cp949_through_the_cli(tmp_path):
    src = tmp_path / "cp949.csv"
    text = "번호,문장,비고\r\n1,Good morning.,한국어 메모\r\n2,\"Hello, world.\",둘째\r\n"
    src.write_bytes(text.encode("cp949"))
    result = run(src, "--to", "ko", *COMMON, "--field", "문장", "--keep-source")
    assert result.exit_code == 0, result.stderr
    out = (tmp_path / "cp949.ko.csv").read_bytes().decode("cp949")
    assert out == ("번호,문장,문장_ko,비고\r\n1,Good morning.,Good morning.,한국어 메모\r\n"
                   "2,\"Hello, world.\",\"Hello, world.\",둘째\r\n")
    dry = run(src, "--to", "ko", *COMMON, "--field", "문장", "--dry-run")
    assert f"{src}: read as cp949 text (written back in it)" in dry.stdout, dry.stderr


def test_a_translation_cp949_cannot_hold_fails_its_row(tmp_path, marker):
    src = tmp_path / "euc.tsv"
    src.write_bytes("id\ttext\tnote\n1\tGood.\t첫째\n2\tFine.\t둘째\n".encode("euc-kr"))
    summary = translate_dataset(src, ["text"], "ko", marker)  # « and » are not in CP949
    assert summary.rows_failed == 2
    failed = (tmp_path / "euc.ko.failed.jsonl").read_text(encoding="utf-8")
    assert "cannot be written in cp949" in failed
    assert (tmp_path / "euc.ko.tsv").read_bytes() == src.read_bytes()


def test_a_utf16_tsv_keeps_its_byte_order_mark(tmp_path, marker):
    src = tmp_path / "u16.tsv"
    src.write_bytes("id\ttext\r\n1\tGood.\r\n".encode("utf-16"))
    translate_dataset(src, ["text"], "ko", marker)
    assert (tmp_path / "u16.ko.tsv").read_bytes() == "id\ttext\r\n1\t«Good.»\r\n".encode("utf-16")


def test_a_csv_that_is_not_text_in_one_encoding_is_refused_naming_it(tmp_path):
    src = tmp_path / "mixed.csv"
    # rows pasted from a UTF-8 file and from a CP949 one
    src.write_bytes("id,text\n1,안녕하세요 여러분\n".encode() + "2,안녕하세요 여러분\n".encode("cp949"))
    result = run(src, "--to", "en", *COMMON, "--field", "text")
    assert result.exit_code == 1
    assert f"{src}: cannot tell its text encoding" in result.stderr and "unexpected" not in result.stderr


def test_the_ray_actor_fails_a_surrogate_row_alone(tmp_path, marker, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    from types import SimpleNamespace

    from gugugo_cli.datasets.ray_run import BatchTranslator
    from gugugo_cli.engines.base import as_streaming

    src = tmp_path / "chat.jsonl"
    src.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    monkeypatch.setattr(BatchTranslator, "_load", lambda self: as_streaming(marker))
    actor = BatchTranslator(SimpleNamespace(cache_key="k"), str(src), ["text"], "ko", "auto", False, "jsonl", None)
    lines = [line.encode() + b"\n" for line in ROWS]
    table = actor(pa.table({"line": pa.array(lines, pa.binary()), "lineno": [0, 1, 2], "row": [0, 1, 2]}))
    out = table.column("line").to_pylist()
    assert out[1] == lines[1] and out[0] == b'{"id": 1, "text": "\xc2\xabHello there.\xc2\xbb"}\n'
    assert json.loads(out[2]) == {"id": 3, "text": "«Good night.»", "note": "kept \ud83d as it was"}
    failed = [json.loads(x) for x in table.column("_failed").to_pylist() if x]
    assert len(failed) == 1 and failed[0]["field"] == "text" and "unpaired surrogate" in failed[0]["reason"]
