"""Checks on a zip package (.docx, and the zip-based formats to come: .pptx, .xlsx, .epub, .hwpx) before any
of it is parsed, so that a hostile or broken package is refused in one line within bounded memory.

- the central directory: member count, each member's and the total uncompressed size, compression ratio,
  and only stored or deflated members (bzip2 and lzma cannot be decompressed in bounded steps here);
- every member is then actually decompressed in bounded chunks (its header's size is not trusted: a member
  that unpacks to more than its header says is refused as soon as it does) and its CRC checked;
- no two members may have the same name (names read with '/' for '\\'): a reader would find only one of them;
- XML members may carry no DOCTYPE (Office never writes one; a DTD is where entity tricks live).

After check_package a zip library reading the same bytes finds each member exactly as large as its header
says, so a later full read of any member is within the limits.
"""

from __future__ import annotations

import copy
import io
import zipfile
import zlib

from ..errors import InputError
from ..safety import Limits, format_size

_DOCTYPE = [s.encode(enc) for s in ("<!DOCTYPE",) for enc in ("utf-8", "utf-16-le", "utf-16-be")]
_OVERLAP = max(len(p) for p in _DOCTYPE) - 1
XML_SUFFIXES = (".xml", ".rels")


def check_package(data: bytes, name, limits: Limits, kind: str = "package",
                  xml_suffixes: tuple[str, ...] = XML_SUFFIXES) -> None:
    """Raise InputError(name, one line) when the zip package in data is over the limits, lies about its
    sizes, is damaged, or has an XML member with a DOCTYPE."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise InputError(name, f"damaged {kind} ({_reason(e)})") from None
    with z:
        members = [i for i in z.infolist() if not i.is_dir()]
        if len(members) > limits.max_members:
            raise InputError(name, f"{kind} has {len(members)} members (at most {limits.max_members})")
        _check_unique(members, name, kind)
        total = 0
        for info in members:
            _check_declared(info, name, limits, kind)
            total += info.file_size
            if total > limits.max_input:
                raise _unpacked_too_large(name, limits, kind)
        actual = 0
        for info in members:
            actual += _read_member(z, info, name, limits, kind,
                                   info.filename.lower().endswith(xml_suffixes))
            if actual > limits.max_input:
                raise _unpacked_too_large(name, limits, kind)


def _check_unique(members: list, name, kind: str) -> None:
    seen = set()
    for info in members:
        member = info.filename.replace("\\", "/")
        if member in seen:
            raise InputError(name, f"damaged {kind}: two members are named {member}; refused")
        seen.add(member)


def open_checked(data: bytes, name, limits: Limits, kind: str, xml_suffixes: tuple[str, ...]) -> zipfile.ZipFile:
    """The zip package after check_package, with its member names read with '/' where a writer used '\\'."""
    check_package(data, name, limits, kind, xml_suffixes=xml_suffixes)
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise InputError(name, f"damaged {kind} ({_reason(e)})") from None
    if any("\\" in info.filename for info in z.infolist()):
        # The zip format separates folders with '/' (APPNOTE 4.4.17); some writers use '\' (such packages
        # are met in the wild). Read (and write back) the names with '/'; orig_filename still matches each local
        # header.
        for info in z.infolist():
            info.filename = info.filename.replace("\\", "/")
        z.NameToInfo = {info.filename: info for info in z.infolist()}
    return z


def _check_declared(info: zipfile.ZipInfo, name, limits: Limits, kind: str) -> None:
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputError(name, f"{kind} member {info.filename} uses an unsupported compression "
                               f"(method {info.compress_type}; only stored and deflated are read)")
    if info.flag_bits & 0x1:
        raise InputError(name, f"{kind} member {info.filename} is encrypted")
    if info.file_size > limits.max_input:
        raise InputError(name, f"{kind} member {info.filename} unpacks to {format_size(info.file_size)}, more than "
                               f"{format_size(limits.max_input)} (--max-input-size to raise the limit)")
    if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        ratio = info.file_size // max(info.compress_size, 1)
        raise InputError(name, f"{kind} member {info.filename} is compressed {ratio}:1 (a zip bomb? at most "
                               f"{limits.max_ratio}:1 above {format_size(limits.ratio_floor)}; "
                               f"--max-input-size raises that size)")


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, name, limits: Limits, kind: str, xml: bool) -> int:
    """Decompress one member in bounded chunks; its real size (refused as soon as it passes its header's)."""
    # the reader is told neither the size nor the CRC, so that it runs past a lying header's end (a lie shows as
    # soon as it passes it) and stops only at the end of the compressed stream; the CRC is checked here
    probe = copy.copy(info)
    probe.file_size = 1 << 62
    probe.CRC = None
    size, crc = 0, 0
    tail = b""
    try:
        with z.open(probe) as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                size += len(chunk)
                crc = zlib.crc32(chunk, crc)
                if size > info.file_size:
                    raise InputError(name, f"damaged {kind}: member {info.filename} unpacks to more than the "
                                           f"{format_size(info.file_size)} its header says")
                if xml:
                    window = tail + chunk
                    if any(p in window for p in _DOCTYPE):
                        raise InputError(name, f"{kind} member {info.filename} has a DOCTYPE (a DTD or entity "
                                               f"declarations); refused")
                    tail = window[-_OVERLAP:]
    except InputError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
            NotImplementedError) as e:
        raise InputError(name, f"damaged {kind} ({info.filename}: {_reason(e)})") from None
    if size != info.file_size:
        raise InputError(name, f"damaged {kind}: member {info.filename} is shorter than its header says")
    if crc != info.CRC:
        raise InputError(name, f"damaged {kind} ({info.filename} is corrupt: bad CRC-32)")
    return size


def _unpacked_too_large(name, limits: Limits, kind: str) -> InputError:
    return InputError(name, f"{kind} unpacks to more than {format_size(limits.max_input)} "
                            f"(--max-input-size to raise the limit)")


def _reason(e: Exception) -> str:
    text = str(e).strip().strip("'\"")
    return (text.splitlines()[0] if text else type(e).__name__)[:120]
