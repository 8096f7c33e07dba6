"""Lines: which line breaks of a paragraph are inside a sentence (hard-wrapped prose) and which end a unit."""

from __future__ import annotations

import re
import unicodedata

_LINE_END = re.compile(r"\r\n|\r|\n")
_CLOSERS = "\"'”’)\\]}」』》〉›»˝"
# A line that ends like this ends its sentence: final punctuation, then closing quotes or brackets.
_FINAL_PUNCT = re.compile(rf"[.!?。？！…‼⁇⁈⁉][{_CLOSERS}]*$")
# ... except after a title or an abbreviation that is not at the end of a sentence.
_ABBREVIATION = re.compile(
    r"(?:^|[\s(])(?:Mr|Mrs|Ms|Mt|Dr|Prof|Gen|Col|Lt|Capt|Sgt|Sen|Rep|Gov|e\.g|i\.e|vs|cf|[A-Z])\.$")
# After a closing quote, a Korean line may go on with the quotative particle: “…했다”\n고 말했다.
_KO_QUOTE_GOES_ON = re.compile(r"(?:이?라?고|이?라며|이?라는|이?란|하고|하며|며|면서|라면서)(?:\s|$)")
# The last Hangul word of a line (before closing quotes or brackets).
_KO_LAST_WORD = re.compile(rf"([\uac00-\ud7a3]+)[{_CLOSERS}]*$")
# Words ending in 다 / 요 / 까 that are not a final ending: 보다 'than', 마다 'every', 필요 'need', ...
_KO_NOT_FINAL = ("보다", "마다", "바다", "필요", "중요", "주요", "수요", "강요", "소요", "아까")
# A line that starts like this starts a unit: a bullet, a number or letter of a list, a heading, a quote.
_LIST_MARKER = re.compile(
    r"(?:[-–—*+•◦▪▫‣⁃·∙●○■□◆◇▶▷►→※✓✔☐☑](?:\s|$)"
    r"|[•◦▪▫‣⁃●○■□◆◇▶▷►※]"
    r"|(?:\d{1,3}(?:[.-]\d{1,3})*|[a-zA-Z]|[ivxIVX]{1,5}|[가-하])[.)](?:\s|$)"
    r"|[(\[](?:\d{1,3}|[a-zA-Z]|[가-하])[)\]]"
    r"|[\u2460-\u24ff\u2776-\u2793\u3200-\u32ff]"
    r"|#{1,6}\s|>)"
)
# Hard-wrapped prose is wrapped at this many columns or more; narrower lines are taken as they are.
MIN_WRAP_COLUMNS = 30


def _columns(text: str) -> int:
    """Display width: a wide (Hangul, CJK) character counts 2, a combining mark 0, a tab up to the next 8."""
    if "\t" in text:
        return _columns_by_character(text)
    if text.isascii():
        return len(text)
    no_syllables = _SYLLABLES.sub("", text)  # a Hangul syllable is 2 columns, an ASCII character 1
    rest = _ASCII.sub("", no_syllables)
    return 2 * (len(text) - len(no_syllables)) + len(no_syllables) - len(rest) + _columns_by_character(rest)


_SYLLABLES = re.compile(r"[\uac00-\ud7a3]+")
_ASCII = re.compile(r"[\x00-\x7f]+")


def _columns_by_character(text: str) -> int:
    width = 0
    for ch in text:
        if ch == "\t":
            width += 8 - width % 8
        elif ord(ch) < 0x1100:
            width += 0 if unicodedata.combining(ch) else 1
        elif unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\ufeff":
            continue
        else:
            width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return width


def ends_sentence(line: str) -> bool:
    """Whether a line (without its line end) ends a sentence: final punctuation, maybe before closing quotes
    or brackets (not after Mr. or e.g.), or a Korean final ending (…다, …요, …까, …죠) without punctuation."""
    line = line.rstrip()
    if _FINAL_PUNCT.search(line):
        return not _ABBREVIATION.search(line)
    m = _KO_LAST_WORD.search(line)
    if not m:
        return False
    word = m.group(1)
    if word.endswith(_KO_NOT_FINAL) or len(word) < 2:
        return False
    if word.endswith("니까"):  # 합니까 / 입니까 (a question) ends; 오니까 'because' goes on
        return len(word) > 2 and (ord(word[-3]) - 0xAC00) % 28 == 17
    return word[-1] in "다요까죠"


def has_letters(text: str) -> bool:
    return any(map(str.isalpha, text))


def line_units(text: str) -> list[tuple[int, int]]:
    """Spans of the units of one paragraph (a run of non-blank lines), each without surrounding whitespace.

    A line is a unit of its own unless it is hard-wrapped prose: two lines are joined only where the first
    does not end a sentence (`ends_sentence`), neither is a list item start or a line without letters, the
    paragraph is wrapped at MIN_WRAP_COLUMNS or more, and the next line's first word would not have fitted
    on the first line (in display columns or in characters) — a line much shorter than its neighbours ends
    its unit. A list marker that starts a unit is left out of it (it is kept as it is, not translated).
    In verse-like paragraphs, where three quarters or more of the lines start with a capital
    letter, a capital letter starts a unit."""
    lines = []  # (content start, content end, content, full line)
    pos = 0
    for m in list(_LINE_END.finditer(text)) + [None]:
        end = m.start() if m else len(text)
        line = text[pos:end]
        content = line.strip()
        if content:
            start = pos + len(line) - len(line.lstrip())
            lines.append((start, start + len(content), content, line.rstrip()))
        if m:
            pos = m.end()
    if not lines:
        return []
    cols = [_columns(full) for *_, full in lines]
    chars = [len(full) for *_, full in lines]
    wrap_cols, wrap_chars = max(cols), max(chars)

    candidates = []  # i: the break after line i could be inside a sentence
    for i in range(len(lines) - 1):
        a, b = lines[i][2], lines[i + 1][2]
        if ends_sentence(a) and not (a[-1] in _CLOSERS and _KO_QUOTE_GOES_ON.match(b)):
            continue
        if _LIST_MARKER.match(b) or not has_letters(a) or not has_letters(b):
            continue
        word = b.split()[0]
        if wrap_cols < MIN_WRAP_COLUMNS:
            continue
        if cols[i] + 1 + _columns(word) <= wrap_cols and chars[i] + 1 + len(word) <= wrap_chars:
            continue
        candidates.append(i)
    # Verse, lyrics and lists start (nearly) every line with a capital; wrapped prose mostly does not.
    starts = [c for c in (_first_letter(line[2]) for line in lines[1:]) if c]
    if len(starts) >= 2 and sum(c.isupper() for c in starts) >= 0.75 * len(starts):
        candidates = [i for i in candidates if not _first_letter(lines[i + 1][2]).isupper()]
    joined = set(candidates)

    units, first = [], 0
    for i in range(len(lines)):
        if i not in joined:
            start, end = lines[first][0], lines[i][1]
            marker = _LIST_MARKER.match(text, start, end)
            if marker and has_letters(text[marker.end():end]):
                start = marker.end() + len(text[marker.end():end]) - len(text[marker.end():end].lstrip())
            units.append((start, end))
            first = i + 1
    return units


def _first_letter(text: str) -> str:
    return next((ch for ch in text if ch.isalpha()), "")
