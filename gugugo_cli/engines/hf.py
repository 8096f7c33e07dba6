"""The transformers engine: a Gugugo causal LM, prompts deduplicated and sorted by length.

Greedy decoding (the default) runs over static slots (slots.py, CUDA graphs on CUDA) or with continuous
batching (continuous.py), and streams each translation as its row finishes; beam search goes through transformers' generate in sorted batches (batching.static_batches).
Out of memory: the unfinished rows start again with half as many rows, down to one.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Iterator, Optional, Sequence

from .. import config
from ..errors import ModelError
from ..prompt import END_MARKER, extract_translation
from . import batching
from .base import DecodeOptions, EngineStats, PromptedTranslator, Translation
from .batching import Row, left_padded
from .continuous import ContinuousDecoder
from .slots import SlotDecoder

log = logging.getLogger("gugugo_cli")


class HFTranslator(PromptedTranslator):
    """Batched greedy/beam translation with per-row stopping at the end marker."""

    cache_key = ""

    def __init__(self, model, tokenizer, device: str = "cpu", model_id: str = "", options: Optional[DecodeOptions] = None):
        from transformers import StopStringCriteria

        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.model_id = model_id
        self.options = options or DecodeOptions()
        # the tokenizer is the caller's and stays as it is: prompts are padded here, on the left, with this id
        pad = tokenizer.pad_token_id
        self.pad_token_id = pad if pad is not None else tokenizer.eos_token_id
        kind = "cuda" if device.startswith("cuda") else "cpu"
        self.batch_size = self.options.batch_size or config.BATCH_SIZE[kind]
        self.batch_tokens = self.options.batch_tokens or config.BATCH_TOKENS[kind]
        self.prefill_tokens = config.PREFILL_TOKENS[kind]
        # Built once: it precomputes tables over the whole vocabulary.
        self._stop = StopStringCriteria(tokenizer, [END_MARKER])
        self.stats = EngineStats()

    @property
    def eos_token_id(self) -> Optional[int]:
        return self.tokenizer.eos_token_id

    @property
    def context(self) -> Optional[int]:
        """Positions the model can attend over (prompt + output)."""
        return getattr(self.model.config, "max_position_embeddings", None)

    def variant(self, **changes) -> "HFTranslator":
        """The same model with other decoding options (e.g. repetition_penalty for a retry)."""
        other = HFTranslator(self.model, self.tokenizer, self.device, self.model_id,
                             dataclasses.replace(self.options, **changes))
        other.stats = self.stats
        return other

    def translate_stream(self, texts: Sequence[str], src: str, tgt: str) -> Iterator[Translation]:
        """A Translation as each row finishes; a text given several times is translated once."""
        unique, positions, prompt_ids, limits = self._requests(texts, src, tgt)
        if not unique:
            return
        rows = [Row(i, ids, limit, text=text) for i, (text, ids, limit) in enumerate(zip(unique, prompt_ids, limits))]
        # Longest first: similar lengths share a batch (little padding), and memory trouble shows early.
        rows.sort(key=lambda r: len(r.ids), reverse=True)
        for row, (translation, capped) in self._decode(rows):
            for i in positions[unique[row.index]]:
                yield Translation(i, translation, capped=capped)

    def _decode(self, rows: list[Row]) -> Iterator[tuple[Row, tuple[str, bool]]]:
        if self.options.num_beams > 1:
            return self._with_generate(rows)
        return self._greedy(rows)

    # --- greedy: continuous batching, streamed ---

    @property
    def engine(self) -> str:
        """The greedy loop: static slots (CUDA graphs on CUDA), or continuous batching (repetition penalty too)."""
        engine = config.engine_name(self.options.engine, self.device)
        return "continuous" if self.options.repetition_penalty != 1.0 else engine

    def _greedy(self, rows: list[Row]) -> Iterator[tuple[Row, tuple[str, bool]]]:
        import torch

        kind = "cuda" if self.device.startswith("cuda") else "cpu"
        size, tokens = self.batch_size, self.batch_tokens
        if self.engine == "slots":
            decoder = SlotDecoder(self.model, self.tokenizer, self.eos_token_id, self.pad_token_id, self.prefill_tokens,
                                  self.stats,
                                  sync_every=self.options.sync_every or config.SYNC_EVERY[kind],
                                  cuda_graphs=kind == "cuda")
            # slots: as many as asked, else as many as fit (on CUDA the free memory decides)
            size = self.options.batch_size or config.SLOTS[kind]
            tokens = self.options.batch_tokens or (1 << 40 if kind == "cuda" else tokens)
        else:
            decoder = ContinuousDecoder(self.model, self._stop, self.eos_token_id, self.pad_token_id,
                                        self.prefill_tokens, self.stats, self.options.repetition_penalty)
        left = {row.index: row for row in rows}
        while left:
            try:
                for row in decoder.run(list(left.values()), size, tokens):
                    del left[row.index]
                    yield row, self._extract(row, row.generated)
            except torch.OutOfMemoryError:
                self._after_out_of_memory(size)
                size = max(1, min(size, len(left)) // 2)
                tokens = max(1, tokens // 2)
                log.warning("out of memory; going on with batches of at most %d rows", size)

    # --- transformers' generate: beam search ---

    def _with_generate(self, rows: list[Row]) -> Iterator[tuple[Row, tuple[str, bool]]]:
        for batch in batching.static_batches(rows, self.batch_size, self.batch_tokens):
            yield from zip(batch, self._generate_with_backoff(batch))

    def _generate_with_backoff(self, batch: list[Row]) -> list[tuple[str, bool]]:
        import torch

        try:
            return self._generate(batch)
        except torch.OutOfMemoryError:
            self._after_out_of_memory(len(batch))
            half = len(batch) // 2
            log.warning("out of memory with %d rows; retrying as %d + %d", len(batch), half, len(batch) - half)
            return self._generate_with_backoff(batch[:half]) + self._generate_with_backoff(batch[half:])

    def _generate(self, batch: list[Row]) -> list[tuple[str, bool]]:
        import torch
        from transformers import StoppingCriteriaList

        input_ids, attention = left_padded(batch, self.pad_token_id)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids.to(self.model.device),
                attention_mask=attention.to(self.model.device),
                max_new_tokens=max(r.max_new for r in batch),
                do_sample=False,
                num_beams=self.options.num_beams,
                repetition_penalty=self.options.repetition_penalty,
                stopping_criteria=StoppingCriteriaList([self._stop]),
                eos_token_id=self.eos_token_id,
                pad_token_id=self.pad_token_id,
            )
        generated = out[:, input_ids.shape[1]:].tolist()
        return [self._extract(row, ids) for row, ids in zip(batch, generated)]

    def _after_out_of_memory(self, rows: int) -> None:
        """Give up when a single row does not fit, else free what the failed attempt held."""
        import torch

        if rows == 1:
            raise ModelError(
                f"out of memory on {self.device} even for one sentence; try --dtype float16, "
                "--quantize 8bit or --device cpu"
            ) from None
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()

    def _extract(self, row: Row, ids: list[int]) -> tuple[str, bool]:
        """The translation in a row's new tokens, and whether it stopped at its limit without finishing."""
        # Each row is held to its own limit, whatever the batch ran to: the result of a row then
        # does not depend on which rows shared its batch.
        ids = ids[: row.max_new]
        eos = self.eos_token_id
        ended_by_eos = eos is not None and eos in ids
        if ended_by_eos:
            ids = ids[: ids.index(eos)]
        text, finished = extract_translation(self.tokenizer.decode(ids, skip_special_tokens=True))
        capped = not finished and not ended_by_eos and len(ids) >= row.max_new
        if capped:
            self.stats.note_capped(row.text or self._source_of(row))
            log.debug("a translation reached its limit of %d new tokens: %r", row.max_new, self._source_of(row))
        return text, capped

    def _source_of(self, row: Row) -> str:
        """The source sentence of a row, without the prompt template around it."""
        prompt = self.tokenizer.decode(row.ids)
        head = prompt.split(END_MARKER, 1)[0]
        return head.split(": ", 1)[1] if ": " in head else head
