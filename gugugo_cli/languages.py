"""The languages the tool knows: their codes, the labels Gugugo prompts use, and telling Korean from English."""

from __future__ import annotations

import re
from typing import Optional

LANGUAGES = ("ko", "en")

# The languages' names in English, as messages and the APIs give them.
NAMES = {"ko": "Korean", "en": "English"}


def other_language(lang: Optional[str]) -> Optional[str]:
    """The language a text that is not in lang is translated from (ko <-> en); None for anything else."""
    return {"ko": "en", "en": "ko"}.get(lang or "")

# The labels of a Gugugo prompt (`### 영어: …`); the koja models use 일본어 for Japanese.
LABELS = {"ko": "한국어", "en": "영어", "ja": "일본어"}

# The language tags office documents mark text with (BCP 47, as Word and PowerPoint write them).
LANGUAGE_TAGS = {"ko": "ko-KR", "en": "en-US"}

# Hangul syllables, jamo and compatibility jamo.
HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]+")

def hangul_share(text: str) -> float:
    return _share(text, sum(map(str.isalpha, text)))


def _share(text: str, letters: int) -> float:
    if not letters:
        return 0.0
    return (len(text) - len(_HANGUL_RUN.sub("", text))) / letters


def detect_language(text: str) -> Optional[str]:
    """'ko' or 'en' by whose grammar the text is written in; None when there are no letters.

    Korean technical writing is full of English terms (`KcBERT-finetune Performance score를 본문에
    추가하였습니다.`), and English text quotes Korean names and words (`Han Kang (Korean: 한강) is a writer.`),
    so counting letters misjudges both. Instead Hangul words vote for Korean and English function words (the,
    is, of …) for English; English content words are neutral, being the terms Korean writing borrows. A Hangul
    word carrying grammar (a particle or ending attached to a foreign word, `score를`, `4.0의`, or ending in a
    common particle or verb ending) counts twice. Text in parentheses, brackets and quotes is a gloss or a
    quotation and does not vote, unless nothing else has letters. Korean wins only with more votes.
    """
    if not any(ch.isalpha() for ch in text):
        return None
    if not has_hangul(text):
        return "en"
    if not _LATIN.search(text):
        return "ko"  # no English word to vote against it
    outside = _QUOTED.sub("0", text)
    if not any(ch.isalpha() for ch in outside):
        outside = text
    korean = english = 0
    for word in outside.split():
        if HANGUL.search(word):
            korean += 2 if _carries_grammar(word) else 1
        elif word.strip(_EDGE_PUNCTUATION).lower() in _FUNCTION_WORDS:
            english += 1
    return "ko" if korean > english else "en"


_LATIN = re.compile(r"[A-Za-z]")
# Glosses and quotations: (…), […], "…", “…”, ‘…’, `…`, and '…' that opens and closes at word edges.
_QUOTED = re.compile(r"\([^()\n]*\)|\[[^\[\]\n]*\]|\"[^\"\n]*\"|“[^”\n]*”|‘[^’\n]*’|`[^`\n]*`"
                     r"|(?<![\w'])'[^'\n]+'(?!\w)")
_EDGE_PUNCTUATION = ".,;:!?()[]{}<>\"'“”‘’`*_~-–—/\\|#…"
# Hangul right after a letter, digit or closing mark: a particle on a foreign word (score를, 4.0의, **Speech**의).
_ATTACHED = re.compile(r"[A-Za-z0-9)\]\"'”’`*_%][\uac00-\ud7a3]")
# Common particles and verb endings (one or two syllables) that end a Hangul word after a syllable of its own.
_ENDINGS = frozenset(("은", "는", "이", "가", "을", "를", "의", "에", "에서", "으로", "로", "와", "과", "도", "만",
                      "까지", "부터", "에게", "처럼", "보다", "이나", "다", "요", "까", "죠", "고", "며", "면", "서",
                      "지", "게", "된", "한", "할", "던", "기", "음", "함", "됨", "임", "니다", "세요"))


def _carries_grammar(word: str) -> bool:
    if _ATTACHED.search(word):
        return True
    core = word.rstrip(_EDGE_PUNCTUATION)
    return any(len(core) > n and core[-n:] in _ENDINGS and "\uac00" <= core[-n - 1] <= "\ud7a3" for n in (1, 2))


_FUNCTION_WORDS = frozenset("""
a an the this that these those it its i you he she we they me him her us them my your his our their
is are was were be been being am do does did has have had will would can could shall should may might must
of to in on at by for with from into onto about as than then so if or and but nor not no yes
what which who whom whose when where why how there here all any each every some more most such only also
very just too
""".split())


def has_hangul(text: str) -> bool:
    return HANGUL.search(text) is not None
