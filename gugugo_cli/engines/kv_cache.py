"""The KV cache of a running batch, written in place. The only module that touches transformers' cache
internals (DynamicCache and its layers), so a change there is fixed here alone.

Layout: one row per sentence, left-padded to the batch's width (padding columns are masked out and zero).
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass


def cache_argument(model) -> str:
    """Newer transformers name the forward's KV-cache argument `cache`, older ones `past_key_values`."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def new_cache(model_config):
    """An empty cache for a prefill."""
    from transformers import DynamicCache

    return DynamicCache(config=model_config)


@functools.lru_cache(maxsize=None)
def _preallocated_layer():
    from transformers.cache_utils import DynamicLayer

    class PreallocatedLayer(DynamicLayer):
        """A cache layer with room set aside for the tokens still to come: each step writes its keys and values
        in place, where the plain layer concatenates and so copies the whole cache at every step.

        Built from parts (the layer of one or more caches): their rows one below the other, each part
        right-aligned to the widest, the columns left of a narrower part zero (they are masked out)."""

        def __init__(self, parts: list, room: int):
            super().__init__()
            first = parts[0]
            self.dtype, self.device, self.is_initialized = first.keys.dtype, first.keys.device, True
            width = max(part.keys.shape[-2] for part in parts)
            rows = sum(part.keys.shape[0] for part in parts)
            self._keys, self._values = (t.new_empty((rows, t.shape[1], width + room, t.shape[-1]))
                                        for t in (first.keys, first.values))
            top = 0
            for part in parts:
                n, w = part.keys.shape[0], part.keys.shape[-2]
                for buffer, t in ((self._keys, part.keys), (self._values, part.values)):
                    buffer[top:top + n, :, : width - w] = 0
                    buffer[top:top + n, :, width - w: width] = t
                top += n
                _release(part)  # one layer at a time: the old and the new cache are never both whole
            self._show(width)

        def _show(self, width: int):
            self.keys, self.values = self._keys[..., :width, :], self._values[..., :width, :]

        def update(self, key_states, value_states, *args, **kwargs):
            start = self.keys.shape[-2]
            end = start + key_states.shape[-2]
            if end > self._keys.shape[-2]:  # more than the room set aside: fall back to growing
                super().update(key_states, value_states, *args, **kwargs)
                self._keys, self._values = self.keys, self.values
                return self.keys, self.values
            self._keys[..., start:end, :] = key_states
            self._values[..., start:end, :] = value_states
            self._show(end)
            return self.keys, self.values

        def keep(self, index, start: int):
            """Keep the rows `index` and drop the first `start` columns, in the same memory."""
            width = self.keys.shape[-2] - start
            for name in ("_keys", "_values"):
                buffer = getattr(self, name)
                kept = buffer[index, :, start: start + width]  # a copy of this layer's kept rows only
                buffer = buffer[: len(index)]
                buffer[:, :, :width] = kept
                setattr(self, name, buffer)
            self._show(width)

    return PreallocatedLayer


def _release(layer) -> None:
    layer.keys = layer.values = None
    if hasattr(layer, "_keys"):
        layer._keys = layer._values = None


def cache_of(caches: list, model_config, room: int):
    """One cache of these caches' rows (see PreallocatedLayer), with room for `room` more tokens per row."""
    from transformers import DynamicCache

    cache = DynamicCache(config=model_config)
    layer = _preallocated_layer()
    cache.layers = [layer(list(parts), room) for parts in zip(*(c.layers for c in caches))]
    return cache


def _pad_left(t, width: int):
    import torch

    return torch.cat([t.new_zeros((t.shape[0], width - t.shape[1])), t], dim=1)


@dataclass
class Running:
    """Rows decoding together: their KV cache, attention mask (left padding is 0), the position of each row's
    last token and the token each row feeds next. The cache is as wide as the mask."""

    rows: list
    cache: object
    mask: object
    last_position: object
    feed: object = None

    @property
    def width(self) -> int:
        return self.mask.shape[1]

    def grow(self) -> None:
        """One more column for the token fed at the next step."""
        import torch

        self.mask = torch.cat([self.mask, self.mask.new_ones((self.mask.shape[0], 1))], dim=1)
        self.last_position = self.last_position + 1

    def keep(self, keep: list[int]) -> None:
        """Only these rows go on; columns that are padding for all of them are dropped."""
        import torch

        index = torch.tensor(keep, device=self.mask.device)
        mask = self.mask[index]
        start = int(mask.any(0).int().argmax())
        for layer in self.cache.layers:
            layer.keep(index, start)
        self.rows = [self.rows[j] for j in keep]
        self.mask, self.last_position, self.feed = mask[:, start:], self.last_position[index], self.feed[index]


def merge(a: Running, b: Running, model_config, room: int) -> Running:
    """One running batch of both, the narrower left-padded to the wider."""
    import torch

    width = max(a.width, b.width)
    return Running(a.rows + b.rows, cache_of([a.cache, b.cache], model_config, room),
                   torch.cat([_pad_left(a.mask, width), _pad_left(b.mask, width)]),
                   torch.cat([a.last_position, b.last_position]), torch.cat([a.feed, b.feed]))


@functools.lru_cache(maxsize=None)
def _slot_layer():
    from transformers.cache_utils import DynamicLayer

    class SlotLayer(DynamicLayer):
        """A fixed-size cache layer of `slots` rows x `length` columns. Every step writes the new keys and values
        of all rows at one column, given by a device tensor (so the step can be captured in a CUDA graph), and
        attends over all columns; which columns a row sees is the attention mask's business."""

        def __init__(self, slots: int, heads: int, length: int, head_dim: int, dtype, device, column):
            super().__init__()
            import torch

            self.dtype, self.device, self.is_initialized = dtype, device, True
            # zeros, not empty: masked columns are multiplied by zero, which must not meet a NaN
            self.keys = torch.zeros((slots, heads, length, head_dim), dtype=dtype, device=device)
            self.values = torch.zeros_like(self.keys)
            self.column = column

        def update(self, key_states, value_states, *args, **kwargs):
            self.keys.index_copy_(2, self.column, key_states)
            self.values.index_copy_(2, self.column, value_states)
            return self.keys, self.values

        def get_seq_length(self) -> int:
            return self.keys.shape[-2]

        def place(self, slots, start: int, keys, values) -> None:
            """A prefilled group's keys and values into these slots, ending just before column `start + width`."""
            width = keys.shape[-2]
            self.keys[slots, :, start:start + width] = keys
            self.values[slots, :, start:start + width] = values

        def shift(self, by: int) -> None:
            """Every row moved `by` columns to the left, in the same memory; the columns freed at the right are
            zero."""
            for t in (self.keys, self.values):
                t[:, :, : t.shape[2] - by] = t[:, :, by:].clone()
                t[:, :, t.shape[2] - by:] = 0

    return SlotLayer


def slot_cache(model_config, slots: int, length: int, like_cache, column):
    """A cache of fixed shape for `slots` rows and `length` columns (see SlotLayer), each layer shaped like the
    layers of `like_cache` (a prefill's cache: heads, head size, dtype, device)."""
    from transformers import DynamicCache

    cache = DynamicCache(config=model_config)
    layer = _slot_layer()
    cache.layers = [layer(slots, k.shape[1], length, k.shape[-1], k.dtype, k.device, column)
                    for k in (l.keys for l in like_cache.layers)]
    return cache
