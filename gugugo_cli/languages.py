"""The languages the tool knows: their codes, the labels Gugugo prompts use, and telling Korean from English."""

from __future__ import annotations

import re
from typing import Optional

LANGUAGES = ("ko", "en")

# The labels of a Gugugo prompt (`### 영어: …`); the koja models use 일본어 for Japanese.
LABELS = {"ko": "한국어", "en": "영어", "ja": "일본어"}

# The language tags office documents mark text with (BCP 47, as Word and PowerPoint write them).
LANGUAGE_TAGS = {"ko": "ko-KR", "en": "en-US"}

# Hangul syllables, jamo and compatibility jamo.
HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]+")

# A text counts as Korean when at least this share of its letters are Hangul.
HANGUL_SHARE = 0.3


def hangul_share(text: str) -> float:
    return _share(text, sum(map(str.isalpha, text)))


def _share(text: str, letters: int) -> float:
    if not letters:
        return 0.0
    return (len(text) - len(_HANGUL_RUN.sub("", text))) / letters


def detect_language(text: str) -> Optional[str]:
    """'ko' or 'en' by the share of Hangul among the letters; None when there are no letters."""
    letters = sum(map(str.isalpha, text))
    if not letters:
        return None
    return "ko" if _share(text, letters) >= HANGUL_SHARE else "en"


def has_hangul(text: str) -> bool:
    return HANGUL.search(text) is not None
