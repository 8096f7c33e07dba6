"""A large JSONL is streamed: peak memory grows with the window of rows, not with the file."""

import json
import subprocess
import sys
import textwrap


def test_peak_memory_bounded_by_the_window_on_a_large_jsonl(tmp_path):
    script = textwrap.dedent("""
        import json, resource, sys, time
        from pathlib import Path
        from gugugo_cli.datasets import translate_dataset
        from gugugo_cli.datasets.run import translate_dataset as _load_it_all  # noqa: F401 (imports done first)
        from gugugo_cli.segment import plan_text
        plan_text("Warm up. Two sentences.", "ko")

        folder = Path(sys.argv[1])
        src = folder / "big.jsonl"
        with open(src, "w", encoding="utf-8") as f:  # written as it goes: the test's own memory stays flat
            for i in range(6000):
                f.write(json.dumps({"id": i, "instruction": f"Write item {i} for user {i % 97}",
                                    "output": f"Answer number {i} for you", "context": "x" * 10000}) + "\\n")

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
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["rows"] == 6000 and result["bytes"] > 60_000_000
    # the file is 60 MB: read whole (one window of 6000 rows) the run grows by ~250 MB; in windows of 500 rows
    # (~5 MB of text, held as bytes, parsed rows and output) by ~30 MB
    assert result["grew_kb"] < 60_000, result
    with open(tmp_path / "big.ko.jsonl", encoding="utf-8") as f:
        first = json.loads(f.readline())
    assert first["instruction"] == "WRITE ITEM 0 FOR USER 0" and first["context"] == "x" * 10000
