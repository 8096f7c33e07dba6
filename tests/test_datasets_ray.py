"""--ray: a local Ray cluster (2 CPU actors, the echo model) translates a JSONL and a Parquet file; the parts,
read in order, equal the single-process output exactly (bytes for JSONL, table and schema for Parquet)."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from conftest import ECHO_MODEL
from gugugo_cli.cli import cli
from gugugo_cli.errors import UsageError

needs_ray = pytest.mark.skipif(
    __import__("importlib").util.find_spec("ray") is None,
    reason="ray is not installed (pip install '.[ray]')")


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    """A 2-CPU local cluster whose files all go under the test's temp folder (a short path: Ray's sockets live
    there); no token is written to ~/.ray."""
    import ray

    temp = tmp_path_factory.mktemp("ray")
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_TMPDIR")}
    os.environ["RAY_AUTH_MODE"] = "disabled"
    os.environ["RAY_TMPDIR"] = str(temp)
    ray.init(num_cpus=2, object_store_memory=128 * 2**20, _temp_dir=str(temp), include_dashboard=False,
             log_to_driver=False, logging_level="WARNING")
    try:
        yield ray
    finally:
        ray.shutdown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _resolved():
    from gugugo_cli.engines.loading import resolve

    return resolve(model=str(ECHO_MODEL), device="cpu")


def _single(src, fields, dest, keep_source):
    from gugugo_cli.translators import load_resolved
    from gugugo_cli.datasets.run import translate_dataset

    resolved = _resolved()
    return translate_dataset(src, fields, "ko", lambda: load_resolved(resolved), output=dest,
                             keep_source=keep_source, translator_key=resolved.cache_key)


def _ray_run(src, fields, dest, keep_source):
    from gugugo_cli.datasets.ray_run import translate_dataset_ray

    return translate_dataset_ray(src, fields, "ko", _resolved(), output=dest, keep_source=keep_source, actors=2,
                                 batch_rows=40, num_cpus=0.5)


SENTENCES = ["Write a poem about the sea.", "The sea is wide. It is blue.", "Name a color.",
             "Explain `print()` in Python.\n\n- one item\n- two items", "See https://example.com for more.",
             "한국어 문장입니다. 두 번째 문장.", "Line one\u2028still one line.", "A café, naïve and “quoted”."]


def _rows(n):
    rows = []
    for i in range(n):
        row = {"id": i, "instruction": SENTENCES[i % len(SENTENCES)] + f" Task {i}.",
               "output": SENTENCES[(i * 3) % len(SENTENCES)],
               "messages": [{"role": "user", "content": SENTENCES[(i + 1) % len(SENTENCES)]},
                            {"role": "assistant", "content": f"Answer {i % 7}."}]}
        if i % 17 == 5:
            row["output"] = i  # not a string: the row fails and is kept as it was
        if i % 23 == 7:
            row["output"] = None  # nothing to translate there
        rows.append(row)
    return rows


@needs_ray
def test_ray_jsonl_equals_the_single_process_output(local_ray, tmp_path):
    from gugugo_cli.datasets.ray_run import parts

    lines = []
    for i, row in enumerate(_rows(120)):
        compact = i % 2 == 0
        lines.append(json.dumps(row, ensure_ascii=i % 3 == 0, separators=(",", ":") if compact else None)
                     + ("\r\n" if i % 11 == 0 else "\n"))
    lines.insert(30, "\n")
    lines.insert(61, '{"id": "broken", \n')
    src = tmp_path / "data.jsonl"
    src.write_bytes(("".join(lines) + '{"id": -1, "instruction": "Last line without a break."}').encode("utf-8"))
    fields = ["instruction", "output", "messages[*].content"]

    single = _single(src, fields, tmp_path / "single.jsonl", True)
    summary = _ray_run(src, fields, tmp_path / "out", True)

    found = parts(tmp_path / "out")
    assert len(found) > 1  # the file was split into several blocks, written as parts
    assert b"".join(p.read_bytes() for p in found) == (tmp_path / "single.jsonl").read_bytes()
    assert (tmp_path / "out.failed.jsonl").read_text() == (tmp_path / "single.failed.jsonl").read_text()
    assert (summary.rows, summary.rows_failed, summary.rows_changed, summary.segments, summary.rows_missing) == \
        (single.rows, single.rows_failed, single.rows_changed, single.segments, single.rows_missing)
    assert summary.rows_failed == 7 + 1


@needs_ray
def test_ray_parquet_equals_the_single_process_output(local_ray, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gugugo_cli.datasets.ray_run import parts

    rows = [r for r in _rows(120) if not isinstance(r["output"], int)]
    table = pa.Table.from_pylist(rows)
    table = table.append_column("score", pa.array([i / 3 for i in range(len(rows))], pa.float32()))
    hf = json.dumps({"info": {"features": {"instruction": {"dtype": "string", "_type": "Value"}}}})
    table = table.replace_schema_metadata({"huggingface": hf})  # datasets' own description of the columns
    src = tmp_path / "data.parquet"
    pq.write_table(table, src, row_group_size=50)
    fields = ["instruction", "output", "messages[*].content"]

    single = _single(src, fields, tmp_path / "single.parquet", True)
    summary = _ray_run(src, fields, tmp_path / "out", True)

    expected = pq.read_table(tmp_path / "single.parquet")
    got = pa.concat_tables([pq.read_table(p) for p in parts(tmp_path / "out")])
    assert got.schema == expected.schema and expected.schema.metadata[b"huggingface"] == hf.encode()
    assert all(pq.read_schema(p).metadata[b"huggingface"] == hf.encode() for p in parts(tmp_path / "out"))
    assert got.to_pylist() == expected.to_pylist()
    assert "instruction_ko" in got.column_names and got.column("score").type == pa.float32()
    assert (summary.rows, summary.rows_changed, summary.segments) == (single.rows, single.rows_changed,
                                                                      single.segments)


@needs_ray
def test_ray_through_the_command_line(local_ray, tmp_path):
    """In place (no --keep-source), through the CLI: the parts equal the output of the same command without --ray."""
    src = tmp_path / "data.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _rows(40)), encoding="utf-8")
    common = [str(src), "--to", "ko", "--model", str(ECHO_MODEL), "--device", "cpu", "--no-cache",
              "--field", "instruction", "--field", "messages[*].content"]
    single = CliRunner().invoke(cli, common + ["-o", str(tmp_path / "single.jsonl")])
    assert single.exit_code == 0, single.output
    result = CliRunner().invoke(cli, common + ["--ray", "--ray-actors", "2"])
    assert result.exit_code == 0, result.output
    found = sorted((tmp_path / "data.ko.jsonl").iterdir())
    assert b"".join(p.read_bytes() for p in found) == (tmp_path / "single.jsonl").read_bytes()

    again = CliRunner().invoke(cli, common + ["--ray"])  # the output folder exists: skipped without --overwrite
    assert again.exit_code == 0 and "skipped" in again.output

    # --overwrite replaces the parts (a stale one from a longer run goes), nothing else in the folder
    (tmp_path / "data.ko.jsonl" / "part-000099.jsonl").write_text("stale\n")
    (tmp_path / "data.ko.jsonl" / "notes.txt").write_text("mine\n")
    replaced = CliRunner().invoke(cli, common + ["--ray", "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert sorted(p.name for p in (tmp_path / "data.ko.jsonl").iterdir()) == sorted(
        [p.name for p in found] + ["notes.txt"])
    assert b"".join(p.read_bytes() for p in found) == (tmp_path / "single.jsonl").read_bytes()

    csv = tmp_path / "data.csv"
    csv.write_text("a\nb\n")
    wrong = CliRunner().invoke(cli, [str(csv), "--to", "ko", "--field", "a", "--ray"])
    assert wrong.exit_code == 2 and "without --ray" in wrong.output


@needs_ray
def test_an_unreachable_ray_address_is_one_line_in_seconds(tmp_path):
    """Ray itself retries an address where nothing answers for minutes, printing its warnings."""
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    src = tmp_path / "data.jsonl"
    src.write_text('{"q": "Hello."}\n', encoding="utf-8")
    env = dict(os.environ, RAY_ADDRESS=f"127.0.0.1:{port}")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "gugugo_cli", str(src), "--to", "ko", "--field", "q", "--ray",
                           "--model", str(ECHO_MODEL), "--device", "cpu", "--no-cache"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert time.monotonic() - started < 30
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"RAY_ADDRESS 127.0.0.1:{port}" in lines[0], proc.stderr
    assert not (tmp_path / "data.ko.jsonl").exists()


@needs_ray
def test_an_input_in_the_output_folder_is_never_deleted(local_ray, tmp_path):
    """Translating one part of an earlier --ray output back into its own folder is refused, input kept."""
    out = tmp_path / "out"
    out.mkdir()
    part, other = out / "part-000000.jsonl", out / "part-000001.jsonl"
    part.write_text('{"q": "Hello."}\n', encoding="utf-8")
    other.write_text('{"q": "Bye."}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, [str(part), "--to", "ko", "--field", "q", "--ray", "-o", str(out),
                                      "--overwrite", "--model", str(ECHO_MODEL), "--device", "cpu", "--no-cache"])
    assert result.exit_code == 2 and "folder holding the input" in result.stderr, result.stderr
    assert part.read_text(encoding="utf-8") == '{"q": "Hello."}\n' and other.exists()

    from gugugo_cli.datasets.ray_run import translate_dataset_ray
    from gugugo_cli.errors import InputError

    with pytest.raises(InputError, match="folder holding the input"):
        translate_dataset_ray(part, ["q"], "ko", _resolved(), output=out)
    assert part.exists() and other.exists()


@needs_ray
def test_a_run_that_did_not_finish_is_not_taken_for_a_finished_output(local_ray, tmp_path):
    """The first batches need no model and are written; then the model cannot be loaded and the run stops.
    The next run must not skip the output as done: it translates every row."""
    folder = tmp_path / "damaged-model"
    shutil.copytree(ECHO_MODEL, folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    src = tmp_path / "data.jsonl"
    rows = [{"id": i, "q": None} for i in range(1500)] + [{"id": 1500 + i, "q": f"Line {i}."} for i in range(5)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    common = [str(src), "--to", "ko", "--field", "q", "--ray", "--ray-actors", "1", "--device", "cpu",
              "--no-cache"]
    # a driver of its own on the same cluster: its actors end with it, as those of a run that was killed
    env = dict(os.environ, RAY_ADDRESS=local_ray.get_runtime_context().gcs_address)
    broken = subprocess.run([sys.executable, "-m", "gugugo_cli", *common, "--model", str(folder)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert broken.returncode == 1, broken.stderr
    again = CliRunner().invoke(cli, common + ["--model", str(ECHO_MODEL)])
    assert again.exit_code == 0 and "skipped" not in again.stderr, again.stderr
    found = sorted((tmp_path / "data.ko.jsonl").iterdir())
    assert b"".join(p.read_bytes() for p in found) == src.read_bytes()  # the echo model gives each line back
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # nothing unfinished is left


@needs_ray
def test_a_model_an_actor_cannot_load_is_one_line(local_ray, tmp_path):
    """The model is loaded in the actors, not in the driver: its error still comes back as one line."""
    folder = tmp_path / "damaged-model"
    shutil.copytree(ECHO_MODEL, folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    src = tmp_path / "data.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _rows(4)), encoding="utf-8")
    result = CliRunner().invoke(cli, [str(src), "--to", "ko", "--model", str(folder), "--device", "cpu",
                                      "--no-cache", "--field", "instruction", "--ray", "--ray-actors", "1"])
    assert result.exit_code == 1
    ours = [line for line in result.stderr.splitlines() if line.startswith("gugugo-translate:")]
    assert len(ours) == 1 and f"model folder {folder}: cannot be loaded" in ours[0], result.stderr
    assert "Traceback" not in result.stderr and "RayTaskError" not in result.stderr


def test_ray_missing_is_one_line(monkeypatch):
    from gugugo_cli.datasets import ray_run

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(UsageError, match=r"pip install '\.\[ray\]' in the gugugo-translate checkout"):
        ray_run._ray()


@needs_ray
def test_ray_report_lists_failed_rows_and_never_lands_on_an_output(local_ray, tmp_path):
    src = tmp_path / "data.jsonl"
    src.write_text('{"instruction": "Hello."}\n{"instruction": 3}\n', encoding="utf-8")
    common = [str(src), "--to", "ko", "--model", str(ECHO_MODEL), "--device", "cpu", "--no-cache",
              "--field", "instruction", "--ray", "--ray-actors", "1"]
    refused = CliRunner().invoke(cli, common + ["--report", str(tmp_path / "data.ko.failed.jsonl")])
    assert refused.exit_code == 2 and "--report" in refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.jsonl"]
    report = tmp_path / "report.jsonl"
    old = os.umask(0o027)  # the driver's; the cluster's processes keep the umask they started with (old)
    try:
        result = CliRunner().invoke(cli, common + ["--report", str(report)])
    finally:
        os.umask(old)
    assert result.exit_code == 1, result.output  # a row failed
    # the failed rows, the report and the parts get the mode any new file gets, as every output does
    assert [os.stat(p).st_mode & 0o777 for p in (tmp_path / "data.ko.failed.jsonl", report)] == [0o640, 0o640]
    assert {os.stat(p).st_mode & 0o777 for p in (tmp_path / "data.ko.jsonl").iterdir()} == {0o666 & ~old}
    rows = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert [(r["file"], r["row"], r["reason"]) for r in rows] == [(str(src), 1, "instruction is a number, not a string")]


@needs_ray
def test_a_killed_run_started_again_translates_only_the_batches_it_had_not_finished(local_ray, tmp_path):
    """No segment cache (as on a cluster where the actors land on other nodes): the batches the killed run
    finished are taken from its unfinished output folder, only the others are translated."""
    src = tmp_path / "data.jsonl"
    src.write_text("".join(json.dumps({"id": i, "q": f"Sentence {i} of the file."}) + "\n" for i in range(400)),
                   encoding="utf-8")
    out = tmp_path / "out"
    kept = tmp_path / ".out.unfinished" / ".batches"
    script = (f"import ray\nfrom gugugo_cli.datasets.ray_run import start, translate_dataset_ray\n"
              f"from gugugo_cli.engines.loading import resolve\nstart(ray)\n"
              f"translate_dataset_ray({str(src)!r}, ['q'], 'ko', resolve(model={str(ECHO_MODEL)!r}, device='cpu'), "
              f"output={str(out)!r}, actors=1, batch_rows=20, num_cpus=0.5)\n")
    env = dict(os.environ, RAY_ADDRESS=local_ray.get_runtime_context().gcs_address)
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while proc.poll() is None and len(list(kept.glob("*.arrow"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=60)
    finished = len(list(kept.glob("*.arrow")))
    assert proc.returncode != 0 and 3 <= finished < 20 and not out.exists()

    from gugugo_cli.datasets.ray_run import parts, translate_dataset_ray

    summary = translate_dataset_ray(src, ["q"], "ko", _resolved(), output=out, actors=1, batch_rows=20,
                                    num_cpus=0.5)
    assert summary.segments == 400 and summary.model_segments <= 400 - 20 * finished
    _single(src, ["q"], tmp_path / "single.jsonl", False)
    assert b"".join(p.read_bytes() for p in parts(out)) == (tmp_path / "single.jsonl").read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
