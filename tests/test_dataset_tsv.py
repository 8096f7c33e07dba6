"""TSV corpora as they are written (KorSTS and KorNLI: no quoting, quotes are text) and quoted CSV/TSV: every
row and every cell not translated comes back byte for byte."""

import pytest
from click.testing import CliRunner

from conftest import DATA, ECHO_MODEL
from gugugo_cli.cli import cli
from gugugo_cli.datasets import translate_dataset

STS = DATA / "realworld" / "kornlu_sts-dev-forums.tsv"  # stray quotes (a cell that opens a quote and never closes it)
NLI = DATA / "realworld" / "kornlu_xnli.dev.ko-head.tsv"  # quotes inside cells only: valid CSV, yet not quoting
CORPORA = [(STS, ["sentence1", "sentence2"]), (NLI, ["sentence1", "sentence2"])]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def records(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


@pytest.mark.parametrize("path,fields", CORPORA, ids=["korsts", "kornli"])
def test_korean_corpora_come_back_whole_with_keep_source_through_the_cli(tmp_path, path, fields):
    src = tmp_path / path.name
    src.write_bytes(path.read_bytes())
    args = [src, "--to", "ko", "--model", ECHO_MODEL, "--device", "cpu", "--keep-source"]
    for f in fields:
        args += ["--field", f]
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    header = src.read_text(encoding="utf-8").split("\n", 1)[0].split("\t")
    source_columns = [header.index(f) for f in fields]
    before = records(src.read_bytes())
    after = records((tmp_path / f"{src.stem}.ko.tsv").read_bytes())
    assert len(after) == len(before)
    for old, new in zip(before, after):
        body, end = old.rstrip(b"\r\n"), old[len(old.rstrip(b"\r\n")):]
        assert new[len(new.rstrip(b"\r\n")):] == end
        cells = new.rstrip(b"\r\n").split(b"\t")
        assert len(cells) == len(header) + len(fields)
        # each copy column follows its source; without the copies the line is the input's, byte for byte
        assert b"\t".join(_without_copies(cells, source_columns)) == body


def _without_copies(cells: list, source_columns: list) -> list:
    out, i, col = [], 0, 0
    while i < len(cells):
        out.append(cells[i])
        i += 2 if col in source_columns else 1
        col += 1
    return out


@pytest.mark.parametrize("path,fields", CORPORA, ids=["korsts", "kornli"])
def test_translated_cells_keep_their_quotes_and_other_cells_every_byte(tmp_path, path, fields, marker):
    out = tmp_path / "out.tsv"
    summary = translate_dataset(path, fields, "en", marker, output=out, src="ko")
    before, after = records(path.read_bytes()), records(out.read_bytes())
    assert summary.rows == len(before) - 1 and summary.rows_failed == 0
    assert len(after) == len(before) and after[0] == before[0]
    header = before[0].decode().rstrip("\n").split("\t")
    translated = {header.index(f) for f in fields}
    for old, new in zip(before[1:], after[1:]):
        old_cells, new_cells = old.decode().split("\t"), new.decode().split("\t")
        assert len(new_cells) == len(old_cells)
        for i, (a, b) in enumerate(zip(old_cells, new_cells)):
            if i in translated:
                assert b.replace("«", "").replace("»", "") == a and b.count("«") > 0
            else:
                assert b == a  # the label and score columns, and the line end


def test_the_dry_run_says_how_quotes_are_read(tmp_path):
    quoted = tmp_path / "quoted.tsv"
    quoted.write_text('id\ttext\n1\t"Two\tcells in one."\n', encoding="utf-8")
    result = run(STS, "--to", "en", "--field", "sentence1", "--dry-run", "--no-cache")
    assert result.exit_code == 0, result.stderr
    assert f"{STS}: read without quoting (quotes are text)" in result.stdout + result.stderr
    result = run(quoted, "--to", "en", "--field", "text", "--dry-run", "--no-cache")
    assert f"{quoted}: read with CSV quoting" in result.stdout + result.stderr
    plain = tmp_path / "plain.tsv"
    plain.write_text("id\ttext\n1\tNo quotes at all.\n", encoding="utf-8")
    result = run(plain, "--to", "ko", "--field", "text", "--dry-run", "--no-cache")
    assert "read with" not in result.stdout and "read without" not in result.stdout


def test_a_quoted_file_keeps_each_cell_as_it_was_written(tmp_path, marker):
    src = tmp_path / "q.csv"
    # pandas' QUOTE_NONNUMERIC style in the header, a quoted cell that needed no quotes, a CRLF line end
    src.write_bytes(b'"id","text","note"\r\n7,"Hello, world.","as is"\r\n8,Good night.,"x ""y"""\r\n')
    translate_dataset(src, ["text"], "ko", marker)
    assert (tmp_path / "q.ko.csv").read_bytes() == (
        '"id","text","note"\r\n7,"«Hello, world.»","as is"\r\n8,«Good night.»,"x ""y"""\r\n').encode()


def test_the_last_row_without_a_line_end_gets_none(tmp_path, marker):
    src = tmp_path / "t.tsv"
    src.write_bytes(b"id\ttext\n1\tFirst.\n2\tLast.")
    translate_dataset(src, ["text"], "ko", marker)
    assert (tmp_path / "t.ko.tsv").read_bytes() == "id\ttext\n1\t«First.»\n2\t«Last.»".encode()


def test_a_stray_quote_that_happens_to_close_rows_later_swallows_nothing(tmp_path, marker):
    src = tmp_path / "nli.tsv"
    text = ('premise\thypothesis\tlabel\n'
            '"Hurt! Explain yourself.\tHe left.\tneutral\n'
            'It rained.\tIt is wet, he said."\tentailment\n'
            'It snowed.\tIt is cold.\tentailment\n')
    src.write_text(text, encoding="utf-8")
    summary = translate_dataset(src, ["premise", "hypothesis"], "ko", marker)
    assert summary.rows == 3
    out = (tmp_path / "nli.ko.tsv").read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[2] for line in out] == ["label", "neutral", "entailment", "entailment"]
    assert out[1].split("\t")[0].replace("«", "").replace("»", "") == '"Hurt! Explain yourself.'
