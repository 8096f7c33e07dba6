"""Translation engines. base: the Translator contract every engine keeps (batch and streaming) and the
decoding options; loading: model identity, device and dtype, the cache key; hf: the transformers engine,
with batching (pure scheduling), continuous (the greedy loop), kv_cache (the only file on transformers'
cache internals) and cpu_kernels beneath it. Nothing here reads or writes a document."""

from .base import DecodeOptions, EngineStats, Translator, translate_stream

__all__ = ["DecodeOptions", "EngineStats", "Translator", "translate_stream"]
