"""Where everything in an HTML text starts: tags, text, entities, comments (Python's tolerant HTML parser)."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Scanner(HTMLParser):
    """Start offset of everything the parser reports, in order."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=False)
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.events: list[tuple] = []  # (kind, offset, tag, attrs)
        self.internal_subset = False  # a DOCTYPE with an internal subset (entity declarations)

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", self._offset(), tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.events.append(("startend", self._offset(), tag, attrs))

    def handle_endtag(self, tag):
        self.events.append(("end", self._offset(), tag, None))

    def handle_data(self, data):
        self.events.append(("text", self._offset(), None, None))

    def handle_entityref(self, name):
        self.events.append(("text", self._offset(), None, None))

    def handle_charref(self, name):
        self.events.append(("text", self._offset(), None, None))

    def handle_comment(self, data):
        self.events.append(("other", self._offset(), None, None))

    def handle_decl(self, decl):
        # the parser ends a declaration at its first '>', so `<!DOCTYPE x [<!ENTITY e "v">` gives `DOCTYPE x [...`
        if decl[:7].lower() == "doctype" and "[" in decl:
            self.internal_subset = True
        self.events.append(("other", self._offset(), None, None))

    def handle_pi(self, data):
        self.events.append(("other", self._offset(), None, None))

    def unknown_decl(self, data):
        self.events.append(("other", self._offset(), None, None))


def scan(text: str) -> tuple[list[tuple], bool]:
    """(kind, start, end, tag, attrs) of everything in text, in order, and whether it has a DOCTYPE with an
    internal subset. kind is start, startend, end, text or other (comments, declarations, processing
    instructions: never translated)."""
    scanner = _Scanner(text)
    scanner.feed(text)
    left = scanner.rawdata
    if left.startswith("<"):
        # markup cut short by the end of the file (`<!-- note`, `<b class=`): the parser would hand it on as
        # text; it stays as it is
        scanner.events.append(("other", len(text) - len(left), None, None))
    else:
        scanner.close()
    events = scanner.events
    ends = [e[1] for e in events[1:]] + [len(text)]
    return [(kind, start, end, tag, attrs) for (kind, start, tag, attrs), end in zip(events, ends)], \
        scanner.internal_subset
