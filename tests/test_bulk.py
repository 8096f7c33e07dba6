import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import UNLOADABLE_MODEL, MarkTranslator
from gugugo_cli import job
from gugugo_cli.job.cache import SegmentCache
from gugugo_cli.cli import cli
from gugugo_cli.formats import FormatOptions


class Streaming(MarkTranslator):
    """Marks segments and gives them one by one, as an engine streams finished rows; can be told to raise
    KeyboardInterrupt after n results."""

    cache_key = "counting-v1"

    def __init__(self, interrupt_after=None):
        super().__init__()
        self.interrupt_after = interrupt_after
        self.given = 0

    def translate_stream(self, texts, src, tgt):
        self.calls.append((list(texts), src, tgt))
        for i, t in enumerate(texts):
            if self.given == self.interrupt_after:
                raise KeyboardInterrupt
            self.given += 1
            yield i, f"«{t}»"


class Counting(MarkTranslator):
    """Marks segments, all of a call at once (a translator without streaming)."""

    cache_key = "counting-v1"


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "docs"
    (root / "a" / "b").mkdir(parents=True)
    (root / "top.txt").write_text("The first file. It has two sentences.\n", encoding="utf-8")
    (root / "a" / "one.txt").write_text("A file in a folder.\n\nA second paragraph.\n", encoding="utf-8")
    (root / "a" / "b" / "deep.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nDeep down.\n\n", encoding="utf-8")
    (root / "a" / "b" / "same.txt").write_text("A file in a folder.\n", encoding="utf-8")  # duplicate segment
    (root / "a" / "one.ko.txt").write_text("이미 번역된 파일\n", encoding="utf-8")  # an earlier run's output
    (root / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # unsupported
    (root / "a" / "broken.txt").write_bytes(b"\x00\x01\x02binary\x00" * 20)  # binary named .txt
    (root / "empty.txt").write_bytes(b"")
    return root


def run_tree(inputs, translator, cache_path, tgt="ko", output=None, overwrite=False):
    summary = job.Summary()
    tasks = job.find_inputs([str(i) for i in inputs], tgt, output, overwrite, summary=summary)
    tasks = job.plan_tasks(tasks, FormatOptions(tgt=tgt), "auto", summary)
    cache = SegmentCache(cache_path)
    try:
        job.run(tasks, tgt, lambda: translator, translator.cache_key, cache, summary)
    finally:
        cache.close()
    return summary


def outputs(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_tree_mirrored_into_output_folder(tree, tmp_path):
    translator = Counting()
    out = tmp_path / "docs-ko"
    summary = run_tree([tree], translator, tmp_path / "c.sqlite", output=out)
    # a/one.ko.txt is an earlier output (a/one.txt is beside it): not an input, even with -o
    assert outputs(out) == {"top.ko.txt", "a/one.ko.txt", "a/b/deep.ko.srt", "a/b/same.ko.txt", "empty.ko.txt"}
    assert (out / "a" / "b" / "same.ko.txt").read_text(encoding="utf-8") == "«A file in a folder.»\n"
    assert [p for p, _ in summary.failed] == [str(tree / "a" / "broken.txt")]
    assert str(tree / "picture.png") in [p for p, _ in summary.skipped]
    # all files' segments went to the model pooled, each distinct one once
    assert len(translator.calls) == 1
    assert sorted(translator.segments) == sorted(set(translator.segments))
    assert "A file in a folder." in translator.segments


def test_tree_beside_inputs_skips_earlier_outputs(tree, tmp_path):
    summary = run_tree([tree], Counting(), tmp_path / "c.sqlite")
    assert (tree / "a" / "b" / "deep.ko.srt").exists()
    assert not (tree / "a" / "one.ko.ko.txt").exists()  # one.ko.txt was an output, not an input
    again = run_tree([tree], Counting(), tmp_path / "c.sqlite")
    assert again.translated == [] and len(again.skipped) > len(summary.skipped)


def test_cli_on_a_tree_exit_code_and_one_error_line(tree, tmp_path):
    out = tmp_path / "docs-ko"
    result = CliRunner().invoke(cli, [str(tree), "--to", "ko", "-o", str(out), "--cache", str(tmp_path / "c.db"),
                                      "--model", str(Path(__file__).parent / "models" / "echo")])
    assert result.exit_code == 1
    errors = [l for l in result.stderr.splitlines() if ": error: " in l]
    assert len(errors) == 1 and "broken.txt" in errors[0] and "binary" in errors[0]
    assert (out / "a" / "b" / "deep.ko.srt").exists() and (out / "top.ko.txt").exists()
    assert not (out / "a" / "broken.ko.txt").exists()


def test_second_run_translates_nothing_and_edits_only_their_segments(tree, tmp_path):
    cache = tmp_path / "c.sqlite"
    run_tree([tree], Counting(), cache, output=tmp_path / "o1")
    second = Counting()
    summary = run_tree([tree], second, cache, output=tmp_path / "o2")
    assert second.calls == []
    assert summary.cache_hits == summary.unique > 0
    assert (tmp_path / "o2" / "top.ko.txt").read_text(encoding="utf-8") == \
        (tmp_path / "o1" / "top.ko.txt").read_text(encoding="utf-8")
    (tree / "top.txt").write_text("The first file. It has a new sentence now.\n", encoding="utf-8")
    third = Counting()
    run_tree([tree], third, cache, output=tmp_path / "o3")
    assert third.segments == ["It has a new sentence now."]


def test_interrupted_run_leaves_no_partial_files_and_resumes(tmp_path):
    root = tmp_path / "many"
    root.mkdir()
    for i in range(6):
        (root / f"f{i}.txt").write_text(f"Sentence number {i} is here. Another one for file {i}.\n", encoding="utf-8")
    cache = tmp_path / "c.sqlite"
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_tree([root], Streaming(interrupt_after=7), cache, output=out)
    written = outputs(out) if out.exists() else set()
    assert len(written) == 3  # the files whose segments were all done were written as they were done
    assert not any(name.endswith(".part") or name.startswith(".") for name in written)
    for name in written:
        assert (out / name).read_text(encoding="utf-8").count("«") == 2
    resumed = Counting()
    run_tree([root], resumed, cache, output=out, overwrite=True)
    assert len(resumed.segments) == 12 - 7  # every result that arrived before the interruption was cached
    assert len(outputs(out)) == 6


def test_cli_interrupt_exits_130(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    path.write_text("Hello there.\n", encoding="utf-8")
    import gugugo_cli.engines.loading as loading

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(loading, "load", interrupted)
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--no-cache"])
    assert result.exit_code == 130
    assert not (tmp_path / "a.ko.txt").exists()


def test_corrupt_cache_is_reported_and_ignored(tmp_path, caplog):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    path = tmp_path / "a.txt"
    path.write_text("Hello there.\n", encoding="utf-8")
    summary = run_tree([path], Counting(), bad)
    assert summary.translated == [str(path)]
    assert "cache" in caplog.text


def test_missing_input_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, [str(tmp_path / "nope.txt"), "--to", "ko"])
    assert result.exit_code == 2
    assert "nope.txt" in result.stderr and "no such file" in result.stderr


def test_dry_run_reports_and_imports_no_torch(tree, tmp_path):
    code = (
        "import sys\n"
        "from gugugo_cli.cli import main\n"
        f"sys.argv = ['gugugo-translate', {str(tree)!r}, '--to', 'ko', '--dry-run', '--cache', {str(tmp_path / 'c.db')!r},"
        f" '--model', {str(UNLOADABLE_MODEL)!r}, '-o', {str(tmp_path / 'out')!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "print('HEAVY', [m for m in ('torch', 'transformers') if m in sys.modules], 'EXIT', code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY [] EXIT 1" in proc.stdout, proc.stdout + proc.stderr  # 1: the binary .txt fails
    assert "files to translate: 5" in proc.stdout
    assert "segments for the model:" in proc.stdout
    assert not (tmp_path / "out").exists()
