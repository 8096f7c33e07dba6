import logging

import pytest

from conftest import read_lines
from gugugo_cli import load_translator, translate_text
from gugugo_cli.engines.hf import HFTranslator
from gugugo_cli.prompt import build_prompt, extract_translation

VARIED = [
    "Hello.",
    "How are you today?",
    "The committee will meet again next Tuesday to decide on the budget.",
    "오늘 날씨가 좋다.",
    "Yes.",
    "He said that the new bridge, which cost three million dollars, would open in May.",
    "I see.",
    "Please close the door when you leave the room.",
    "Thank you very much for your help with the project last week.",
    "No.",
    "The results were published in a scientific journal.",
    "Where is the nearest train station?",
    "It rained all day, so we stayed inside and read books.",
    "Good morning!",
    "The population of the city has doubled in the last twenty years.",
    "Can you help me?",
    "A small dog was sleeping under the table.",
    "We need more time.",
    "The museum is closed on Mondays and public holidays.",
    "Why not?",
]


def test_prompt_template_is_exact():
    assert build_prompt("Hello.", "en", "ko") == "### 영어: Hello.</끝>\n### 한국어:"
    assert build_prompt("안녕.", "ko", "en") == "### 한국어: 안녕.</끝>\n### 영어:"
    assert extract_translation(" 안녕하세요.</끝>\n### 영어: junk") == ("안녕하세요.", True)
    assert extract_translation(" 안녕하세요 안녕하세요") == ("안녕하세요 안녕하세요", False)


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return load_translator(str(tiny_model_dir), device="cpu", dtype="float32", max_new_tokens=12)


def test_batch_invariance_on_random_model(tiny):
    together = tiny.translate_batch(VARIED, "en", "ko")
    alone = [tiny.translate_batch([s], "en", "ko")[0] for s in VARIED]
    assert together == alone
    assert len(set(together)) > 5  # random weights still give varied, non-empty outputs
    assert all(together)


class WithGenerate(HFTranslator):
    """Greedy through transformers' generate, rows kept to the batch's end: the reference for our own loop."""

    def _decode(self, rows):
        return self._with_generate(rows)


def test_shrinking_greedy_loop_matches_transformers_generate(tiny, echo_translator):
    ours = tiny.translate_batch(VARIED, "en", "ko")
    reference = WithGenerate(tiny.unwrapped.model, tiny.unwrapped.tokenizer, options=tiny.unwrapped.options)
    assert reference.translate_batch(VARIED, "en", "ko") == ours
    en = read_lines("echo_sentences.en")
    echo = echo_translator.unwrapped
    assert WithGenerate(echo.model, echo.tokenizer).translate_batch(en, "en", "ko") == en


def test_small_batches_give_the_same_result(tiny_model_dir):
    big = load_translator(str(tiny_model_dir), device="cpu", dtype="float32", max_new_tokens=12)
    small = load_translator(str(tiny_model_dir), device="cpu", dtype="float32", max_new_tokens=12,
                            batch_size=3, batch_tokens=200)
    assert small.translate_batch(VARIED, "en", "ko") == big.translate_batch(VARIED, "en", "ko")


def watch(translator):
    """Record the engine's scheduling events through its stats hook."""
    events = []
    translator.stats.observer = lambda name, **details: events.append((name, details))
    return events


def test_running_batch_respects_size_and_token_budget(tiny_model_dir):
    tr = load_translator(str(tiny_model_dir), device="cpu", dtype="float32", batch_size=4, batch_tokens=300)
    tr.unwrapped.prefill_tokens = 60
    events = watch(tr)
    tr.translate_batch(VARIED, "en", "ko")
    steps = [d for name, d in events if name == "step"]
    groups = [d["prompt_lengths"] for name, d in events if name == "prefill"]
    assert steps and sum(map(len, groups)) == len(set(VARIED))
    for step in steps:
        assert step["rows"] <= 4
        assert step["rows"] == 1 or step["rows"] * (step["width"] + step["to_come"]) <= 300
    for group in groups:  # each prefill group within its own budget, padded to its own longest prompt
        assert len(group) == 1 or len(group) * max(group) <= 60
    # longest prompts first, so rows that run together are of similar lengths
    firsts = [g[0] for g in groups]
    assert firsts == sorted(firsts, reverse=True)


def test_rows_join_the_running_batch_as_others_finish(tiny_model_dir):
    tr = load_translator(str(tiny_model_dir), device="cpu", dtype="float32", batch_size=4)  # limits differ by row
    events = watch(tr)
    together = tr.translate_batch(VARIED, "en", "ko")
    assert [name for name, _ in events].count("merge") == tr.stats.merges > 0  # rows joined a decoding batch
    assert together == [tr.translate_batch([s], "en", "ko")[0] for s in VARIED]


def test_stream_gives_each_translation_as_its_row_finishes(tiny_model_dir):
    tr = load_translator(str(tiny_model_dir), device="cpu", dtype="float32", batch_size=4)
    events = watch(tr)
    order = []
    for t in tr.translate_stream(VARIED, "en", "ko"):
        order.append((t.index, sum(1 for name, _ in events if name == "step")))
    assert sorted(i for i, _ in order) == list(range(len(VARIED)))
    steps_seen = [s for _, s in order]
    assert steps_seen[0] < steps_seen[-1]  # the first results came out while others were still decoding


def test_random_model_hits_the_cap_and_is_reported(tiny, caplog):
    before = tiny.stats.capped
    results = list(tiny.translate_stream(["Hello.", "How are you today?"], "en", "ko"))
    assert tiny.stats.capped - before == 2 and all(t.capped and t.failure for t in results)
    out = [t.text for t in results]
    assert {"Hello.", "How are you today?"} <= set(tiny.stats.capped_examples) or len(tiny.stats.capped_examples) == 3
    assert all(out)


def test_new_token_limit_follows_source_length(tiny):
    tr = HFTranslator(tiny.unwrapped.model, tiny.unwrapped.tokenizer)
    limit = lambda n: tr.new_token_limit("", n)  # noqa: E731
    assert limit(1) < limit(5) < limit(50) <= tr.options.max_new_tokens
    assert limit(10_000) == tr.options.max_new_tokens


def test_each_row_stops_at_its_own_limit(tiny):
    tr = HFTranslator(tiny.unwrapped.model, tiny.unwrapped.tokenizer)
    short, long = "Hi.", VARIED[5]
    events = watch(tr)
    mixed = tr.translate_batch([short, long], "en", "ko")
    limits = {n for name, d in events if name == "prefill" for n in d["limits"]}
    assert len(limits) == 2
    assert mixed == [tr.translate_batch([short], "en", "ko")[0], tr.translate_batch([long], "en", "ko")[0]]


def test_the_tokenizer_given_is_left_as_it_was(tiny_model_dir):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from gugugo_cli.engines.base import DecodeOptions

    lm = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    padded = AutoTokenizer.from_pretrained(tiny_model_dir)
    padded.pad_token, padded.padding_side = padded.eos_token, "left"
    before = (tok.pad_token, tok.pad_token_id, tok.padding_side)
    assert tok.pad_token is None  # no pad token of its own: the engine pads with eos, without setting it
    for options in (dict(engine="continuous"), dict(engine="slots"), dict(num_beams=2)):
        options = DecodeOptions(max_new_tokens=12, batch_size=3, **options)
        out = HFTranslator(lm, tok, options=options).translate_batch(VARIED[:7], "en", "ko")
        assert (tok.pad_token, tok.pad_token_id, tok.padding_side) == before
        assert out == HFTranslator(lm, padded, options=options).translate_batch(VARIED[:7], "en", "ko")


# --- the echo model answers with its source: exact output through the real path ---

def test_echo_model_gives_back_each_sentence_in_a_mixed_batch(echo_translator):
    en = read_lines("echo_sentences.en")
    ko = read_lines("echo_sentences.ko")
    assert echo_translator.translate_batch(en, "en", "ko") == en
    assert echo_translator.translate_batch(ko, "ko", "en") == ko


def test_echo_model_keeps_order_and_duplicates(echo_translator):
    en = read_lines("echo_sentences.en")[:6]
    texts = [en[3], en[0], en[3], en[5], en[1], en[0]]
    assert echo_translator.translate_batch(texts, "en", "ko") == texts


def test_echo_model_with_beam_search(echo_translator):
    en = read_lines("echo_sentences.en")[:5]
    echo = echo_translator.unwrapped
    beams = HFTranslator(echo.model, echo.tokenizer, options=type(echo.options)(num_beams=3))
    assert beams.translate_batch(en, "en", "ko") == en


def test_echo_model_through_translate_text(echo_translator):
    en = read_lines("echo_sentences.en")
    ko = read_lines("echo_sentences.ko")
    text = f"  {en[0]} {en[1]}\r\n\r\n{ko[0]}\n\t{en[2]}\n"
    # ko paragraph is already in the target language and stays; en sentences come back from the model
    assert translate_text(text, to="ko", translator=echo_translator) == text
    assert echo_translator.stats.capped == 0


def test_out_of_memory_halves_the_batch_down_to_one(tiny):
    import torch

    from gugugo_cli.errors import ModelError

    engine = tiny.unwrapped
    tr = HFTranslator(engine.model, engine.tokenizer, options=type(engine.options)(max_new_tokens=4))
    expected = tr.translate_batch(VARIED[:7], "en", "ko")
    failed, ran = [], []
    limit = {"rows": 2}

    def small_only(module, args, kwargs):
        rows = kwargs["input_ids"].shape[0]
        if rows > limit["rows"]:
            failed.append(rows)
            raise torch.OutOfMemoryError("CUDA out of memory")
        ran.append(rows)

    hook = tiny.unwrapped.model.register_forward_pre_hook(small_only, with_kwargs=True)
    try:
        assert tr.translate_batch(VARIED[:7], "en", "ko") == expected
        assert failed and failed == sorted(failed, reverse=True) and max(ran) <= 2
        limit["rows"] = 0
        with pytest.raises(ModelError, match="out of memory"):
            tr.translate_batch(["Hi."], "en", "ko")
    finally:
        hook.remove()


def test_int8_cpu_path_still_echoes_and_has_its_own_cache_key():
    from conftest import ECHO_MODEL
    from gugugo_cli.engines.loading import resolve

    tr = load_translator(str(ECHO_MODEL), device="cpu", dtype="float32", quantize="int8")
    assert "quantized" in type(tr.unwrapped.model.gpt_neox.layers[0].mlp.dense_h_to_4h).__module__
    en = read_lines("echo_sentences.en")
    assert tr.translate_batch(en, "en", "ko") == en
    plain = resolve(str(ECHO_MODEL), "cpu", "float32").cache_key
    assert tr.cache_key != plain and tr.cache_key == resolve(str(ECHO_MODEL), "cpu", "float32", "int8").cache_key


def test_float32_cpu_layers_run_on_onednn_with_the_same_results(tiny_model_dir, echo_translator):
    import torch
    from transformers import AutoModelForCausalLM

    from gugugo_cli.engines.cpu_kernels import onednn_linears_cpu

    if not torch.backends.mkldnn.is_available():
        pytest.skip("this torch has no oneDNN")
    assert type(echo_translator.unwrapped.model.gpt_neox.layers[0].mlp.dense_h_to_4h).__name__ == "OneDNNLinear"
    plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    fast = onednn_linears_cpu(AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval())
    ids = torch.randint(5, 200, (3, 9))
    with torch.inference_mode():
        assert torch.allclose(fast(input_ids=ids).logits, plain(input_ids=ids).logits, atol=1e-4)


def test_preallocated_cache_layer_writes_in_place_grows_past_its_room_and_keeps_rows():
    import torch
    from transformers import DynamicCache

    from gugugo_cli.engines.kv_cache import cache_of

    def cache(rows, width):
        c = DynamicCache()
        c.update(torch.randn(rows, 2, width, 4), torch.randn(rows, 2, width, 4), 0)
        return c

    a, b = cache(2, 5), cache(3, 3)
    expected_a, expected_b = a.layers[0].keys.clone(), b.layers[0].keys.clone()
    merged = cache_of([a, b], None, room=1).layers[0]
    assert torch.equal(merged.keys[:2], expected_a)
    assert torch.equal(merged.keys[2:, :, 2:], expected_b) and not merged.keys[2:, :, :2].any()
    steps = [torch.randn(5, 2, 1, 4) for _ in range(3)]  # the third goes past the room of one
    for step in steps:
        keys, _ = merged.update(step, step.clone())
    assert keys.shape == (5, 2, 8, 4) and torch.equal(keys[:, :, 5:], torch.cat(steps, dim=2))
    full = keys.clone()
    merged.keep(torch.tensor([1, 3]), start=2)
    assert torch.equal(merged.keys, full[[1, 3], :, 2:])
    keys, _ = merged.update(steps[0][:2], steps[0][:2])
    assert torch.equal(keys[:, :, -1:], steps[0][:2])


def test_options_are_split_into_decoding_options_and_wrapper_settings():
    from conftest import ECHO_MODEL
    from gugugo_cli.engines.base import DecodeOptions
    from gugugo_cli.engines.loading import Request, WrapOptions

    request = Request.of("m", "cpu", num_beams=2, batch_size=None, guard=True, protect=False,
                         engine_options={"b": 1, "a": 2})
    assert request.decode == DecodeOptions(num_beams=2, engine_options=(("a", 2), ("b", 1)))
    assert request.wrap == WrapOptions(guard=True, protect=False)
    with pytest.raises(TypeError, match="num_beam"):
        Request.of(num_beam=2)
    resolved = Request(str(ECHO_MODEL), "cpu", "float32", wrap=WrapOptions(glossary={"Frodo": "프로도"})).resolve()
    assert resolved.wrap.glossary.digest and resolved.decode.engine == "continuous"


def test_every_option_field_is_in_the_cache_key_unless_left_out_on_purpose():
    import dataclasses

    from conftest import ECHO_MODEL
    from gugugo_cli.engines.base import DecodeOptions
    from gugugo_cli.engines.loading import NOT_IN_KEY, Resolved, WrapOptions

    base = Resolved(str(ECHO_MODEL), "cpu", "float32", decode=DecodeOptions(engine="continuous"))
    key = base.cache_key
    new_decoding = dataclasses.make_dataclass("NewDecoding", [("temperature", float, 0.7)], bases=(DecodeOptions,),
                                              frozen=True)
    new_wrapping = dataclasses.make_dataclass("NewWrapping", [("style", str, "formal")], bases=(WrapOptions,),
                                              frozen=True)
    assert dataclasses.replace(base, decode=new_decoding(engine="continuous")).cache_key != key
    assert dataclasses.replace(base, wrap=new_wrapping()).cache_key != key
    for name in sorted(NOT_IN_KEY):
        assert dataclasses.replace(base, decode=dataclasses.replace(base.decode, **{name: 7})).cache_key == key
    changed = [dict(num_beams=2), dict(max_new_tokens=9), dict(repetition_penalty=1.2), dict(engine="slots")]
    for change in changed:
        assert dataclasses.replace(base, decode=dataclasses.replace(base.decode, **change)).cache_key != key
    for change in (dict(guard=True), dict(protect=False)):
        assert dataclasses.replace(base, wrap=dataclasses.replace(base.wrap, **change)).cache_key != key
    for change in (dict(dtype="bfloat16"), dict(quantize="int8"), dict(device="cuda:1")):
        assert dataclasses.replace(base, **change).cache_key != key
    assert dataclasses.replace(base, device="cuda:0").cache_key == dataclasses.replace(base, device="cuda").cache_key
