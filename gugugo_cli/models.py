"""The known Gugugo checkpoints, in one place: hub id -> architecture, language pair, prompt labels, and the
engine, dtype and quantization that run it well.

`engines.loading.resolve` reads it: with `--engine vllm`, a quantized build gets its quantization (and the
dtype it needs) without being told; a build no engine here can load (the GGUF files) is refused in one line.
A model that is not listed (a local folder, another fine-tune) runs with what was asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .languages import LABELS


@dataclass(frozen=True)
class KnownModel:
    hub_id: str
    architecture: str  # the transformers/vLLM architecture of the base model
    pair: tuple[str, str]  # the two languages it translates between, either way
    engine: str  # recommended engine: "hf" (the built-in transformers engine), "vllm", or "llama.cpp"
    dtype: str = "auto"  # recommended compute dtype ("auto": the device decides)
    quantization: Optional[str] = None  # vLLM's quantization method for the checkpoint's weights
    notes: str = ""

    @property
    def labels(self) -> dict[str, str]:
        """The prompt labels of its two languages (`### 영어: ...`)."""
        return {lang: LABELS[lang] for lang in self.pair}


_NEOX = "GPTNeoXForCausalLM"
_LLAMA = "LlamaForCausalLM"

KNOWN_MODELS: dict[str, KnownModel] = {m.hub_id: m for m in (
    KnownModel("squarelike/Gugugo-koen-1.3B-V0.9", _NEOX, ("ko", "en"), "hf", notes="polyglot-ko-1.3b"),
    KnownModel("squarelike/Gugugo-koen-1.3B-V0.95", _NEOX, ("ko", "en"), "hf", notes="polyglot-ko-1.3b"),
    KnownModel("squarelike/Gugugo-koen-1.3B-V1.0", _NEOX, ("ko", "en"), "hf",
               notes="polyglot-ko-1.3b; the default model"),
    KnownModel("squarelike/Gugugo-koen-7B-V1.1", _LLAMA, ("ko", "en"), "vllm", dtype="bfloat16",
               notes="llama-2-ko-7b; ~14 GB in bf16: a >=16 GB GPU, or tensor_parallel_size=2"),
    KnownModel("squarelike/Gugugo-koen-7B-V1.1-AWQ", _LLAMA, ("ko", "en"), "vllm", dtype="float16",
               quantization="awq", notes="the 7B in 4-bit AWQ (vLLM runs AWQ in float16)"),
    KnownModel("squarelike/Gugugo-koen-7B-V1.1-GPTQ", _LLAMA, ("ko", "en"), "vllm", dtype="float16",
               quantization="gptq", notes="the 7B in 4-bit GPTQ; what the upstream demo app loads"),
    KnownModel("squarelike/Gugugo-koen-7B-V1.1-GGUF", _LLAMA, ("ko", "en"), "llama.cpp",
               notes="GGUF files for llama.cpp; neither engine here loads them"),
    KnownModel("squarelike/Gugugo-koja-1.3B-V0.95", _NEOX, ("ko", "ja"), "hf",
               notes="Korean <-> Japanese (label 일본어)"),
)}


def known_model(model_id: str) -> Optional[KnownModel]:
    """The registry's entry for a hub id (case as the hub spells it, or any case), else None.
    A local folder is not looked up by its name: its files may be anything."""
    if model_id in KNOWN_MODELS:
        return KNOWN_MODELS[model_id]
    lowered = model_id.lower()
    for hub_id, entry in KNOWN_MODELS.items():
        if hub_id.lower() == lowered and not Path(model_id).expanduser().exists():
            return entry
    return None
