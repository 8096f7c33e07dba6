"""bench/pipeline.py runs end to end in its quick mode: every workload in both directions through the real
commands, with the translations found in the outputs (the script checks that) and nothing left patched."""

from __future__ import annotations

import importlib.util
import json

from conftest import DATA, HERE


def _bench():
    spec = importlib.util.spec_from_file_location("bench_pipeline", HERE.parent / "bench" / "pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_measures_every_workload_in_both_directions(tmp_path, capsys):
    from gugugo_cli import console, segment
    from gugugo_cli.engines import loading

    before = (loading.load, console.quiet_transformers, segment.sentence_spans)
    result = _bench().main(["--quick", "--data", str(DATA), "--json", str(tmp_path / "r.json")])

    rows = {(r["workload"], r["direction"]): r for r in result["rows"]}
    for direction in ("en→ko", "ko→en"):
        for workload in ("txt", "srt", "docx", "md", "jsonl"):
            row = rows[(workload, direction)]
            assert row["segments"] > 0 and row["cpu_s"] > 0 and row["seg_per_cpu_s"] > 0
            assert row["first_output_s"] is not None and row["first_output_s"] <= row["wall_s"] + 0.05
        assert rows[("translator alone", direction)]["segments"] == 20
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == result
    assert json.loads(capsys.readouterr().out) == result
    assert (loading.load, console.quiet_transformers, segment.sentence_spans) == before
