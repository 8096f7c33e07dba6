"""Defaults in one place."""

import os
from typing import Optional

DEFAULT_MODEL = "squarelike/Gugugo-koen-1.3B-V1.0"
MODEL_ENV_VAR = "GUGUGO_MODEL"


def model_id(model: Optional[str] = None) -> str:
    """The model asked for: the argument, else $GUGUGO_MODEL, else the default."""
    return model or os.environ.get(MODEL_ENV_VAR) or DEFAULT_MODEL


# Sentences longer than this (in model tokens) are cut at clause punctuation before translation:
# the model was trained on single sentences and degrades on long input.
MAX_SEGMENT_TOKENS = 96

# New tokens allowed per row: NEW_TOKENS_FACTOR * source tokens + NEW_TOKENS_EXTRA, never above the cap.
# Korean and English token counts differ by well under 2x for this tokenizer; a row that reaches its
# limit is almost always a run-away repetition.
NEW_TOKENS_FACTOR = 2.0
NEW_TOKENS_EXTRA = 16
MAX_NEW_TOKENS = 256

# Batching: rows decoding together and a budget of rows x (prompt + new) tokens, which bounds the KV cache.
# On CPU a decoding step's matrix products get efficient only from a few dozen rows on (a 2048x8192 float32
# product: ~3 ms for 1 row, ~20 ms for 64, on oneDNN), so CPU batches are large too.
BATCH_SIZE = {"cpu": 64, "cuda": 256}
BATCH_TOKENS = {"cpu": 16384, "cuda": 131072}
# Prompts joining a running batch are prefilled in groups of at most this many (padded) tokens: on CPU a
# matrix product is most efficient at a few hundred rows (int8: ~20% faster at 512 rows than at 2,560).
PREFILL_TOKENS = {"cpu": 1024, "cuda": 32768}
PREFILL_PADDING = 0.1  # largest share of a prefill group's tokens that may be padding
# Static slots: steps between the host's looks at the rows (finished rows out, waiting prompts in). On CUDA the
# steps run as a CUDA graph without the host; a finished row runs on for up to this many steps minus one.
SYNC_EVERY = {"cpu": 1, "cuda": 8}
# Static slots on CUDA: at most this share of the free GPU memory for the KV cache (the step's activations and
# the prefill need the rest). Slots wanted by default (a step of 512 rows in a CUDA graph costs ~1.6x one of
# 256, measured on an H200); --batch-size / --batch-tokens bound them further.
KV_MEMORY_SHARE = 0.6
SLOTS = {"cpu": 64, "cuda": 512}

# The built-in greedy loop that --engine auto (and hf, the built-in engine) stands for, by device kind.
# The slot engine (CUDA graphs) has not yet run exactly on a GPU: until it has, auto on CUDA is the continuous
# engine, the one last checked on a GPU; --engine slots asks for the slot engine.
AUTO_ENGINE = {"cuda": "continuous", "cpu": "continuous"}


def engine_name(engine: str, device: str) -> str:
    """The engine that `engine` names on this device: auto and hf are AUTO_ENGINE's loop for the device kind."""
    if engine in ("auto", "hf"):
        return AUTO_ENGINE["cuda" if device.startswith("cuda") else "cpu"]
    return engine


def install_hint(extra: str) -> str:
    """How to add an optional extra: the package is installed from its checkout (it is on no package index)."""
    return f"pip install '.[{extra}]' in the gugugo-translate checkout"
