"""The markup inside a subtitle cue's text: telling tags from text, pairing tags across a cue's lines, and
finding each line's text apart from the markup that wraps it (what a translation must carry back)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass


# Markup inside a cue's text. A tag is `<name ...>` or `</name>` with a letter-led name (and in WebVTT a
# timestamp tag such as <00:00:21.000>); ASS override blocks such as {\an8} are markup too. Anything else
# that holds a `<` or `>` (`2<3,5>1,4<6`, `a < b`) is text.
_MARKUP = re.compile(
    r"<(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9]*)(?P<rest>[.\s/][^<>]*)?>"
    r"|<(?P<ts>\d+(?::\d{2}){1,2}\.\d{3})>"
    r"|(?P<ass>\{\\[^{}]*\})"
)
_POSITION = re.compile(r"\\(?:an?\d|pos\s*\(|move\s*\(|org\s*\()")
_VOID = {"br", "img", "hr", "wbr", "meta", "link"}
_DASH = re.compile(r"([-–—‐]+)\s*(?!\d)")


@dataclass(frozen=True)
class Syntax:
    """How a format writes text in a cue: whether character references (&amp;) are decoded for the
    translator, and how text is escaped again when written."""

    name: str
    entities: bool = False

    def decode(self, text: str) -> str:
        return html.unescape(text) if self.entities else text

    def escape(self, text: str) -> str:
        if self.name == "smi":
            return html.escape(text, quote=False)
        if self.name == "vtt":
            # an & only where it would be read as a character reference; every < and >, since a WebVTT parser
            # reads from any < to the next > as a tag (`&lt;&amp;&gt;` decoded to `<&>` must not become one)
            text = _AMPERSAND.sub(lambda m: "&amp;" if _is_reference(text, m.start()) else "&", text)
            return text.replace("<", "&lt;").replace(">", "&gt;")
        return text


_AMPERSAND = re.compile(r"&(?=[#A-Za-z0-9]+;?)")
_REFERENCE = re.compile(r"&[#A-Za-z0-9]+;?")
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)")


def _is_reference(text: str, at: int) -> bool:
    m = _REFERENCE.match(text, at)
    return html.unescape(m.group()) != m.group()


SRT = Syntax("srt")
VTT = Syntax("vtt", entities=True)
SMI = Syntax("smi", entities=True)


@dataclass
class Token:
    kind: str  # "text", "open", "close", "void", "ts" (timestamp), "ass", "br" or "dash"
    raw: str
    name: str = ""  # a tag's name, lower case
    text: str = ""  # a text token's text, character references decoded


def tokenize(line: str, syntax: Syntax = SRT) -> list[Token]:
    """A line of cue text as text and markup tokens, in order; joining their raw strings gives the line."""
    tokens: list[Token] = []
    pos = 0
    for m in _MARKUP.finditer(line):
        if m.group("ts") and syntax.name != "vtt":
            continue
        if m.start() > pos:
            raw = line[pos:m.start()]
            tokens.append(Token("text", raw, text=syntax.decode(raw)))
        raw = m.group()
        if m.group("ass"):
            tokens.append(Token("ass", raw))
        elif m.group("ts"):
            tokens.append(Token("ts", raw))
        else:
            name = m.group("name").lower()
            if name == "br":
                kind = "br"
            elif m.group("close"):
                kind = "close"
            elif name in _VOID or raw.endswith("/>"):
                kind = "void"
            else:
                kind = "open"
            tokens.append(Token(kind, raw, name))
        pos = m.end()
    if pos < len(line):
        tokens.append(Token("text", line[pos:], text=syntax.decode(line[pos:])))
    return tokens


@dataclass
class Line:
    """One line of a cue that has text: the markup written before and after it, kept around its translation."""

    raw: str  # the line as written
    text: str  # its visible text, markup dropped, spaces collapsed
    lead: list[str]  # markup written before the text, in order (tags opened, a speaker dash)
    trail: list[str]  # markup written after it (tags closed; a tag the line left open is closed here)
    own_lead: list[str]  # the part of lead and trail that belongs to this line alone, not the whole cue
    own_trail: list[str]
    dash: str = ""  # speaker dash, as written (e.g. "- ")
    whole: bool = True  # the raw line stands on its own: every tag in it is opened and closed in it

    @property
    def style(self) -> tuple:
        """The line's own markup apart from a speaker dash."""
        return tuple(t for t in self.own_lead if t != self.dash), tuple(self.own_trail)


def _sort_key(item):
    return item[0]


def parse_cue(lines: list[str], syntax: Syntax = SRT) -> list[Line]:
    """The lines of a cue that have text, each with the markup that wraps it.

    Tags are paired across the whole cue. A pair that encloses all the cue's text wraps the cue (its
    opening goes before the first line, its closing after the last); one that encloses a whole line wraps
    that line; any other pair is inside the text and is dropped, opening and closing together. A closing
    tag without its opening is dropped; a tag left open is closed at the end of what it wraps. ASS blocks
    before or after the text stay; positioning ones ({\an8}) inside the text move before it.
    """
    flat = _flatten(lines, syntax)
    key, close_of, paired = _pair(flat)
    content = [g for g, (_, t) in enumerate(flat) if t.kind == "text" and t.text.strip()]
    text_lines = sorted({flat[g][0] for g in content})
    if not text_lines:
        return []
    # where the text of each line begins and ends
    first = {n: min(key[g] for g in content if flat[g][0] == n) for n in text_lines}
    last = {n: max(key[g] for g in content if flat[g][0] == n) for n in text_lines}
    leads, trails, dashes = _wrappers(flat, key, close_of, text_lines, first, last)
    out = []
    for n in text_lines:
        parts = []
        for g in range(len(flat)):
            if flat[g][0] != n or not (first[n] <= key[g] <= last[n]):
                continue
            tok = flat[g][1]
            parts.append(tok.text if tok.kind == "text" else " " if tok.kind == "br" else "")
        lead = sorted(leads[n], key=_sort_key)
        trail = sorted(trails[n], key=_sort_key)
        out.append(Line(
            raw=lines[n],
            text=" ".join("".join(parts).split()),
            lead=[r for _, r, _ in lead],
            trail=[r for _, r, _ in trail],
            own_lead=[r for _, r, own in lead if own],
            own_trail=[r for _, r, own in trail if own],
            dash=dashes.get(n, ""),
            whole=_stands_alone(flat, n, close_of, paired, lead, trail),
        ))
    return out


def _flatten(lines: list[str], syntax: Syntax) -> list[tuple[int, Token]]:
    """(line number, token) of every token of the cue, a speaker dash at the start of a line's text split off."""
    flat: list[tuple[int, Token]] = []
    for n, line in enumerate(lines):
        tokens = tokenize(line, syntax)
        for i, tok in enumerate(tokens):  # a speaker dash at the start of the line's text
            if tok.kind == "text" and tok.text.strip():
                m = _DASH.match(tok.raw.lstrip())
                if m:
                    lead_ws = len(tok.raw) - len(tok.raw.lstrip())
                    cut = lead_ws + m.end()
                    rest = tok.raw[cut:]
                    tokens[i:i + 1] = [Token("text", tok.raw[:lead_ws], text=""),
                                       Token("dash", tok.raw[lead_ws:cut]),
                                       Token("text", rest, text=syntax.decode(rest))]
                break
            if tok.kind in ("ts", "br"):
                break
        flat += [(n, t) for t in tokens]
    return flat


def _pair(flat: list) -> tuple[dict, dict, set]:
    """Tags paired over the whole cue (a closing tag closes what was opened inside it too): the key of each
    token (its place in the cue), opening token -> the key of its closing (a token, or one written by us),
    and the tokens paired as written."""
    key = {g: (g, 1, 0) for g in range(len(flat))}
    close_of: dict[int, tuple] = {}
    paired: set[int] = set()
    stack: list[int] = []

    def close_above(depth: int, g: int):
        for k, o in enumerate(reversed(stack[depth:])):
            close_of[o] = (g, 0, k)
        del stack[depth:]

    for g, (_, tok) in enumerate(flat):
        if tok.kind == "open":
            if tok.name == "v":  # a new voice ends the one before it
                for depth in range(len(stack) - 1, -1, -1):
                    if flat[stack[depth]][1].name == "v":
                        close_above(depth, g)
                        break
            stack.append(g)
        elif tok.kind == "close":
            for depth in range(len(stack) - 1, -1, -1):
                if flat[stack[depth]][1].name == tok.name:
                    close_above(depth + 1, g)
                    close_of[stack[depth]] = key[g]
                    paired.update((stack[depth], g))
                    del stack[depth:]
                    break
    close_above(0, len(flat))
    return key, close_of, paired


def _wrappers(flat, key, close_of, text_lines, first, last) -> tuple[dict, dict, dict]:
    """The items kept before and after each text line, as (key, raw, belongs to the line alone), and the
    lines' speaker dashes."""
    start, end = first[text_lines[0]], last[text_lines[-1]]

    def home(at: tuple) -> int:
        """The text line whose end a key follows (or the first one)."""
        before = [n for n in text_lines if last[n] < at]
        return before[-1] if before else text_lines[0]

    leads: dict[int, list] = {n: [] for n in text_lines}
    trails: dict[int, list] = {n: [] for n in text_lines}
    dashes: dict[int, str] = {}
    for g, (n, tok) in enumerate(flat):
        k = key[g]
        if tok.kind == "open":
            c = close_of[g]
            closing = flat[c[0]][1].raw if c[1] == 1 else f"</{_tag_name(tok.raw)}>"
            if k < start and c > end:
                leads[text_lines[0]].append((k, tok.raw, False))
                trails[text_lines[-1]].append((c, closing, False))
            elif n in leads and k < first[n] and c > last[n] and all(
                    c < first[m] for m in text_lines if m > n):
                leads[n].append((k, tok.raw, True))
                trails[n].append((c, closing, True))
        elif tok.kind == "ass":
            if k < start:
                leads[text_lines[0]].append((k, tok.raw, False))
            elif k > end:
                trails[text_lines[-1]].append((k, tok.raw, False))
            elif n in leads and k < first[n]:
                leads[n].append((k, tok.raw, True))
            elif n in leads and k > last[n]:
                trails[n].append((k, tok.raw, True))
            elif _POSITION.search(tok.raw):
                line = home(k)
                leads[line].append(((-1, 0, g), tok.raw, line != text_lines[0]))
        elif tok.kind == "dash" and n in leads and k < first[n]:
            leads[n].append((k, tok.raw, True))
            dashes[n] = tok.raw
    return leads, trails, dashes


def _tag_name(raw: str) -> str:
    return _TAG_NAME.match(raw).group(1)


def _stands_alone(flat, n, close_of, paired, lead, trail) -> bool:
    """Whether line n, written as it was, opens and closes its own tags and nothing of the cue's."""
    if any(not own for _, _, own in lead + trail):
        return False
    for g, (m, tok) in enumerate(flat):
        if m != n:
            continue
        if tok.kind == "close" and g not in paired:
            return False
        if tok.kind == "open":
            c = close_of[g]
            if c[1] != 1 or flat[c[0]][0] != n:
                return False
    return True
