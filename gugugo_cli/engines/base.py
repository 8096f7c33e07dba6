"""The contract every engine keeps, and the options decoding runs with.

A translator has `translate_batch(texts, src, tgt) -> list[str]` (one translation per text, same order).
An engine that can give results as they are done also has `translate_stream(texts, src, tgt)`, yielding
`(index, translation)` once for every index, in any order; `translate_stream()` below serves both kinds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator, Optional, Protocol, Sequence

from .. import config
from ..errors import GugugoError


class Translator(Protocol):
    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]: ...


def translate_stream(translator: Translator, texts: Sequence[str], src: str, tgt: str) -> Iterator[tuple[int, str]]:
    """(index, translation) for every text, as the translator finishes them; checked: every index once."""
    texts = list(texts)
    stream = getattr(translator, "translate_stream", None)
    if stream is None:
        out = translator.translate_batch(texts, src, tgt)
        if len(out) != len(texts):
            raise GugugoError(f"translator returned {len(out)} translations for {len(texts)} segments")
        yield from enumerate(out)
        return
    seen = [False] * len(texts)
    for index, translation in stream(texts, src, tgt):
        if not 0 <= index < len(texts) or seen[index]:
            raise GugugoError(f"translator gave an unexpected result for segment {index}")
        seen[index] = True
        yield index, translation
    if not all(seen):
        raise GugugoError(f"translator left {seen.count(False)} of {len(texts)} segments untranslated")


class StreamingTranslator:
    """`translate_batch` for a translator whose work is done in `translate_stream`."""

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        texts = list(texts)
        results: list[Optional[str]] = [None] * len(texts)
        for i, out in self.translate_stream(texts, src, tgt):
            results[i] = out
        return results


@dataclass(frozen=True)
class DecodeOptions:
    num_beams: int = 1
    max_new_tokens: int = config.MAX_NEW_TOKENS
    batch_size: Optional[int] = None  # rows decoding together; None: by device
    batch_tokens: Optional[int] = None  # rows x (prompt + new) tokens; None: by device
    repetition_penalty: float = 1.0  # > 1 makes tokens already generated less likely (used for retries)
    engine: str = "auto"  # continuous, slots, auto/hf (slots on CUDA, continuous on CPU), or vllm
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

    capped_sources: set = field(default_factory=set)  # every source whose translation hit its limit

    def note_capped(self, source: str, keep: int = 3) -> None:
        self.capped += 1
        self.capped_sources.add(source)
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

    @property
    def capped_sources(self) -> set:
        """Sources whose translation reached its new-token limit without the end marker."""
        return self.stats.capped_sources

    @property
    def capped(self) -> int:
        """Translations that reached their new-token limit without an end marker (likely cut or repetitive)."""
        return self.stats.capped

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
