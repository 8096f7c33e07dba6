"""Checks on each translation, and repairs, that work around any translator.

A small local model fails in known ways: it loops on a phrase until its token limit, drops part of the input,
answers in the source language, or gives nothing. `check()` names such a failure; `GuardedTranslator` passes
good results through as they come and, at the end, retries the suspect ones (all together): first with a
repetition-limiting variant of the translator where it offers one, then cut at clause boundaries into parts
translated separately; if nothing passes it keeps the best attempt. Every result comes out as a Translation
saying why it was suspect and whether a retry repaired it; a retry that also stops at its token limit does not
pass. Results that passed are never touched by retries.

Length bounds, from the character-length ratio of translation to source on the news (1,000 pairs) and JHE
(720 pairs) dev sets: en->ko ko/en p0.5 0.16-0.33, p99.5 1.00-1.60, max 2.36; ko->en en/ko p0.5 0.59-1.00,
p99.5 2.91-5.89, max 9.37. The bounds sit outside every observed pair (news pairs are loosely aligned).
"""

from __future__ import annotations

import re
from typing import Iterator, Optional, Sequence

from .engines.base import CAPPED_REASON, Translation, Translator, Wrapper, as_streaming, translate_stream
from .languages import hangul_share
from .segment import approx_tokens, split_long

# (lowest, highest) of len(translation) / len(source) by direction; applied to sources of MIN_RATIO_CHARS or more.
LENGTH_RATIO = {("en", "ko"): (0.1, 2.5), ("ko", "en"): (0.35, 10.0)}
MIN_RATIO_CHARS = 24

# A phrase of 1-8 words said this many times in a row, or a run of 2-12 characters repeated this many times.
REPEATED_WORDS = 4
REPEATED_CHARS = 6
_WORD_LOOP = re.compile(r"(?:^|\s)((?:\S+\s+){1,8}?)\1{%d,}" % (REPEATED_WORDS - 1))
_CHAR_LOOP = re.compile(r"(.{2,12}?)\1{%d,}" % (REPEATED_CHARS - 1), re.S)
_SAME_CHAR = re.compile(r"(\S)\1{19,}")


def _repeats(text: str) -> Optional[str]:
    for pattern in (_WORD_LOOP, _CHAR_LOOP, _SAME_CHAR):
        for m in pattern.finditer(text + " "):
            if m.group(1).strip():
                return f"repeats {m.group(1).strip()[:20]!r}"
    return None


def check(source: str, output: str, src: str, tgt: str, capped: bool = False) -> Optional[str]:
    """Why this translation looks wrong, or None."""
    has_letters = any(ch.isalpha() for ch in source)
    if not has_letters:
        return None
    if not output.strip():
        return "empty translation"
    if capped:
        return CAPPED_REASON
    # a source that repeats itself ("ha ha ha ha", a row of dots) may be translated with repeats
    loop = _repeats(output) if not _repeats(source.lower()) else None
    if loop:
        return loop
    bounds = LENGTH_RATIO.get((src, tgt))
    if bounds and len(source) >= MIN_RATIO_CHARS:
        ratio = len(output) / len(source)
        if not bounds[0] <= ratio <= bounds[1]:
            return f"length {ratio:.2f}x the source's (expected {bounds[0]}-{bounds[1]})"
    letters = sum(1 for ch in output if ch.isalpha())
    if letters >= 8:
        share = hangul_share(output)
        if (tgt == "ko" and share < 0.1) or (tgt == "en" and share > 0.5):
            return f"not in the target language ({tgt})"
    return None


# how bad a reason is when choosing among failed attempts (lower is better)
def _badness(reason: Optional[str]) -> int:
    if reason is None:
        return 0
    for rank, start in enumerate(("not in the target", "length", "repeats", "stopped", "empty"), 1):
        if reason.startswith(start):
            return rank
    return 6


class GuardedTranslator(Wrapper):
    """Wraps a translator: checks every result, repairs what it can, and marks what was suspect."""

    def __init__(self, inner: Translator):
        self.inner = as_streaming(inner)

    def rewrap(self, inner) -> "GuardedTranslator":
        return GuardedTranslator(inner)

    def translate_stream(self, texts: Sequence[str], src: str, tgt: str) -> Iterator[Translation]:
        texts = list(texts)
        failed: dict[int, tuple[Translation, str]] = {}  # index -> (first translation, why it is suspect)
        for t in translate_stream(self.inner, texts, src, tgt):
            reason = check(texts[t.index], t.text, src, tgt, capped=t.capped)
            if reason is None:
                yield t
            else:
                failed[t.index] = (t, reason)
        if not failed:
            return
        best: dict[int, tuple[Translation, Optional[str]]] = dict(failed)  # the best attempt, why it fails or None
        for attempt in (self._retry_limiting_repetition, self._retry_in_parts):
            pending = [i for i in best if best[i][1] is not None]
            if not pending:
                break
            for i, t in attempt([texts[i] for i in pending], src, tgt, pending):
                reason = check(texts[i], t.text, src, tgt, capped=t.capped)
                if _badness(reason) < _badness(best[i][1]):
                    best[i] = (t, reason)
        for i, (t, reason) in best.items():
            yield Translation(i, t.text, capped=t.capped, suspect=failed[i][1], repaired=reason is None)

    def _retry_limiting_repetition(self, texts, src, tgt, indices) -> Iterator[tuple[int, Translation]]:
        retry = self.inner.variant(repetition_penalty=1.3)
        if retry is None:
            return
        for t in translate_stream(retry, texts, src, tgt):
            yield indices[t.index], t

    def _retry_in_parts(self, texts, src, tgt, indices) -> Iterator[tuple[int, Translation]]:
        """Each text cut at its best clause boundary (then at spaces), usually into two parts; all parts of
        all texts in one call. A joined result is capped when one of its parts is."""
        parts, owners = [], []
        for j, text in enumerate(texts):
            limit = max(4, approx_tokens(text) * 2 // 3)
            spans = split_long(text, limit, approx_tokens)
            if len(spans) < 2:
                continue
            for a, b in spans:
                parts.append(text[a:b])
                owners.append(j)
        if not parts:
            return
        done = {t.index: t for t in translate_stream(self.inner, parts, src, tgt)}
        joined: dict[int, list[Translation]] = {}
        for k, j in enumerate(owners):
            joined.setdefault(j, []).append(done[k])
        for j, pieces in joined.items():
            text = " ".join(p.text.strip() for p in pieces if p.text.strip())
            yield indices[j], Translation(j, text, capped=any(p.capped for p in pieces))
