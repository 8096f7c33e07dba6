"""Inline tags in a segment come back exactly as they went in.

HTML and EPUB send a block's inline elements to the translator as bare tags (`Hello <b>world</b>.`), so that a
link or an emphasis stays on its words; the tags get their attributes back when the file is written. A
translation that loses, adds, crosses or mangles a tag (`Hello b>world`) would lose an element. Such a segment
is translated again with each tag masked (`Hello ‹0›world‹1›.`); where the masks do not come back either, the
text between the tags is translated piece by piece and joined with the tags as they were. The translation
stream every caller shares (job/stream.py) goes through `TagKeepingTranslator`, and a cached translation that
lost a tag is not used.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import Iterator, Optional, Sequence

from .engines.base import Translation, Wrapper, as_streaming, translate_stream
from .inert import nothing_to_translate

TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)>")
_MASK = re.compile(r"‹(\d+)›")


def tag_sequence(text: str) -> list[tuple[str, bool]]:
    """(name, opening) of every bare tag in a text, in order."""
    return [(m.group(1), not m.group().startswith("</")) for m in TAG.finditer(text)]


def shape(seq) -> Optional[tuple]:
    """Tags left unpaired once properly nested pairs are taken out (closers, then openers); None if they cross."""
    stack, closers = [], []
    for name, opening in seq:
        if opening:
            stack.append(name)
        elif stack and stack[-1] == name:
            stack.pop()
        elif not stack:
            closers.append(name)
        else:
            return None
    return tuple(closers), tuple(stack)


def _debris(text: str) -> int:
    """Angle brackets outside bare tags."""
    bare = TAG.sub("", text)
    return bare.count("<") + bare.count(">")


def tags_kept(source: str, output: str) -> bool:
    """Whether a translation has the source's tags, each once, nested as they were (in any order that keeps
    their nesting), and no stray `<` or `>` the source did not have."""
    before, after = tag_sequence(source), tag_sequence(output)
    if Counter(after) != Counter(before):
        return False
    if after != before and (shape(after) is None or shape(after) != shape(before)):
        return False
    return _debris(output) <= _debris(source)


def _masked(text: str) -> Optional[tuple[str, list[str]]]:
    """The text with each tag replaced by ‹N›, and the tags; None when the text has mask characters itself."""
    if "‹" in text or "›" in text:
        return None
    tags: list[str] = []

    def number(m: re.Match) -> str:
        tags.append(m.group())
        return f"‹{len(tags) - 1}›"

    return TAG.sub(number, text), tags


def _unmasked(output: str, tags: list[str]) -> Optional[str]:
    if sorted(int(n) for n in _MASK.findall(output)) != list(range(len(tags))):
        return None
    return _MASK.sub(lambda m: tags[int(m.group(1))], output)


class TagKeepingTranslator(Wrapper):
    """Wraps a translator: a segment whose tags do not come back is translated again with its tags masked,
    then piece by piece between its tags (all retries of a call in one inner call each)."""

    def __init__(self, inner):
        self.inner = as_streaming(inner)

    def rewrap(self, inner) -> "TagKeepingTranslator":
        return TagKeepingTranslator(inner)

    def translate_stream(self, texts: Sequence[str], src: str, tgt: str) -> Iterator[Translation]:
        texts = list(texts)
        retry = []
        for t in translate_stream(self.inner, texts, src, tgt):
            if TAG.search(texts[t.index]) and not tags_kept(texts[t.index], t.text):
                retry.append(t.index)
            else:
                yield t
        if retry:
            yield from self._masked_or_in_pieces(texts, retry, src, tgt)

    def _masked_or_in_pieces(self, texts: list[str], retry: list[int], src: str, tgt: str) -> Iterator[Translation]:
        masked = {i: _masked(texts[i]) for i in retry}
        send = [i for i in retry if masked[i] is not None]
        pieces = [i for i in retry if masked[i] is None]
        if send:
            for t in translate_stream(self.inner, [masked[i][0] for i in send], src, tgt):
                i = send[t.index]
                restored = _unmasked(t.text, masked[i][1])
                if restored is not None and tags_kept(texts[i], restored):
                    yield replace(t, index=i, text=restored)
                else:
                    pieces.append(i)
        if pieces:
            yield from self._in_pieces(texts, pieces, src, tgt)

    def _in_pieces(self, texts: list[str], which: list[int], src: str, tgt: str) -> Iterator[Translation]:
        """Each text's pieces between its tags translated on their own, joined with the tags as they were."""
        split = {i: TAG.split(texts[i]) for i in which}  # text, name, text, name, ... (names of the tags)
        tags = {i: [m.group() for m in TAG.finditer(texts[i])] for i in which}
        parts: list[str] = []
        where: dict[tuple[int, int], int] = {}
        for i in which:
            for k, piece in enumerate(split[i][0::2]):
                if not nothing_to_translate(piece):
                    where[(i, k)] = len(parts)
                    parts.append(piece.strip())
        done = {t.index: t for t in translate_stream(self.inner, parts, src, tgt)} if parts else {}
        for i in which:
            out, capped = [], False
            for k, piece in enumerate(split[i][0::2]):
                if (i, k) in where:
                    part = done[where[(i, k)]]
                    capped = capped or part.capped
                    if tags_kept(piece, part.text):  # else the piece stays as it was: no tag debris
                        lead, trail = piece[:len(piece) - len(piece.lstrip())], piece[len(piece.rstrip()):]
                        piece = lead + part.text.strip() + trail
                out.append(piece)
                if k < len(tags[i]):
                    out.append(tags[i][k])
            yield Translation(i, "".join(out), capped=capped)
