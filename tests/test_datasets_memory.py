"""A large dataset is streamed: peak memory grows with the window of rows, not with the file (JSON Lines, a
TSV file read without quoting, a JSON object of rows keyed by id)."""

import json
import subprocess
import sys
import textwrap

import pytest


@pytest.mark.parametrize("kind", ["jsonl", "tsv", "json"])
def test_peak_memory_bounded_by_the_window_on_a_large_dataset(tmp_path, kind):
    script = textwrap.dedent("""
        import json, resource, sys, time
        from pathlib import Path
        from gugugo_cli.datasets import translate_dataset
        from gugugo_cli.datasets.run import translate_dataset as _load_it_all  # noqa: F401 (imports done first)
        from gugugo_cli.segment import plan_text
        plan_text("Warm up. Two sentences.", "ko")

        folder, kind = Path(sys.argv[1]), sys.argv[2]
        src = folder / f"big.{kind}"
        with open(src, "w", encoding="utf-8") as f:  # written as it goes: the test's own memory stays flat
            f.write({"jsonl": "", "tsv": "id\\tinstruction\\toutput\\tcontext\\n", "json": "{"}[kind])
            for i in range(6000):
                row = {"id": i, "instruction": f"Write item {i} for user {i % 97}",
                       "output": f'Answer "number" {i} for you', "context": "x" * 10000}
                if kind == "jsonl":
                    f.write(json.dumps(row) + "\\n")
                elif kind == "tsv":
                    f.write("\\t".join(str(v) for v in row.values()) + "\\n")
                else:
                    f.write(("" if i == 0 else ",\\n") + f'"k{i}": ' + json.dumps(row))
            f.write("}\\n" if kind == "json" else "")

        class Fast:
            def translate_batch(self, texts, src, tgt):
                return [t.upper() for t in texts]

        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        s = translate_dataset(src, ["instruction", "output"], "ko", Fast(), window_rows=500)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"rows": s.rows, "bytes": src.stat().st_size, "grew_kb": peak - base,
                          "rows_per_s": round(s.rows / seconds)}))
    """)
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path), kind], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["rows"] == 6000 and result["bytes"] > 60_000_000
    # the file is 60 MB: read whole (one window of 6000 rows) the run grows by ~250 MB; in windows of 500 rows
    # (~5 MB of text, held as bytes, parsed rows and output) by ~30 MB
    assert result["grew_kb"] < 60_000, result
    with open(tmp_path / f"big.ko.{kind}", encoding="utf-8") as f:
        line = f.readline() if kind == "jsonl" else f.readline() and f.readline()
    first = line.rstrip("\n").split("\t") if kind == "tsv" else json.loads(line) if kind == "jsonl" else line
    if kind == "tsv":
        assert first == ["0", "WRITE ITEM 0 FOR USER 0", 'ANSWER "NUMBER" 0 FOR YOU', "x" * 10000]
    elif kind == "jsonl":
        assert first["instruction"] == "WRITE ITEM 0 FOR USER 0" and first["context"] == "x" * 10000
    else:
        assert line.startswith('"k1": {"id": 1, "instruction": "WRITE ITEM 1 FOR USER 1"')
