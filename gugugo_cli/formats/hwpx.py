"""Hangul documents (.hwpx, OWPML): every paragraph of the body is translated in the section parts; every other
member of the package comes back byte for byte.

The section parts (Contents/section*.xml) hold all the text a reader sees: body paragraphs, tables, text boxes
and shapes, headers and footers, footnotes and endnotes, memos — each one an hp:p of its own, however deeply
nested. Master pages (Contents/masterpage*.xml) are read the same way. A paragraph is the unit, as for Word: its
text is that of the hp:t elements of its own runs (text inside hp:t around tabs and other inline marks
included); the translation goes where its first text was and the others are emptied, never removed, so each run
keeps its character shape. A line break (hp:lineBreak) or a tab (hp:tab) ends a unit, so it stays between the
translated parts. Text deleted under change tracking (between hp:deleteBegin and hp:deleteEnd) is not part of
the unit and stays as it is. Equations, field parameters and the preview text (Preview/PrvText.txt) are left
alone.

A paragraph whose text changed loses its hp:linesegarray, the line-layout cache Hangul saves with it (Hangul
lays the paragraph out again on opening; a stale cache would draw the new text over the old lines).

Written back: the mimetype member first and stored, then every other member in its order with its name, date
and compression; the manifest, version.xml, content.hpf and header.xml are not touched. The package is checked
first (formats/package.py) and XML is parsed with a hardened parser; a DOCTYPE is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InputError
from .base import FormatOptions
from .xmlzip import Part, XmlZipDocument, open_package

HP = "{http://www.hancom.co.kr/hwpml/2011/paragraph}"
MIMETYPE = b"application/hwp+zip"
_TEXT_PARTS = re.compile(r"Contents/(section|masterpage)\d+\.xml$", re.IGNORECASE)
_BREAKS = {f"{HP}lineBreak", f"{HP}tab"}
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class _Unit:
    """A paragraph's text (or one line of it): slots (element, "text" | "tail") holding its characters."""

    p: object
    slots: list

    @property
    def text(self) -> str:
        return "".join(getattr(e, where) or "" for e, where in self.slots)

    def set_text(self, new: str) -> None:
        # into the first slot that held text (inside the same marks: an insertion, a highlight)
        first = next((i for i, (e, w) in enumerate(self.slots) if getattr(e, w)), 0)
        for i, (element, where) in enumerate(self.slots):
            if i == first:
                setattr(element, where, _NOT_XML_CHARS.sub("", new))
            else:
                setattr(element, where, "" if where == "text" else None)
        layout = self.p.find(f"{HP}linesegarray")
        if layout is not None:
            self.p.remove(layout)


def _units(p) -> list:
    units, slots, deleted = [], [], False

    def close():
        nonlocal slots
        if slots and any(getattr(e, w) for e, w in slots):
            units.append(_Unit(p, slots))
        slots = []

    for run in p.iterchildren(f"{HP}run"):
        for t in run.iterchildren(f"{HP}t"):
            if not deleted:
                slots.append((t, "text"))
            for child in t:
                if child.tag == f"{HP}deleteBegin":
                    deleted = True
                elif child.tag == f"{HP}deleteEnd":
                    deleted = False
                elif child.tag in _BREAKS:
                    close()
                if not deleted:
                    slots.append((child, "tail"))
    close()
    return units


class HwpxDocument(XmlZipDocument):
    kind = "HWPX document"
    mimetype = MIMETYPE

    def __init__(self, data: bytes, name: str, options: FormatOptions):
        zip_file = open_package(data, name, self.kind, "old binary Hangul format (.hwp): save it as .hwpx first",
                                xml_suffixes=(".xml", ".hpf", ".rels"), limits=options.limits)
        super().__init__(data, name, zip_file)
        self.options = options
        names = self.zip.namelist()
        if "mimetype" in names and self.zip.read("mimetype").strip() != MIMETYPE:
            raise InputError(name, "not an HWPX document (its mimetype member is not application/hwp+zip)")
        sections = [n for n in names if _TEXT_PARTS.match(n)]
        if not sections or "Contents/content.hpf" not in names and "mimetype" not in names:
            raise InputError(name, "a zip file that is not an HWPX document (no Contents/section0.xml)")
        if "META-INF/manifest.xml" in names and b"encryption-data" in self.zip.read("META-INF/manifest.xml"):
            raise InputError(name, "password-protected HWPX document: remove the password and try again")
        self.mimetype = self.zip.read("mimetype") if "mimetype" in names else None
        for member in sections:
            root = self.read_part(member)
            units = [u for p in root.iter(f"{HP}p") for u in _units(p)]
            if units:
                self.parts.append(Part(member, root, units))
