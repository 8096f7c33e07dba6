"""Dataset codecs: what is not translated comes back as it was (number literals, repeated keys, quoting, line
ends, columns), rows are numbered one way, and a row too large to read fails alone."""

import csv
import io
import json

import pytest

from gugugo_cli.datasets import translate_dataset
from gugugo_cli.datasets.formats import base
from gugugo_cli.errors import FieldError, InputError


def lines_of(path):
    return path.read_bytes().splitlines(keepends=True)


ODD_NUMBERS = ('{"q": "Translate me.", "big": 1e400, "pi": 3.14159265358979323846, "e": 1E5, "tiny": 1.5e-400, '
               '"z": -0, "n": [1.50, 2], "d": 1, "d": 2}')


def test_jsonl_rewritten_row_keeps_number_literals_and_repeated_keys(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    src.write_text(ODD_NUMBERS + "\n", encoding="utf-8")
    translate_dataset(src, ["q"], "ko", marker)
    out = (tmp_path / "data.ko.jsonl").read_text(encoding="utf-8")
    assert out == ODD_NUMBERS.replace("Translate me.", "«Translate me.»") + "\n"
    assert "Infinity" not in out


def test_json_array_rewritten_rows_keep_number_literals_pretty_and_compact(tmp_path, marker):
    src = tmp_path / "data.json"
    src.write_text("[\n  {\n    \"q\": \"Hello there.\",\n    \"x\": 1E5,\n    \"y\": [1e400]\n  }\n]\n",
                   encoding="utf-8")
    translate_dataset(src, ["q"], "ko", marker)
    assert (tmp_path / "data.ko.json").read_text(encoding="utf-8") == (
        "[\n  {\n    \"q\": \"«Hello there.»\",\n    \"x\": 1E5,\n    \"y\": [\n      1e400\n    ]\n  }\n]\n")
    src.write_text('[{"q":"Hi there.","k":1,"k":2.50}]', encoding="utf-8")
    translate_dataset(src, ["q"], "ko", marker, output=tmp_path / "c.json")
    assert (tmp_path / "c.json").read_text(encoding="utf-8") == '[{"q":"«Hi there.»","k":1,"k":2.50}]'


def test_repeated_keys_with_keep_source_stay_in_order(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    src.write_text('{"a": 1, "q": "Good day.", "a": 2, "z": 0.10}\n', encoding="utf-8")
    translate_dataset(src, ["q"], "ko", marker, keep_source=True)
    assert (tmp_path / "data.ko.jsonl").read_text(encoding="utf-8") == (
        '{"a": 1, "q": "Good day.", "q_ko": "«Good day.»", "a": 2, "z": 0.10}\n')


def test_a_null_line_is_a_row_and_does_not_shift_the_numbers(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    src.write_text('{"q": "One."}\nnull\n\n{"q": 5}\n', encoding="utf-8")
    summary = translate_dataset(src, ["q"], "ko", marker)
    failed = [json.loads(l) for l in (tmp_path / "data.ko.failed.jsonl").read_text().splitlines()]
    assert [(f["row"], f["line"]) for f in failed] == [(1, 2), (2, 4)]
    assert "null" in failed[0]["reason"]
    assert summary.rows == 3
    assert (tmp_path / "data.ko.jsonl").read_text() == '{"q": "«One.»"}\nnull\n\n{"q": 5}\n'
    arr = tmp_path / "arr.json"
    arr.write_text('[null, {"q": 5}]', encoding="utf-8")
    translate_dataset(arr, ["q"], "ko", marker)
    failed = [json.loads(l) for l in (tmp_path / "arr.ko.failed.jsonl").read_text().splitlines()]
    assert [f["row"] for f in failed] == [0, 1]


def test_a_jsonl_line_over_the_row_size_limit_fails_alone_and_is_copied(tmp_path, marker, monkeypatch):
    monkeypatch.setattr(base, "MAX_ROW_BYTES", 1000)
    src = tmp_path / "data.jsonl"
    huge = json.dumps({"q": "Long text. " * 500}) + "\r\n"
    src.write_bytes(b"\xef\xbb\xbf" + huge.encode() + b'{"q": "Short one."}\n' + huge.encode())
    summary = translate_dataset(src, ["q"], "ko", marker)
    out = (tmp_path / "data.ko.jsonl").read_bytes()
    assert out == b"\xef\xbb\xbf" + huge.encode() + '{"q": "«Short one.»"}\n'.encode() + huge.encode()
    failed = [json.loads(l) for l in (tmp_path / "data.ko.failed.jsonl").read_text().splitlines()]
    assert [f["row"] for f in failed] == [0, 2] and "row-size limit" in failed[0]["reason"]
    assert summary.rows == 3


def test_a_json_array_row_over_the_row_size_limit_refuses_the_file(tmp_path, marker, monkeypatch):
    monkeypatch.setattr(base, "MAX_ROW_BYTES", 1000)
    src = tmp_path / "data.json"
    src.write_text(json.dumps([{"q": "Short."}, {"q": "Long text. " * 500}]), encoding="utf-8")
    with pytest.raises(InputError, match="row 1: the row is larger than the 1000 bytes row-size limit"):
        translate_dataset(src, ["q"], "ko", marker)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("data")) == ["data.json"]


TSV_CORPUS = ('id\ttext\n'
              '1\t"The cat sat.\n'
              '2\tThe dog ran.\n'
              '3\t"Hello," she said.\n'
              '4\tShe said "no".\n')


def test_tsv_cells_that_begin_with_a_quote_are_plain_text(tmp_path, marker):
    src = tmp_path / "corpus.tsv"
    src.write_text(TSV_CORPUS, encoding="utf-8")
    summary = translate_dataset(src, ["text"], "ko", marker)
    assert summary.rows == 4
    assert (tmp_path / "corpus.ko.tsv").read_text(encoding="utf-8") == (
        'id\ttext\n'
        '1\t«"The cat sat.»\n'
        '2\t«The dog ran.»\n'
        '3\t«"Hello," she said.»\n'
        '4\t«She said "no".»\n')


def test_unquoted_file_rows_are_written_unquoted_with_keep_source(tmp_path, marker):
    src = tmp_path / "corpus.tsv"
    src.write_text(TSV_CORPUS, encoding="utf-8")
    translate_dataset(src, ["text"], "ko", marker, keep_source=True)
    lines = (tmp_path / "corpus.ko.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id\ttext\ttext_ko"
    assert lines[3] == '3\t"Hello," she said.\t«"Hello," she said.»'


def test_valid_quoted_tsv_still_reads_quoted_cells(tmp_path, marker):
    src = tmp_path / "q.tsv"
    src.write_text('id\ttext\n1\t"Two\nlines."\n2\t"say ""hi"""\n', encoding="utf-8")
    translate_dataset(src, ["text"], "ko", marker)
    assert (tmp_path / "q.ko.tsv").read_text(encoding="utf-8") == (
        'id\ttext\n1\t"«Two»\n«lines.»"\n2\t"«say ""hi""»"\n')


def test_csv_whose_quotes_fit_no_reading_is_refused(tmp_path, marker):
    src = tmp_path / "bad.csv"
    src.write_text('id,text\n1,"Hello," she said.\n', encoding="utf-8")
    with pytest.raises(InputError, match="row 0: quotes that are neither"):
        translate_dataset(src, ["text"], "ko", marker)
    assert not (tmp_path / "bad.ko.csv").exists()


def test_a_column_named_twice_is_refused_by_field(tmp_path, marker):
    src = tmp_path / "d.csv"
    src.write_text("text,text,id\nFirst one.,Second one.,1\n", encoding="utf-8")
    with pytest.raises(FieldError, match="'text' 2 times"):
        translate_dataset(src, ["text"], "ko", marker)
    translate_dataset(src, ["id"], "ko", marker)  # an unnamed repeated column is copied as it was
    assert (tmp_path / "d.ko.csv").read_text() == "text,text,id\nFirst one.,Second one.,1\n"


def test_csv_cells_up_to_the_row_size_limit_are_read(tmp_path, marker, monkeypatch):
    src = tmp_path / "big.csv"
    cell = "Long text here. " * 10000  # 160 KB, over the csv module's 128 KiB default
    src.write_text(f"id,text\n1,{cell}\n2,Short.\n", encoding="utf-8")
    translate_dataset(src, ["id"], "ko", marker)
    assert (tmp_path / "big.ko.csv").read_text() == src.read_text()
    monkeypatch.setattr(base, "MAX_ROW_BYTES", 1000)
    with pytest.raises(InputError, match="row 0: the row is larger than the 1000 bytes row-size limit"):
        translate_dataset(src, ["id"], "ko", marker, output=tmp_path / "o.csv")
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('id,text\n1,"' + "Line.\n" * 400 + '"\n', encoding="utf-8")
    with pytest.raises(InputError, match="row 0: the row is larger"):
        translate_dataset(quoted, ["id"], "ko", marker)


def test_a_quoted_header_cell_with_a_semicolon_does_not_fool_the_delimiter(tmp_path, marker):
    src = tmp_path / "d.csv"
    src.write_text('"name; full; alias",text\nKim,Good morning.\n', encoding="utf-8")
    translate_dataset(src, ["text"], "ko", marker)
    assert (tmp_path / "d.ko.csv").read_text() == '"name; full; alias",text\nKim,«Good morning.»\n'


def test_cr_only_line_ends_are_kept_on_rewritten_rows(tmp_path, marker):
    src = tmp_path / "mac.csv"
    src.write_bytes(b"id,text\r1,Hello there.\r2,42\r")
    translate_dataset(src, ["text"], "ko", marker)
    assert (tmp_path / "mac.ko.csv").read_bytes() == "id,text\r1,«Hello there.»\r2,42\r".encode()


def test_parquet_keep_source_keeps_an_existing_translation_in_rows_left_alone(tmp_path, marker):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    src = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text": ["Hello there.", "42", None], "text_ko": ["old one", "old two", "old three"]}),
                   src)
    translate_dataset(src, ["text"], "ko", marker, keep_source=True)
    out = pq.read_table(tmp_path / "d.ko.parquet")
    assert out.column("text_ko").to_pylist() == ["«Hello there.»", "42", "old three"]  # a null text is left alone
    assert out.column("text").to_pylist() == ["Hello there.", "42", None]


def test_a_parquet_column_with_a_dot_in_its_name_can_be_named(tmp_path, marker):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    src = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text.en": ["Good night."], "meta": [{"title": "A title"}]}), src)
    translate_dataset(src, ["text.en", "meta.title"], "ko", marker)
    out = pq.read_table(tmp_path / "d.ko.parquet")
    assert out.to_pylist() == [{"text.en": "«Good night.»", "meta": {"title": "«A title»"}}]


def _ray_batches(src, kind, fields, marker, keep_source=False):
    """What --ray's actors make of a file's batches (the datasource and the translating actor, called here
    without a cluster)."""
    pytest.importorskip("ray.data")
    import pyarrow.parquet as pq

    from gugugo_cli.datasets import ray_run

    class Resolved:
        cache_key = "marker"

    actor = ray_run.BatchTranslator(Resolved(), str(src), fields, "ko", "auto", keep_source, kind, None)
    actor.translating.stream.get_translator = lambda: marker
    if kind == "jsonl":
        with open(src, "rb") as f:
            batches = list(ray_run.line_blocks(f, 1000))
    else:
        batches = [pq.read_table(src)]  # Ray hands an actor its batches as Arrow tables
    return [actor(b) for b in batches]


def test_ray_batches_finished_by_the_run_that_downloaded_the_model_are_kept_for_the_next_run(tmp_path, marker):
    pytest.importorskip("ray.data")
    from gugugo_cli.datasets import ray_run

    class Resolved:  # a hub model's key names its revision once it is downloaded (when it loads)
        downloaded = False

        @property
        def cache_key(self):
            return "hub/model@0123abcd" if self.downloaded else "hub/model"

    src = tmp_path / "data.jsonl"
    src.write_text('{"q": "One."}\n{"q": "Two."}\n', encoding="utf-8")
    with open(src, "rb") as f:
        (batch,) = list(ray_run.line_blocks(f, 1000))
    resolved = Resolved()

    def download_and_load():
        resolved.downloaded = True
        return marker

    first = ray_run.BatchTranslator(resolved, str(src), ["q"], "ko", "auto", False, "jsonl", None,
                                    resume_dir=str(tmp_path / "batches"))
    first.translating.stream.get_translator = download_and_load
    done = first(batch)
    again = ray_run.BatchTranslator(resolved, str(src), ["q"], "ko", "auto", False, "jsonl", None,
                                    resume_dir=str(tmp_path / "batches"))
    again.translating.stream.get_translator = lambda: pytest.fail("the kept batch was translated again")
    assert again(batch).column("line").to_pylist() == done.column("line").to_pylist()


def test_ray_reads_jsonl_rows_as_the_streamed_path_does(tmp_path, marker):
    src = tmp_path / "data.jsonl"
    src.write_text('{"q": "One."}\nnull\n\n' + ODD_NUMBERS + '\n{"q": 5}\n', encoding="utf-8")
    translate_dataset(src, ["q"], "ko", marker)
    (out,) = _ray_batches(src, "jsonl", ["q"], marker)
    assert b"".join(out.column("line").to_pylist()) == (tmp_path / "data.ko.jsonl").read_bytes()
    failed = [f for f in out.column("_failed").to_pylist() if f]
    assert failed == (tmp_path / "data.ko.failed.jsonl").read_text().splitlines()


def test_ray_parquet_keep_source_and_a_dotted_column(tmp_path, marker):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    src = tmp_path / "d.parquet"
    pq.write_table(pa.table({"text.en": ["Hello there.", None], "text.en_ko": ["old", "old two"]}), src)
    (out,) = _ray_batches(src, "parquet", ["text.en"], marker, keep_source=True)
    assert out.column("text.en_ko").to_pylist() == ["«Hello there.»", "old two"]


def test_a_field_that_names_no_text_in_any_row_warns_and_exits_1(tmp_path):
    from click.testing import CliRunner

    from conftest import ECHO_MODEL
    from gugugo_cli.cli import cli

    src = tmp_path / "data.jsonl"
    src.write_text('{"instruction": "Say hi."}\n{"instruction": "Wave."}\n', encoding="utf-8")
    common = [str(src), "--to", "ko", "--model", str(ECHO_MODEL), "--device", "cpu", "--no-cache"]
    for extra in (["--dry-run"], []):
        result = CliRunner().invoke(cli, common + ["--field", "instruction", "--field", "instrution"] + extra)
        assert result.exit_code == 1, result.output
        assert "--field instrution names no text in any row" in result.stderr
        assert "--field instruction " not in result.stderr
    assert (tmp_path / "data.ko.jsonl").read_text() == src.read_text()  # the echo model gives it back
    ok = CliRunner().invoke(cli, common + ["--field", "instruction", "--overwrite"])
    assert ok.exit_code == 0 and "names no text" not in ok.stderr


def test_ray_fails_a_line_over_the_row_size_limit_too(tmp_path, marker, monkeypatch):
    monkeypatch.setattr(base, "MAX_ROW_BYTES", 1000)
    src = tmp_path / "data.jsonl"
    src.write_text(json.dumps({"q": "Long text. " * 500}) + '\n{"q": "Short one."}\n', encoding="utf-8")
    translate_dataset(src, ["q"], "ko", marker)
    (out,) = _ray_batches(src, "jsonl", ["q"], marker)
    assert b"".join(out.column("line").to_pylist()) == (tmp_path / "data.ko.jsonl").read_bytes()
    failed = [f for f in out.column("_failed").to_pylist() if f]
    assert failed == (tmp_path / "data.ko.failed.jsonl").read_text().splitlines() and len(failed) == 1
