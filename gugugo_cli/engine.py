"""The translation engine: a Gugugo causal LM, prompts deduplicated and sorted by length.

Greedy decoding (the default) runs its own loop with continuous batching: a row leaves the batch the step it is
finished and waiting rows join in its place. Beam search goes through transformers' generate in sorted batches.

Anything with `translate_batch(texts, src, tgt) -> list[str]` is a translator; `HFTranslator` is the real one.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import math
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Protocol, Sequence

from . import config
from .errors import ModelError
from .prompt import build_prompt, extract_translation, END_MARKER

log = logging.getLogger("gugugo_cli")


class Translator(Protocol):
    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]: ...


@dataclass
class DecodeOptions:
    num_beams: int = 1
    max_new_tokens: int = config.MAX_NEW_TOKENS
    batch_size: Optional[int] = None  # rows per generate call; None: by device
    batch_tokens: Optional[int] = None  # (prompt + new) tokens per generate call; None: by device


def cpu_has_native_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError("--device cuda: no CUDA device is available (use --device cpu)")
    return device


def resolve_dtype(dtype: str, device: str):
    import torch

    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        # bfloat16 only where the CPU computes it natively; emulated bf16 is slower than float32.
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    try:
        return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[dtype]
    except KeyError:
        raise ModelError(f"unknown dtype {dtype!r} (auto, bfloat16, float16 or float32)") from None


def _looks_like_path(name: str) -> bool:
    """Hub ids are `owner/name`; anything else that names a place on disk is a folder."""
    return (
        Path(name).expanduser().exists()
        or name.startswith((".", "/", "~"))
        or name.count("/") > 1
        or "\\" in name
    )


def model_fingerprint(model_id: str) -> str:
    """Identity of a model's weights without loading them: the hub revision if it is in the local hub cache,
    else the names, sizes and times of a folder's files."""
    folder = Path(model_id).expanduser()
    if folder.is_dir():
        h = hashlib.sha1()
        for f in sorted(folder.iterdir()):
            if f.is_file() and f.suffix in (".json", ".safetensors", ".bin", ".model", ".txt"):
                st = f.stat()
                h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns};".encode())
        return f"{folder.resolve()}#{h.hexdigest()[:16]}"
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(model_id, "config.json")
        if isinstance(cached, str):
            return f"{model_id}@{Path(cached).parent.name}"
    except Exception:  # noqa: BLE001 - no hub cache is no error here
        pass
    return model_id


def translator_key(model: Optional[str], dtype: str = "auto", num_beams: int = 1,
                   max_new_tokens: int = config.MAX_NEW_TOKENS, quantize: Optional[str] = None, **_ignored) -> str:
    """What decides a translation's text, for the segment cache: the model's weights and decoding options."""
    model_id = model or os.environ.get(config.MODEL_ENV_VAR) or config.DEFAULT_MODEL
    return (f"{model_fingerprint(model_id)}|dtype={dtype}|quantize={quantize or 'none'}|beams={num_beams}"
            f"|max_new={max_new_tokens}")


def load_translator(
    model: Optional[str] = None,
    device: str = "auto",
    dtype: str = "auto",
    quantize: Optional[str] = None,
    **options,
) -> "HFTranslator":
    """Load a Gugugo model from a hub id or a local folder.

    model: hub id or folder (default: $GUGUGO_MODEL, else the newest 1.3B koen model).
    options: fields of DecodeOptions (num_beams, max_new_tokens, batch_size, batch_tokens).
    """
    model_id = model or os.environ.get(config.MODEL_ENV_VAR) or config.DEFAULT_MODEL
    if _looks_like_path(model_id):
        folder = Path(model_id).expanduser()
        if not folder.exists():
            raise ModelError(f"model folder {model_id}: no such folder")
        if not (folder / "config.json").is_file():
            raise ModelError(f"model folder {model_id}: not a model folder (no config.json)")
        model_id = str(folder)
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise ModelError(f"cannot import the model libraries ({e})") from None

    device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, device)
    kwargs = {"dtype": torch_dtype}
    bitsandbytes = quantize in ("4bit", "8bit")
    if quantize == "int8" and device != "cpu":
        raise ModelError("--quantize int8 is the CPU path; on a GPU use --quantize 8bit")
    if quantize and quantize != "int8":
        kwargs["quantization_config"] = _quantization_config(quantize, torch_dtype)
        kwargs["device_map"] = device
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_id)
        lm = AutoModelForCausalLM.from_pretrained(model_id, **kwargs)
    except (OSError, ValueError) as e:
        if Path(model_id).exists():
            raise ModelError(f"model folder {model_id}: cannot be loaded ({_first_line(e)})") from None
        raise ModelError(
            f"model {model_id}: cannot be downloaded (no network, or HF_HUB_OFFLINE=1). Download it where "
            f"there is a network (`hf download {model_id} --local-dir DIR`) and pass --model DIR"
        ) from None
    if not bitsandbytes:
        lm.to(device)
    lm.eval()
    lm = engine_layers(lm, device, torch_dtype, quantize)
    translator = HFTranslator(lm, tokenizer, device=device, model_id=model_id, options=DecodeOptions(**options))
    translator.cache_key = translator_key(model_id, dtype, translator.options.num_beams,
                                          translator.options.max_new_tokens, quantize)
    return translator


def engine_layers(model, device: str, torch_dtype, quantize: Optional[str] = None):
    """The model with the layers the engine computes with: int8 when asked for, oneDNN for float32 on CPU,
    else as it is. oneDNN replaces layers in place; int8 returns a copy."""
    import torch

    if quantize == "int8":
        return quantize_int8_cpu(model)
    if device == "cpu" and torch_dtype == torch.float32:
        return onednn_linears_cpu(model)
    return model


def quantize_int8_cpu(model):
    """Dynamic int8 for every Linear layer (weights int8 with a scale per output channel, activations quantized
    per call; fbgemm kernels). Per-channel scales cost no speed and follow each row's range. On CPUs without
    fast float32 products this is several times faster per row."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
        from torch.ao.quantization import per_channel_dynamic_qconfig

        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig})


def onednn_linears_cpu(model):
    """Float32 Linear layers computed by oneDNN instead of the default BLAS, in place.

    Same arithmetic, other kernels: decoding steps of 16 to 64 rows measured 1.1x to 2x faster on this project's
    2-core AMD EPYC (bench/README.md). Left as it is where oneDNN is not available or a layer cannot be moved."""
    import torch

    if not torch.backends.mkldnn.is_available() or not hasattr(torch._C._nn, "mkldnn_linear"):
        return model
    layer = _onednn_linear()
    try:
        for module in list(model.modules()):
            for name, child in list(module.named_children()):
                if type(child) is torch.nn.Linear and child.weight.dtype == torch.float32:
                    setattr(module, name, layer(child))
    except (RuntimeError, AttributeError) as e:  # private API: a torch without it keeps the layers it has
        log.debug("oneDNN linear layers not used: %s", _first_line(e))
    return model


@functools.lru_cache(maxsize=None)
def _onednn_linear():
    import torch

    class OneDNNLinear(torch.nn.Module):
        def __init__(self, linear):
            super().__init__()
            self.in_features, self.out_features = linear.in_features, linear.out_features
            self.register_buffer("weight", linear.weight.detach().to_mkldnn())
            bias = linear.bias.detach().to_mkldnn() if linear.bias is not None else None
            self.register_buffer("bias", bias)

        def forward(self, x):
            rows = x.reshape(-1, self.in_features).contiguous().to_mkldnn()
            out = torch._C._nn.mkldnn_linear(rows, self.weight, self.bias).to_dense()
            return out.reshape(*x.shape[:-1], self.out_features)

    return OneDNNLinear


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _quantization_config(quantize: str, compute_dtype):
    if quantize not in ("4bit", "8bit"):
        raise ModelError(f"unknown quantization {quantize!r} (4bit, 8bit or int8)")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise ModelError(
            f"--quantize {quantize} needs bitsandbytes: pip install 'gugugo-translate[quant]'"
        ) from None
    from transformers import BitsAndBytesConfig

    if quantize == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype,
    )


@dataclass
class _Row:
    index: int  # position among the unique prompts
    ids: list[int]
    max_new: int


def _grow(mask):
    """The attention mask with one more column: the token fed at the next step."""
    import torch

    return torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)


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


def _cache_of(caches: list, config, room: int):
    """One cache of these caches' rows (see PreallocatedLayer), with room for `room` more tokens per row."""
    from transformers import DynamicCache

    cache = DynamicCache(config=config)
    layer = _preallocated_layer()
    cache.layers = [layer(list(parts), room) for parts in zip(*(c.layers for c in caches))]
    return cache


def _pad_left(t, width: int):
    import torch

    return torch.cat([t.new_zeros((t.shape[0], width - t.shape[1])), t], dim=1)


@dataclass
class _Running:
    """Rows decoding together: their KV cache, attention mask (left padding is 0), the position of each row's
    last token and the token each row feeds next. The cache is as wide as the mask."""

    rows: list[_Row]
    cache: object
    mask: object
    last_position: object
    feed: object = None

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


def _merge(a: _Running, b: _Running, config, room: int) -> _Running:
    """One running batch of both, the narrower left-padded to the wider."""
    import torch

    width = max(a.mask.shape[1], b.mask.shape[1])
    return _Running(a.rows + b.rows, _cache_of([a.cache, b.cache], config, room),
                    torch.cat([_pad_left(a.mask, width), _pad_left(b.mask, width)]),
                    torch.cat([a.last_position, b.last_position]), torch.cat([a.feed, b.feed]))


class HFTranslator:
    """Batched greedy/beam translation with per-row stopping at the end marker."""

    def __init__(self, model, tokenizer, device: str = "cpu", model_id: str = "", options: Optional[DecodeOptions] = None):
        from transformers import StopStringCriteria

        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.model_id = model_id
        self.options = options or DecodeOptions()
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"
        kind = "cuda" if device.startswith("cuda") else "cpu"
        self.batch_size = self.options.batch_size or config.BATCH_SIZE[kind]
        self.batch_tokens = self.options.batch_tokens or config.BATCH_TOKENS[kind]
        self.prefill_tokens = config.PREFILL_TOKENS[kind]
        # Built once: it precomputes tables over the whole vocabulary.
        self._stop = StopStringCriteria(tokenizer, [END_MARKER])
        self.capped = 0  # rows that reached their new-token limit without an end marker
        self.stop_at_eos = True  # the benchmark turns this off to hold random-weight rows to set lengths
        self.drop_finished_rows = True  # greedy: own loop that shrinks the batch; False: transformers' generate
        # newer transformers name the forward's KV-cache argument `cache`, older ones `past_key_values`
        forward_parameters = inspect.signature(model.forward).parameters
        self._cache_argument = "cache" if "cache" in forward_parameters else "past_key_values"

    def new_token_limit(self, source_tokens: int) -> int:
        limit = math.ceil(config.NEW_TOKENS_FACTOR * source_tokens) + config.NEW_TOKENS_EXTRA
        return min(limit, self.options.max_new_tokens)

    def row_limit(self, text: str, source_tokens: int) -> int:
        """New tokens allowed for one source text (the benchmark overrides this to impose lengths)."""
        return self.new_token_limit(source_tokens)

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        texts = list(texts)
        unique = list(dict.fromkeys(texts))
        prompts = [build_prompt(t, src, tgt) for t in unique]
        prompt_ids = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        source_lens = [len(ids) for ids in self.tokenizer(unique, add_special_tokens=False)["input_ids"]]
        rows = [
            _Row(i, ids, self.row_limit(text, n))
            for i, (text, ids, n) in enumerate(zip(unique, prompt_ids, source_lens))
        ]
        # Longest first: similar lengths share a batch (little padding), and memory trouble shows early.
        rows.sort(key=lambda r: len(r.ids), reverse=True)
        results: list[Optional[str]] = [None] * len(unique)
        if self.options.num_beams == 1 and self.drop_finished_rows:
            for row, ids in self._stream_with_backoff(rows):
                results[row.index] = self._extract(row, ids)
        else:
            for batch in self._batches(rows):
                for row, text in zip(batch, self._generate_with_backoff(batch)):
                    results[row.index] = text
        by_text = dict(zip(unique, results))
        return [by_text[t] for t in texts]

    def _batches(self, rows: list[_Row]):
        batch: list[_Row] = []
        longest = new = 0
        for row in rows:
            grown_longest = max(longest, len(row.ids))
            grown_new = max(new, row.max_new)
            cost = (len(batch) + 1) * (grown_longest + grown_new)
            if batch and (len(batch) >= self.batch_size or cost > self.batch_tokens):
                yield batch
                batch, grown_longest, grown_new = [], len(row.ids), row.max_new
            batch.append(row)
            longest, new = grown_longest, grown_new
        if batch:
            yield batch

    def _generate_with_backoff(self, batch: list[_Row]) -> list[str]:
        import torch

        try:
            return self._generate(batch)
        except torch.OutOfMemoryError:
            self._after_out_of_memory(len(batch))
            half = len(batch) // 2
            log.warning("out of memory with %d rows; retrying as %d + %d", len(batch), half, len(batch) - half)
            return self._generate_with_backoff(batch[:half]) + self._generate_with_backoff(batch[half:])

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

    def _generate(self, batch: list[_Row]) -> list[str]:
        """One batch through transformers' generate (beam search, or greedy with rows kept to the end)."""
        import torch
        from transformers import StoppingCriteriaList

        input_ids, attention = self._left_padded(batch)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids.to(self.model.device),
                attention_mask=attention.to(self.model.device),
                max_new_tokens=max(r.max_new for r in batch),
                do_sample=False,
                num_beams=self.options.num_beams,
                stopping_criteria=StoppingCriteriaList([self._stop]),
                eos_token_id=self.tokenizer.eos_token_id if self.stop_at_eos else None,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        generated = out[:, input_ids.shape[1]:].tolist()
        return [self._extract(row, ids) for row, ids in zip(batch, generated)]

    def _left_padded(self, rows: list[_Row]):
        import torch

        width = max(len(r.ids) for r in rows)
        input_ids = torch.full((len(rows), width), self.tokenizer.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            input_ids[i, width - len(row.ids):] = torch.tensor(row.ids)
            attention[i, width - len(row.ids):] = 1
        return input_ids, attention

    # --- greedy decoding with continuous batching ---

    def _stream_with_backoff(self, rows: list[_Row]) -> list[tuple[_Row, list[int]]]:
        """All rows through `_stream`; out of memory: the unfinished rows start again with half the batch."""
        import torch

        done: dict[int, list[int]] = {}
        size, tokens = self.batch_size, self.batch_tokens
        while True:
            try:
                self._stream([r for r in rows if r.index not in done], done, size, tokens)
                return [(row, done[row.index]) for row in rows]
            except torch.OutOfMemoryError:
                self._after_out_of_memory(size)
                size = max(1, min(size, len(rows) - len(done)) // 2)
                tokens = max(1, tokens // 2)
                log.warning("out of memory; going on with batches of at most %d rows", size)

    def _stream(self, rows: list[_Row], done: dict[int, list[int]], batch_size: int, batch_tokens: int) -> None:
        """Greedy decoding of `rows` (longest first) into `done`, with continuous batching.

        A row leaves the running batch as soon as it is finished (end marker, eos or its own limit), and
        waiting rows join it whenever a quarter of its places are free: the batch stays full, and no row is
        carried along after it has ended. Joining rows are prefilled in groups of at most `prefill_tokens`
        padded tokens, each group padded only to its own longest prompt; their KV cache is then left-padded
        to the running batch's width and appended to it.
        """
        import torch

        queue = deque(rows)
        generated: dict[int, list[int]] = {}
        running: Optional[_Running] = None
        refill_at = max(1, batch_size // 4)
        with torch.inference_mode():
            while queue or running:
                room = batch_size - (len(running.rows) if running else 0)
                if queue and room >= min(refill_at, len(queue)):
                    joining = self._admit(queue, running, generated, batch_size, batch_tokens)
                    for group in self._prefill_groups(joining):
                        joined = self._prefill(group, generated, done)
                        if running and joined:
                            room = self._room(running.rows + joined.rows, generated)
                            running = _merge(running, joined, self.model.config, room)
                        else:
                            running = running or joined
                if running:
                    running = self._step(running, generated, done)

    def _admit(self, queue: deque, running: Optional["_Running"], generated, batch_size: int, batch_tokens: int):
        """Waiting rows that fit: rows x (width + most new tokens still to come) stays within the budget."""
        count = len(running.rows) if running else 0
        width = running.mask.shape[1] if running else 0
        to_come = self._room(running.rows if running else [], generated)
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

    def _prefill_groups(self, rows: list[_Row]):
        """Consecutive rows (longest first) in groups within the prefill budget, each wasting at most
        PREFILL_PADDING of its tokens on padding: compute spent on padding is lost."""
        group: list[_Row] = []
        real = 0
        for row in rows:
            padded = (len(group) + 1) * max(len(group[0].ids), len(row.ids)) if group else 0
            if group and (padded > self.prefill_tokens or real + len(row.ids) < (1 - config.PREFILL_PADDING) * padded):
                yield group
                group, real = [], 0
            group.append(row)
            real += len(row.ids)
        if group:
            yield group

    def _forward(self, input_ids, mask, positions, cache):
        """Logits of the last position only (the prompt's other positions need none)."""
        return self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True,
                          logits_to_keep=1, **{self._cache_argument: cache}).logits[:, -1, :]

    def _prefill(self, group: list[_Row], generated, done) -> Optional["_Running"]:
        from transformers import DynamicCache

        device = self.model.device
        input_ids, attention = self._left_padded(group)
        mask = attention.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache(config=self.model.config)
        logits = self._forward(input_ids.to(device), mask, positions, cache)
        for row in group:
            generated[row.index] = []
        # from here on the cache is written in place
        cache = _cache_of([cache], self.model.config, self._room(group, generated))
        return self._advance(_Running(group, cache, mask, positions[:, -1]), logits, generated, done)

    def _step(self, running: "_Running", generated, done) -> Optional["_Running"]:
        running.mask = _grow(running.mask)
        running.last_position = running.last_position + 1
        logits = self._forward(running.feed[:, None], running.mask, running.last_position[:, None], running.cache)
        return self._advance(running, logits, generated, done)

    @staticmethod
    def _room(rows: list[_Row], generated) -> int:
        """The most new tokens any of these rows can still take."""
        return max((r.max_new - len(generated[r.index]) for r in rows), default=0)

    def _advance(self, running: "_Running", logits, generated, done) -> Optional["_Running"]:
        """Take each row's next token; finished rows go to `done` and leave the batch."""
        import torch

        tokens = logits.argmax(-1)
        eos = self.tokenizer.eos_token_id if self.stop_at_eos else None
        window = self._stop.maximum_token_len
        tails = []
        for row, token in zip(running.rows, tokens.tolist()):
            generated[row.index].append(token)
            tails.append((row.ids + generated[row.index])[-window:])
        stopped = self._stop(torch.tensor([[0] * (window - len(t)) + t for t in tails]), None).tolist()
        keep = []
        for j, row in enumerate(running.rows):
            ids = generated[row.index]
            if stopped[j] or ids[-1] == eos or len(ids) >= row.max_new:
                done[row.index] = generated.pop(row.index)
            else:
                keep.append(j)
        running.feed = tokens
        if not keep:
            return None
        if len(keep) < len(running.rows):
            running.keep(keep)
        return running

    def _extract(self, row: _Row, ids: list[int]) -> str:
        # Each row is held to its own limit, whatever the batch ran to: the result of a row then
        # does not depend on which rows shared its batch.
        ids = ids[: row.max_new]
        ended_by_eos = self.tokenizer.eos_token_id in ids
        if ended_by_eos:
            ids = ids[: ids.index(self.tokenizer.eos_token_id)]
        text, finished = extract_translation(self.tokenizer.decode(ids, skip_special_tokens=True))
        if not finished and not ended_by_eos and len(ids) >= row.max_new:
            self.capped += 1
            log.warning(
                "a translation reached its limit of %d new tokens and may be cut or repetitive: %r",
                row.max_new,
                self.tokenizer.decode(row.ids)[:80],
            )
        return text
