"""Excel, PowerPoint and HWPX files through the command line: a folder run with the echo model, bad files."""

import io
import shutil

import pytest
from click.testing import CliRunner
from lxml import etree

from conftest import DATA, UNLOADABLE_MODEL, read_lines
from gugugo_cli.cli import cli

openpyxl = pytest.importorskip("openpyxl")
pptx = pytest.importorskip("pptx")

ECHO = DATA.parent / "models" / "echo"


def test_folder_of_office_files_through_the_cli(tmp_path):
    en = read_lines("echo_sentences.en")
    src = tmp_path / "in"
    src.mkdir()
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["B1"], wb.active["A2"] = en[0], 12.5, "=B1*2"
    wb.save(src / "book.xlsx")
    prs = pptx.Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = en[1]
    slide.notes_slide.notes_text_frame.text = en[2]
    prs.save(src / "deck.pptx")
    shutil.copy(DATA / "realworld" / "hwpxlib_Table.hwpx", src / "table.hwpx")  # Korean: already the target

    result = CliRunner().invoke(cli, [str(src), "--to", "ko", "--model", str(ECHO), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out"
    book = openpyxl.load_workbook(out / "book.ko.xlsx").active
    assert (book["A1"].value, book["B1"].value, book["A2"].value) == (en[0], 12.5, "=B1*2")
    deck = pptx.Presentation(out / "deck.ko.pptx").slides[0]
    assert deck.shapes.title.text == en[1] and deck.notes_slide.notes_text_frame.text == en[2]
    assert not (out / "table.ko.hwpx").exists() and "table.hwpx: nothing to translate" in result.stderr


@pytest.mark.parametrize("suffix", [".xlsx", ".pptx", ".hwpx"])
@pytest.mark.parametrize("content", [b"PK\x03\x04 this zip is cut short", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
                                     b""])
def test_bad_files_are_refused_in_one_line(tmp_path, suffix, content):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(UNLOADABLE_MODEL)])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(path) in lines[0], result.stderr
    assert not list(tmp_path.glob("bad.ko*"))
