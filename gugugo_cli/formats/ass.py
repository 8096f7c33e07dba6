"""Advanced SubStation Alpha / SubStation Alpha (.ass, .ssa): the text of each Dialogue event translated in
place; every other byte of the file written back as it was.

The file is read line by line, as libass reads it: `[Section]` headings, and in [Events] a `Format:` line
that names the fields of the event lines. Only the Text field of `Dialogue:` lines is touched: the part of
the line after as many commas as the Format line has fields before Text (Text takes the rest of the line,
commas included). [Script Info], styles, [Fonts] and [Graphics] attachments, `Comment:` events, other event
types, comments and unknown sections stay byte for byte.

In an event's text:
- `{...}` is an override block (`{\\an8}`, `{\\pos(…)}`, `{\\i1}`) or, without a backslash, an inline
  comment; neither is ever sent to the translator. Blocks before the text stay before it, blocks after it
  stay after it. A block inside the text that holds a tag that applies to the whole event (`\\pos`, `\\move`,
  `\\org`, `\\an`, `\\a`, `\\fad`, `\\fade`, `\\clip`, `\\iclip`, `\\q`) has those tags moved before the text;
  any other tag inside the text (`{\\i1}word{\\i0}`, colours, `{\\r}`) is dropped, as a translation has no
  place for it; an inline comment inside the text moves after it.
- `\\N` is a line break: an event is one translation unit whose translation is wrapped again to the target's
  line width, lines joined with `\\N`. Lines that each carry their own style (a `{\\r…}` block starting a
  line) or speaker dash are translated one by one and keep it. `\\n` (a soft break) and `\\h` (a hard space)
  are spaces to the translator; `\\h` padding before or after the text stays.
- Events with a drawing (`{\\p1}`) or karaoke timing (`{\\k…}`, `{\\K…}`, `{\\kf…}`, `{\\ko…}`) are left
  alone, as are events with nothing to translate.

A sentence that runs over consecutive events of the same layer, style, speaker and leading override blocks
is translated once and spread back over them (as for SubRip); an event shown while the one before it still
is never joins it, and positioned events (`\\pos`, `\\move`, `\\clip`) and events with an Effect join none.
Refused, in one line naming the line: a file without an [Events] section or its Format line, a Dialogue line
with fewer fields than the Format line names or a malformed Start/End time, an event with more than
MAX_EVENT_CHARS characters of text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InputError
from ..textio import decode_bytes, encode_like
from .base import FormatOptions
from .cue_markup import _DASH, Line, Syntax
from .subtitles import Cue, CueTranslation, SubtitleDocument, split_lines

_SECTION = re.compile(r"^\s*\[([^\]]*)\]\s*$")
_EVENT = re.compile(r"^\s*(Dialogue|Comment|Picture|Sound|Movie|Command)\s*:")
_FORMAT = re.compile(r"^\s*Format\s*:(.*)$", re.IGNORECASE)
_TIME = re.compile(r"^\s*(-?)(\d+):(\d{1,2}):(\d{1,2})(?:[.:](\d+))?\s*$")

# tags that apply to the whole event wherever they are written
_WHOLE_EVENT_TAG = re.compile(r"\\(?:pos|move|org|i?clip|fade?)\s*\([^()\\]*\)?|\\an?\s*\d+|\\q\s*\d")
_DRAWING = re.compile(r"\\p\s*0*[1-9]")
_KARAOKE = re.compile(r"\\(?:kf|ko|k|K)\s*\d")
_POSITIONED = re.compile(r"\\(?:pos|move|org|i?clip)\s*\(")
_SPACE_LEAD = re.compile(r"(?:\s|\\[hn])*")

# An event whose text to translate is longer than this is refused (wrapping it would take too long).
MAX_EVENT_CHARS = 10_000


_BACKSLASH_CODE = re.compile(r"\\(?=[Nnh])")


@dataclass(frozen=True)
class _AssSyntax(Syntax):
    """Text written into an event: nothing the renderer would read as markup or a line break."""

    def escape(self, text: str) -> str:
        text = " ".join(text.split())  # no raw line break may end the event's line
        text = text.replace("{", "(").replace("}", ")")
        return _BACKSLASH_CODE.sub(lambda m: "\\\u200b", text)  # `\N` as text: a zero-width space keeps it text


ASS = _AssSyntax("ass")


def _parts(text: str) -> list[str]:
    """An event's text as blocks `{...}` (to the first `}`, as libass reads them; a `{` never closed is text)
    and the text between them, in order."""
    parts, pos = [], 0
    while pos < len(text):
        at = text.find("{", pos)
        close = text.find("}", at) if at >= 0 else -1
        if close < 0:
            parts.append(text[pos:])
            break
        if at > pos:
            parts.append(text[pos:at])
        parts.append(text[at:close + 1])
        pos = close + 1
    return parts


def _pieces(text: str) -> list[list[str]]:
    """The event's text cut at its `\\N` line breaks (never inside a block), each line as its parts."""
    pieces: list[list[str]] = [[]]
    for part in _parts(text):
        if _is_block(part):
            pieces[-1].append(part)
            continue
        for k, chunk in enumerate(part.split("\\N")):
            if k:
                pieces.append([])
            if chunk:
                pieces[-1].append(chunk)
    return pieces


def _space_tail(raw: str) -> int:
    """How many characters at the end of raw are spaces or `\\h` / `\\n`."""
    n = len(raw)
    while n:
        if raw[n - 1].isspace():
            n -= 1
        elif n >= 2 and raw[n - 2] == "\\" and raw[n - 1] in "hn":
            n -= 2
        else:
            break
    return len(raw) - n


def _visible(raw: str) -> str:
    return " ".join(raw.replace("\\h", " ").replace("\\n", " ").split())


def _is_block(part: str) -> bool:
    return part.startswith("{") and part.endswith("}")


def parse_event(text: str) -> list[Line]:
    """The lines of an event's text that have something to read, each with the blocks kept around it."""
    lines: list[dict] = []
    before: list[str] = []  # blocks on text-less lines before the first line of text
    after: list[str] = []  # ... after the last one
    moved: list[str] = []  # whole-event tags from inside the text
    notes: list[str] = []  # inline comments from inside the text
    for parts in _pieces(text):
        content = [i for i, p in enumerate(parts) if not _is_block(p) and _visible(p)]
        if not content:
            (after if lines else before).extend(p for p in parts if _is_block(p))
            continue
        after.clear()  # blocks on a blank line between two lines of text go with that line
        first, last = content[0], content[-1]
        mid = parts[first:last + 1]
        head = _SPACE_LEAD.match(mid[0]).group()
        mid[0] = mid[0][len(head):]
        cut = _space_tail(mid[-1])
        tail = mid[-1][len(mid[-1]) - cut:] if cut else ""
        mid[-1] = mid[-1][:len(mid[-1]) - cut]
        dash = ""
        m = _DASH.match(mid[0])
        if m and (_visible(mid[0][m.end():]) or len(mid) > 1):
            dash = m.group()
            mid[0] = mid[0][len(dash):]
        words, exact = [], True
        for part in mid:
            if not _is_block(part):
                words.append(part)
                continue
            exact = False
            if "\\" not in part:
                notes.append(part)
            else:
                tags = _WHOLE_EVENT_TAG.findall(part)
                if tags:
                    moved.append("{" + "".join(tags) + "}")
        # (raw, is markup of this line): spaces and \h around the text are kept but are no style
        lead = [(b, True) for b in parts[:first]] + ([(head, False)] if head else []) + ([(dash, True)] if dash else [])
        trail = ([(tail, False)] if tail else []) + [(b, True) for b in parts[last + 1:]]
        lines.append(dict(raw="".join(parts), text=_visible("".join(words)), dash=dash, exact=exact,
                          lead=lead, trail=trail))
    if not lines:
        return []
    out = []
    for k, p in enumerate(lines):
        is_first, is_last = k == 0, k == len(lines) - 1
        # a block before the first line's text or after the last one's is the whole event's
        lead = [(r, own and (not is_first or (bool(p["dash"]) and r == p["dash"]))) for r, own in p["lead"]]
        trail = [(r, own and not is_last) for r, own in p["trail"]]
        exact = p["exact"]
        if is_first:
            # what is the event's: blocks before its first line of text, and whole-event tags from inside it
            lead = [(b, False) for b in before + moved] + lead
            exact = exact and not before and not moved
        if is_last:
            trail = trail + [(b, False) for b in notes + after]
            exact = exact and not notes and not after
        out.append(Line(
            raw=p["raw"],
            text=p["text"],
            lead=[r for r, _ in lead],
            trail=[r for r, _ in trail],
            own_lead=[r for r, own in lead if own],
            own_trail=[r for r, own in trail if own],
            dash=p["dash"],
            whole=exact,
        ))
    return out


@dataclass
class _EventCue(Cue):
    text_raw: str = ""  # the event's Text field as written

    def __post_init__(self):
        self.parsed = parse_event(self.text_raw) if self.lines else []


def _seconds(value: str):
    m = _TIME.match(value)
    if not m:
        return None
    sign, h, mi, s, frac = m.groups()
    t = int(h) * 3600 + int(mi) * 60 + int(s) + (int(frac) / 10 ** len(frac) if frac else 0)
    return -t if sign else t


@dataclass
class _Event:
    line: int  # index of the Dialogue line
    text_at: int  # where its Text field begins in that line
    start: float
    end: float
    key: str  # layer, style, speaker, leading override blocks: events joined into one sentence share it


class AssDocument(SubtitleDocument):
    def __init__(self, data: bytes, name: str, options: FormatOptions):
        self.options = options
        self.decoded = decode_bytes(data, name)
        self.lines = split_lines(self.decoded.text)
        self.events: list[_Event] = []
        self.left_alone: dict[str, int] = {}  # what the summary reports as kept untranslated, by kind
        cues: list[Cue] = []
        if self.decoded.text.strip():
            cues = self._read(name)
        self.translation = CueTranslation(cues, merge=options.merge)

    def _read(self, name: str) -> list[Cue]:
        section = None
        seen_sections: set[str] = set()
        fields: list[str] | None = None
        cues: list[Cue] = []
        last_end = None
        run = 0
        for n, (line, _) in enumerate(self.lines):
            m = _SECTION.match(line)
            if m:
                section = m.group(1).strip().lower()
                seen_sections.add(section)
                if section == "events":
                    fields = None
                continue
            if section != "events":
                continue
            m = _FORMAT.match(line)
            if m:
                fields = [f.strip().lower() for f in m.group(1).split(",")]
                if "text" not in fields:
                    raise InputError(name, f"not a valid SubStation Alpha file: the Format line at line {n + 1} "
                                           "names no Text field")
                continue
            m = _EVENT.match(line)
            if not m or m.group(1) != "Dialogue":
                continue
            if fields is None:
                raise InputError(name, f"not a valid SubStation Alpha file: Dialogue at line {n + 1} comes before "
                                       "any Format line in [Events]")
            values, text_at = self._fields(line, m.end(), fields.index("text"))
            if values is None:
                raise InputError(name, f"not a valid SubStation Alpha file: the Dialogue at line {n + 1} has "
                                       f"{text_at} fields, its Format line names {len(fields)}")
            record = dict(zip(fields, values))
            times = self._times(record, name, n)
            text = line[text_at:]
            parts = _parts(text)
            blocks = "".join(p for p in parts if _is_block(p))
            untouched = bool(_DRAWING.search(blocks) or _KARAOKE.search(blocks))
            if _KARAOKE.search(blocks) and _visible("".join(p for p in parts if not _is_block(p))).strip():
                self.left_alone["karaoke lines"] = self.left_alone.get("karaoke lines", 0) + 1
            leading = ""
            for part in parts:
                if not (_is_block(part) or not part.strip()):
                    break
                leading += part
            if not untouched and len(_visible("".join(p for p in parts if not _is_block(p)))) > MAX_EVENT_CHARS:
                raise InputError(name, f"the Dialogue at line {n + 1} has more than {MAX_EVENT_CHARS:,} characters "
                                       "of text")
            key = "|".join([record.get("layer", record.get("marked", "")).strip(), record.get("style", "").strip(),
                            record.get("name", record.get("actor", "")).strip(), leading.strip()])
            # a run of events that may be read as one sentence ends before an event shown while the one
            # before it still is; positioned signs and events with an Effect are never joined at all
            if _POSITIONED.search(blocks) or record.get("effect", "").strip():
                run += 2
                key += f"#{run - 1}"
            else:
                if last_end is not None and times[0] < last_end:
                    run += 1
                key += f"#{run}"
            last_end = times[1]
            self.events.append(_Event(n, text_at, times[0], times[1], key))
            pieces = [] if untouched else ["".join(p) for p in _pieces(text)]
            cues.append(_EventCue(times[0], times[1], pieces, ASS, key, text_raw=text))
        if "events" not in seen_sections:
            if not seen_sections:
                raise InputError(name, "not a SubStation Alpha (ASS/SSA) file: no [Script Info] or [Events] section")
            raise InputError(name, "not a valid SubStation Alpha file: no [Events] section")
        if fields is None:
            raise InputError(name, "not a valid SubStation Alpha file: no Format line in [Events]")
        return cues

    @staticmethod
    def _times(record: dict, name: str, n: int) -> list:
        """The Start and End times of the Dialogue at line n + 1, in seconds."""
        times = []
        for key in ("start", "end"):
            value = record.get(key, "0:00:00.00")
            t = _seconds(value)
            if t is None:
                raise InputError(name, f"not a valid SubStation Alpha file: malformed {key.title()} time at "
                                       f"line {n + 1}: {value.strip()[:20]!r}")
            times.append(t)
        return times

    @staticmethod
    def _fields(line: str, at: int, text_index: int):
        """The values of the fields before Text and where Text begins, or (None, fields found)."""
        values = []
        for _ in range(text_index):
            comma = line.find(",", at)
            if comma < 0:
                return None, len(values) + 1
            values.append(line[at:comma])
            at = comma + 1
        values.append(line[at:])
        return values, at

    def render(self, translated: list[str]) -> bytes:
        new = self.new_lines(translated)
        out = [l + t for l, t in self.lines]
        for i, lines in new.items():
            event = self.events[i]
            line, ending = self.lines[event.line]
            out[event.line] = line[:event.text_at] + "\\N".join(lines) + ending
        return encode_like(self.decoded, "".join(out), self.options.encoding)
