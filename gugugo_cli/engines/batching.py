"""Scheduling, without a model: which rows decode together, within a row count and a token budget, and their
prompts as one left-padded batch.

A row's cost is counted as (prompt width + new tokens still to come): rows x that bounds the KV cache.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterator


@dataclass
class Row:
    index: int  # position among the unique texts
    ids: list[int]  # prompt tokens
    max_new: int  # new tokens this row may take
    generated: list[int] = field(default_factory=list)
    text: str = ""  # the source text (for reports)

    @property
    def to_come(self) -> int:
        return self.max_new - len(self.generated)


def room(rows: list[Row]) -> int:
    """The most new tokens any of these rows can still take."""
    return max((r.to_come for r in rows), default=0)


def static_batches(rows: list[Row], batch_size: int, batch_tokens: int) -> Iterator[list[Row]]:
    """Consecutive rows in batches that run to the end together (transformers' generate)."""
    batch: list[Row] = []
    longest = new = 0
    for row in rows:
        grown_longest = max(longest, len(row.ids))
        grown_new = max(new, row.max_new)
        cost = (len(batch) + 1) * (grown_longest + grown_new)
        if batch and (len(batch) >= batch_size or cost > batch_tokens):
            yield batch
            batch, grown_longest, grown_new = [], len(row.ids), row.max_new
        batch.append(row)
        longest, new = grown_longest, grown_new
    if batch:
        yield batch


def admit(queue: deque, running: list[Row], width: int, batch_size: int, batch_tokens: int) -> list[Row]:
    """Waiting rows (from the queue's front) that may join rows already running `width` columns wide:
    rows x (width + most new tokens still to come) stays within the budget. Taken off the queue."""
    count = len(running)
    to_come = room(running)
    joining = []
    while queue and count < batch_size:
        row = queue[0]
        cost = (count + 1) * (max(width, len(row.ids)) + max(to_come, row.max_new))
        if count and cost > batch_tokens:
            break
        joining.append(queue.popleft())
        count += 1
        width, to_come = max(width, len(row.ids)), max(to_come, row.max_new)
    return joining


def prefill_groups(rows: list[Row], prefill_tokens: int, max_padding: float) -> Iterator[list[Row]]:
    """Consecutive rows (longest first) in groups within the prefill budget, each wasting at most
    `max_padding` of its tokens on padding: compute spent on padding is lost."""
    group: list[Row] = []
    real = 0
    for row in rows:
        padded = (len(group) + 1) * max(len(group[0].ids), len(row.ids)) if group else 0
        if group and (padded > prefill_tokens or real + len(row.ids) < (1 - max_padding) * padded):
            yield group
            group, real = [], 0
        group.append(row)
        real += len(row.ids)
    if group:
        yield group


def left_padded(rows: list[Row], pad_id: int):
    """Prompt ids left-padded to the longest, and the attention mask (0 on padding)."""
    import torch

    width = max(len(r.ids) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        input_ids[i, width - len(row.ids):] = torch.tensor(row.ids)
        attention[i, width - len(row.ids):] = 1
    return input_ids, attention
