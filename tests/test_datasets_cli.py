"""Datasets through the command line, with the echo model (it answers with its source text)."""

import json
import subprocess
import sys

from click.testing import CliRunner

from conftest import ECHO_MODEL
from gugugo_cli.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_dataset_through_the_cli_with_the_echo_model(tmp_path):
    src = tmp_path / "data.jsonl"
    rows = [{"instruction": "Write a poem about the sea.", "output": "The sea is wide. It is blue.", "id": 7},
            {"instruction": "Name a color.", "output": 3, "id": 8},
            {"messages": [{"role": "user", "content": "Hello there."}], "id": 9}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    common = ["--to", "ko", "--model", ECHO_MODEL, "--device", "cpu"]

    listing = run(src, *common)
    assert listing.exit_code == 2
    assert "instruction" in listing.stdout and "messages[*].content" in listing.stdout
    assert "--field" in listing.stderr
    assert not (tmp_path / "data.ko.jsonl").exists()

    result = run(src, *common, "--field", "instruction", "--field", "output", "--field", "messages[*].content",
                 "--keep-source")
    assert result.exit_code == 1, result.stderr  # a row failed; the output and the failed rows are written
    out = [json.loads(l) for l in (tmp_path / "data.ko.jsonl").read_text(encoding="utf-8").splitlines()]
    # the echo model gives each segment back, so every FIELD_ko equals its source
    assert out == [
        {"instruction": rows[0]["instruction"], "instruction_ko": rows[0]["instruction"],
         "output": rows[0]["output"], "output_ko": rows[0]["output"], "id": 7},
        rows[1],
        {"messages": [{"role": "user", "content": "Hello there.", "content_ko": "Hello there."}], "id": 9},
    ]
    assert "1 row failed" in result.stderr and "data.ko.failed.jsonl" in result.stderr
    failed = json.loads((tmp_path / "data.ko.failed.jsonl").read_text(encoding="utf-8"))
    assert failed["row"] == 1 and "not a string" in failed["reason"]

    again = run(src, *common, "--field", "instruction", "--dry-run")
    assert again.exit_code == 0, again.stderr
    # the failed row's instruction never reached the model; the other one is cached
    assert "cache hits: 1" in again.stdout and "segments for the model: 1" in again.stdout


def test_folder_runs_leave_datasets_out_and_field_needs_dataset_files(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "data.jsonl").write_text('{"q": "Hi."}\n', encoding="utf-8")
    (tmp_path / "docs" / "note.txt").write_text("Hello.\n", encoding="utf-8")
    result = run(tmp_path / "docs", "--to", "ko", "--model", ECHO_MODEL, "--device", "cpu")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "docs" / "note.ko.txt").exists()
    assert not (tmp_path / "docs" / "data.ko.jsonl").exists()
    refused = run(tmp_path / "docs", "--to", "ko", "--field", "q")
    assert refused.exit_code == 2 and "dataset files" in refused.stderr


def test_help_and_dry_run_import_no_pyarrow(tmp_path):
    src = tmp_path / "data.jsonl"
    src.write_text('{"q": "Hello."}\n', encoding="utf-8")
    code = (
        "import sys\n"
        "from gugugo_cli.cli import main\n"
        f"sys.argv = ['gugugo-translate', {str(src)!r}, '--to', 'ko', '--field', 'q', '--dry-run', '--no-cache']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', [m for m in ('torch', 'transformers', 'pyarrow') if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr
    assert "rows: 1" in proc.stdout


def test_a_field_the_file_cannot_give_is_a_usage_error(tmp_path):
    src = tmp_path / "data.csv"
    src.write_text("en,score\nGood morning.,0.9\n", encoding="utf-8")
    missing = run(src, "--to", "ko", "--field", "ko", "--dry-run", "--no-cache")
    assert missing.exit_code == 2 and f"{src}: no column 'ko' (columns: en, score)" in missing.stderr
    jsonl = tmp_path / "data.jsonl"
    jsonl.write_text('{"tags": ["one tag"]}\n', encoding="utf-8")
    index = run(jsonl, "--to", "ko", "--field", "tags[*]", "--keep-source", "--dry-run", "--no-cache")
    assert index.exit_code == 2 and "--keep-source needs a path that ends in a key" in index.stderr
    malformed = run(jsonl, "--to", "ko", "--field", "a..b", "--dry-run", "--no-cache")
    assert malformed.exit_code == 2 and "--field 'a..b': empty key" in malformed.stderr
    assert "Traceback" not in missing.stderr + index.stderr + malformed.stderr


def test_an_output_ending_in_a_slash_is_a_folder_for_a_dataset_as_for_a_document(tmp_path):
    (tmp_path / "data.jsonl").write_text('{"t": "Hello there."}\n', encoding="utf-8")
    (tmp_path / "notes.txt").write_text("Hello there.\n", encoding="utf-8")
    common = ["--to", "ko", "--model", ECHO_MODEL, "--device", "cpu"]
    for name, extra, folder in (("data.jsonl", ["--field", "t"], "out"), ("notes.txt", [], "out2")):
        result = run(tmp_path / name, *common, *extra, "-o", f"{tmp_path / folder}/")
        assert result.exit_code == 0, result.stderr
        assert (tmp_path / folder).is_dir()  # created, never a file named after the folder
        written = list((tmp_path / folder).iterdir())
        assert [p.name for p in written] == [name.replace(".", ".ko.")]
        assert "Hello there." in written[0].read_text(encoding="utf-8")


def test_the_api_writes_a_dataset_into_a_folder_named_with_a_slash(tmp_path):
    from conftest import IdentityTranslator
    from gugugo_cli import translate_dataset

    (tmp_path / "data.jsonl").write_text('{"t": "Hello there."}\n', encoding="utf-8")
    summary = translate_dataset(tmp_path / "data.jsonl", ["t"], "ko", IdentityTranslator(), output=f"{tmp_path}/out/")
    assert summary.dest == tmp_path / "out" / "data.ko.jsonl" and summary.dest.read_text(encoding="utf-8")
    summary = translate_dataset(tmp_path / "data.jsonl", ["t"], "ko", IdentityTranslator(), output=tmp_path / "out")
    assert summary.dest == tmp_path / "out" / "data.ko.jsonl"  # an existing folder too
