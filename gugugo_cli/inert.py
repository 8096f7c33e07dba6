"""Text with nothing to translate: URLs, e-mail addresses, numbers, code and punctuation. Such text never
reaches the model (segment.plan_text keeps it as it is), whatever the format and whether or not protected
spans are on."""

from __future__ import annotations

import re

from .patterns import URL, trim_url

_A = r"A-Za-z0-9"
EMAIL = rf"(?<![{_A}._%+\-])[{_A}._%+\-]+@[{_A}\-]+(?:\.[{_A}\-]+)*\.[A-Za-z]{{2,}}(?![{_A}])"
_URL = re.compile(URL)
_WHOLE = re.compile(rf"{EMAIL}|``[^\n]+?``|`[^`\n]+`|&(?:[A-Za-z][A-Za-z0-9]{{1,31}}|#[0-9]{{1,7}}|#[xX][0-9A-Fa-f]{{1,6}});")
# Characters that only code, paths and markup have inside a word (not at its edges)
_CODE_CHARS = re.compile(r"[_=/\\{}<>$#@;|^+]|::|->|\([^()]*\)|\w\.\w")
_EDGE = "\"'“”‘’«»,.;:!?…*_~/"  # sentence punctuation, quotes, emphasis markers, a folder's slash
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*>")  # a bare inline tag (formats/html.py's units)
_BRACKETS = {"(": ")", "[": "]"}


def _without_spans(text: str) -> str:
    """The text with its URLs, e-mail addresses, code spans and entities blanked."""
    out, cursor = [], 0
    for m in _URL.finditer(text):
        out += [text[cursor:m.start()], " "]
        cursor = m.start() + len(trim_url(m.group()))
    out.append(text[cursor:])
    return _TAG.sub(" ", _WHOLE.sub(" ", "".join(out)))


def _is_word(token: str) -> bool:
    """Whether a token (no spaces) is a word to translate rather than a number, a symbol or code."""
    core = token.strip(_EDGE)
    for _ in range(3):  # "(optional)", "[(note)]"
        if len(core) > 1 and core[0] in _BRACKETS and core[-1] == _BRACKETS[core[0]]:
            core = core[1:-1].strip(_EDGE)
    core = core.lstrip("([").rstrip(")]").strip(_EDGE) if core.count("(") != core.count(")") else core
    if not any(ch.isalpha() for ch in core):
        return False
    if not core.isascii():
        return True
    return not _CODE_CHARS.search(core)


def nothing_to_translate(text: str) -> bool:
    """Whether a text has no word to translate: only URLs, e-mail addresses, numbers, code and punctuation."""
    if not any(ch.isalpha() for ch in text):
        return True
    return not any(_is_word(token) for token in _without_spans(text).split())
