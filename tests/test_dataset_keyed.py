"""A JSON dataset that is an object of rows keyed by id (`{"id1": {...}, "id2": {...}}`): each value is a row,
keys and their order stay, read in bounded memory like an array."""

import json

import pytest
from click.testing import CliRunner

from conftest import ECHO_MODEL
from gugugo_cli.cli import cli
from gugugo_cli.datasets import translate_dataset
from gugugo_cli.datasets.formats import JsonArray
from gugugo_cli.errors import InputError

ROWS = {"q-17": {"text": "Hello there.", "label": 1},
        "q-03": {"text": 3},
        "q-11": {"messages": [{"role": "user", "content": "Good night."}], "text": None}}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_rows_keyed_by_id_through_the_cli(tmp_path):
    src = tmp_path / "chat.json"
    src.write_text(json.dumps(ROWS, indent=2), encoding="utf-8")
    common = [src, "--to", "ko", "--model", ECHO_MODEL, "--device", "cpu"]

    listing = run(*common)
    assert listing.exit_code == 2 and "messages[*].content" in listing.stdout, listing.stderr

    dry = run(*common, "--field", "text", "--field", "messages[*].content", "--dry-run")
    assert dry.exit_code == 1, dry.stderr  # a row fails: exit 1, as in a real run
    assert "rows: 3, failed: 1, segments: 2" in dry.stdout

    result = run(*common, "--field", "text", "--field", "messages[*].content", "--keep-source")
    assert result.exit_code == 1, result.stderr  # the output is written all the same
    out = json.loads((tmp_path / "chat.ko.json").read_text(encoding="utf-8"))
    assert list(out) == ["q-17", "q-03", "q-11"]
    assert out == {"q-17": {"text": "Hello there.", "text_ko": "Hello there.", "label": 1},
                   "q-03": {"text": 3},
                   "q-11": {"messages": [{"role": "user", "content": "Good night.", "content_ko": "Good night."}],
                            "text": None}}
    failed = json.loads((tmp_path / "chat.ko.failed.jsonl").read_text(encoding="utf-8"))
    assert failed == {"row": 1, "key": "q-03", "reason": "text is a number, not a string"}


@pytest.mark.parametrize("indent", [None, 2, 4])
def test_keyed_rows_keep_their_layout_streamed_in_small_chunks(tmp_path, marker, monkeypatch, indent):
    monkeypatch.setattr(JsonArray, "CHUNK", 7)
    src = tmp_path / "d.json"
    rows = {"a": {"q": "First question.", "n": 1.5}, "b": {"q": "99"}, "c\u00e9": {"q": "Third one?", "n": None}}
    src.write_text(json.dumps(rows, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
    translate_dataset(src, ["q"], "ko", marker)
    expected = dict(rows, a={"q": "«First question.»", "n": 1.5}, **{"c\u00e9": {"q": "«Third one?»", "n": None}})
    out = (tmp_path / "d.ko.json").read_text(encoding="utf-8")
    assert out == json.dumps(expected, indent=indent, ensure_ascii=False) + "\n"


def test_an_object_that_is_not_rows_by_id_is_refused_naming_what_it_holds(tmp_path, marker):
    src = tmp_path / "one.json"
    src.write_text('{"instruction": "Say hi.", "output": "Hi."}', encoding="utf-8")
    with pytest.raises(InputError, match=r"object of rows keyed by id .*first key 'instruction' holds a string"):
        translate_dataset(src, ["instruction"], "ko", marker)
    empty = tmp_path / "empty.json"
    empty.write_text("{}\n", encoding="utf-8")
    assert translate_dataset(empty, ["q"], "ko", marker).rows == 0
    assert (tmp_path / "empty.ko.json").read_text(encoding="utf-8") == "{}\n"
