"""Translation engines. base: the contract every engine and wrapper keeps (a Translation value per text,
streamed) and the decoding options; loading: model identity, device and dtype, the cache key; hf: the
transformers engine, with batching (pure scheduling), continuous (the greedy loop), kv_cache (the only file on
transformers' cache internals) and cpu_kernels beneath it. Nothing here reads or writes a document."""

from .base import (DecodeOptions, EngineStats, StreamingTranslator, Translation, Translator, as_streaming,
                   translate_stream)

__all__ = ["DecodeOptions", "EngineStats", "StreamingTranslator", "Translation", "Translator", "as_streaming",
           "translate_stream"]
