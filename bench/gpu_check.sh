#!/usr/bin/env bash
# GPU check, for a machine with a GPU and no package index (see the device notes: the packages it lacks go in
# .devsite/site, the benchmark's sentence pairs in .devsite/data). Under 5 minutes on one H100/H200:
#   1. the echo model gives back its input exactly on CUDA, float32 and bfloat16, through both greedy engines;
#   2. the throughput benchmark, bf16, full workload: the slot engine (s), the continuous engine (n), the same
#      batches through transformers' generate (g), transformers' generate_batch (t), one sentence greedy (b).
# Usage: bash bench/gpu_check.sh [extra arguments for bench/throughput.py]
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/.devsite/site:$PWD" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
DATA="${GUGUGO_BENCH_DATA:-.devsite/data}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

python3 - <<'PY'
import sys, time
sys.path.insert(0, "tests")
from conftest import read_lines
from gugugo_cli import load_translator

en, ko = read_lines("echo_sentences.en"), read_lines("echo_sentences.ko")
failed = 0
for dtype in ("float32", "bfloat16"):
    for engine in ("slots", "continuous"):
        start = time.perf_counter()
        tr = load_translator("tests/models/echo", device="cuda", dtype=dtype, engine=engine, batch_size=8)
        ok_en = tr.translate_batch(en * 3, "en", "ko") == en * 3
        ok_ko = tr.translate_batch(ko, "ko", "en") == ko
        failed += not (ok_en and ok_ko)
        print(f"echo {dtype} {engine}: {'exact' if ok_en and ok_ko else 'NOT EXACT'} "
              f"({time.perf_counter() - start:.1f} s, {tr.stats.steps} steps, {tr.stats.shifts} shifts)", flush=True)
print("ECHO CHECK", "PASSED" if not failed else f"FAILED ({failed})", flush=True)
PY

timeout 240 python3 bench/throughput.py --data "$DATA" --device cuda --dtype bfloat16 --ways sngtb \
    --baseline-limit 8 --beam-limit 1 "$@"
