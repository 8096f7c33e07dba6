"""The copy of a Markdown file's lines that markdown-it is given: what CommonMark has no rule for made blank
(its bytes are never touched, only the parser's copy changes) or dedented, so that the text around it is read
as the paragraphs it is.

Blanked: front matter (YAML `---`, TOML `+++`, JSON `{`…`}`), `$$` and `\\[`…`\\]` math blocks, Hugo
`{{< x >}}…{{< /x >}}` blocks whose inner text is code or data (the opening and closing lines only of the
shortcodes that hold prose: notes, alerts, tabs), Docusaurus/remark directive fences (`:::note`, `:::`) and
MDX `import`/`export` lines. Dedented: the blocks indented under a footnote's `[^label]:` line and under the
opening line of an MkDocs admonition (`!!! note "Title"`), collapsible block (`??? tip`) or tab (`=== "Tab"`),
whose title is read as a line of its own.
"""

from __future__ import annotations

import re
from bisect import bisect_right

# A Hugo shortcode alone on its line: `{{< name args >}}` opens a block, `{{< /name >}}` closes it. Hugo does not
# read the inner text of a `{{< >}}` block as Markdown (it is code, data or HTML for the shortcode's template,
# as in `{{< code-toggle >}}`), so such a block is kept as it is; `{{% %}}` blocks hold Markdown and are
# translated, and so are the blocks of the shortcodes themes use for prose (their templates render the inner
# text as Markdown): only their opening and closing lines are kept.
_SHORTCODE_OPEN = re.compile(r"[ \t]*\{\{<[ \t]*([\w.-]+)(?:[ \t][^\n]*?)?(?<!/)>\}\}[ \t]*")
_SHORTCODE_CLOSE = re.compile(r"[ \t]*\{\{<[ \t]*/[ \t]*([\w.-]+)[ \t]*>\}\}[ \t]*")
PROSE_SHORTCODES = frozenset(
    "note caution warning tip info important danger alert notice hint callout admonition details expand "
    "collapse tab tabs pageinfo card quote blockquote aside panel steps columns".split())
# `:::note Title`, `:::`, `::: tip`, `:::tip[Title]`: directive fences (Docusaurus, VitePress, remark-directive)
_DIRECTIVE = re.compile(r"[ \t]*:{3,}[ \t]*(?:[\w-]+(?:[ \t[{].*)?)?")
_DIRECTIVE_TITLE = re.compile(r"[ \t]*:{3,}[ \t]*[\w-]+[ \t]+([^\s\[{].*?)[ \t]*")
# what comes before a block on its line: block quote markers, a list item's marker, indentation
_LINE_PREFIX = re.compile(r"(?:[ \t]*>)*[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?")
# ECMAScript module lines of MDX (Docusaurus reads .md files as MDX): `import X from '…';`, `export const …`
_MDX_ESM = re.compile(r"(?:import[ \t][^'\"\n]*?from[ \t]*|import[ \t]*)['\"][^'\"\n]+['\"];?[ \t]*"
                      r"|export[ \t]+(?:const|let|var|function|default|\{)[^\n]*")
# Python-Markdown's admonitions (`!!! note "Title"`), pymdownx details (`??? note`, `???+ note`) and tabs
# (`=== "Tab"`): the block is the lines indented under the opening line
_CONTAINER = re.compile(r"(?:!!!|\?\?\?\+?)[ \t]*[\w-]+(?:[ \t]+[\w-]+)*(?:[ \t]+\"(?P<title>[^\"]*)\")?[ \t]*"
                        r"|===\+?[ \t]+\"(?P<tab>[^\"]*)\"[ \t]*")
_FOOTNOTE_DEF = re.compile(r" {0,3}\[\^[^\]\s]+\]:")
_INDENT = re.compile(r" {4}|\t| {0,3}\t")


def parser_lines(lines: list[str]) -> list[str]:
    """The lines markdown-it reads for a file's lines (see the module's docstring)."""
    out = _blank_front_matter(list(lines))
    out = _blank_math(out)
    out = _blank_shortcode_blocks(_blank_long_shortcodes(out))
    out = [_directive(line) if ":::" in line else "" if _MDX_ESM.fullmatch(line) else line for line in out]
    return _dedent_containers(_dedent_footnotes(out))


def _directive(line: str) -> str:
    """A directive fence for the parser (in a block quote or a list item too): its prefix, and its title alone
    (`:::note Your Title` -> `Your Title`); the fence and its name stay out of it. Any other line as it is."""
    at = _LINE_PREFIX.match(line).end()
    if not _DIRECTIVE.fullmatch(line, at):
        return line
    m = _DIRECTIVE_TITLE.fullmatch(line, at)
    return line[:at] + (_title(m.group(1)) if m else "")


def _title(text: str) -> str:
    """A title as a line of its own for the parser: a heading, which no line after it joins."""
    return "###### " + text if text.strip() else ""


def _blank_front_matter(out: list[str]) -> list[str]:
    if not out:
        return out
    first = out[0].lstrip("\ufeff").rstrip()
    closers = {"---": ("---", "..."), "+++": ("+++",), "{": ("}",)}.get(first)
    if closers:
        for i in range(1, len(out)):
            if out[i].rstrip() in closers:
                out[: i + 1] = [""] * (i + 1)
                break
    return out


_MATH_FENCES = {"$$": "$$", "\\[": "\\]"}


def _blank_math(out: list[str]) -> list[str]:
    i = 0
    while i < len(out):
        closer = _MATH_FENCES.get(out[i].strip())
        if closer:
            for j in range(i + 1, len(out)):
                if out[j].strip() == closer:
                    out[i : j + 1] = [""] * (j + 1 - i)
                    i = j
                    break
        i += 1
    return out


_LONG_OPEN = re.compile(r"[ \t]*\{\{[<%](?!.*[>%]\}\})")
_LONG_CLOSE = re.compile(r".*?[>%]\}\}[ \t]*")


def _blank_long_shortcodes(lines: list[str]) -> list[str]:
    """A shortcode that starts a line and takes several (`{{< img` / `  src="…"` / `>}}`): all its lines, so
    that a `>}}` starting a line is not read as a block quote."""
    i = 0
    while i < len(lines):
        if _LONG_OPEN.match(lines[i]):
            end = next((j for j in range(i + 1, min(i + 50, len(lines))) if "}}" in lines[j]), None)
            if end is not None and _LONG_CLOSE.fullmatch(lines[end]):
                lines[i:end + 1] = [""] * (end + 1 - i)
                i = end
        i += 1
    return lines


def _blank_shortcode_blocks(lines: list[str]) -> list[str]:
    closers: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        m = _SHORTCODE_CLOSE.fullmatch(line)
        if m:
            closers.setdefault(m.group(1), []).append(i)
    if not closers:
        return lines
    i = 0
    while i < len(lines):
        m = _SHORTCODE_OPEN.fullmatch(lines[i])
        ends = closers.get(m.group(1), []) if m else []
        k = bisect_right(ends, i)
        if k < len(ends):
            if m.group(1).lower() in PROSE_SHORTCODES:
                lines[i] = lines[ends[k]] = ""
            else:
                lines[i:ends[k] + 1] = [""] * (ends[k] + 1 - i)
                i = ends[k]
        i += 1
    return lines


def _dedent_footnotes(lines: list[str]) -> list[str]:
    """The blocks of a footnote (indented under its `[^label]:` line, after a blank line) one level less
    indented, so that markdown-it, which has no footnotes, reads them as the paragraphs they are rather than as
    indented code."""
    out, inside, blank, dedenting = list(lines), False, False, False
    for i, line in enumerate(lines):
        if _FOOTNOTE_DEF.match(line):
            inside, blank, dedenting = True, False, False
        elif not line.strip():
            blank = True
        elif inside:
            indent = _INDENT.match(line)
            if blank:
                inside = dedenting = indent is not None
            if dedenting and indent:
                out[i] = line[indent.end():]
            blank = False
    return out


def _dedent_containers(lines: list[str]) -> list[str]:
    """The blocks of admonitions, collapsible blocks and tabs (MkDocs) one level less indented for each container
    they are in, so that they are read as paragraphs, not indented code; an opening line becomes its title or a
    blank line."""
    out, depth = list(lines), 0  # depth: the containers the lines being read are in
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        body, level = line, 0
        while level < depth:
            indent = _INDENT.match(body)
            if indent is None:
                break
            body, level = body[indent.end():], level + 1
        depth = level
        m = _CONTAINER.fullmatch(body)
        if m and not body[:1].isspace():
            out[i] = _title(m.group("title") or m.group("tab") or "")
            depth += 1
        elif level:
            out[i] = body
    return out
