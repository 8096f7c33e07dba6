"""The contract every engine keeps, and the options decoding runs with.

A translation is a value (`Translation`): its text, and what the translator knows about it (stopped at its
token limit, judged suspect by a check, repaired). `StreamingTranslator` is the interface callers use: engines
and wrappers (protection, glossary, guards) implement it, yielding one `Translation` for every index, in any
order. A user's translator needs only `translate_batch(texts, src, tgt) -> list[str]` (and may have
`translate_stream` yielding `(index, translation)` pairs); `as_streaming()` adapts it, and is the one place that
looks at what such an object has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator, Optional, Protocol, Sequence

from .. import config
from ..errors import GugugoError

CAPPED_REASON = "stopped at its token limit without finishing"  # as guards.check names it


@dataclass(frozen=True)
class Translation:
    index: int  # position in the call's texts
    text: str
    capped: bool = False  # the text reached its new-token limit without an end marker (likely cut)
    suspect: Optional[str] = None  # why a check found the first translation wrong (guards.check)
    repaired: bool = False  # a retry of a suspect translation passed the checks

    @property
    def failure(self) -> Optional[str]:
        return failure(self.capped, self.suspect, self.repaired)


def failure(capped: bool, suspect: Optional[str], repaired: bool) -> Optional[str]:
    """Why a result must not be used as a good translation, or None: a suspect that was not repaired, or a
    text cut at its token limit that no check looked at."""
    if suspect is not None:
        return None if repaired else suspect
    return CAPPED_REASON if capped else None


class Translator(Protocol):
    """The least a user's translator has: one translation per text, same order."""

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]: ...


class StreamingTranslator:
    """What every engine and wrapper offers its callers. `translate_stream` yields one Translation per index;
    `cache_key` names what decides the translations (model, options); `stats` counts what the engine did;
    `variant(**changes)` is the same translator with other decoding options (None where there are none);
    `unwrapped` is the engine beneath every wrapper."""

    cache_key: str = ""
    stats: "EngineStats"

    def translate_stream(self, texts: Sequence[str], src: str, tgt: str) -> Iterator[Translation]:
        raise NotImplementedError

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        texts = list(texts)
        results: list[Optional[str]] = [None] * len(texts)
        for t in translate_stream(self, texts, src, tgt):
            results[t.index] = t.text
        return results

    def variant(self, **changes) -> Optional["StreamingTranslator"]:
        return None

    @property
    def unwrapped(self) -> "StreamingTranslator":
        return self


class Wrapper(StreamingTranslator):
    """A translator around another (`inner`): the same cache key, stats and engine beneath; its variant is the
    inner translator's variant wrapped the same way (`rewrap`)."""

    inner: StreamingTranslator

    @property
    def cache_key(self) -> str:
        return self.inner.cache_key

    @property
    def stats(self):
        return self.inner.stats

    @property
    def unwrapped(self) -> StreamingTranslator:
        return self.inner.unwrapped

    def rewrap(self, inner: StreamingTranslator) -> "Wrapper":
        raise NotImplementedError

    def variant(self, **changes) -> Optional["Wrapper"]:
        inner = self.inner.variant(**changes)
        return self.rewrap(inner) if inner is not None else None


class _Adapted(StreamingTranslator):
    """A user's translator seen through the interface."""

    def __init__(self, inner):
        self.inner = inner
        self.cache_key = getattr(inner, "cache_key", "") or ""
        stats = getattr(inner, "stats", None)
        self.stats = stats if isinstance(stats, EngineStats) else EngineStats()

    def translate_stream(self, texts: Sequence[str], src: str, tgt: str) -> Iterator[Translation]:
        texts = list(texts)
        stream = getattr(self.inner, "translate_stream", None)
        if stream is None:
            out = self.inner.translate_batch(texts, src, tgt)
            if len(out) != len(texts):
                raise GugugoError(f"translator returned {len(out)} translations for {len(texts)} segments")
            for i, text in enumerate(out):
                yield Translation(i, text)
            return
        for item in stream(texts, src, tgt):
            yield item if isinstance(item, Translation) else Translation(*item)

    def variant(self, **changes) -> Optional[StreamingTranslator]:
        make = getattr(self.inner, "variant", None)
        return as_streaming(make(**changes)) if make is not None else None

    @property
    def unwrapped(self):
        return self.inner


def is_translator(obj) -> bool:
    """Whether obj is a translator (rather than, say, a function that loads one)."""
    return isinstance(obj, StreamingTranslator) or hasattr(obj, "translate_batch") or hasattr(obj, "translate_stream")


def as_streaming(translator) -> StreamingTranslator:
    """The interface of any translator: itself when it implements it, else an adapter around it."""
    return translator if isinstance(translator, StreamingTranslator) else _Adapted(translator)


def translate_stream(translator, texts: Sequence[str], src: str, tgt: str) -> Iterator[Translation]:
    """A Translation for every text, as the translator finishes them; checked: every index once."""
    texts = list(texts)
    seen = [False] * len(texts)
    for t in as_streaming(translator).translate_stream(texts, src, tgt):
        if not 0 <= t.index < len(texts) or seen[t.index]:
            raise GugugoError(f"translator gave an unexpected result for segment {t.index}")
        seen[t.index] = True
        yield t
    if not all(seen):
        raise GugugoError(f"translator left {seen.count(False)} of {len(texts)} segments untranslated")


@dataclass(frozen=True)
class DecodeOptions:
    num_beams: int = 1
    max_new_tokens: int = config.MAX_NEW_TOKENS
    batch_size: Optional[int] = None  # rows decoding together; None: by device
    batch_tokens: Optional[int] = None  # rows x (prompt + new) tokens; None: by device
    repetition_penalty: float = 1.0  # > 1 makes tokens already generated less likely (used for retries)
    engine: str = "auto"  # continuous, slots, auto/hf (config.AUTO_ENGINE: continuous for now), or vllm
    sync_every: Optional[int] = None  # slots: steps between the host's looks at the rows; None: by device
    engine_options: tuple = ()  # (key, value) pairs passed to the engine (vllm.LLM), sorted by key


@dataclass
class EngineStats:
    """What an engine did, for summaries and tests; `observer`, when set, is called with every event
    (`"prefill"`, `"step"`, `"merge"`, `"shift"`) and its details, so a test can watch scheduling without patching."""

    steps: int = 0  # decoding steps
    prefills: int = 0  # prefill groups
    merges: int = 0  # times rows joined a batch already decoding
    shifts: int = 0  # times the static slots' rows were moved left to make room
    capped: int = 0  # translations that reached their new-token limit without an end marker
    capped_examples: list[str] = field(default_factory=list)  # the first few of their sources
    observer: Optional[object] = None

    def note_capped(self, source: str, keep: int = 3) -> None:
        self.capped += 1
        if len(self.capped_examples) < keep:
            self.capped_examples.append(source)

    def event(self, name: str, **details) -> None:
        if name == "step":
            self.steps += 1
        elif name == "prefill":
            self.prefills += 1
        elif name == "merge":
            self.merges += 1
        elif name == "shift":
            self.shifts += 1
        if self.observer is not None:
            self.observer(name, **details)


class PromptedTranslator(StreamingTranslator):
    """What every engine over a Gugugo model shares: each distinct text once, its prompt, and its new-token
    limit within the model's context. A subclass has `tokenizer`, `options`, `stats` and `context`."""

    options: DecodeOptions
    tokenizer: object
    stats: EngineStats
    context: Optional[int] = None  # positions the model attends over (prompt + output)

    def new_token_limit(self, text: str, source_tokens: int) -> int:
        """New tokens allowed for one source text: in proportion to its length, never above the cap."""
        limit = math.ceil(config.NEW_TOKENS_FACTOR * source_tokens) + config.NEW_TOKENS_EXTRA
        return min(limit, self.options.max_new_tokens)

    def _fitting_limit(self, prompt_ids: list[int], limit: int) -> int:
        """The row's new-token limit within the model's context; a prompt that leaves no room is refused
        (segmentation keeps segments far below this, so it means a bug or a hostile caller, not a long text)."""
        context = self.context
        if context is None:
            return limit
        room = context - len(prompt_ids)
        if room < 1:
            raise GugugoError(f"a segment of {len(prompt_ids)} prompt tokens does not fit the model's context "
                              f"of {context} positions")
        return min(limit, room)

    def _requests(self, texts: Sequence[str], src: str, tgt: str):
        """(distinct texts, where each stands in `texts`, their prompts' token ids, their new-token limits)."""
        from ..prompt import build_prompt

        positions: dict[str, list[int]] = {}
        for i, t in enumerate(texts):
            positions.setdefault(t, []).append(i)
        unique = list(positions)
        if not unique:
            return [], positions, [], []
        prompt_ids = self.tokenizer([build_prompt(t, src, tgt) for t in unique], add_special_tokens=False)["input_ids"]
        source_lens = [len(ids) for ids in self.tokenizer(unique, add_special_tokens=False)["input_ids"]]
        limits = [self._fitting_limit(ids, self.new_token_limit(t, n))
                  for t, ids, n in zip(unique, prompt_ids, source_lens)]
        return unique, positions, prompt_ids, limits
