"""gugugo-translate: translate documents between Korean and English with the Gugugo models.

    from gugugo_cli import load_translator, translate_text, translate_file
    tr = load_translator("squarelike/Gugugo-koen-1.3B-V1.0")
    tr.translate_batch(["Hello."], src="en", tgt="ko")
    translate_text("Hello. How are you?", to="ko", translator=tr)
    translate_file("notes.txt", to="ko", translator=tr)   # -> Path("notes.ko.txt")
    translate_dataset("data.jsonl", ["instruction", "messages[*].content"], to="ko", translator=tr)

Importing this package is cheap: torch, transformers and kss load on first use.
"""

from .api import load_translator, translate_dataset, translate_file, translate_text
from .datasets.run import DatasetSummary
from .errors import FieldError, GugugoError, InputError, ModelError

__version__ = "0.1.0"
__all__ = ["load_translator", "translate_text", "translate_file", "translate_dataset", "DatasetSummary",
           "GugugoError", "InputError", "FieldError", "ModelError"]
