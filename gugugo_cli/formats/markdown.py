"""Markdown (.md, .markdown): the text a reader sees is translated in place; every other byte stays.

The file is parsed with markdown-it-py (CommonMark, plus GFM tables and strikethrough). Its block tokens give
the lines of each paragraph, heading and table cell; the inline rules are run again over that text with
their source positions recorded, so it is known exactly where code spans, links, images, autolinks and inline
HTML are. Translations are spliced into the original text; nothing is re-rendered.

Kept byte for byte: fenced and indented code, HTML blocks, reference definitions, front matter (YAML `---`,
TOML `+++`, JSON `{`), `$$` and `\\[`…`\\]` math blocks, Hugo `{{< x >}}…{{< /x >}}` blocks of code or data
(those of prose shortcodes such as `note` are translated inside), directive fences (`:::note`, `:::`; a title
after the name is translated) and MDX `import`/`export` lines (markdown_blocks.py), and inside a paragraph:
code spans, inline HTML tags, autolinks, bare URLs, `$…$` math, footnote labels (`[^1]`, and `[^1]:` starting
a definition), the `^[` and `]` of an inline note, an alert's type (`> [!NOTE]`), attribute lists ending a
line (`{#id}`, `{.class}`) or right after what they apply to, icons (`:material-clock-fast:`), template tags (`{{< x >}}`, `{{% x %}}`, `{% x %}`, over several lines too) and
the `[`, `](url "title")` / `][ref]` and `![` parts of links and images (in an image's description too). A
footnote's blocks indented under its definition, and those of MkDocs admonitions and tabs, are read as the
paragraphs they are (markdown-it has no footnotes or admonitions); an admonition's or tab's title is translated. List markers, `#`s, `>` prefixes, table pipes and indentation are outside the translated ranges.

Translated: the text runs of headings, paragraphs (in lists and block quotes too) and table cells, cut at the
kept pieces above: each run is one unit (so a link's text and an image's alt text are units of their own).
Emphasis markers (`*`, `_`, `~~`) and backslash escapes inside a run go through with the text (but a marker
at its start with a space after it, or at its end with a space before it, pairs with one outside the run and
stays where it is); if a
translation does not give back as many of a marker character as its source had, that character is dropped
from it (in pairs, never left unbalanced). A run that spans lines is one line for the translator; it keeps its
number of lines: each line break goes back at a word boundary, with the line's original prefix (`> `,
indentation) after it.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from ..errors import InputError
from ..patterns import URL, trim_url
from ..segment import Segment
from ..textio import decode_bytes, encode_like
from .base import FormatOptions
from .markdown_blocks import parser_lines

log = logging.getLogger(__name__)

_LINE = re.compile(r"[^\r\n]*(\r\n|\r|\n|$)")
_HEADING_TAIL = re.compile(r"[ \t]*(?:#+[ \t]*|\"[ \t]*)?$")  # (or the quote closing a title: `!!! note "Title"`)
_QUOTE_PREFIX = re.compile(r"(?:[ \t]*>)*[ \t]*")
# Inside text runs, what markdown-it (CommonMark) has no rule for and what is kept: bare URLs, $…$ math,
# footnote labels (`[^1]` and a definition's `[^1]:` at the start of a line), a definition list's `: ` starting
# a line after its term, attribute lists at the end of a line (`## Title {#id}`, `{.class}`, `{class=foo}`) or
# right after what they apply to (`__Bold__{ .lg }`), icon shortcodes (`:material-clock-fast:`),
# template tags (Hugo shortcodes `{{< x >}}`, `{{% x %}}`, over several lines too, `{{ .Var }}`, `{% tag %}`)
# and the type of an alert opening a block quote (`> [!NOTE]`, GitHub, Hugo, Obsidian), its line end with it.
_BARE = re.compile(
    rf"(?P<url>{URL})"
    r"|\$\$[^$]+\$\$"
    r"|\$(?=[^\s$\d])[^$\n]*[^\s$\\]\$(?!\d)"
    r"|(?:(?<=\n)|\A)[ \t]*\[\^[^\]\s]+\]:[ \t]*|\[\^[^\]\s]+\]|(?<=\n)[ \t]{0,3}:[ \t]+"
    r"|[ \t]*\{:?[ \t]*(?:[#.][\w-]|[\w-]+=)[^{}\n]*\}(?=[ \t]*(?:\n|\Z))"
    r"|(?<=[^\s{])\{:?[ \t]*(?:[#.][\w-]|[\w-]+=)[^{}\n]*\}|(?:(?<=\n)|\A)[ \t]*\{[#.][\w-][^{}\n]*\}[ \t]*"
    r"|(?<![A-Za-z0-9:]):[a-z0-9]+(?:[-_][a-z0-9]+)+:(?![A-Za-z0-9:])"
    r"|\{\{[<%][\s\S]{0,2000}?[%>]\}\}|\{\{[^{}\n]*\}\}|\{%[^\n]*?%\}"
    r"|\A[ \t]*\[![\w-]+\][+-]?[ \t]*\n?"
)
_MARKERS = "*_~"
_MAX_BYTES = 20 * 1024 * 1024


@dataclass
class _Unit:
    raw: str  # the run's lines joined with "\n"
    spans: list  # (start, end) in the original text of each of its lines
    cell: bool = False  # a table cell: a "|" in the translation would end the cell
    ref: tuple | None = None  # (start, end, text): an edit made with the translation (a reference's label)

    def __post_init__(self):
        self.lines = Segment.from_original("", self.raw)  # one line: the breaks go back at word boundaries

    @property
    def text(self) -> str:
        return self.lines.text


class _Recorder:
    """Source spans of the inline rules that fired on one state (not the nested states of image alts)."""

    def __init__(self, state):
        self.state = state
        self.spans: list[tuple[str, int, int, int, list]] = []  # (rule, start, end, label end, new token types)


_active: list[_Recorder] = []


def _recording(name: str, fn):
    def rule(state, silent):
        rec = _active[-1] if _active else None
        if rec is None or silent or state is not rec.state:
            return fn(state, silent)
        start, label_end = state.pos, -1
        from markdown_it.helpers import parseLinkLabel

        if name == "link" and state.src.startswith("[", start):
            label_end = parseLinkLabel(state, start, True)
        elif name == "image" and state.src.startswith("![", start):
            label_end = parseLinkLabel(state, start + 1, False)
        before = len(state.tokens)
        ok = fn(state, silent)
        if ok:
            rec.spans.append((name, start, state.pos, label_end, [t.type for t in state.tokens[before:]]))
        return ok

    return rule


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    reference = next(r for r in md.block.ruler.__rules__ if r.name == "reference").fn

    def not_a_footnote(state, start, end, silent):  # `[^1]: Ibid.` is a footnote, not a link's reference
        at = state.bMarks[start] + state.tShift[start]
        return not state.src.startswith("[^", at) and reference(state, start, end, silent)

    md.block.ruler.at("reference", not_a_footnote)
    for name in ("backticks", "link", "image", "autolink", "html_inline"):
        rule = next(r for r in md.inline.ruler.__rules__ if r.name == name)
        md.inline.ruler.at(name, _recording(name, rule.fn))
    return md


def _protected(raw: str, env: dict) -> tuple[list[tuple[int, int]], dict]:
    """Ranges of an inline text that stay as they are, and the labels that are also a reference's name
    (`[foo]`, `[foo][]`): label start -> (end of the link's `]` or `][]`, the label)."""
    from markdown_it.rules_inline import StateInline

    md = _parser()
    state = StateInline(raw, md, env, [])
    rec = _Recorder(state)
    _active.append(rec)
    try:
        md.inline.tokenize(state)
    finally:
        _active.pop()
    kept, refs = [], {}
    for name, start, end, label_end, types in rec.spans:
        if name == "backticks":
            if "code_inline" in types:
                kept.append((start, end))
        elif name in ("autolink", "html_inline"):
            kept.append((start, end))
        elif name in ("link", "image") and label_end > start:
            label_start = start + (1 if name == "link" else 2)
            kept += [(start, label_start), (label_end, end)]
            if name == "image":  # an image's alt is read in a state of its own: its links, code and images
                inner, _ = _protected(raw[label_start:label_end], env)
                kept += [(label_start + a, label_start + b) for a, b in inner]
            if raw[label_end:end] in ("]", "][]"):
                refs[label_start] = (end, raw[label_start:label_end])
    return sorted(kept + _inline_note_marks(raw)), refs


def _inline_note_marks(raw: str) -> list[tuple[int, int]]:
    """The `^[` and `]` of each inline note (Pandoc, markdown-it-footnote: `text^[The note.]`), found in one
    pass: brackets nest, backslash escapes do not count."""
    if "^[" not in raw:
        return []
    marks, stack, i = [], [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            stack.append(i - 1 if i > 0 and raw[i - 1] == "^" else -1)
        elif ch == "]" and stack:
            start = stack.pop()
            if start >= 0:
                marks += [(start, start + 2), (i, i + 1)]
        i += 1
    return marks


def _runs(raw: str, env: dict) -> tuple[list[tuple[int, int]], dict]:
    """Translatable runs of an inline text: what lies between its protected ranges, less bare URLs and math;
    and the reference labels (see _protected)."""
    runs, cursor = [], 0
    kept, refs = _protected(raw, env)
    for start, end in kept + [(len(raw), len(raw))]:
        if start > cursor:
            piece_start = cursor
            for m in _BARE.finditer(raw, cursor, start):
                runs.append((piece_start, m.start()))
                piece_start = m.start() + len(trim_url(m.group())) if m.group("url") else m.end()
            runs.append((piece_start, start))
        cursor = max(cursor, end)
    runs = [_without_outer_markers(raw, a, b) for a, b in runs]
    return [(a, b) for a, b in runs if any(ch.isalpha() for ch in raw[a:b])], refs


_OPENS_NOTHING = re.compile(r"[*_~]+(?=\s)")  # a delimiter run a space follows: it closes what came before
_CLOSES_NOTHING = re.compile(r"(?<=\s)[*_~]+\Z")  # one after a space: it opens what comes after


def _without_outer_markers(raw: str, a: int, b: int) -> tuple[int, int]:
    """A run less the emphasis markers at its ends that pair with markers outside it (`__[link]__ by me`: the
    `__` after the link closes the one before it), which stay where they are."""
    m = _OPENS_NOTHING.match(raw, a, b)
    if m:
        a = m.end()
    m = _CLOSES_NOTHING.search(raw, a, b)
    return (a, m.start()) if m else (a, b)


def _parse_source(text: str) -> tuple[list[int], list[str], str]:
    """Where each line starts, the lines, and the text markdown-it is given (front matter and math blanked,
    footnote blocks dedented)."""
    matches = [m for m in _LINE.finditer(text) if m.end() > m.start()]
    lines = [m.group()[: len(m.group()) - len(m.group(1))] for m in matches]
    parse_lines = [l.replace("\0", "\ufffd") for l in parser_lines(lines)]
    return [m.start() for m in matches], lines, "\n".join(parse_lines)


def _block_shape(tokens) -> list[tuple]:
    return [(t.type, t.tag, t.level, t.markup if t.type != "inline" else "") for t in tokens]


def _table_cells(line: str) -> list[tuple[int, int]]:
    """(start, end) of each trimmed cell of a table row, as GFM splits it (at pipes not escaped)."""
    start = _QUOTE_PREFIX.match(line).end()
    end = len(line.rstrip())
    if line.startswith("|", start):
        start += 1
    bounds, cursor, i = [], start, start
    while i < end:
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "|":
            bounds.append((cursor, i))
            cursor = i + 1
        i += 1
    if cursor < end:
        bounds.append((cursor, end))
    cells = []
    for a, b in bounds:
        piece = line[a:b]
        lead = len(piece) - len(piece.lstrip())
        cells.append((a + lead, a + lead + len(piece.strip())))
    return cells


class MarkdownDocument:
    def __init__(self, data: bytes, name: str, options: FormatOptions):
        self.options = options
        if len(data) > _MAX_BYTES:
            raise InputError(name, f"Markdown file too large ({len(data) // 2**20} MiB; at most {_MAX_BYTES // 2**20})")
        self.source = decode_bytes(data, name)
        self.text = text = self.source.text
        self.units: list[_Unit] = []
        self.line_starts, lines, parse_src = _parse_source(text)
        try:
            self._read(lines, parse_src)
        except InputError:
            raise
        except (RecursionError, ValueError, IndexError) as e:  # the parser's limits on a hostile file
            raise InputError(name, f"cannot read as Markdown ({type(e).__name__}: {str(e)[:100]})") from None

    def _read(self, lines: list[str], src: str) -> None:
        env: dict = {}
        tokens = _parser().parse(src, env)
        self.shape = _block_shape(tokens)
        self.maps = [t.map for t in tokens]
        in_cell, row_cells = False, {}
        for tok in tokens:
            if tok.type in ("th_open", "td_open"):
                in_cell = True
            elif tok.type in ("th_close", "td_close"):
                in_cell = False
            if tok.type != "inline" or not tok.map:
                continue
            if in_cell:
                row = tok.map[0]
                if row not in row_cells:
                    row_cells[row] = [_table_cells(lines[row]), 0]
                cells = row_cells[row]
                index = cells[1]
                cells[1] += 1
                if index >= len(cells[0]) or not tok.content.strip():
                    continue
                a, b = cells[0][index]
                raw = lines[row][a:b]
                if raw.replace("\\|", "|") != tok.content:
                    log.debug("table cell at line %d not found", row + 1)
                    continue
                frags = [(row, a, b)]
            else:
                if not tok.content.strip():
                    continue
                frags = self._locate(lines, tok)
                if frags is None:
                    log.debug("text of the block at line %d not found", tok.map[0] + 1)
                    continue
                raw = "\n".join(lines[r][a:b] for r, a, b in frags)
            self._add_units(raw, frags, env, in_cell)

    @staticmethod
    def _locate(lines: list[str], tok):
        """Each content line of an inline token as (line, start, end) in the source."""
        frags = []
        for i, content_line in enumerate(tok.content.split("\n")):
            row = tok.map[0] + i
            if row >= len(lines):
                return None
            line = lines[row]
            col = line.rfind(content_line)
            while col >= 0 and not _HEADING_TAIL.fullmatch(line, col + len(content_line)):
                col = line.rfind(content_line, 0, col + len(content_line) - 1) if col > 0 else -1
            if col < 0 or not content_line:
                return None
            frags.append((row, col, col + len(content_line)))
        return frags

    def _add_units(self, raw: str, frags: list, env: dict, cell: bool) -> None:
        # fragment k covers raw[rs_k:re_k]; raw[re_k] is the "\n" before fragment k + 1
        bounds, pos = [], 0
        for r, a, b in frags:
            bounds.append((pos, pos + (b - a), self.line_starts[r] + a - pos))
            pos += (b - a) + 1
        starts = [b[0] for b in bounds]

        def fragment(pos: int) -> int:  # the fragment whose range (its "\n" included) holds pos
            return bisect_right(starts, pos) - 1

        def at(pos: int) -> int:
            return bounds[fragment(pos)][2] + pos

        runs, refs = _runs(raw, env)
        for start, end in runs:
            first, last = fragment(start), fragment(end)
            spans = [(base + max(start, rs), base + min(end, re_)) for rs, re_, base in bounds[first:last + 1]]
            ref = None
            if start in refs and raw.startswith("]", end):
                # `[foo]` names its reference by its label: the translated label gets `[foo]` after it
                link_end, label = refs[start]
                ref = (at(end), at(link_end), f"][{' '.join(label.split())}]")  # (one line: labels match by words)
            self.units.append(_Unit(raw[start:end], spans, cell, ref))

    def texts(self) -> list[str]:
        return [u.text for u in self.units]

    def render(self, translated: list[str]) -> bytes:
        groups = []  # the edits of one unit: its text, and the reference name a label may need after it
        for unit, new in zip(self.units, translated):
            if new == unit.text:
                continue
            new = unit.lines.restore(_balance_markers(unit.text, new.replace("\n", " ")))
            if unit.cell:
                new = re.sub(r"(?<!\\)\|", r"\\|", new) if "|" not in unit.text else new
                new = new.replace("\n", " ")
            parts = new.split("\n")
            if len(parts) > len(unit.spans):
                parts = parts[: len(unit.spans) - 1] + [" ".join(parts[len(unit.spans) - 1:])]
            parts += [""] * (len(unit.spans) - len(parts))
            out = [parts[0]]
            for (_, prev_end), (start, _), part in zip(unit.spans, unit.spans[1:], parts[1:]):
                out += [self.text[prev_end:start], part]
            groups.append([(unit.spans[0][0], unit.spans[-1][1], "".join(out))] + ([unit.ref] if unit.ref else []))
        text = self._splice(groups)
        # A translation must not change the blocks (a line that now starts with "1." or "#", a row that makes
        # a table): such a block is kept as it was, the others stay translated.
        for _ in range(len(groups)):
            changed = self._changed_block(text)
            if changed is None:
                break
            start, end = changed
            keep = [g for g in groups if not any(a < end and b >= start for a, b, _ in g)]
            if len(keep) == len(groups):  # the change is not inside a block: drop the last edit before it
                before = [g for g in groups if g[0][0] < end] or groups
                keep = [g for g in groups if g is not before[-1]]
            log.warning("a translation would change the Markdown structure at line %d; kept as it was",
                        self.text.count("\n", 0, start) + 1)
            groups = keep
            text = self._splice(groups)
        return encode_like(self.source, text, self.options.encoding)

    def _splice(self, groups: list) -> str:
        pieces, cursor = [], 0
        for start, end, replacement in sorted(e for g in groups for e in g):
            pieces += [self.text[cursor:start], replacement]
            cursor = end
        pieces.append(self.text[cursor:])
        return "".join(pieces)

    def _changed_block(self, text: str):
        """None if text has the same blocks as the source, else the source range of the first that differs."""
        if text == self.text:
            return None
        new = _block_shape(_parser().parse(_parse_source(text)[2], {}))
        if new == self.shape:
            return None
        i = next((k for k, (a, b) in enumerate(zip(new, self.shape)) if a != b), min(len(new), len(self.shape)))
        maps = [m for m in self.maps[: i + 1] if m] or [[0, len(self.line_starts)]]
        first, last = maps[-1]
        starts = self.line_starts + [len(self.text)]
        return starts[first], starts[min(last, len(self.line_starts))]


@lru_cache(maxsize=None)
def _unescaped(ch: str) -> re.Pattern:
    return re.compile(rf"(?<!\\){re.escape(ch)}")


def _count_unescaped(text: str, ch: str) -> int:
    return len(_unescaped(ch).findall(text))


def _balance_markers(source: str, translation: str) -> str:
    """Drop an emphasis marker character from a translation that lost or gained some of it."""
    for ch in _MARKERS:
        if _count_unescaped(translation, ch) != _count_unescaped(source, ch):
            translation = _unescaped(ch).sub("", translation)
    return translation
