"""gugugo-translate: translate documents between Korean and English with the Gugugo models.

    from gugugo_cli import load_translator, translate_text, translate_file
    tr = load_translator("squarelike/Gugugo-koen-1.3B-V1.0")
    tr.translate_batch(["Hello."], src="en", tgt="ko")
    translate_text("Hello. How are you?", to="ko", translator=tr)
    translate_file("notes.txt", to="ko", translator=tr)   # -> Path("notes.ko.txt")

Importing this package is cheap: torch, transformers and kss load on first use.
"""

from .errors import GugugoError, InputError, ModelError
from .pipeline import translate_file, translate_text

__version__ = "0.1.0"
__all__ = ["load_translator", "translate_text", "translate_file", "GugugoError", "InputError", "ModelError"]


def load_translator(model=None, device="auto", dtype="auto", quantize=None, **options):
    """Load a Gugugo model (hub id or local folder) as a translator; see engine.load_translator."""
    from .engine import load_translator as _load_translator

    return _load_translator(model, device=device, dtype=dtype, quantize=quantize, **options)
