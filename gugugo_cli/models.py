"""Known Gugugo models and the language labels their prompts use."""

from dataclasses import dataclass

LABELS = {"ko": "한국어", "en": "영어", "ja": "일본어"}


@dataclass(frozen=True)
class ModelInfo:
    model_id: str
    languages: tuple[str, str]
    note: str = ""


KNOWN_MODELS = {
    m.model_id: m
    for m in (
        ModelInfo("squarelike/Gugugo-koen-1.3B-V0.9", ("ko", "en")),
        ModelInfo("squarelike/Gugugo-koen-1.3B-V0.95", ("ko", "en")),
        ModelInfo("squarelike/Gugugo-koen-1.3B-V1.0", ("ko", "en"), "default"),
        ModelInfo("squarelike/Gugugo-koen-7B-V1.1", ("ko", "en"), "wants a 16 GB GPU or --quantize"),
        ModelInfo("squarelike/Gugugo-koja-1.3B-V0.95", ("ko", "ja")),
    )
}
