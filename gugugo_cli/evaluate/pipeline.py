"""The one place gugugo-eval touches the translation pipeline: a translator loaded as gugugo-translate loads it,
the test sentences cut into segments as gugugo-translate cuts them (no cache), and what a run cost."""

from __future__ import annotations

import gc
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..engines.loading import ENGINE_CHOICES
from ..errors import UsageError

# --compare KEY=VALUE: the keyword arguments of api.load_translator a configuration may change
SETTINGS = {"model": str, "device": ("auto", "cuda", "cpu"), "dtype": ("auto", "bfloat16", "float16", "float32"),
            "quantize": ("none", "4bit", "8bit", "int8"), "engine": ENGINE_CHOICES,
            "num_beams": int, "max_new_tokens": int, "batch_size": int, "batch_tokens": int, "guard": bool,
            "protect": bool, "glossary": str}
# guards.check reasons by how they start, and the count each goes to
GUARD_REASONS = (("repeats", "loops"), ("length", "length"), ("not in the target", "wrong_language"),
                 ("stopped", "capped"), ("empty", "empty"))


def parse_setting(text: str) -> dict:
    """'num_beams=5' or 'dtype=bfloat16,quantize=int8' -> load_translator keyword arguments."""
    found = {}
    for item in text.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        key = key.replace("-", "_")
        if not sep or key not in SETTINGS:
            raise UsageError(f"--compare {text!r}: expected KEY=VALUE with KEY one of {', '.join(SETTINGS)}")
        kind = SETTINGS[key]
        if isinstance(kind, tuple):
            if value not in kind:
                raise UsageError(f"--compare {text!r}: {key} is one of {', '.join(kind)}")
            found[key] = None if value == "none" else value
        elif kind is int:
            if not value.isdigit() or int(value) < 1:
                raise UsageError(f"--compare {text!r}: {key} is a whole number of at least 1")
            found[key] = int(value)
        elif kind is bool:
            if value.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise UsageError(f"--compare {text!r}: {key} is true or false")
            found[key] = value.lower() in ("true", "1", "yes", "on")
        else:
            found[key] = value
    return found


class _Lines:
    """The test sentences as a document whose texts are its lines."""

    def __init__(self, lines: list[str]):
        self.lines = lines

    def texts(self) -> list[str]:
        return self.lines


@dataclass
class Plan:
    plans: list  # one segment plan a sentence
    keys: list  # the distinct (source language, segment) pairs sent to the model


def plan(sources: list[str], tgt: str, src: str) -> Plan:
    """Segments of every sentence, as gugugo-translate would send them (they do not depend on the model)."""
    from ..job import pool

    plans = pool.plan_document(_Lines(sources), tgt, src)
    return Plan(plans, list(pool.keys_of(plans)))


@dataclass
class Run:
    hypotheses: list[str]
    load_seconds: float
    seconds: float  # translating only
    segments: int
    output_tokens: Optional[int]  # by the model's tokenizer; None where it has none
    output_chars: int
    guards: dict = field(default_factory=dict)
    peak_rss_mib: float = 0.0
    peak_cuda_mib: Optional[float] = None


def _cuda():
    torch = sys.modules.get("torch")
    return torch.cuda if torch is not None and torch.cuda.is_available() else None


def peak_rss_mib() -> float:
    """The process's peak resident memory so far (it never goes down)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def count_tokens(translator, texts: list[str]) -> Optional[int]:
    from ..engines.base import PromptedTranslator, as_streaming

    engine = as_streaming(translator).unwrapped
    tokenizer = engine.tokenizer if isinstance(engine, PromptedTranslator) else None
    if tokenizer is None or not texts:
        return None if tokenizer is None else 0
    try:
        return sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])
    except Exception:  # noqa: BLE001 - a tokenizer of another shape: fall back to characters
        return None


def guard_counts(done: dict, tgt: str, capped: set) -> dict:
    from ..guards import check

    counts = dict.fromkeys([name for _, name in GUARD_REASONS], 0)
    for (src, text), output in done.items():
        reason = check(text, output, src, tgt, capped=text in capped)
        for start, name in GUARD_REASONS:
            if reason is not None and reason.startswith(start):
                counts[name] += 1
    return counts


def translate(options: dict, test_plan: Plan, tgt: str, advance: Callable[[int], None]) -> Run:
    """Load the translator `options` describes, translate every segment, and free the model again."""
    from ..api import load_translator
    from ..console import quiet_transformers
    from ..job.cache import SegmentCache
    from ..job.stream import CachedStream

    quiet_transformers()
    cuda = _cuda()
    if cuda is not None:
        cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    translator = load_translator(**options)
    loaded = time.perf_counter()
    done, capped = {}, set()
    for result in CachedStream(SegmentCache(None), "", tgt, lambda t=translator: t).translate(test_plan.keys):
        done[result.key] = result.text
        if result.capped:
            capped.add(result.key[1])
        advance(1)
    seconds = time.perf_counter() - loaded
    outputs = list(done.values())
    run = Run([p.render(done) for p in test_plan.plans], loaded - started, seconds, len(done),
              count_tokens(translator, outputs), sum(map(len, outputs)), guard_counts(done, tgt, capped))
    cuda = _cuda()
    if cuda is not None:
        run.peak_cuda_mib = cuda.max_memory_allocated() / 1024 / 1024
    run.peak_rss_mib = peak_rss_mib()
    del translator
    gc.collect()
    if cuda is not None:
        cuda.empty_cache()
    return run
