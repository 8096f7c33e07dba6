"""Dataset codecs: what is not translated comes back as it was (number literals, repeated keys, quoting, line
ends, columns), rows are numbered one way, and a row too large to read fails alone."""

import csv
import io
import json

import pytest

from gugugo_cli.datasets import translate_dataset
from gugugo_cli.datasets.formats import base
from gugugo_cli.errors import InputError, UsageError


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
