"""Loading a Gugugo model: which model (hub id or folder), which device and dtype, which engine (ENGINES, the one
table of them), its identity for the segment cache, and the loaded engine.

A Request is what was asked (`auto` included); `Request.resolve()` turns it into what will be used (Resolved),
without loading the model, so a run can look up its cache before deciding to load anything. The cache key is
built from the resolved options' fields, in one place.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Callable, Optional

from .. import config
from ..errors import ModelError, first_line
from .base import DecodeOptions
from .hub import local_folder

log = logging.getLogger("gugugo_cli")

DTYPES = ("bfloat16", "float16", "float32")
QUANTIZATIONS = ("4bit", "8bit", "int8")

# Changed when the same options would give other text than before (a fix in decoding, prompts, ...).
CACHE_VERSION = 2
# Option fields that cannot change a translation's text: left out of the cache key.
NOT_IN_KEY = frozenset({"batch_size", "batch_tokens", "sync_every"})

# vLLM options that do not change a translation's text (how the work is spread and scheduled, memory):
# left out of the cache key. Any other option (quantization, kv_cache_dtype, ...) is part of it.
VLLM_LAYOUT_OPTIONS = frozenset({
    "tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size", "distributed_executor_backend",
    "gpu_memory_utilization", "swap_space", "cpu_offload_gb", "max_num_seqs", "max_num_batched_tokens",
    "enforce_eager", "disable_log_stats", "enable_prefix_caching", "block_size", "max_model_len", "seed",
})


def parse_engine_option(text: str) -> tuple[str, object]:
    """`KEY=VALUE` -> (key, value): VALUE as a bool (true/false), None (none), an int, a float, else a string."""
    key, eq, raw = text.partition("=")
    key = key.strip().replace("-", "_")
    if not eq or not key.isidentifier():
        raise ValueError(f"{text!r}: expected KEY=VALUE, e.g. tensor_parallel_size=2")
    raw = raw.strip()
    low = raw.lower()
    if low in ("true", "yes", "on"):
        return key, True
    if low in ("false", "no", "off"):
        return key, False
    if low in ("none", "null"):
        return key, None
    for kind in (int, float):
        try:
            return key, kind(raw)
        except ValueError:
            pass
    return key, raw


def cpu_has_native_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _cuda_available(probe_torch: bool) -> bool:
    if probe_torch:
        import torch

        return torch.cuda.is_available()
    # without importing torch (--dry-run): an NVIDIA driver with a GPU
    gpus = Path("/proc/driver/nvidia/gpus")
    return gpus.is_dir() and any(gpus.iterdir())


def resolve_device(device: str, probe_torch: bool = True) -> str:
    if device == "auto":
        return "cuda" if _cuda_available(probe_torch) else "cpu"
    if device.startswith("cuda") and probe_torch and not _cuda_available(True):
        raise ModelError("--device cuda: no CUDA device is available (use --device cpu)")
    return device


def resolve_dtype(dtype: str, device: str, probe_torch: bool = True) -> str:
    """The dtype name the model will compute in."""
    if dtype == "auto":
        if device.startswith("cuda"):
            if not probe_torch:
                return "bfloat16"
            import torch

            return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        # bfloat16 only where the CPU computes it natively; emulated bf16 is slower than float32.
        return "bfloat16" if cpu_has_native_bf16() else "float32"
    if dtype not in DTYPES:
        raise ModelError(f"unknown dtype {dtype!r} (auto, bfloat16, float16 or float32)")
    return dtype


def looks_like_path(name: str) -> bool:
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


@dataclass(frozen=True)
class WrapOptions:
    """Settings of the wrappers around an engine: what text the engine is given and what of its output is kept."""

    guard: bool = False  # check every translation and retry the suspect ones (guards.GuardedTranslator)
    protect: bool = True  # URLs, code, placeholders... come back as they were (protect.ProtectingTranslator)
    glossary: Optional[object] = None  # glossary.Glossary: its source terms come out as its target terms


def _pairs(engine_options) -> tuple:
    """Engine options (a mapping or (key, value) pairs) as pairs sorted by key."""
    items = engine_options.items() if isinstance(engine_options, dict) else (engine_options or ())
    return tuple(sorted(dict(items).items()))


@dataclass(frozen=True)
class Request:
    """What was asked for (on the command line or as api.load_translator's keywords), `auto` not yet decided."""

    model: Optional[str] = None
    device: str = "auto"
    dtype: str = "auto"
    quantize: Optional[str] = None
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    wrap: WrapOptions = field(default_factory=WrapOptions)

    @classmethod
    def of(cls, model: Optional[str] = None, device: str = "auto", dtype: str = "auto",
           quantize: Optional[str] = None, **options) -> "Request":
        """From keywords: each option to the options object with a field of its name (None: its default)."""
        given = {k: v for k, v in options.items() if v is not None}
        if "engine_options" in given:
            given["engine_options"] = _pairs(given["engine_options"])
        decode_names = {f.name for f in fields(DecodeOptions)}
        wrap_names = {f.name for f in fields(WrapOptions)}
        unknown = sorted(set(given) - decode_names - wrap_names)
        if unknown:
            raise TypeError(f"unknown option {unknown[0]!r}")
        return cls(model, device, dtype, quantize,
                   DecodeOptions(**{k: v for k, v in given.items() if k in decode_names}),
                   WrapOptions(**{k: v for k, v in given.items() if k in wrap_names}))

    def resolve(self, probe_torch: bool = True) -> "Resolved":
        """What loading this request will load. probe_torch=False (for --dry-run) asks torch nothing and checks
        no model folder: device and dtype are then read from the system, which can differ from torch's view."""
        model_id = _model_id(self.model, probe_torch)
        quantize, decode, dtype = self.quantize, self.decode, self.dtype
        if quantize is not None and quantize not in QUANTIZATIONS:
            raise ModelError(f"unknown quantization {quantize!r} (4bit, 8bit or int8)")
        device = resolve_device(self.device, probe_torch)
        if quantize == "int8" and device != "cpu":
            raise ModelError("--quantize int8 is the CPU path; on a GPU use --quantize 8bit")
        if quantize in ("4bit", "8bit") and device == "cpu":
            raise ModelError(BITSANDBYTES_CPU_ERROR.format(quantize=quantize))
        wrap = self.wrap
        if wrap.glossary is not None:
            from ..glossary import of

            wrap = replace(wrap, glossary=of(wrap.glossary) or None)  # a file's path or a mapping, read here
        if decode.engine not in ENGINE_CHOICES:
            raise ModelError(f"unknown engine {decode.engine!r} ({', '.join(ENGINE_CHOICES)})")
        from ..models import known_model

        known = known_model(model_id)
        if known is not None and known.engine == "llama.cpp":
            raise ModelError(f"model {model_id}: {known.notes} (use {known.hub_id.rsplit('-', 1)[0]} or its -GPTQ "
                             "build)")
        decode = replace(decode, engine=config.engine_name(decode.engine, device))
        decode, quantize, dtype = ENGINES[decode.engine].check(decode, quantize, dtype, device, known)
        dtype = _int8_dtype(quantize, dtype)
        return Resolved(model_id, device, resolve_dtype(dtype, device, probe_torch), quantize, decode, wrap)


def _int8_dtype(quantize: Optional[str], dtype: str) -> str:
    """torch's dynamic int8 layers take float32 activations: int8 runs the model in float32 (auto means float32
    with it, also where the CPU computes bfloat16 natively); a half dtype with it is refused."""
    if quantize != "int8":
        return dtype
    if dtype in ("bfloat16", "float16"):
        raise ModelError(INT8_DTYPE_ERROR.format(dtype=dtype))
    return "float32"


BITSANDBYTES_CPU_ERROR = "--quantize {quantize} (bitsandbytes) needs a CUDA GPU; on the CPU use --quantize int8"
INT8_DTYPE_ERROR = "--quantize int8 runs in float32 (torch's dynamic int8 layers); it cannot run in {dtype}: " \
                   "leave --dtype auto or use --dtype float32"


def _model_id(model: Optional[str], probe_torch: bool) -> str:
    """The model asked for; a folder is checked to be a model folder (unless probe_torch is False)."""
    model_id = config.model_id(model)
    if looks_like_path(model_id) and probe_torch:
        folder = Path(model_id).expanduser()
        if not folder.exists():
            raise ModelError(f"model folder {model_id}: no such folder")
        if not (folder / "config.json").is_file():
            raise ModelError(f"model folder {model_id}: not a model folder (no config.json)")
        model_id = str(folder)
    return model_id


def _built_in_options(decode: DecodeOptions, quantize, dtype: str, device: str, known):
    if decode.engine_options:
        raise ModelError("--engine-option is passed to vLLM: it needs --engine vllm")
    return decode, quantize, dtype


def _vllm_options(decode: DecodeOptions, quantize, dtype: str, device: str, known):
    """(decode, quantize, dtype) for vLLM: what it cannot honour refused, a known build's quantization and
    dtype taken from the registry unless asked otherwise."""
    if decode.num_beams > 1:
        raise ModelError("--engine vllm decodes greedily; --num-beams needs the built-in engine")
    if quantize is not None:
        raise ModelError(f"--quantize {quantize} is the built-in engine's; with --engine vllm use "
                         "--engine-option quantization=METHOD (awq, gptq, fp8, ...)")
    engine_options = dict(decode.engine_options)
    if known is not None and known.quantization and "quantization" not in engine_options:
        engine_options["quantization"] = known.quantization
    if known is not None and dtype == "auto" and known.dtype != "auto" and device != "cpu":
        dtype = known.dtype
    return replace(decode, engine_options=_pairs(engine_options)), None, dtype


@dataclass(frozen=True)
class Resolved:
    """What a translator will be: the model, the device kind and dtype actually used, the decoding options and
    the settings of the wrappers around the engine."""

    model_id: str
    device: str
    dtype: str
    quantize: Optional[str] = None
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    wrap: WrapOptions = field(default_factory=WrapOptions)

    @property
    def device_kind(self) -> str:
        return "cuda" if self.device.startswith("cuda") else "cpu"

    @property
    def cache_key(self) -> str:
        """Everything that decides a translation's text: the weights, where and in what precision they run, and
        every field of the options but those in NOT_IN_KEY (a new option is part of the key unless left out)."""
        parts = [f"v{CACHE_VERSION}", model_fingerprint(self.model_id), f"device={self.device_kind}",
                 f"dtype={self.dtype}", f"quantize={self.quantize or 'none'}"]
        for options in (self.decode, self.wrap):
            for f in fields(options):
                if f.name not in NOT_IN_KEY:
                    parts.extend(_key_parts(f.name, getattr(options, f.name)))
        return "|".join(parts)


def _key_parts(name: str, value) -> list[str]:
    if name == "engine_options":  # one part per option, vLLM's layout options left out
        return [f"{k}={v!r}" for k, v in value if k not in VLLM_LAYOUT_OPTIONS]
    digest = getattr(value, "digest", None)  # a glossary: its content, not where it was read from
    if digest is not None or isinstance(value, str):
        return [f"{name}={digest if digest is not None else value}"]
    return [f"{name}={value!r}"]


def resolve(model: Optional[str] = None, device: str = "auto", dtype: str = "auto", quantize: Optional[str] = None,
            probe_torch: bool = True, **options) -> Resolved:
    """What `api.load_translator` with these arguments will load (see Request.resolve)."""
    return Request.of(model, device, dtype, quantize, **options).resolve(probe_torch)


def load(resolved: Resolved):
    """The engine `resolved` describes, loaded (without the wrappers: api.load_resolved adds them)."""
    return ENGINES[config.engine_name(resolved.decode.engine, resolved.device)].load(resolved)


def _load_vllm(resolved: Resolved):
    from .vllm_engine import load_vllm

    return load_vllm(resolved)


def _load_transformers(resolved: Resolved):
    folder = local_folder(resolved.model_id)  # before torch is imported: a hub that cannot be reached is told at once
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise ModelError(f"cannot import the model libraries ({e})") from None
    from .cpu_kernels import engine_layers
    from .hf import HFTranslator

    model_id = resolved.model_id
    torch_dtype = getattr(torch, resolved.dtype)
    kwargs = {"dtype": torch_dtype}
    bitsandbytes = resolved.quantize in ("4bit", "8bit")
    if bitsandbytes:
        kwargs["quantization_config"] = _quantization_config(resolved.quantize, torch_dtype)
        kwargs["device_map"] = resolved.device
    try:
        with _quiet_loading():
            tokenizer = AutoTokenizer.from_pretrained(folder)
            lm = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    except Exception as e:  # noqa: BLE001 - damaged weights raise the loader's own errors (e.g. SafetensorError)
        log.debug("loading failed", exc_info=True)
        where = f"model folder {model_id}" if folder == model_id else f"model {model_id} ({folder})"
        raise ModelError(f"{where}: cannot be loaded ({first_line(e)})") from None
    if not bitsandbytes:
        lm.to(resolved.device)
    lm.eval()
    lm = engine_layers(lm, resolved.device, torch_dtype, resolved.quantize)
    translator = HFTranslator(lm, tokenizer, device=resolved.device, model_id=model_id, options=resolved.decode)
    translator.cache_key = resolved.cache_key
    return translator


@contextlib.contextmanager
def _quiet_loading():
    """transformers' weight-loading bars and advice off while a model loads, then as they were; shown only with
    debug logging (--debug, or the gugugo_cli logger set to DEBUG in library use)."""
    if log.isEnabledFor(logging.DEBUG):
        yield
        return
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars
    from transformers.utils import logging as hf_logging

    bars, hub_bars_off, verbosity = hf_logging.is_progress_bar_enabled(), are_progress_bars_disabled(), \
        hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        (hf_logging.enable_progress_bar if bars else hf_logging.disable_progress_bar)()
        (disable_progress_bars if hub_bars_off else enable_progress_bars)()
        hf_logging.set_verbosity(verbosity)


@dataclass(frozen=True)
class Engine:
    """An engine: its options checked and completed when a request is resolved, and how it is loaded."""

    check: Callable  # (decode, quantize, dtype, device, known model) -> (decode, quantize, dtype), or ModelError
    load: Callable  # Resolved -> the translator


# Every engine, by the name --engine takes; auto and hf stand for config.AUTO_ENGINE's choice for the device.
ENGINES = {
    "slots": Engine(_built_in_options, _load_transformers),
    "continuous": Engine(_built_in_options, _load_transformers),
    "vllm": Engine(_vllm_options, _load_vllm),
}
ENGINE_CHOICES = ("auto", "hf", *ENGINES)


def _quantization_config(quantize: str, compute_dtype):
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise ModelError(
            f"--quantize {quantize} needs bitsandbytes: {config.install_hint('quant')}"
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
