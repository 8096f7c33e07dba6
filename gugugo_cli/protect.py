"""Protected spans and glossary terms: what must come out of a translation exactly as given.

Protected spans are URLs, e-mail addresses, file paths, inline code and code blocks, HTML/XML entities, format
placeholders ({name}, {0}, {{var}}, %s, %(x)d, %1$s, ${name}, $1) and numbers with a technical unit ("3.5 GB",
"10 km", "60 Hz"). Each span, and each glossary term outside them, is replaced by a mask `‹N›` before the
text goes to the model; the masks in the answer are replaced by the spans as they were, and by the glossary's
target terms. If the answer loses a mask, repeats one or invents one, the pieces of text between the spans are
translated on their own (all such pieces of a call in one inner call) and joined with the spans, so a span is
never lost.

The mask shape was chosen by measurement with the echo model (tests/models/echo, which answers a prompt with
its own source text): inserted into 24 English and 24 Korean test sentences, one mask came back exactly once
in 46/48 sentences as `‹0›` and as `X0`, 42/48 as `⟨0⟩`, 40/48 as `⟦0⟧`, 9/48 as `[[0]]`, 3/48 as `{0}` and
0/48 as `<x0>`, `__0__`, `#0#`, `@0`; with two masks 44, 43, 41, 38, 4, 3 and 0/48. `‹N›` is as reliable as
`XN` and cannot be mistaken for ordinary text. A random model (the tests' tiny one) keeps no mask, which is
what the piecewise fallback is for.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Iterator, Optional, Sequence

from .engines.base import Translation, Translator, Wrapper, as_streaming, translate_stream
from .glossary import Glossary, Term
from .patterns import URL, trim_url

log = logging.getLogger("gugugo_cli")

MASK = "‹{}›"
_MASK = re.compile(r"‹(\d+)›")
_MASK_CHARS = ("‹", "›")

_A = r"A-Za-z0-9"  # ASCII letters and digits: Hangul around a span (a particle) is not part of it
_UNITS = (r"[KMGTPE]i?B|kB|[KMG]?bps|[kMG]?Hz|ms|µs|μs|ns|km|cm|mm|nm|kg|mg|mL|°C|°F|px|dpi|rpm|kWh|kW|mAh")

_UNIT = rf"(?P<unit>(?<![{_A}.,/])[0-9]+(?:[.,][0-9]+)*[ \u00a0]?(?:{_UNITS})(?![A-Za-z/]))"
_SPANS = re.compile("|".join([
    r"(?P<block>```[\s\S]*?```|~~~[\s\S]*?~~~)",
    r"(?P<code>``[^\n]+?``|`[^`\n]+`)",
    rf"(?P<url>{URL})",
    rf"(?P<email>(?<![{_A}._%+\-])[{_A}._%+\-]+@[{_A}\-]+(?:\.[{_A}\-]+)*\.[A-Za-z]{{2,}}(?![{_A}]))",
    rf"(?P<path>(?<![{_A}_/.~\\])(?:"
    rf"(?:~|\.{{1,2}})/[{_A}_.\-/]*[{_A}_\-]"  # ~/x, ./x, ../x
    rf"|/[{_A}_.\-]+(?:/[{_A}_.\-]+)+/?"  # /usr/local/bin: two parts at least
    rf"|[{_A}_\-]+(?:/[{_A}_.\-]+)+\.[A-Za-z][{_A}]{{0,5}}(?![{_A}/])"  # src/main.py: a file name ending
    rf"|[A-Za-z]:\\(?:[{_A}_.\-]+\\?)+))",  # C:\Users\x
    r"(?P<entity>&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});)",
    r"(?P<template>\{\{[^{}\n]{1,80}\}\}|\{%[^%\n]{1,80}%\})",
    r"(?P<format>\{(?:[A-Za-z_][A-Za-z0-9_.\[\]]*|[0-9]*)(?:![rsa])?(?::[^{}\n]{0,20})?\})",
    r"(?P<printf>(?<!%)%(?:[0-9]+\$|\([A-Za-z_][A-Za-z0-9_]*\))?[-+#0]*(?:[0-9]+|\*)?(?:\.[0-9]+)?"
    r"(?:hh|h|ll|l|L|z|j|t)?[diouxXeEfFgGcsr](?![A-Za-z]))",
    r"(?P<shell>\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[1-9](?![0-9]|[.,][0-9]))",
    _UNIT,
]))

# Every kind of span but a number with a unit holds one of these; a text without them is searched for units
# alone, and a text without them or a digit has no span (the same spans, without trying every kind at every
# character).
_SPAN_CHARACTERS = "`~@/\\&{%$"
_UNIT_SPANS = re.compile(_UNIT)
_DIGIT = re.compile(r"[0-9]")


def find_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every protected span, left to right, not overlapping."""
    spans = []
    if "www." in text or any(c in text for c in _SPAN_CHARACTERS):
        matches = _SPANS.finditer(text)
    elif _DIGIT.search(text):
        matches = _UNIT_SPANS.finditer(text)
    else:
        return spans
    for m in matches:
        kind = m.lastgroup
        start, end = m.span()
        if kind == "url":
            end = start + len(trim_url(m.group()))
            if end - start < 8:
                continue
        elif kind == "path":
            end = start + len(m.group().rstrip("."))
        spans.append((start, end, kind))
    return spans


@dataclass
class Masked:
    """A text cut at its protected spans and glossary terms: pieces[0] span[0] pieces[1] ... pieces[-1]."""

    source: str
    pieces: list[str]
    originals: list[str]  # each span as it stands in the source
    replacements: list[str]  # what each span becomes: itself, or a glossary term's target
    terms: list[Optional[Term]]
    collides: bool = False  # the source has mask characters of its own: only the piecewise path is safe

    @property
    def text(self) -> str:
        """What the model is given: the pieces with a mask in place of every span."""
        out = [self.pieces[0]]
        for n, piece in enumerate(self.pieces[1:]):
            out += [MASK.format(n), piece]
        return "".join(out)

    def restore(self, output: str) -> Optional[str]:
        """The translation with every mask replaced; None when a mask is missing, repeated or unknown."""
        if sorted(int(n) for n in _MASK.findall(output)) != list(range(len(self.replacements))):
            return None
        return _MASK.sub(lambda m: self.replacements[int(m.group(1))], output)

    def needs_model(self) -> bool:
        return any(_has_letters(p) for p in self.pieces)

    def unmasked(self) -> str:
        """The source with glossary terms replaced and everything else as it was."""
        return _join(self.pieces, self.replacements)


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _join(pieces: Sequence[str], spans: Sequence[str]) -> str:
    out = [pieces[0]]
    for span, piece in zip(spans, pieces[1:]):
        out += [span, piece]
    return "".join(out)


def mask(text: str, glossary: Optional[Glossary] = None, protect: bool = True) -> Optional[Masked]:
    """The text cut at its protected spans (if protect) and glossary terms outside them; None if it has none."""
    cuts: list[tuple[int, int, Optional[Term]]] = []
    position = 0
    for start, end, _ in (find_spans(text) if protect else []) + [(len(text), len(text), "")]:
        if glossary is not None:
            cuts += [(a, b, term) for a, b, term in glossary.find(text, position, start)]
        if end > start:
            cuts.append((start, end, None))
        position = end
    if not cuts:
        return None
    pieces, originals, replacements, terms = [], [], [], []
    position = 0
    for start, end, term in cuts:
        pieces.append(text[position:start])
        originals.append(text[start:end])
        replacements.append(term.target if term else text[start:end])
        terms.append(term)
        position = end
    pieces.append(text[position:])
    return Masked(text, pieces, originals, replacements, terms, collides=any(c in text for c in _MASK_CHARS))


class ProtectingTranslator(Wrapper):
    """Wraps a translator: protected spans and glossary terms are masked on the way in and put back (glossary
    terms as their targets) on the way out, with the piecewise fallback where the model mishandles a mask.

    `fallbacks` counts the texts that took the piecewise path in the current (or last) call."""

    def __init__(self, inner: Translator, glossary: Optional[Glossary] = None, protect: bool = True):
        self.inner = as_streaming(inner)
        self.glossary = glossary
        self.protect = protect
        self.fallbacks = 0

    def rewrap(self, inner) -> "ProtectingTranslator":
        """The wrapped translator's variant (e.g. with a repetition penalty), protected the same way."""
        return ProtectingTranslator(inner, self.glossary, self.protect)

    def translate_stream(self, texts: Sequence[str], src: str, tgt: str) -> Iterator[Translation]:
        texts = list(texts)
        self.fallbacks = 0
        masked = [mask(t, self.glossary, self.protect) for t in texts]
        send, owners, fallback = [], [], []
        for i, m in enumerate(masked):
            if m is None:
                send.append(texts[i])
                owners.append(i)
            elif not m.needs_model():  # only spans and terms: nothing for the model
                yield Translation(i, m.unmasked())
            elif m.collides:
                fallback.append(i)
            else:
                send.append(m.text)
                owners.append(i)
        if send:
            for t in translate_stream(self.inner, send, src, tgt):
                i = owners[t.index]
                restored = t.text if masked[i] is None else masked[i].restore(t.text)
                if restored is None:
                    fallback.append(i)
                else:
                    yield replace(t, index=i, text=restored)
        if fallback:
            self.fallbacks = len(fallback)
            log.debug("%d segment%s lost a protected span's mask; translated between the spans instead",
                      len(fallback), "" if len(fallback) == 1 else "s")
            yield from self._in_pieces({i: masked[i] for i in fallback}, src, tgt)

    def _in_pieces(self, masked: dict[int, Masked], src: str, tgt: str) -> Iterator[Translation]:
        """Each text's pieces between its spans translated on their own (all in one call), joined with the spans;
        capped when one of its pieces is."""
        parts: list[str] = []
        where: dict[tuple[int, int], int] = {}
        for i, m in masked.items():
            for k, piece in enumerate(m.pieces):
                if _has_letters(piece):
                    where[(i, k)] = len(parts)
                    parts.append(piece.strip())
        done = {t.index: t for t in translate_stream(self.inner, parts, src, tgt)} if parts else {}
        for i, m in masked.items():
            pieces, capped = [], False
            for k, piece in enumerate(m.pieces):
                if (i, k) in where:
                    part = done[where[(i, k)]]
                    capped = capped or part.capped
                    lead = piece[:len(piece) - len(piece.lstrip())]
                    trail = piece[len(piece.rstrip()):]
                    pieces.append(lead + part.text.strip() + trail)
                else:
                    pieces.append(piece)
            yield Translation(i, _join(pieces, m.replacements), capped=capped)


def count_terms(glossary: Glossary, texts, protect: bool = True) -> dict[Term, int]:
    """How many of these segments each glossary term is found in (outside protected spans), in file order."""
    counts = {t: 0 for t in glossary.terms}
    for text in texts:
        m = mask(text, glossary, protect)
        for term in {t for t in (m.terms if m else ()) if t is not None}:
            counts[term] += 1
    return counts
