"""Greedy decoding over static slots: a fixed number of rows, each a slot in a KV cache of fixed shape.

Nothing changes shape between steps, so on CUDA the decoding step is captured once in a CUDA graph and
replayed, and the host stays out of the loop: tokens are picked on the device, and the host looks at the rows
only every `sync_every` steps, to take finished rows out and prefill waiting prompts into the freed slots.
On CPU the same logic runs eagerly with a look after every step.

Layout: all rows write their next token at one shared column `t`. A prompt joining at column t is placed
right-aligned just before it (columns t - width .. t - 1, its left padding masked), so each row's tokens are
contiguous and its positions count from its own first token. When the columns run out, every row is moved left
by the columns no row uses any more (a copy of the cache, once every few hundred steps).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Iterator, Optional

from .. import config
from ..prompt import END_MARKER
from . import batching, kv_cache
from .base import EngineStats
from .batching import Row

log = logging.getLogger("gugugo_cli")

# Tokens of a row decoded when looking for the end marker, beyond those generated since the last look.
MARKER_WINDOW = 8


class SlotDecoder:
    def __init__(self, model, tokenizer, eos_token_id: Optional[int], pad_token_id: int, prefill_tokens: int,
                 stats: EngineStats, sync_every: int = 1, cuda_graphs: bool = False):
        self.model = model
        self.tokenizer = tokenizer
        self.eos_token_id = eos_token_id
        self.pad_token_id = pad_token_id
        self.prefill_tokens = prefill_tokens
        self.stats = stats
        self.sync_every = max(1, sync_every)
        self.cuda_graphs = cuda_graphs
        self._cache_argument = kv_cache.cache_argument(model)

    def run(self, rows: list[Row], slots: int, batch_tokens: int) -> Iterator[Row]:
        """Decode `rows` (longest first); yield each row as it finishes, its tokens in `row.generated`."""
        import torch

        if not rows:
            return
        with torch.inference_mode():
            yield from _Run(self, rows, slots, batch_tokens).go()


class _Run:
    """One call's state: the slots, the device tensors the step works on, and the rows waiting."""

    def __init__(self, decoder: SlotDecoder, rows: list[Row], slots: int, batch_tokens: int):
        import torch

        self.d = decoder
        model = decoder.model
        self.device = model.device
        self.queue = deque(rows)
        n = decoder.sync_every
        longest_prompt = max(len(r.ids) for r in rows)
        longest_new = max(r.max_new for r in rows)
        # room for every row's prompt and output twice over: the rows move left once every ~half the columns
        self.length = 2 * (longest_prompt + longest_new) + 2 * n
        self.slots = max(1, min(slots, len(rows), batch_tokens // self.length, self._fitting_slots(model)))
        self.history_length = longest_new + n + 1
        self.rows: list[Optional[Row]] = [None] * self.slots
        self.start = [0] * self.slots  # each slot's first real column
        dtype = model.dtype if model.dtype.is_floating_point else torch.float32
        self.masked = torch.finfo(dtype).min
        s, length = self.slots, self.length
        self.t = longest_prompt  # the column the next step writes
        self.column = torch.tensor([self.t], device=self.device)
        self.feed = torch.full((s, 1), decoder.pad_token_id, dtype=torch.long, device=self.device)
        self.positions = torch.zeros((s, 1), dtype=torch.long, device=self.device)
        self.mask = torch.full((s, 1, 1, length), self.masked, dtype=dtype, device=self.device)
        self.history = torch.zeros((s, self.history_length), dtype=torch.long, device=self.device)
        self.counts = torch.zeros((s,), dtype=torch.long, device=self.device)
        self.cache = None  # made at the first prefill, shaped like its cache
        self.graph = None

    def _fitting_slots(self, model) -> int:
        """On CUDA, the slots whose KV cache takes at most KV_MEMORY_SHARE of the free GPU memory (keys and values
        of every layer, full attention heads: a model with fewer KV heads gets fewer slots than it could)."""
        import torch

        if self.device.type != "cuda":
            return 1 << 30
        cfg = model.config
        per_column = 2 * cfg.num_hidden_layers * cfg.hidden_size * torch.finfo(model.dtype).bits // 8
        free, _ = torch.cuda.mem_get_info(self.device)
        return max(1, int(config.KV_MEMORY_SHARE * free) // (per_column * self.length))

    # --- the loop ---

    def go(self) -> Iterator[Row]:
        refill_at = max(1, self.slots // 4)
        while self.queue or any(self.rows):
            free = [i for i, r in enumerate(self.rows) if r is None]
            if self.queue and len(free) >= min(refill_at, len(self.queue)):
                self._admit(free)
            self._make_room()
            for _ in range(self.d.sync_every):
                self._step()
            yield from self._collect()

    def _admit(self, free: list[int]) -> None:
        joining = []
        while self.queue and len(joining) < len(free):
            joining.append(self.queue.popleft())
        at = 0
        for group in batching.prefill_groups(joining, self.d.prefill_tokens, config.PREFILL_PADDING):
            self._prefill(group, free[at:at + len(group)])
            at += len(group)

    def _prefill(self, group: list[Row], slots: list[int]) -> None:
        import torch

        d = self.d
        width = max(len(r.ids) for r in group)
        d.stats.event("prefill", prompt_lengths=[len(r.ids) for r in group], limits=[r.max_new for r in group],
                      padded_tokens=len(group) * width)
        input_ids, mask2d = batching.left_padded(group, d.pad_token_id)
        input_ids, mask2d = input_ids.to(self.device), mask2d.to(self.device)
        positions = (mask2d.cumsum(-1) - 1).clamp(min=0)
        cache = kv_cache.new_cache(d.model.config)
        logits = d.model(input_ids=input_ids, attention_mask=mask2d, position_ids=positions, use_cache=True,
                         logits_to_keep=1, **{d._cache_argument: cache}).logits[:, -1, :]
        if self.cache is None:
            self.cache = kv_cache.slot_cache(d.model.config, self.slots, self.length, cache, self.column)
        index = torch.tensor(slots, device=self.device)
        start = self.t - width
        for layer, part in zip(self.cache.layers, cache.layers):
            layer.place(index, start, part.keys, part.values)
        rows_mask = torch.full((len(group), 1, 1, self.length), self.masked, dtype=self.mask.dtype, device=self.device)
        rows_mask[:, 0, 0, start:self.t] = torch.where(mask2d.bool(), 0.0, self.masked).to(self.mask.dtype)
        self.mask[index] = rows_mask
        first = logits.argmax(-1)
        self.feed[index, 0] = first
        self.history[index] = 0
        self.history[index, 0] = first
        self.counts[index] = 1
        self.positions[index, 0] = positions[:, -1] + 1
        for slot, row in zip(slots, group):
            self.rows[slot] = row
            self.start[slot] = self.t - len(row.ids)

    def _make_room(self) -> None:
        """Move every row left when the next steps would run past the last column."""
        n = self.d.sync_every
        if self.t + n <= self.length:
            return
        waiting = max((len(r.ids) for r in self.queue), default=0)
        active = [self.start[i] for i, r in enumerate(self.rows) if r is not None]
        by = min(min(active, default=self.t), self.t - waiting)
        if by <= 0 or self.t - by + n > self.length:
            raise RuntimeError("slot cache has no room left (rows longer than planned)")
        self.d.stats.event("shift", by=by)
        for layer in self.cache.layers:
            layer.shift(by)
        self.mask[..., : self.length - by] = self.mask[..., by:].clone()
        self.mask[..., self.length - by:] = self.masked
        self.start = [s - by for s in self.start]
        self.t -= by
        self.column.fill_(self.t)

    # --- the step: device only ---

    def _step_once(self) -> None:
        d = self.d
        self.mask.index_fill_(3, self.column, 0.0)  # each row sees the token it feeds now
        logits = d.model(input_ids=self.feed, attention_mask=self.mask, position_ids=self.positions, use_cache=True,
                         logits_to_keep=1, **{d._cache_argument: self.cache}).logits[:, -1, :]
        tokens = logits.argmax(-1)
        self.feed.copy_(tokens[:, None])
        self.history.scatter_(1, self.counts.clamp(max=self.history_length - 1)[:, None], tokens[:, None])
        self.counts.add_(1)
        self.positions.add_(1)
        self.column.add_(1)

    def _step(self) -> None:
        self.d.stats.event("step", rows=sum(r is not None for r in self.rows), width=self.length, to_come=0)
        if self.d.cuda_graphs and self.graph is None:
            self.graph = self._capture()
        if self.graph:
            self.graph.replay()
        else:
            self._step_once()
        self.t += 1

    def _capture(self):
        """The step as a CUDA graph, or False (eager) if it cannot be captured."""
        import torch

        saved = [t.clone() for t in (self.mask, self.feed, self.positions, self.history, self.counts, self.column)]
        try:
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(2):  # warm-up: kernels chosen, memory allocated
                    self._step_once()
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                self._step_once()
        except RuntimeError as e:
            log.debug("CUDA graph capture failed, decoding eagerly: %s", e)
            graph = False
        # warm-up ran for real: put the state back (the cache columns it wrote are written again before use)
        for t, s in zip((self.mask, self.feed, self.positions, self.history, self.counts, self.column), saved):
            t.copy_(s)
        return graph

    # --- the host's look every few steps ---

    def _collect(self) -> Iterator[Row]:
        import torch

        counts = self.counts.tolist()
        history = self.history.cpu()  # one copy; only the rows' new tokens are looked at
        window = self.d.sync_every + MARKER_WINDOW
        freed = []
        for slot, row in enumerate(self.rows):
            if row is None:
                continue
            n = min(counts[slot], self.history_length)
            if self._finished(row, history[slot, max(0, n - window):n].tolist(), n):
                row.generated = history[slot, :n].tolist()
                self.rows[slot] = None
                freed.append(slot)
                yield row
        if freed:
            self.mask[torch.tensor(freed, device=self.device)] = self.masked

    def _finished(self, row: Row, tail: list[int], n: int) -> bool:
        """Whether a row has ended: its limit, eos or the end marker among the tokens since the last look (and
        a few before, for a marker of several tokens)."""
        if n >= row.max_new:
            return True
        if self.d.eos_token_id is not None and self.d.eos_token_id in tail:
            return True
        return END_MARKER in self.d.tokenizer.decode(tail, skip_special_tokens=True)
