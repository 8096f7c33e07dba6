"""What a first run shows: every output path and the model folder checked before anything is read, output
modes, the exit status of datasets with failed rows, warnings for options that do nothing, the help."""

import errno
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import ECHO_MODEL, HERE
from gugugo_cli.cli import cli

ROOT = HERE.parent


def gugugo(*args, input=None, timeout=300):
    """The command as a user runs it: a new process, stdout and stderr as text."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "gugugo_cli", *map(str, args)], input=input, capture_output=True,
                          text=True, env=env, timeout=timeout)


def echo(*args):
    return [*args, "--model", ECHO_MODEL, "--device", "cpu"]


def error_lines(proc) -> list[str]:
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert "Traceback" not in proc.stderr
    return lines


@pytest.fixture
def marking(monkeypatch):
    """The echo folder resolves as the model; loading it gives a translator that wraps each segment in «»."""
    import gugugo_cli.engines.loading as loading
    from conftest import MarkTranslator

    monkeypatch.setattr(loading, "load", lambda resolved: MarkTranslator())


def _mode(path):
    return os.stat(path).st_mode & 0o777


# --- every output path is checked before anything is read ---------------------------------------------------

def test_an_output_under_a_file_is_refused_before_the_input_is_read(tmp_path):
    # the input cannot be read (binary): a run that read it first would fail on it instead
    src = tmp_path / "a.txt"
    src.write_bytes(b"\x00\x01binary")
    blocker = tmp_path / "FILE"
    blocker.write_text("not a folder")
    proc = gugugo(*echo(src, "--to", "ko", "-o", blocker / "out.txt"))
    assert proc.returncode == 2, proc.stderr
    assert error_lines(proc) == [f"gugugo-translate: error: cannot write {blocker / 'out.txt'}: {blocker} is a file"]
    assert "File exists" not in proc.stderr and blocker.read_text() == "not a folder"


@pytest.mark.parametrize("dataset", [False, True])
def test_a_report_that_cannot_be_written_is_refused_before_translating(tmp_path, dataset):
    src = tmp_path / ("data.jsonl" if dataset else "a.txt")
    src.write_text('{"q": "Hello."}\n' if dataset else "Hello.\n", encoding="utf-8")
    blocker = tmp_path / "FILE"
    blocker.write_text("")
    proc = gugugo(*echo(src, "--to", "ko", "--report", blocker / "report.jsonl",
                        *(["--field", "q"] if dataset else [])))
    assert proc.returncode == 2, proc.stderr
    [line] = error_lines(proc)
    assert f"--report {blocker / 'report.jsonl'}" in line and f"{blocker} is a file" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["FILE", src.name]


def test_a_failed_rows_file_that_cannot_be_written_is_refused_before_translating(tmp_path):
    src = tmp_path / "data.jsonl"
    src.write_text('{"q": "Hello."}\n{"q": 3}\n', encoding="utf-8")
    (tmp_path / "data.ko.failed.jsonl").mkdir()
    proc = gugugo(*echo(src, "--to", "ko", "--field", "q"))
    assert proc.returncode == 2, proc.stderr
    [line] = error_lines(proc)
    assert f"{tmp_path / 'data.ko.failed.jsonl'} is a folder" in line
    assert not (tmp_path / "data.ko.jsonl").exists()


class CappingTranslator:
    """Gives every text back in «»; a text with LOOP in it is reported as stopped at its new-token limit."""

    def translate_stream(self, texts, src, tgt):
        from gugugo_cli.engines.base import Translation

        for i, t in enumerate(texts):
            yield Translation(i, f"«{t}»", capped="LOOP" in t)


def test_a_report_that_fails_to_be_written_at_the_end_is_not_said_to_be_written(tmp_path, monkeypatch):
    import gugugo_cli.engines.loading as loading
    import gugugo_cli.textio as textio

    monkeypatch.setattr(loading, "load", lambda resolved: CappingTranslator())

    real = textio.atomic_write_chunks
    report = tmp_path / "report.jsonl"

    def full_disk(path, chunks):
        if os.fspath(path) == os.fspath(report):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, chunks)

    monkeypatch.setattr(textio, "atomic_write_chunks", full_disk)
    src = tmp_path / "a.txt"
    src.write_text("Hello.\nIt goes LOOP again.\n", encoding="utf-8")
    result = CliRunner().invoke(cli, echo(str(src), "--to", "ko", "--report", str(report)))
    assert result.exit_code == 1
    assert f"{report}: cannot write the report (No space left on device)" in result.stderr
    assert "1 segment looked wrong" in result.stderr
    assert "listed in" not in result.stderr and not report.exists()
    assert (tmp_path / "a.ko.txt").read_text(encoding="utf-8") == "«Hello.»\n«It goes LOOP again.»\n"


# --- one mode rule for every output ---------------------------------------------------------------------------

def test_every_output_kind_gets_the_mode_a_new_file_gets(tmp_path, marking):
    doc = tmp_path / "a.txt"
    doc.write_text("Hello.\n", encoding="utf-8")
    data = tmp_path / "data.jsonl"
    data.write_text('{"q": "Hello."}\n{"q": 3}\n', encoding="utf-8")
    old = os.umask(0o027)
    try:
        docs = CliRunner().invoke(cli, echo(str(doc), "--to", "ko", "--report", str(tmp_path / "doc-report.jsonl")))
        rows = CliRunner().invoke(cli, echo(str(data), "--to", "ko", "--field", "q",
                                            "--report", str(tmp_path / "rows-report.jsonl")))
    finally:
        os.umask(old)
    assert docs.exit_code == 0, docs.stderr
    assert rows.exit_code == 1, rows.stderr  # a row failed
    for name in ("a.ko.txt", "doc-report.jsonl", "data.ko.jsonl", "data.ko.failed.jsonl", "rows-report.jsonl"):
        assert _mode(tmp_path / name) == 0o640, name
    # an output written over keeps its mode, a dataset's as a document's
    os.chmod(tmp_path / "data.ko.jsonl", 0o600)
    again = CliRunner().invoke(cli, echo(str(data), "--to", "ko", "--field", "q", "--overwrite"))
    assert again.exit_code == 1 and _mode(tmp_path / "data.ko.jsonl") == 0o600


# --- datasets: failed rows make the exit status 1 ------------------------------------------------------------

def test_a_dataset_with_failed_rows_exits_1_and_says_why_each_failed(tmp_path):
    src = tmp_path / "data.jsonl"
    long = "This sentence is long enough that twelve new tokens cannot hold its translation."
    rows = [{"q": "Hi."}, {"q": 3}, {"q": long}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    proc = gugugo(*echo(src, "--to", "ko", "--field", "q", "--max-new-tokens", "12", "--no-cache"))
    assert proc.returncode == 1, proc.stderr
    assert "2 rows failed" in proc.stderr
    out = [json.loads(l) for l in (tmp_path / "data.ko.jsonl").read_text(encoding="utf-8").splitlines()]
    assert out[1:] == rows[1:]  # failed rows are written as they were
    failed = [json.loads(l) for l in (tmp_path / "data.ko.failed.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [f["row"] for f in failed] == [1, 2]
    assert failed[1]["reason"] == "translation stopped at its token limit without finishing"


# --- the model folder is checked first, in a dry run too ------------------------------------------------------

@pytest.mark.parametrize("dry_run", [True, False])
def test_a_model_folder_that_is_missing_or_no_model_is_one_line_before_the_input_is_read(tmp_path, dry_run):
    src = tmp_path / "a.txt"
    src.write_bytes(b"\x00\x01binary")  # reading it would fail: the model folder is checked before that
    (tmp_path / "empty").mkdir()
    flags = ["--dry-run"] if dry_run else []
    missing = gugugo(src, "--to", "ko", "--model", "./nope", *flags)
    assert missing.returncode == 2, missing.stderr
    assert error_lines(missing) == ["gugugo-translate: error: model folder ./nope: no such folder (--model takes a "
                                    "folder with config.json, or a hub id owner/name)"]
    empty = gugugo(src, "--to", "ko", "--model", tmp_path / "empty", *flags)
    assert empty.returncode == 2, empty.stderr
    assert error_lines(empty) == [f"gugugo-translate: error: model folder {tmp_path / 'empty'}: not a model folder "
                                  "(no config.json)"]


# --- folder runs name the datasets they leave out --------------------------------------------------------------

def test_a_folder_run_says_how_to_translate_the_datasets_it_leaves_out(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a.jsonl", "b.csv", "c.parquet"):
        (docs / name).write_text("x\n")
    only_datasets = gugugo(docs, "--to", "ko", "--dry-run")
    assert only_datasets.returncode == 1
    [line] = error_lines(only_datasets)
    assert "3 datasets (run each with --field)" in line and "unsupported" not in line
    (docs / "note.txt").write_text("Hello.\n")
    (docs / "image.png").write_bytes(b"\x89PNG")
    mixed = gugugo(docs, "--to", "ko", "--dry-run")
    assert mixed.returncode == 0, mixed.stderr
    assert error_lines(mixed) == [f"gugugo-translate: warning: skipped 3 datasets ({docs / 'a.jsonl'}, "
                                  f"{docs / 'b.csv'}, {docs / 'c.parquet'}): run each with --field"]
    (docs / "b.csv").unlink(), (docs / "c.parquet").unlink()
    one = gugugo(docs, "--to", "ko", "--dry-run")
    assert error_lines(one) == [f"gugugo-translate: warning: skipped {docs / 'a.jsonl'}: dataset: run it with --field"]


# --- options that do nothing, files with nothing to translate ------------------------------------------------

def test_format_options_warn_once_for_the_files_they_do_nothing_for(tmp_path):
    for name, text in (("a.txt", "Hello.\n"), ("b.md", "# Hello\n"), ("c.txt", "Hi.\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "d.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHello.\n", encoding="utf-8")
    proc = gugugo(tmp_path, "--to", "ko", "-o", tmp_path / "out", "--bilingual", "--line-width", "30", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert error_lines(proc) == [
        "gugugo-translate: warning: --bilingual does nothing for .md, .txt (3 files): it applies to subtitles "
        "and Word (.docx)",
        "gugugo-translate: warning: --line-width does nothing for .md, .txt (3 files): it applies to subtitles"]
    subtitles_only = gugugo(tmp_path / "d.srt", "--to", "ko", "--bilingual", "--line-width", "30", "--dry-run")
    assert subtitles_only.returncode == 0 and error_lines(subtitles_only) == []
    data = tmp_path / "data.jsonl"
    data.write_text('{"q": "Hello."}\n', encoding="utf-8")
    rows = gugugo(data, "--to", "ko", "--field", "q", "--bilingual", "--dry-run")
    assert rows.returncode == 0, rows.stderr
    assert error_lines(rows) == ["gugugo-translate: warning: --bilingual does nothing for datasets: it applies to "
                                 "subtitles and Word (.docx)"]


def test_a_file_already_in_the_target_language_is_nothing_to_translate(tmp_path):
    tmp_path = tmp_path / "docs"
    tmp_path.mkdir()
    (tmp_path / "x.txt").write_text("Hello there. How are you?\n", encoding="utf-8")
    (tmp_path / "y.txt").write_text("안녕하세요.\n", encoding="utf-8")
    dry = gugugo(tmp_path, "--to", "en", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "files to translate: 1\nfiles with nothing to translate: 1\n" in dry.stdout
    proc = gugugo(*echo(tmp_path, "--to", "en"))
    assert proc.returncode == 0, proc.stderr
    assert error_lines(proc) == [f"gugugo-translate: warning: {tmp_path / 'x.txt'}: nothing to translate (its "
                                 "text is already in English, or it has none); no output written"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.txt", "y.en.txt", "y.txt"]
    # stdout still carries the text of a pipe
    piped = gugugo(*echo("--to", "en"), input="Hello there.\n")
    assert piped.returncode == 0 and piped.stdout == "Hello there.\n"


# --- help, formats, completion --------------------------------------------------------------------------------

HEAVY = "import sys\nprint('HEAVY', [m for m in ('torch', 'transformers', 'kss') if m in sys.modules], file=sys.stderr)"


def _light(args, env=None):
    """The command run in a new process; what it printed, and the heavy modules it had imported."""
    code = ("import sys, atexit\n"
            f"atexit.register(lambda: exec({HEAVY!r}))\n"
            "from gugugo_cli.cli import main\n"
            f"sys.argv = ['gugugo-translate', *{list(args)!r}]\n"
            "main()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})
    return proc, proc.stderr.rsplit("HEAVY ", 1)[-1].strip()


def test_help_lists_options_by_topic_and_points_to_the_formats():
    proc, heavy = _light(["--help"])
    assert proc.returncode == 0 and heavy == "[]", proc.stderr
    text = " ".join(proc.stdout.split())
    assert "Translate documents, subtitles and datasets" in text and "--list-formats lists" in text
    sections = ["Input and output:", "Formats:", "Model and engine:", "Datasets:", "Quality and guards:",
                "Segment cache:", "Run:"]
    assert [l for l in proc.stdout.splitlines() if l.endswith(":") and not l.startswith(" ")] == sections
    assert "Other options" not in proc.stdout  # every option has its topic
    # what the code does: actors per GPU or per 4 CPUs (ray_run), and which inputs the size limit bounds
    assert "one per GPU; on CPU, one per 4 CPUs, 1 to 8" in text
    assert "(.docx, .xlsx, .pptx, .hwpx, .epub)" in text and "Datasets are streamed and not bound by it" in text
    assert "gugugo-translate[" not in text and "pip install '.[ray]'" in text


def test_list_formats_names_every_extension_read():
    from gugugo_cli.datasets import SUFFIXES
    from gugugo_cli.formats import FORMATS

    proc, heavy = _light(["--list-formats"])
    assert proc.returncode == 0 and heavy == "[]", proc.stderr
    listed = {word for line in proc.stdout.splitlines() for word in line.split() if word.startswith(".")}
    assert set(FORMATS) | set(SUFFIXES) <= listed
    assert "  .docx                 Word\n" in proc.stdout and "  .csv .tsv             CSV/TSV\n" in proc.stdout


def test_shell_completion_as_the_readme_says():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'eval "$(_GUGUGO_TRANSLATE_COMPLETE=bash_source gugugo-translate)"' in readme
    proc, heavy = _light([], env={"_GUGUGO_TRANSLATE_COMPLETE": "bash_complete", "COMP_WORDS": "gugugo-translate --list",
                                  "COMP_CWORD": "1"})
    assert proc.returncode == 0 and heavy == "[]", proc.stderr
    assert proc.stdout.split() == ["plain,--list-formats"]


def test_readme_install_hints_and_output_levels_match_the_code():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "gugugo-translate[" not in readme  # the package is installed from its checkout
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in readme
    assert "--model tests/models/echo" in readme.split("## Install")[0]
    assert "in a pipe only warnings and errors; with `-q` only errors" in readme
