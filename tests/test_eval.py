"""gugugo-eval: scores of the echo model on sentences it reproduces, paired comparisons, refused inputs."""

import importlib.util
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import ECHO_MODEL, read_lines
from gugugo_cli.evaluate.command import cli

EN = read_lines("echo_sentences.en")[:6]
KO = read_lines("echo_sentences.ko")[:6]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def one_error_line(result, *fragments):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gugugo-eval: error: ")
    for fragment in fragments:
        assert str(fragment) in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def echo_eval(*args):
    """The echo model copies its source, so references equal to the sources are what it should score 100 on
    (they are in the source language, hence --no-language-check)."""
    result = run(*args, "--to", "ko", "--model", ECHO_MODEL, "--device", "cpu", "--dtype", "float32",
                 "--no-language-check", "--bootstrap", "200", "--json", "-", "-q")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_echo_model_scores_100_and_identical_configurations_are_not_significantly_different(tmp_path):
    src = write(tmp_path / "test.en", EN[:4])
    doc = echo_eval("--src", src, "--ref", src, "--compare", "num_beams=1", "--compare", "num_beams=1",
                    "--save-outputs", tmp_path / "out")
    assert doc["test_set"]["sentences"] == 4
    assert doc["bleu_tokenizer"] in ("ko-mecab", "char")
    first, second = doc["configurations"]
    for config in (first, second):
        assert config["scores"]["chrF++"]["score"] == pytest.approx(100)
        assert config["scores"]["BLEU"]["score"] == pytest.approx(100)
        assert config["scores"]["chrF++"]["ci95"] == pytest.approx([100, 100])
        assert config["sentences_per_second"] > 0 and config["output_tokens"] > 0
        assert config["guards"]["wrong_language"] == 4  # English out for --to ko
        assert config["guards"]["loops"] == config["guards"]["capped"] == 0
        assert open(config["outputs"], encoding="utf-8").read().splitlines() == EN[:4]
    assert first["scores"]["chrF++"]["p_value"] is None
    assert second["scores"]["chrF++"]["p_value"] >= 0.05 and second["scores"]["BLEU"]["p_value"] >= 0.05


def test_shuffled_references_score_low_with_an_interval_around_the_score(tmp_path):
    data = tmp_path / "pairs.jsonl"
    shuffled = EN[1:] + EN[:1]
    data.write_text("".join(json.dumps({"en": s, "ref": r}) + "\n" for s, r in zip(EN, shuffled)),
                    encoding="utf-8")
    doc = echo_eval("--src", data, "--src-field", "en", "--ref-field", "ref")
    scores = doc["configurations"][0]["scores"]
    assert scores["chrF++"]["score"] < 40 and scores["BLEU"]["score"] < 20
    for score in scores.values():
        low, high = score["ci95"]
        assert low <= score["score"] <= high and low < high


def test_table_on_stdout_and_json_file(tmp_path):
    src = write(tmp_path / "test.en", EN[:2])
    out = tmp_path / "result.json"
    result = run("--src", src, "--ref", src, "--to", "ko", "--model", ECHO_MODEL, "--device", "cpu",
                 "--no-language-check", "--bootstrap", "20", "--json", out)
    assert result.exit_code == 0, result.stderr
    assert "chrF++" in result.stdout and "100.0 [100.0, 100.0]" in result.stdout
    assert json.loads(out.read_text(encoding="utf-8"))["configurations"][0]["name"] == "echo"


@pytest.fixture
def files(tmp_path):
    return {"@en": write(tmp_path / "test.en", EN[:3]), "@ko": write(tmp_path / "test.ko", KO[:3]),
            "@ko2": write(tmp_path / "short.ko", KO[:2]), "@empty": write(tmp_path / "empty.ko", []),
            "@jsonl": write(tmp_path / "pairs.jsonl", [json.dumps({"en": s}) for s in EN[:3]]),
            "@badjsonl": write(tmp_path / "bad.jsonl", [json.dumps({"en": EN[0], "ko": KO[0]}), "{oops"]),
            "@missing": tmp_path / "missing.ko"}


@pytest.mark.parametrize("args, fragments", [
    (["--src", "@en", "--ref", "@ko2"], ["@en", "3 lines", "@ko2", "has 2"]),
    (["--src", "@en", "--ref", "@empty"], ["@empty", "empty"]),
    (["--src", "@en", "--ref", "@missing"], ["@missing", "no such file"]),
    (["--src", "@en", "--ref", "@en"], ["@en", "references are English", "--to ko"]),
    (["--src", "@ko", "--ref", "@ko"], ["@ko", "sources are Korean"]),
    (["--src", "@jsonl", "--src-field", "en", "--ref-field", "ko"], ["@jsonl", "row 1", "'ko'"]),
    (["--src", "@badjsonl", "--src-field", "en", "--ref-field", "ko"], ["@badjsonl", "line 2", "not valid JSON"]),
    (["--src", "@en", "--ref", "@ko", "--compare", "beams=5"], ["--compare", "num_beams"]),
    (["--src", "@en", "--ref", "@ko", "--compare", "dtype=float8"], ["--compare", "dtype"]),
])
def test_bad_inputs_are_refused_in_one_line_before_any_model_loads(files, tmp_path, args, fragments):
    args = [files.get(a, a) for a in args]
    result = run(*args, "--to", "ko", "--model", tmp_path / "no-model")
    assert result.exit_code == 2, result.stderr
    one_error_line(result, *[files.get(f, f) for f in fragments])


def test_comet_needs_the_package_and_a_local_model(files, tmp_path):
    result = run("--src", files["@en"], "--ref", files["@ko"], "--to", "ko", "--comet-model", tmp_path / "none")
    assert result.exit_code == 2
    one_error_line(result, "unbabel-comet" if importlib.util.find_spec("comet") is None else tmp_path / "none")


def test_help_does_not_import_heavy_modules():
    code = ("import sys\nfrom gugugo_cli.evaluate.command import main\nsys.argv = ['gugugo-eval', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'transformers', 'kss', 'pysbd', 'sacrebleu') if m in sys.modules]\n"
            "print('HEAVY', heavy)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "--compare" in proc.stdout
    assert "HEAVY []" in proc.stdout, proc.stdout


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv", ".tsv", ".parquet"])
def test_dataset_pairs_are_read_from_two_fields(tmp_path, suffix):
    from gugugo_cli.evaluate.testset import load

    rows = [{"en": s, "ko": r} for s, r in zip(EN[:3], KO[:3])]
    path = tmp_path / f"pairs{suffix}"
    if suffix == ".jsonl":
        write(path, [json.dumps(row, ensure_ascii=False) for row in rows])
    elif suffix == ".json":
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    elif suffix == ".parquet":
        import pyarrow
        import pyarrow.parquet

        pyarrow.parquet.write_table(pyarrow.Table.from_pylist(rows), path)
    else:
        import csv

        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, ["en", "ko"], delimiter="\t" if suffix == ".tsv" else ",")
            writer.writeheader()
            writer.writerows(rows)
    test = load(str(path), None, "en", "ko")
    assert test.sources == EN[:3] and test.references == KO[:3]


def test_dataset_pairs_take_field_paths_as_translation_does(tmp_path):
    from gugugo_cli.evaluate.testset import load

    path = tmp_path / "wmt.jsonl"
    write(path, [json.dumps({"id": i, "translation": {"en": s, "ko": r}}, ensure_ascii=False)
                 for i, (s, r) in enumerate(zip(EN[:3], KO[:3]))] + [""])
    test = load(str(path), None, "translation.en", "translation.ko")
    assert test.sources == EN[:3] and test.references == KO[:3]
