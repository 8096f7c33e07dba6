"""EPUB (.epub): the XHTML documents of the spine, the navigation document, the NCX titles and the book's
dc:title are translated, in every rendition (each package document container.xml names); every other member
of the package comes back as it was.

The package is checked first (formats/package.py: member count, sizes, compression ratio, CRCs, no DOCTYPE in
container.xml or the OPF). container.xml and the package document are read with a hardened lxml parser (no
DTD, no entities, no network). Each XHTML document is translated like HTML (formats/html.py: the text is
spliced into the original, so markup, entities and whitespace stay) and must still be well-formed XML
afterwards; a document with an internal DTD subset (entity declarations) is refused.

Written back: the `mimetype` member first and stored, then every other member in its original order with its
name, date, attributes and compression method; a member whose text did not change has exactly its original
content. dc:language (and the root lang of each translated document) is set to the target language.
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote

from ..errors import InputError
from .base import FormatOptions
from .html import HtmlText, decode_html, encode_html
from .xmlzip import parser, write_package

log = logging.getLogger(__name__)

CONTAINER = "META-INF/container.xml"
MIMETYPE = b"application/epub+zip"
_XHTML_TYPES = ("application/xhtml+xml", "text/html")
_NCX_TYPE = "application/x-dtbncx+xml"
_OPF_NS = "http://www.idpf.org/2007/opf"
_CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
_LANGUAGE = re.compile(r"(<(?:[\w.-]+:)?language\b[^>]*>)([^<]*)(</(?:[\w.-]+:)?language\s*>)")


@dataclass
class _Member:
    name: str
    text: HtmlText
    encoding: str
    bom: bytes
    opf: bool = False


def _parse_xml(data: bytes, name: str, member: str, doctype: bool = False):
    """The root element of an XML member; with doctype False, a member with a DOCTYPE is refused (checked on
    the parsed document, whatever its encoding)."""
    from lxml import etree

    try:
        root = etree.fromstring(data, parser())
    except etree.XMLSyntaxError as e:
        raise InputError(name, f"damaged EPUB: {member} is not well-formed XML ({str(e)[:100]})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or not doctype and docinfo.doctype:
        raise InputError(name, f"EPUB book member {member} has a DOCTYPE (a DTD or entity declarations); refused")
    return root


def _open(data: bytes, name: str, limits) -> zipfile.ZipFile:
    from .package import open_checked

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InputError(name, "not an EPUB book (not a zip package)")
    return open_checked(data, name, limits, "EPUB book", xml_suffixes=(".xml", ".opf"))


class EpubDocument:
    def __init__(self, data: bytes, name: str, options: FormatOptions):
        self.options, self.name, self.data = options, name, data
        if not data:
            raise InputError(name, "empty file, not an EPUB book")
        self.zip = _open(data, name, options.limits)
        try:
            self._read()
        except InputError:
            raise
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, RuntimeError) as e:
            raise InputError(name, f"damaged EPUB book ({type(e).__name__}: {str(e)[:100]})") from None

    def _read(self) -> None:
        name, z = self.name, self.zip
        names = set(z.namelist())
        if "mimetype" in names and z.read("mimetype").strip() != MIMETYPE:
            raise InputError(name, "not an EPUB book (its mimetype member is not application/epub+zip)")
        if CONTAINER not in names:
            raise InputError(name, f"not an EPUB book (no {CONTAINER})")
        container = _parse_xml(z.read(CONTAINER), name, CONTAINER)
        rootfiles = [r.get("full-path") for r in container.iter(f"{{{_CONTAINER_NS}}}rootfile")
                     if r.get("media-type", "application/oebps-package+xml") == "application/oebps-package+xml"]
        rootfiles = list(dict.fromkeys(rootfiles))
        if not rootfiles or not all(r and r in names for r in rootfiles):
            raise InputError(name, "damaged EPUB book (container.xml names no package document that is there)")
        encrypted = self._encrypted(names)
        self.members: list[_Member] = []
        seen: set = set()
        # every rendition (a package document each): its spine, navigation document and NCX
        for rootfile in rootfiles:
            for path, kind in self._wanted(rootfile):
                if path in seen:
                    continue
                seen.add(path)
                if path not in names:
                    raise InputError(name, f"damaged EPUB book (its package lists {path}, which is not in it)")
                if path in encrypted:
                    raise InputError(name, f"DRM-protected EPUB book ({path} is encrypted)")
                self.members.append(self._member(path, kind))
        self.members += [self._member(rootfile, "opf") for rootfile in rootfiles]

    def _wanted(self, rootfile: str) -> list[tuple[str, str]]:
        """The members of one rendition that are translated, as (path, kind): its spine's documents, then its
        navigation document and NCX."""
        opf = _parse_xml(self.zip.read(rootfile), self.name, rootfile)
        base = posixpath.dirname(rootfile)
        items = {}
        for item in opf.iter(f"{{{_OPF_NS}}}item"):
            href = item.get("href")
            if href and item.get("id"):
                path = posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0])))
                items[item.get("id")] = (path, item.get("media-type", ""), (item.get("properties") or "").split())
        wanted = []
        for ref in opf.iter(f"{{{_OPF_NS}}}itemref"):
            item = items.get(ref.get("idref"))
            if item and item[1] in _XHTML_TYPES:
                wanted.append((item[0], "xhtml"))
        for path, media_type, properties in items.values():
            if "nav" in properties and media_type in _XHTML_TYPES:
                wanted.append((path, "xhtml"))
            elif media_type == _NCX_TYPE:
                wanted.append((path, "ncx"))
        return wanted

    def _encrypted(self, names: set) -> set:
        if "META-INF/encryption.xml" not in names:
            return set()
        root = _parse_xml(self.zip.read("META-INF/encryption.xml"), self.name, "META-INF/encryption.xml")
        return {unquote(e.get("URI", "")) for e in root.iter("{http://www.w3.org/2001/04/xmlenc#}CipherReference")}

    def _member(self, path: str, kind: str) -> _Member:
        data = self.zip.read(path)
        text, encoding, bom = decode_html(data, f"{self.name}:{path}")
        only = {"ncx": frozenset({"text"}), "opf": frozenset({"dc:title"})}.get(kind)
        html = HtmlText(text, self.options.tgt, xml=True, only=only)
        if html.internal_subset:
            raise InputError(self.name, f"EPUB member {path} declares entities in its DOCTYPE; refused")
        return _Member(path, html, encoding, bom, kind == "opf")

    def texts(self) -> list[str]:
        return [t for m in self.members for t in m.text.texts()]

    def render(self, translated: list[str]) -> bytes:
        new: dict[str, bytes] = {}
        cursor = 0
        for member in self.members:
            count = len(member.text.units)
            text, changed = member.text.render(translated[cursor:cursor + count])
            cursor += count
            if member.opf and (changed or new):
                text = _LANGUAGE.sub(lambda m: m.group(1) + self.options.tgt + m.group(3), text)
                changed = True
            if not changed:
                continue
            data = encode_html(text, member.encoding, member.bom)
            try:
                _parse_xml(self.zip.read(member.name), self.name, member.name, doctype=True)
                well_formed = True
            except InputError:
                well_formed = False  # a tolerant reading system's file: not held to XML
            if well_formed:
                try:
                    _parse_xml(data, self.name, member.name, doctype=True)
                except InputError as e:
                    log.warning("%s: %s left untranslated (the translation would not be well-formed XML: %s)",
                                self.name, member.name, e.problem)
                    continue
            new[member.name] = data
        if not new:
            return self.data
        return write_package(self.zip, new, MIMETYPE)
