"""Outputs never collide and never land in the wrong place; options are checked before any work; a run can be
stopped with SIGTERM like Ctrl-C. What a user sees: exit codes, one clear line, which files exist, their mode."""

import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ECHO_MODEL
from gugugo_cli.cli import cli


class Marking:
    """Stands in for the model: wraps each segment in «», one by one as an engine streams them."""

    def translate_batch(self, texts, src, tgt):
        return [f"«{t}»" for t in texts]

    def translate_stream(self, texts, src, tgt):
        for i, t in enumerate(texts):
            yield i, f"«{t}»"


@pytest.fixture
def model(monkeypatch):
    """--model resolves to the echo folder (no torch is asked anything on --device cpu); loading gives Marking."""
    import gugugo_cli.engines.loading as loading

    loads = []
    monkeypatch.setattr(loading, "load", lambda resolved: loads.append(resolved) or Marking())
    return loads


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args] + ["--model", str(ECHO_MODEL), "--device", "cpu",
                                                             "--no-cache"], input=input)


def error_lines(result):
    return [l for l in result.stderr.splitlines() if l.strip()]


def one_error(result, *fragments):
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gugugo-translate: error: "), lines[0]
    for f in fragments:
        assert str(f) in lines[0], lines[0]
    return lines[0]


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- two inputs, one name ---------------------------------------------------------------------------------


def test_two_files_with_one_name_get_their_own_outputs(tmp_path, model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "ca" / "x.txt", "From folder a.\n")
    write(tmp_path / "cb" / "x.txt", "From folder b.\n")
    result = run("ca/x.txt", "cb/x.txt", "--to", "ko", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert files(tmp_path / "out") == {"ca/x.ko.txt", "cb/x.ko.txt"}
    assert (tmp_path / "out" / "ca" / "x.ko.txt").read_text(encoding="utf-8") == "«From folder a.»\n"
    assert (tmp_path / "out" / "cb" / "x.ko.txt").read_text(encoding="utf-8") == "«From folder b.»\n"


def test_files_of_one_folder_still_go_straight_into_the_output_folder(tmp_path, model):
    a, b = write(tmp_path / "a.txt", "One.\n"), write(tmp_path / "b.txt", "Two.\n")
    assert run(a, b, "--to", "ko", "-o", tmp_path / "out").exit_code == 0
    assert files(tmp_path / "out") == {"a.ko.txt", "b.ko.txt"}


def test_two_folders_named_docs_are_mirrored_apart(tmp_path, model):
    write(tmp_path / "p" / "docs" / "read.txt", "Team p.\n")
    write(tmp_path / "q" / "docs" / "read.txt", "Team q.\n")
    result = run(tmp_path / "p" / "docs", tmp_path / "q" / "docs", "--to", "ko", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert files(tmp_path / "out") == {"p/docs/read.ko.txt", "q/docs/read.ko.txt"}
    assert (tmp_path / "out" / "q" / "docs" / "read.ko.txt").read_text(encoding="utf-8") == "«Team q.»\n"


def test_a_folder_and_a_file_inside_it_are_translated_once(tmp_path, model):
    docs = tmp_path / "docs"
    write(docs / "a.txt", "Once.\n")
    result = run(docs, docs / "a.txt", "--to", "ko", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert files(tmp_path / "out") == {"docs/a.ko.txt"}


def test_outputs_that_would_collide_are_refused_before_translating(tmp_path, model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "stdin.txt", "A file called stdin.\n")
    result = run("stdin.txt", "-", "--to", "ko", "-o", "out/", input="Piped text.\n")
    assert result.exit_code == 2
    one_error(result, "stdin.txt", "both be written to", os.path.join("out", "stdin.ko.txt"))
    assert not (tmp_path / "out").exists() and model == []


# --- what -o names ------------------------------------------------------------------------------------------


def test_trailing_slash_makes_a_new_folder(tmp_path, model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "notes.txt", "Hello there.\n")
    result = run("notes.txt", "--to", "ko", "-o", "translated/")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "translated").is_dir()
    assert (tmp_path / "translated" / "notes.ko.txt").read_text(encoding="utf-8") == "«Hello there.»\n"


def test_stdin_into_a_new_folder(tmp_path, model):
    result = run("--to", "ko", "-o", f"{tmp_path / 'fresh'}/", input="Piped.\n")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "fresh" / "stdin.ko.txt").read_text(encoding="utf-8") == "«Piped.»\n"


def test_file_name_for_a_folder_input_is_refused(tmp_path, model):
    write(tmp_path / "docs" / "a.txt", "Hello.\n")
    result = run(tmp_path / "docs", "--to", "ko", "-o", tmp_path / "out.txt")
    assert result.exit_code == 2
    one_error(result, "out.txt", "output folder")
    assert not (tmp_path / "out.txt").exists() and model == []
    # an existing file is refused as well; a trailing slash asks for a folder of that name
    write(tmp_path / "exists.txt", "keep")
    assert run(tmp_path / "docs", "--to", "ko", "-o", tmp_path / "exists.txt").exit_code == 2
    assert (tmp_path / "exists.txt").read_text() == "keep"
    result = run(tmp_path / "docs", "--to", "ko", "-o", f"{tmp_path / 'out.txt'}/")
    assert result.exit_code == 0, result.stderr
    assert files(tmp_path / "out.txt") == {"a.ko.txt"}


def test_folder_input_into_a_new_folder_without_slash(tmp_path, model):
    write(tmp_path / "docs" / "a.txt", "Hello.\n")
    assert run(tmp_path / "docs", "--to", "ko", "-o", tmp_path / "docs-ko").exit_code == 0
    assert files(tmp_path / "docs-ko") == {"a.ko.txt"}


# --- outputs are never inputs -------------------------------------------------------------------------------


def test_output_folder_inside_the_input_is_not_walked(tmp_path, model):
    docs = tmp_path / "docs"
    write(docs / "a.txt", "Hello.\n")
    for _ in range(4):
        result = run(docs, "--to", "ko", "-o", docs / "out", "--overwrite")
        assert result.exit_code == 0, result.stderr
    assert files(docs) == {"a.txt", "out/a.ko.txt"}


def test_translations_beside_their_source_are_not_inputs_in_either_direction(tmp_path, model):
    docs = tmp_path / "docs"
    write(docs / "a.txt", "안녕.\n")
    write(docs / "a.ko.txt", "안녕하세요.\n")  # an earlier run's output, beside its source
    write(docs / "report.ko.txt", "보고서입니다.\n")  # a Korean file with no source beside it: an input
    result = run(docs, "--to", "en", "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert files(tmp_path / "out") == {"a.en.txt", "report.ko.en.txt"}
    result = run(docs, "--to", "en")  # beside the inputs
    assert result.exit_code == 0, result.stderr
    assert not (docs / "a.ko.en.txt").exists() and (docs / "report.ko.en.txt").exists()


# --- file modes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o027, 0o640)])
def test_new_output_gets_the_umask_mode(tmp_path, model, umask, mode):
    path = write(tmp_path / "a.txt", "Hello.\n")
    old = os.umask(umask)
    try:
        assert run(path, "--to", "ko").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.ko.txt").stat().st_mode) == mode


def test_overwrite_keeps_the_old_files_mode(tmp_path, model):
    path = write(tmp_path / "a.txt", "Hello.\n")
    out = write(tmp_path / "a.ko.txt", "old")
    out.chmod(0o600)
    assert run(path, "--to", "ko", "--overwrite").exit_code == 0
    assert out.read_text(encoding="utf-8") == "«Hello.»\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


# --- temp files of killed runs -------------------------------------------------------------------------------


def test_stale_temp_files_are_removed_from_the_folders_written_to(tmp_path, model):
    docs, out = tmp_path / "docs", tmp_path / "out"
    write(docs / "a.txt", "Hello.\n")
    stale = [write(out / ".a.ko.txt.k3j_9x2q.part", "half"), write(out / ".b.ko.srt.abcdefgh.part", "half")]
    fresh = write(out / ".a.ko.txt.zzzzzzzz.part", "a run writing right now")
    others = [write(out / ".notes.txt.abcdefgh.part", "not ours"), write(out / "movie.mkv.part", "a download"),
              write(docs / ".a.ko.txt.k3j_9x2q.part", "not a folder this run writes to")]
    hour_ago = time.time() - 3600
    for p in stale + others:
        os.utime(p, (hour_ago, hour_ago))
    os.utime(fresh, (time.time() + 60, time.time() + 60))
    result = run(docs, "--to", "ko", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert not any(p.exists() for p in stale)
    assert fresh.exists() and all(p.exists() for p in others)
    assert (out / "a.ko.txt").exists()


# --- options are checked first -------------------------------------------------------------------------------


@pytest.mark.parametrize("args,fragment", [
    (["--encoding", "bogus"], "--encoding bogus"),
    (["--encoding", "rot13"], "not a text encoding"),
    (["--max-input-size", "lots"], "--max-input-size"),
    (["--quantize", "int8", "--device", "cuda"], "--quantize int8"),
])
def test_bad_options_are_usage_errors_before_any_work(tmp_path, model, args, fragment):
    path = write(tmp_path / "a.txt", "Hello.\n")
    started = time.monotonic()
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(tmp_path / "no-model"), *args])
    assert result.exit_code == 2
    one_error(result, fragment)
    assert time.monotonic() - started < 5
    assert model == [] and not (tmp_path / "a.ko.txt").exists()


def test_good_encoding_is_used(tmp_path, model):
    path = write(tmp_path / "a.txt", "Hello.\n")
    assert run(path, "--to", "ko", "--encoding", "utf-16").exit_code == 0
    assert (tmp_path / "a.ko.txt").read_bytes().decode("utf-16") == "«Hello.»\n"


# --- messages ----------------------------------------------------------------------------------------------


def test_write_error_names_the_output(tmp_path, model):
    path = write(tmp_path / "in" / "a.txt", "Hello.\n")
    write(tmp_path / "blocker", "a file where a folder should be")
    dest = tmp_path / "blocker" / "sub" / "a.ko.txt"
    result = run(path, "--to", "ko", "-o", dest)
    assert result.exit_code == 2  # found before anything is read
    line = one_error(result, dest, "cannot write", f"{tmp_path / 'blocker'} is a file")
    assert str(path) not in line


def test_symlink_loop_is_named_as_such(tmp_path, model):
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    result = run(tmp_path / "a.txt", "--to", "ko")
    assert result.exit_code == 2
    line = one_error(result, "a.txt", "symbolic link loop")
    assert "no such file" not in line
    # inside a folder: that file fails alone, with the same words
    docs = tmp_path / "docs"
    write(docs / "good.txt", "Hello.\n")
    (docs / "loop.txt").symlink_to(docs / "loop.txt")
    result = run(docs, "--to", "ko", "-o", tmp_path / "out")
    assert result.exit_code == 1
    one_error(result, "loop.txt", "symbolic link loop")
    assert files(tmp_path / "out") == {"good.ko.txt"}


def test_dangling_symlink_is_named_as_such(tmp_path, model):
    (tmp_path / "a.txt").symlink_to(tmp_path / "gone.txt")
    result = run(tmp_path / "a.txt", "--to", "ko")
    assert result.exit_code == 2
    one_error(result, "a.txt", "broken symbolic link")


def test_folder_with_no_supported_file_says_so(tmp_path, model):
    docs = tmp_path / "docs"
    write(docs / "guide.rst", "Hello.\n")
    write(docs / "deep" / "paper.pdf", "%PDF-1.4\n")
    result = run(docs, "--to", "ko", "-o", tmp_path / "out")
    assert result.exit_code == 1
    one_error(result, "nothing to translate", str(docs), ".pdf", ".rst", ".txt")
    assert not (tmp_path / "out").exists() and model == []


# --- SIGTERM ------------------------------------------------------------------------------------------------


def test_sigterm_keeps_finished_files_and_exits_143(tmp_path):
    docs, out = tmp_path / "docs", tmp_path / "out"
    for i in range(8):
        write(docs / f"f{i}.txt", f"Sentence number {i} is here.\n")
    script = textwrap.dedent(f"""
        import sys, time
        import gugugo_cli.engines.loading as loading

        class Slow:
            def translate_batch(self, texts, src, tgt):
                return list(texts)

            def translate_stream(self, texts, src, tgt):
                for i, t in enumerate(texts):
                    time.sleep(0.4)
                    yield i, t

        loading.load = lambda resolved: Slow()
        from gugugo_cli.cli import main
        sys.argv = ["gugugo-translate", {str(docs)!r}, "--to", "ko", "-o", {str(out)!r}, "--no-cache",
                    "--model", {str(ECHO_MODEL)!r}, "--device", "cpu"]
        main()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    while not (out.exists() and len([f for f in files(out) if not f.endswith(".part")]) >= 2) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.terminate()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "terminated" in lines[0] and "Traceback" not in stderr, stderr
    written = files(out)
    assert 2 <= len(written) < 8
    assert not any(name.endswith(".part") for name in os.listdir(out))
    for name in written:  # every file there is whole
        i = name.split(".")[0]
        assert (out / name).read_text(encoding="utf-8") == (docs / f"{i}.txt").read_text(encoding="utf-8")


# --- symlinks and special files as outputs ----------------------------------------------------------------


def test_output_and_report_through_a_symlink_keep_the_link(tmp_path, model):
    src = write(tmp_path / "a.txt", "Hello.\n")
    real_out, real_report = write(tmp_path / "real.txt", "old\n"), write(tmp_path / "real.jsonl", "old\n")
    (tmp_path / "link.txt").symlink_to(real_out)
    (tmp_path / "report.jsonl").symlink_to(real_report)
    result = run(src, "--to", "ko", "-o", tmp_path / "link.txt", "--overwrite", "--report", tmp_path / "report.jsonl")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "link.txt").is_symlink() and (tmp_path / "report.jsonl").is_symlink()
    assert real_out.read_text(encoding="utf-8") == "«Hello.»\n"
    assert real_report.read_text(encoding="utf-8") == ""  # no suspect segment
    assert files(tmp_path) == {"a.txt", "real.txt", "real.jsonl", "link.txt", "report.jsonl"}


def _read_fifo(path: Path, got: list):
    import threading

    def read():
        with open(path, "rb") as f:
            got.append(f.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _join(thread, fifo: Path):
    thread.join(10)
    if thread.is_alive():  # nothing opened the pipe for writing: let the reader go
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(10)


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_output_to_a_fifo_is_written_into_not_replaced(tmp_path, model, overwrite):
    src = write(tmp_path / "a.txt", "Hello.\n")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    thread = _read_fifo(fifo, got)
    result = run(src, "--to", "ko", "-o", fifo, *overwrite)
    _join(thread, fifo)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got == ["«Hello.»\n".encode("utf-8")]


def test_report_to_a_fifo_is_written_into(tmp_path, model):
    src = write(tmp_path / "a.txt", "Hello.\n")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    thread = _read_fifo(fifo, got)
    result = run(src, "--to", "ko", "--report", fifo)
    _join(thread, fifo)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and got == [b""]
    assert (tmp_path / "a.ko.txt").read_text(encoding="utf-8") == "«Hello.»\n"


# --- an output, a failed-rows list or a report never lands on an input ---------------------------------------


@pytest.mark.parametrize("rows", ['{"t": "Hello."}\n', '{"t": "Hello."}\n{"t": 3}\n'])
def test_the_failed_rows_list_of_an_output_cannot_be_an_input(tmp_path, model, rows):
    src = write(tmp_path / "x.failed.jsonl", rows)
    result = run(src, "--to", "ko", "--field", "t", "-o", tmp_path / "x.jsonl")
    assert result.exit_code == 2
    one_error(result, "x.failed.jsonl")
    assert src.read_text(encoding="utf-8") == rows
    assert files(tmp_path) == {"x.failed.jsonl"}


@pytest.mark.parametrize("report, existing", [("a.txt", True), ("a.ko.txt", False), ("a.ko.txt", True)])
def test_a_report_over_an_input_or_an_output_is_refused_before_work(tmp_path, model, report, existing):
    src = write(tmp_path / "a.txt", "Hello.\n")
    if existing and report != "a.txt":
        write(tmp_path / report, "kept\n")
    before = {name: (tmp_path / name).read_bytes() for name in files(tmp_path)}
    result = run(src, "--to", "ko", "--overwrite", "--report", tmp_path / report)
    assert result.exit_code == 2
    one_error(result, report, "--report")
    assert {name: (tmp_path / name).read_bytes() for name in files(tmp_path)} == before


@pytest.mark.parametrize("report", ["d.jsonl", "d.ko.jsonl", "d.ko.failed.jsonl"])
def test_a_dataset_report_over_an_input_or_an_output_is_refused_before_work(tmp_path, model, report):
    src = write(tmp_path / "d.jsonl", '{"t": "Hello."}\n{"t": 3}\n')
    result = run(src, "--to", "ko", "--field", "t", "--report", tmp_path / report)
    assert result.exit_code == 2
    one_error(result, report, "--report")
    assert files(tmp_path) == {"d.jsonl"} and src.read_text(encoding="utf-8") == '{"t": "Hello."}\n{"t": 3}\n'


def test_datasets_with_one_name_from_two_folders_get_their_own_outputs(tmp_path, model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "ca" / "d.jsonl", '{"t": "From a."}\n{"t": 1}\n')
    write(tmp_path / "cb" / "d.jsonl", '{"t": "From b."}\n{"t": 2}\n')
    result = run("ca/d.jsonl", "cb/d.jsonl", "--to", "ko", "--field", "t", "-o", "out/")
    assert result.exit_code == 1, result.stderr  # a row of each failed
    assert files(tmp_path / "out") == {"ca/d.ko.jsonl", "cb/d.ko.jsonl", "ca/d.ko.failed.jsonl",
                                       "cb/d.ko.failed.jsonl"}
    assert (tmp_path / "out" / "ca" / "d.ko.jsonl").read_text(encoding="utf-8") == '{"t": "«From a.»"}\n{"t": 1}\n'
    assert (tmp_path / "out" / "cb" / "d.ko.jsonl").read_text(encoding="utf-8") == '{"t": "«From b.»"}\n{"t": 2}\n'


@pytest.mark.parametrize("names, args", [(["d.jsonl", "d.ko.jsonl"], ["--field", "t"]), (["a.txt", "a.ko.txt"], [])])
def test_overwrite_never_replaces_another_input_of_the_run(tmp_path, model, names, args):
    for name in names:
        write(tmp_path / name, '{"t": "Hello."}\n' if name.endswith(".jsonl") else "Hello.\n")
    before = {name: (tmp_path / name).read_bytes() for name in names}
    result = run(*(tmp_path / n for n in names), "--to", "ko", "--overwrite", *args)
    assert result.exit_code == 2
    one_error(result, names[1], "input")
    assert {name: (tmp_path / name).read_bytes() for name in files(tmp_path)} == before


# --- --report for datasets, and for any file name ------------------------------------------------------------


def test_report_lists_the_failed_rows_of_datasets(tmp_path, model):
    import json

    a = write(tmp_path / "a.jsonl", '{"t": "Hello."}\n{"t": 3}\n')
    b = write(tmp_path / "b.csv", "t\nFine.\n")
    report = tmp_path / "report.jsonl"
    result = run(a, b, "--to", "ko", "--field", "t", "-o", tmp_path / "out/", "--report", report)
    assert result.exit_code == 1, result.stderr  # a row failed
    rows = [json.loads(l) for l in report.read_text(encoding="utf-8").splitlines()]
    assert rows == [{"file": str(a), "row": 1, "line": 2, "reason": "t is a number, not a string"}]


def test_report_names_a_file_whose_name_is_not_utf8(tmp_path, monkeypatch):
    import json

    import gugugo_cli.engines.loading as loading
    from conftest import IdentityTranslator

    monkeypatch.setattr(loading, "load", lambda resolved: IdentityTranslator())
    name = os.fsdecode(b"caf\xe9.txt")
    src = write(tmp_path / name, "The price went up.\n")
    report = tmp_path / "report.jsonl"
    result = run(src, "--to", "ko", "--report", report)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(l) for l in report.read_bytes().decode("utf-8").splitlines()]
    assert rows and os.fsencode(rows[0]["file"]) == os.fsencode(str(src))


def test_report_through_a_link_to_the_process_stdout_goes_to_the_pipe(tmp_path):
    """What /dev/stdout is (a link to /proc/self/fd/1), made in the test's folder: the pipe gets the report."""
    src = write(tmp_path / "a.txt", "The price went up.\n")
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    script = textwrap.dedent(f"""
        import sys
        import gugugo_cli.engines.loading as loading
        from conftest import IdentityTranslator

        loading.load = lambda resolved: IdentityTranslator()
        from gugugo_cli.cli import main
        sys.argv = ["gugugo-translate", {str(src)!r}, "--to", "ko", "--report", {str(link)!r}, "--no-cache",
                    "--model", {str(ECHO_MODEL)!r}, "--device", "cpu"]
        main()
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent)] + sys.path))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"
    assert '"file": ' in proc.stdout and "The price went up." in proc.stdout


def test_dataset_output_through_a_symlink_keeps_the_link_and_a_pipe_is_refused(tmp_path, model):
    src = write(tmp_path / "d.jsonl", '{"t": "Hello."}\n')
    real = write(tmp_path / "real.jsonl", "old\n")
    (tmp_path / "link.jsonl").symlink_to(real)
    result = run(src, "--to", "ko", "--field", "t", "-o", tmp_path / "link.jsonl", "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "link.jsonl").is_symlink()
    assert real.read_text(encoding="utf-8") == '{"t": "«Hello.»"}\n'
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    refused = run(src, "--to", "ko", "--field", "t", "-o", fifo)
    assert refused.exit_code == 2
    one_error(refused, str(fifo), "not a device or a pipe")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
