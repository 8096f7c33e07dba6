import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import ECHO_MODEL, UNLOADABLE_MODEL, read_lines
from gugugo_cli.cli import cli

EN = read_lines("echo_sentences.en")
KO = read_lines("echo_sentences.ko")


def run(*args, input=None, env=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env)
    return result


def echo_args(*args):
    return [*args, "--model", ECHO_MODEL, "--device", "cpu"]


@pytest.fixture
def notes(tmp_path):
    path = tmp_path / "notes.txt"
    text = f"{EN[0]} {EN[1]}\n\n  {EN[2]}\r\n{KO[0]}\n"
    path.write_text(text, encoding="utf-8", newline="")
    return path, text


def test_file_is_translated_beside_the_input(notes):
    path, text = notes
    result = run(*echo_args(path, "--to", "ko"))
    assert result.exit_code == 0, result.stderr
    out = path.with_name("notes.ko.txt")
    # the echo model answers with its source, so the whole layout must come back exactly
    assert out.read_bytes() == text.encode("utf-8")
    assert path.read_bytes().decode("utf-8") == text
    assert result.stdout == ""
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".part")]


def test_stdin_to_stdout_carries_only_the_translation():
    text = f"{KO[1]}\n{KO[2]}\n"
    result = run(*echo_args("--to", "en"), input=text.encode("utf-8"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == text.encode("utf-8")


def test_dash_reads_stdin_and_output_option_writes_a_file(tmp_path):
    text = f"{EN[3]}\n"
    dest = tmp_path / "out.txt"
    result = run(*echo_args("-", "--to", "ko", "-o", dest), input=text.encode())
    assert result.exit_code == 0, result.stderr
    assert dest.read_text(encoding="utf-8") == text
    assert result.stdout == ""


def test_output_into_a_folder(notes, tmp_path):
    path, text = notes
    folder = tmp_path / "translated"
    folder.mkdir()
    assert run(*echo_args(path, "--to", "ko", "-o", folder)).exit_code == 0
    assert (folder / "notes.ko.txt").read_bytes().decode("utf-8") == text


def test_existing_output_is_skipped_unless_overwrite(notes):
    path, _ = notes
    out = path.with_name("notes.ko.txt")
    out.write_text("keep me", encoding="utf-8")
    result = run(*echo_args(path, "--to", "ko"))
    assert result.exit_code == 0
    assert "skipped" in result.stderr and "exists" in result.stderr and str(out) in result.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    assert run(*echo_args(path, "--to", "ko", "--overwrite")).exit_code == 0
    assert out.read_text(encoding="utf-8") != "keep me"


def test_never_writes_over_the_input_even_with_overwrite(notes):
    path, text = notes
    result = run(*echo_args(path, "--to", "ko", "-o", path, "--overwrite"))
    assert result.exit_code == 1
    assert "refusing to write over the input" in result.stderr
    assert path.read_bytes().decode("utf-8") == text


def test_paragraphs_in_korean_go_to_english(tmp_path):
    path = tmp_path / "ko.txt"
    path.write_text(f"{KO[3]} {KO[4]}\n\n{EN[4]}\n", encoding="utf-8")
    assert run(*echo_args(path, "--to", "en")).exit_code == 0
    assert (tmp_path / "ko.en.txt").read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_cp949_input_is_decoded_and_written_as_utf8(tmp_path):
    path = tmp_path / "legacy.txt"
    path.write_bytes(f"{KO[5]}\r\n".encode("cp949"))
    result = run(*echo_args(path, "--to", "en"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "legacy.en.txt").read_bytes() == f"{KO[5]}\r\n".encode("utf-8")


def one_error_line(result, *fragments):
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gugugo-translate: error: ")
    for f in fragments:
        assert str(f) in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_input_file(tmp_path):
    missing = tmp_path / "nope.txt"
    result = run(missing, "--to", "ko", "--model", UNLOADABLE_MODEL)
    assert result.exit_code == 2
    one_error_line(result, missing, "no such file")


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    result = run(path, "--to", "ko", "--model", UNLOADABLE_MODEL)
    assert result.exit_code == 1
    one_error_line(result, path, "binary")
    assert not (tmp_path / "image.ko.txt").exists()


def test_undecodable_text_is_refused(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\xef\xbb\xbfvalid bom then \xff\xfe broken")
    result = run(path, "--to", "ko", "--model", UNLOADABLE_MODEL)
    assert result.exit_code == 1
    one_error_line(result, path, "utf-8")


def test_empty_input_is_nothing_to_translate_without_loading_a_model(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    result = run(path, "--to", "ko", "--model", UNLOADABLE_MODEL)
    assert result.exit_code == 0, result.stderr
    assert "nothing to translate" in result.stderr and not (tmp_path / "empty.ko.txt").exists()


def test_unknown_target_language(notes):
    path, _ = notes
    result = run(path, "--to", "fr")
    assert result.exit_code == 2
    one_error_line(result, "--to", "fr")


def test_hub_model_without_network_says_how_to_use_a_folder(notes):
    # a subprocess: huggingface_hub reads HF_HUB_OFFLINE when it is first imported
    path, _ = notes
    proc = subprocess.run(
        [sys.executable, "-m", "gugugo_cli", str(path), "--to", "ko", "--model", "squarelike/Gugugo-koen-1.3B-V1.0"],
        capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300,
    )
    assert proc.returncode == 1
    one_error_line(proc, "squarelike/Gugugo-koen-1.3B-V1.0", "cannot be downloaded", "--model")
    assert not path.with_name("notes.ko.txt").exists()


def test_folder_that_is_not_a_model(notes, tmp_path):
    path, _ = notes
    folder = tmp_path / "empty-folder"
    folder.mkdir()
    result = run(path, "--to", "ko", "--model", folder)
    assert result.exit_code == 2
    one_error_line(result, folder, "not a model folder")


def test_damaged_model_weights_are_one_line_naming_the_folder(notes, tmp_path):
    path, _ = notes
    folder = tmp_path / "damaged-model"
    shutil.copytree(ECHO_MODEL, folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    result = run(path, "--to", "ko", "--model", folder, "--device", "cpu")
    assert result.exit_code == 1
    one_error_line(result, folder, "cannot be loaded")
    assert not path.with_name("notes.ko.txt").exists()


def test_model_from_environment_variable(notes):
    path, text = notes
    result = run(path, "--to", "ko", "--device", "cpu", env={"GUGUGO_MODEL": str(ECHO_MODEL)})
    assert result.exit_code == 0, result.stderr
    assert path.with_name("notes.ko.txt").read_bytes().decode("utf-8") == text


def test_subprocess_run_as_module_and_console_script(tmp_path):
    path = tmp_path / "a.txt"
    text = f"{EN[5]}\n{EN[6]}\n"
    path.write_text(text, encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "gugugo_cli", str(path), "--to", "ko", "--model", str(ECHO_MODEL), "-q"],
        capture_output=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert (tmp_path / "a.ko.txt").read_text(encoding="utf-8") == text
    proc = subprocess.run(
        [sys.executable, "-m", "gugugo_cli", "--to", "ko", "--model", str(ECHO_MODEL)],
        input=text.encode(), capture_output=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == text.encode()


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys\n"
        "from gugugo_cli.cli import main\n"
        "sys.argv = ['gugugo-translate', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'transformers', 'kss', 'kiwipiepy', 'pysbd') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "--to" in proc.stdout
    assert "HEAVY []" in proc.stdout, proc.stdout


def test_random_model_folder_through_the_cli(tiny_model_dir, tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text("  First sentence here. Second one!\n\n\tAnother paragraph.\n", encoding="utf-8")
    result = run(path, "--to", "ko", "--model", tiny_model_dir, "--device", "cpu", "--max-new-tokens", "8")
    assert result.exit_code == 0, result.stderr
    out = (tmp_path / "doc.ko.txt").read_text(encoding="utf-8")
    # random weights say nothing useful, but the layout around the three sentences is kept
    assert out.startswith("  ") and "\n\n\t" in out and out.endswith("\n")
    assert out != path.read_text(encoding="utf-8")
    # random rows never write the end marker: one summary line for all of them, naming a source sentence
    limit_lines = [l for l in result.stderr.splitlines() if "limit" in l]
    assert len(limit_lines) == 1 and limit_lines[0].startswith("gugugo-translate: warning: 3 translations")
    assert "sentence here." in limit_lines[0] or "Another paragraph." in limit_lines[0] or "Second one!" in limit_lines[0]
    assert "###" not in limit_lines[0]  # the source, not the prompt template


class CappingTranslator:
    """Gives every text back; a text with LOOP in it is reported as stopped at its new-token limit."""

    def translate_stream(self, texts, src, tgt):
        from gugugo_cli.engines.base import Translation

        for i, t in enumerate(texts):
            yield Translation(i, f"«{t}»", capped="LOOP" in t)


@pytest.mark.parametrize("name, content, args", [
    ("notes.txt", "A fine line.\nIt goes LOOP again.\n", []),
    ("rows.jsonl", '{"text": "A fine line."}\n{"text": "It goes LOOP again."}\n', ["--field", "text"]),
])
def test_translations_stopped_at_the_token_limit_are_one_warning(tmp_path, monkeypatch, name, content, args):
    import gugugo_cli.engines.loading as loading

    monkeypatch.setattr(loading, "load", lambda resolved: CappingTranslator())
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(ECHO_MODEL), "--device", "cpu",
                                      "--no-cache", *args])
    warnings = [line for line in result.stderr.splitlines() if "new-token limit" in line]
    assert warnings == ["gugugo-translate: warning: 1 translation reached the new-token limit and may be cut or "
                        "repetitive (e.g. 'It goes LOOP again.')"], result.stderr


@pytest.fixture
def marking(monkeypatch):
    """--model resolves to the echo folder; loading it gives a translator that wraps each segment in «»."""
    import gugugo_cli.engines.loading as loading
    from conftest import MarkTranslator

    monkeypatch.setattr(loading, "load", lambda resolved: MarkTranslator())


def _mode(path):
    return os.stat(path).st_mode & 0o777


def test_the_segment_cache_is_private(tmp_path, marking):
    (tmp_path / "a.txt").write_text("Hello.\n", encoding="utf-8")
    cache = tmp_path / "new" / "cache" / "segments.sqlite3"
    old = os.umask(0o022)
    try:
        result = run(*echo_args(tmp_path / "a.txt", "--to", "ko", "--cache", cache))
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.stderr
    assert _mode(cache) == 0o600 and _mode(cache.parent) == 0o700
    for name in os.listdir(cache.parent):  # the WAL and shared-memory files, while they last
        assert _mode(cache.parent / name) == 0o600, name
    # a cache an earlier version left readable by all is made private when next used
    os.chmod(cache, 0o644)
    assert run(*echo_args(tmp_path / "a.txt", "--to", "ko", "--cache", cache, "--overwrite")).exit_code == 0
    assert _mode(cache) == 0o600


def test_cache_clear_deletes_the_cache_and_nothing_else(tmp_path, marking):
    (tmp_path / "a.txt").write_text("Hello.\n", encoding="utf-8")
    cache = tmp_path / "c" / "segments.sqlite3"
    assert run(*echo_args(tmp_path / "a.txt", "--to", "ko", "--cache", cache)).exit_code == 0
    assert cache.exists()
    result = run("--cache-clear", "--cache", cache)
    assert result.exit_code == 0, result.stderr
    assert not cache.exists() and os.listdir(cache.parent) == []
    assert str(cache) in result.stderr
    again = run("--cache-clear", env={"GUGUGO_CACHE": str(cache)})
    assert again.exit_code == 0 and "no segment cache" in again.stderr
    # a file that is not a cache is never deleted; inputs with --cache-clear are a usage error
    notes = tmp_path / "a.txt"
    refused = run("--cache-clear", "--cache", notes)
    assert refused.exit_code == 2 and notes.exists() and "not a segment cache" in refused.stderr
    assert run("--cache-clear", notes).exit_code == 2
    assert "Missing option '--to'" in run(notes).stderr
