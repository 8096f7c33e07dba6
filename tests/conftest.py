"""Shared fixtures: a tiny random GPT-NeoX built here, the echo model, and translators that need no model."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.register_assert_rewrite("package_helpers")  # its checks fail with the values compared

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
ECHO_MODEL = HERE / "models" / "echo"
# a config.json and nothing else: passes the CLI's model folder check, fails if anything tries to load it
UNLOADABLE_MODEL = HERE / "models" / "unloadable"
SHARED = HERE.parent.parent / "shared"

_CORPUS_FILES = ["korean-english-park.dev.en", "korean-english-park.dev.ko", "jhe-koen-dev.en", "jhe-koen-dev.ko"]


def read_lines(name: str) -> list[str]:
    return [l for l in (DATA / name).read_text(encoding="utf-8").splitlines() if l.strip()]


class MarkTranslator:
    """Wraps every segment in «»; records each call so tests can see what reached the model."""

    def __init__(self):
        self.calls: list[tuple[list[str], str, str]] = []

    def translate_batch(self, texts, src, tgt):
        self.calls.append((list(texts), src, tgt))
        return [f"«{t}»" for t in texts]

    @property
    def segments(self) -> list[str]:
        return [t for texts, _, _ in self.calls for t in texts]


class IdentityTranslator:
    def translate_batch(self, texts, src, tgt):
        return list(texts)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own segment cache, never the user's."""
    monkeypatch.setenv("GUGUGO_CACHE", str(tmp_path / "segments.sqlite3"))


@pytest.fixture(autouse=True)
def restore_logger():
    """The CLI sets up the package logger for a terminal; give each test the logger as it was."""
    import logging

    log = logging.getLogger("gugugo_cli")
    handlers, level, propagate = log.handlers[:], log.level, log.propagate
    yield
    log.handlers[:], log.level, log.propagate = handlers, level, propagate


@pytest.fixture
def marker():
    return MarkTranslator()


@pytest.fixture
def identity():
    return IdentityTranslator()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A random 2-layer GPT-NeoX with a byte-level BPE trained on the test sentences, saved like a hub model."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-gptneox")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = [line for name in _CORPUS_FILES for line in read_lines(name)]
    corpus += ["### 영어: ", "### 한국어: ", "</끝>"]
    bpe.train_from_iterator(corpus, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    tokenizer.save_pretrained(folder)

    torch.manual_seed(0)
    config = GPTNeoXConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=512,
        bos_token_id=0,
        eos_token_id=0,
    )
    GPTNeoXForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def echo_translator():
    from gugugo_cli import load_translator

    return load_translator(str(ECHO_MODEL), device="cpu", dtype="float32")
