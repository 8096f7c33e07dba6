"""Zip packages whose text lives in XML parts (.docx, .xlsx, .pptx, .hwpx): the parts that hold text are parsed
with a hardened parser, their text elements are changed in place paragraph by paragraph, and the package is
written back with every other member copied as it was.

- The package is checked first (formats/package.py: member count, sizes, compression ratio, CRCs, no DOCTYPE).
- XML is parsed without entities, DTD loading or network, and a part with a DOCTYPE is refused.
- A paragraph is the unit: its text is the text of its runs joined; the translation goes into the first text
  element and the others are emptied, never removed, so run formatting, links and fields stay.
- Written back: only the parts whose text changed are serialized again; every other member keeps its exact
  content, and every member its name, order, date, attributes and compression method (a `mimetype` member
  first and stored where the format has one). Nothing changed: the input's own bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import unquote

from ..errors import InputError

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def parser():
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, dtd_validation=False,
                           huge_tree=False, remove_blank_text=False)


def parse_part(data: bytes, name: str, member: str, kind: str):
    """The root element of an XML member; InputError for a part that is not well-formed or has a DOCTYPE."""
    from lxml import etree

    try:
        root = etree.fromstring(data, parser())
    except (etree.XMLSyntaxError, ValueError) as e:
        raise InputError(name, f"damaged {kind}: {member} is not well-formed XML ({_reason(e)})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise InputError(name, f"{kind} member {member} has a DOCTYPE (a DTD or entity declarations); refused")
    return root


def open_package(data: bytes, name: str, kind: str, old_format: Optional[str] = None,
                 xml_suffixes: tuple[str, ...] = (".xml", ".rels"), limits=None) -> zipfile.ZipFile:
    """The checked zip package, or an InputError saying in one line what the file is instead."""
    if not data:
        raise InputError(name, f"empty file, not a {kind}")
    if data.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise InputError(name, f"password-protected {kind}: remove the password and try again")
        raise InputError(name, old_format or f"not a {kind} (an old binary Office file)")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InputError(name, f"not a {kind} (not a zip package)")
    from ..safety import Limits
    from .package import open_checked

    return open_checked(data, name, limits or Limits(), kind, xml_suffixes)


def content_types(z: zipfile.ZipFile, name: str, kind: str) -> dict[str, str]:
    """OPC package: member name -> content type, from [Content_Types].xml (overrides, then defaults)."""
    try:
        data = z.read("[Content_Types].xml")
    except KeyError:
        raise InputError(name, f"not a {kind} (no [Content_Types].xml)") from None
    root = parse_part(data, name, "[Content_Types].xml", kind)
    defaults = {(d.get("Extension") or "").lower(): d.get("ContentType", "") for d in root.iter(f"{_CT_NS}Default")}
    overrides = {unquote(o.get("PartName", "")).lstrip("/").lower(): o.get("ContentType", "")
                 for o in root.iter(f"{_CT_NS}Override")}
    types = {}
    for member in z.namelist():
        if member.endswith("/"):
            continue
        ct = overrides.get(member.lower())
        if ct is None:
            ct = defaults.get(member.rsplit(".", 1)[-1].lower() if "." in member else "", "")
        types[member] = ct
    return types


@dataclass
class Paragraph:
    """One unit of translation: text elements whose texts, joined, are what a reader sees as one paragraph."""

    texts: list
    preserve_space: bool = False  # set xml:space="preserve" on the first element when the text needs it

    @property
    def text(self) -> str:
        return "".join(t.text or "" for t in self.texts)

    def set_text(self, new: str) -> None:
        new = _NOT_XML_CHARS.sub("", new)
        first, *rest = self.texts
        first.text = new
        if self.preserve_space and new != new.strip():
            first.set(XML_SPACE, "preserve")
        for t in rest:
            t.text = ""


@dataclass
class Part:
    member: str
    root: object
    paragraphs: list = field(default_factory=list)


class XmlZipDocument:
    """Base of the zip formats: subclasses fill self.parts (members with their paragraphs) in __init__."""

    kind = "package"
    mimetype: Optional[bytes] = None  # written first and stored, when the format has one

    def __init__(self, data: bytes, name: str, zip_file: zipfile.ZipFile):
        self.data, self.name, self.zip = data, name, zip_file
        self.parts: list[Part] = []

    def read_part(self, member: str):
        try:
            data = self.zip.read(member)
        except KeyError:
            raise InputError(self.name, f"damaged {self.kind} (its package names {member}, which is not in it)") from None
        return parse_part(data, self.name, member, self.kind)

    def texts(self) -> list[str]:
        return [p.text for part in self.parts for p in part.paragraphs]

    def place(self, paragraph: Paragraph, text: str) -> None:
        """Put a paragraph's translation into the document (a format may also mark its language here)."""
        paragraph.set_text(text)

    def render(self, translated: list[str]) -> bytes:
        new: dict[str, bytes] = {}
        cursor = 0
        for part in self.parts:
            changed = False
            for paragraph in part.paragraphs:
                text = translated[cursor]
                cursor += 1
                if text != paragraph.text:
                    self.place(paragraph, text)
                    changed = True
            if changed:
                new[part.member] = serialize(part.root, self.zip.read(part.member))
        if not new:
            return self.data
        return write_package(self.zip, new, self.mimetype)


_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*\?>\s*")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")


def serialize(root, original: bytes) -> bytes:
    """The part's tree as UTF-8, behind the original's own XML declaration when it had a UTF-8 one."""
    from lxml import etree

    tree = root.getroottree()
    head = _DECLARATION.match(original)
    encoding = _ENCODING.search(head.group(0)) if head else None
    if head and (encoding is None or encoding.group(1).lower().replace(b"_", b"-") in (b"utf-8", b"utf8")):
        return head.group(0) + etree.tostring(tree, xml_declaration=False, encoding="UTF-8")
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", standalone=tree.docinfo.standalone)


def write_package(z: zipfile.ZipFile, new: dict[str, bytes], mimetype: Optional[bytes] = None) -> bytes:
    """The package again with the members in `new` replaced: same members, order, dates and methods; with a
    `mimetype` (.epub, .hwpx), that member first and stored with it. Also writes .epub books back."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        if mimetype is not None:
            try:
                date = z.getinfo("mimetype").date_time
            except KeyError:
                date = (1980, 1, 1, 0, 0, 0)
            stored = zipfile.ZipInfo("mimetype", date)
            stored.compress_type = zipfile.ZIP_STORED
            target.writestr(stored, mimetype)
        for info in z.infolist():
            if mimetype is not None and info.filename == "mimetype":
                continue
            copy = zipfile.ZipInfo(info.filename, info.date_time)
            copy.compress_type = info.compress_type
            copy.external_attr = info.external_attr
            copy.create_system = info.create_system
            copy.comment = info.comment
            if info.is_dir():
                target.writestr(copy, b"")
            else:
                target.writestr(copy, new[info.filename] if info.filename in new else z.read(info))
    return out.getvalue()


def _reason(e: Exception) -> str:
    text = str(e).strip().strip("'\"")
    return (text.splitlines()[0] if text else type(e).__name__)[:120]


A = "http://schemas.openxmlformats.org/drawingml/2006/main"
A_STRICT = "http://purl.oclc.org/ooxml/drawingml/main"  # the same elements in a Strict Open XML package


def drawing_paragraphs(root, keep=None) -> list:
    """DrawingML paragraphs (a:p) under root whose runs (a:r/a:t) hold text; a line break (a:br) ends a unit, so
    each line of a paragraph is translated on its own and the break stays between them. Field runs (a:fld:
    slide number, date) are not part of the text and stay as they are. keep(p) -> False leaves a paragraph out.
    Both the transitional and the Strict namespace are read."""
    found = []
    for ns in (A, A_STRICT):
        run, br = f"{{{ns}}}r", f"{{{ns}}}br"
        for p in root.iter(f"{{{ns}}}p"):
            if keep is not None and not keep(p):
                continue
            line = []
            for child in p:
                if child.tag == run:
                    line.extend(child.findall(f"{{{ns}}}t"))
                elif child.tag == br:
                    found.extend(_unit(line))
                    line = []
            found.extend(_unit(line))
    return found


def _unit(texts) -> list:
    return [Paragraph(texts)] if texts and any(t.text for t in texts) else []
