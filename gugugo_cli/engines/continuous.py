"""Greedy decoding with continuous batching.

A row leaves the running batch the step it is finished (end marker, eos or its own limit), and waiting rows
join whenever a quarter of the places are free: the batch stays full and no row is carried along after it
has ended. Joining rows are prefilled in groups padded only to their own longest prompt, their KV cache then
left-padded to the running batch's width and appended to it (kv_cache.merge).
"""

from __future__ import annotations

from collections import deque
from typing import Iterator, Optional

from .. import config
from . import batching, kv_cache
from .base import EngineStats
from .batching import Row, left_padded
from .kv_cache import Running


class ContinuousDecoder:
    def __init__(self, model, stop, eos_token_id: Optional[int], pad_token_id: int, prefill_tokens: int,
                 stats: EngineStats, repetition_penalty: float = 1.0):
        self.model = model
        self.stop = stop  # transformers' StopStringCriteria for the end marker
        self.eos_token_id = eos_token_id
        self.pad_token_id = pad_token_id
        self.prefill_tokens = prefill_tokens
        self.stats = stats
        self.repetition_penalty = repetition_penalty
        self._cache_argument = kv_cache.cache_argument(model)

    def run(self, rows: list[Row], batch_size: int, batch_tokens: int) -> Iterator[Row]:
        """Decode `rows` (longest first); yield each row as it finishes, its tokens in `row.generated`."""
        import torch

        queue = deque(rows)
        running: Optional[Running] = None
        refill_at = max(1, batch_size // 4)
        with torch.inference_mode():
            while queue or running:
                free = batch_size - (len(running.rows) if running else 0)
                if queue and free >= min(refill_at, len(queue)):
                    joining = batching.admit(queue, running.rows if running else [],
                                             running.width if running else 0, batch_size, batch_tokens)
                    for group in batching.prefill_groups(joining, self.prefill_tokens, config.PREFILL_PADDING):
                        joined, finished = self._prefill(group)
                        yield from finished
                        if running and joined:
                            running = kv_cache.merge(running, joined, self.model.config,
                                                     batching.room(running.rows + joined.rows))
                            self.stats.event("merge", rows=len(running.rows))
                        else:
                            running = running or joined
                if running:
                    self.stats.event("step", rows=len(running.rows), width=running.width,
                                     to_come=batching.room(running.rows))
                    running, finished = self._step(running)
                    yield from finished

    def _forward(self, input_ids, mask, positions, cache):
        """Logits of the last position only (the prompt's other positions need none)."""
        return self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True,
                          logits_to_keep=1, **{self._cache_argument: cache}).logits[:, -1, :]

    def _prefill(self, group: list[Row]):
        device = self.model.device
        width = max(len(r.ids) for r in group)
        self.stats.event("prefill", prompt_lengths=[len(r.ids) for r in group],
                         limits=[r.max_new for r in group], padded_tokens=len(group) * width)
        input_ids, mask = left_padded(group, self.pad_token_id)
        input_ids, mask = input_ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = kv_cache.new_cache(self.model.config)
        logits = self._forward(input_ids, mask, positions, cache)
        for row in group:
            row.generated = []
        # from here on the cache is written in place
        cache = kv_cache.cache_of([cache], self.model.config, batching.room(group))
        return self._advance(Running(group, cache, mask, positions[:, -1]), logits)

    def _step(self, running: Running):
        running.grow()
        logits = self._forward(running.feed[:, None], running.mask, running.last_position[:, None], running.cache)
        return self._advance(running, logits)

    def _advance(self, running: Running, logits):
        """Take each row's next token; finished rows leave the batch. Returns (running or None, finished)."""
        import torch

        if self.repetition_penalty != 1.0:
            self._penalize(running.rows, logits)
        tokens = logits.argmax(-1)
        window = self.stop.maximum_token_len
        tails = []
        for row, token in zip(running.rows, tokens.tolist()):
            row.generated.append(token)
            tails.append((row.ids + row.generated)[-window:])
        stopped = self.stop(torch.tensor([[0] * (window - len(t)) + t for t in tails]), None).tolist()
        keep, finished = [], []
        for j, row in enumerate(running.rows):
            if stopped[j] or row.generated[-1] == self.eos_token_id or row.to_come <= 0:
                finished.append(row)
            else:
                keep.append(j)
        running.feed = tokens
        if not keep:
            return None, finished
        if len(keep) < len(running.rows):
            running.keep(keep)
        return running, finished

    def _penalize(self, rows: list[Row], logits) -> None:
        """Each row's tokens generated so far made less likely (transformers' repetition penalty, over the
        output only: the source's words must stay available)."""
        import torch

        p = self.repetition_penalty
        for j, row in enumerate(rows):
            if row.generated:
                ids = torch.tensor(sorted(set(row.generated)), device=logits.device)
                score = logits[j, ids]
                logits[j, ids] = torch.where(score < 0, score * p, score / p)
