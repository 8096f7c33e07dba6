"""The Python API as README shows it."""

import pytest

from conftest import ECHO_MODEL, read_lines
from gugugo_cli import GugugoError, InputError, translate_file, translate_text


def test_translate_file_writes_beside_the_input_and_returns_the_path(tmp_path, marker):
    path = tmp_path / "notes.txt"
    path.write_text("Hello there. How are you?\n\nFine.\n", encoding="utf-8")
    out = translate_file(path, "ko", translator=marker)
    assert out == tmp_path / "notes.ko.txt"
    assert out.read_text(encoding="utf-8") == "«Hello there.» «How are you?»\n\n«Fine.»\n"
    assert path.read_text(encoding="utf-8") == "Hello there. How are you?\n\nFine.\n"


def test_translate_file_into_a_new_folder_named_with_a_slash(tmp_path, marker):
    path = tmp_path / "a.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,000\nHello there.\n", encoding="utf-8")
    out = translate_file(path, "ko", translator=marker, output=f"{tmp_path / 'newdir'}/")
    assert out == tmp_path / "newdir" / "a.ko.srt" and out.is_file()
    assert "«Hello there.»" in out.read_text(encoding="utf-8")


def test_translate_file_refuses_a_bad_file_and_an_existing_output(tmp_path, marker):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01binary\x00" * 50)
    with pytest.raises(InputError, match="binary"):
        translate_file(bad, "ko", translator=marker)
    assert not (tmp_path / "bad.ko.txt").exists()
    good = tmp_path / "good.txt"
    good.write_text("Hello.\n", encoding="utf-8")
    translate_file(good, "ko", translator=marker)
    with pytest.raises(GugugoError, match="exists"):
        translate_file(good, "ko", translator=marker)


def test_translate_file_loads_the_model_it_is_given(tmp_path):
    en = read_lines("echo_sentences.en")
    path = tmp_path / "echo.txt"
    path.write_text("\n".join(en[:3]) + "\n", encoding="utf-8")
    out = translate_file(path, "ko", model=str(ECHO_MODEL), device="cpu", dtype="float32")
    assert out.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_translate_text_needs_no_model_for_text_without_letters():
    assert translate_text("123 -- 456\n", to="ko", model="/no/such/model") == "123 -- 456\n"
