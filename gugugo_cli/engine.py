"""The translation engine: a Gugugo causal LM driven through transformers' generate, in sorted batches.

Anything with `translate_batch(texts, src, tgt) -> list[str]` is a translator; `HFTranslator` is the real one.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import math
import os
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
    if quantize == "int8":
        lm = quantize_int8_cpu(lm)
    translator = HFTranslator(lm, tokenizer, device=device, model_id=model_id, options=DecodeOptions(**options))
    translator.cache_key = translator_key(model_id, dtype, translator.options.num_beams,
                                          translator.options.max_new_tokens, quantize)
    return translator


def quantize_int8_cpu(model):
    """Dynamic int8 for every Linear layer (weights int8, activations quantized per batch; fbgemm kernels).
    On CPUs without fast float32 products for a few dozen rows this is several times faster per row."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


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
            if len(batch) == 1:
                raise ModelError(
                    f"out of memory on {self.device} even for one sentence; try --dtype float16, "
                    "--quantize 8bit or --device cpu"
                ) from None
            if self.device.startswith("cuda"):
                torch.cuda.empty_cache()
            half = len(batch) // 2
            log.warning("out of memory with %d rows; retrying as %d + %d", len(batch), half, len(batch) - half)
            return self._generate_with_backoff(batch[:half]) + self._generate_with_backoff(batch[half:])

    def _generate(self, batch: list[_Row]) -> list[str]:
        import torch

        pad = self.tokenizer.pad_token_id
        width = max(len(r.ids) for r in batch)
        input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for i, row in enumerate(batch):
            input_ids[i, width - len(row.ids):] = torch.tensor(row.ids)
            attention[i, width - len(row.ids):] = 1
        with torch.inference_mode():
            if self.options.num_beams == 1 and self.drop_finished_rows:
                generated = self._greedy(input_ids, attention, batch)
            else:
                generated = self._hf_generate(input_ids, attention, batch)
        return [self._extract(row, ids) for row, ids in zip(batch, generated)]

    def _hf_generate(self, input_ids, attention, batch: list[_Row]) -> list[list[int]]:
        from transformers import StoppingCriteriaList

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
        return out[:, input_ids.shape[1]:].tolist()

    def _greedy(self, input_ids, attention, batch: list[_Row]) -> list[list[int]]:
        """Greedy decoding that takes each row out of the batch as soon as it is finished (end marker, eos or
        its own limit), so the rows still running do not carry the finished ones to the end."""
        import torch
        from transformers import DynamicCache

        device = self.model.device
        mask = attention.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        step_ids, step_positions = input_ids.to(device), positions
        last_position = positions[:, -1]
        cache = DynamicCache(config=self.model.config)
        eos = self.tokenizer.eos_token_id if self.stop_at_eos else None
        active = list(range(len(batch)))  # batch index of each row still running
        generated: list[list[int]] = [[] for _ in batch]
        tails = torch.empty((len(batch), 0), dtype=torch.long)  # running rows' new tokens, for the stop check
        while active:
            logits = self.model(input_ids=step_ids, attention_mask=mask, position_ids=step_positions,
                                use_cache=True, **{self._cache_argument: cache}).logits[:, -1, :]
            next_ids = logits.argmax(-1)
            tails = torch.cat([tails, next_ids[:, None].cpu()], dim=1)
            stopped = self._stop(tails, None).tolist()
            keep = []
            for j, (row, token) in enumerate(zip(active, next_ids.tolist())):
                generated[row].append(token)
                if not (stopped[j] or token == eos or len(generated[row]) >= batch[row].max_new):
                    keep.append(j)
            if not keep:
                break
            if len(keep) < len(active):
                index = torch.tensor(keep, device=device)
                cache.batch_select_indices(index)
                mask, next_ids, last_position = mask[index], next_ids[index], last_position[index]
                tails = tails[keep]
                active = [active[j] for j in keep]
            mask = torch.cat([mask, mask.new_ones((len(active), 1))], dim=1)
            last_position = last_position + 1
            step_ids, step_positions = next_ids[:, None], last_position[:, None]
        return generated

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
