"""What the tests of the zip-package formats (.xlsx, .pptx, .hwpx, .epub) share: translating a package's bytes,
reading and writing its members, and the checks that every such format must pass."""

from __future__ import annotations

import io
import zipfile

import pytest
from lxml import etree

from gugugo_cli.api import translate_documents
from gugugo_cli.errors import InputError
from gugugo_cli.formats import FormatOptions, read_document

SAFE = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)


def translate_package(document_class, name: str, data: bytes, translator, tgt: str) -> bytes:
    """The package translated into tgt by translator, read by document_class as a file called name."""
    return translate_documents([document_class(data, name, FormatOptions(tgt=tgt))], tgt, "auto", translator)[0]


def members(data: bytes) -> dict:
    """member name -> (content, compression method, date), in the package's order."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: (z.read(i), i.compress_type, i.date_time) for i in z.infolist()}


def contents(data: bytes) -> dict:
    """member name -> content, in the package's order."""
    return {name: content for name, (content, _, _) in members(data).items()}


def zipped(entries: dict, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip package of entries (name -> str or bytes), in their order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, content in entries.items():
            z.writestr(name, content)
    return out.getvalue()


def changed_members(before: bytes, after: bytes) -> set:
    """The members whose content changed; asserts that after has the same members in the same order, each with
    its compression method and date."""
    old, new = members(before), members(after)
    assert list(new) == list(old)
    for name in old:
        assert new[name][1:] == old[name][1:], name
    return {name for name in old if new[name][0] != old[name][0]}


def assert_mimetype_first(data: bytes, mimetype: bytes) -> None:
    """The package's first member is `mimetype`, stored, holding mimetype; every member's CRC is right."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == mimetype and z.testzip() is None


def assert_refused_in_one_line(tmp_path, suffix: str, bad: dict) -> None:
    """Each of bad (what -> bytes), written to a file with suffix, is refused by read_document with one line
    that starts with the file's path."""
    for what, data in bad.items():
        path = tmp_path / f"bad{suffix}"
        path.write_bytes(data)
        with pytest.raises(InputError) as e:
            read_document(path)
        message = str(e.value)
        assert "\n" not in message and message.startswith(str(path)), (what, message)
