"""Hostile or broken inputs are refused in one line within bounded memory: zip bombs (honest and lying
headers), DOCTYPEs and external entities in Word parts, endless stdin and devices."""

import io
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from conftest import DATA, UNLOADABLE_MODEL
from gugugo_cli.cli import cli
from gugugo_cli.errors import InputError
from gugugo_cli.formats import read_document
from gugugo_cli.formats.docx import DocxDocument
from gugugo_cli.formats.base import FormatOptions
from gugugo_cli.safety import Limits, parse_size

MiB = 1 << 20
RSS_LIMIT_KB = 400 * 1024  # peak resident memory a refused hostile input may cost the whole process


# --- building packages by hand (so that sizes can lie) -------------------------------------------------------


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def spaces_stream(mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of `mib` MiB of spaces (~1 KB per MiB), and its CRC, built in well under a second:
    after a full flush each MiB compresses to the same bytes."""
    chunk = b" " * MiB
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(chunk, crc)
    return block * mib + c.flush(), crc


def make_zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """members: (name, stored bytes, method, CRC, uncompressed size as the headers will say)."""
    out, central = io.BytesIO(), []
    for name, raw, method, crc, size in members:
        fname = name.encode()
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(raw),
                                   size, len(fname), 0, 0, 0, 0, 0, out.tell()) + fname)
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(raw), size,
                              len(fname), 0) + fname + raw)
    cd = b"".join(central)
    offset = out.tell()
    out.write(cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(cd), offset, 0))
    return out.getvalue()


def small_docx() -> dict[str, bytes]:
    d = docx.Document()
    d.add_paragraph("A small document.")
    buf = io.BytesIO()
    d.save(buf)
    with zipfile.ZipFile(buf) as z:
        return {n: z.read(n) for n in z.namelist()}


def repack(parts: dict[str, bytes], replace: dict[str, tuple[bytes, int, int]] = {}) -> bytes:
    """A .docx of parts, with some members replaced by (raw deflate stream, CRC, declared size)."""
    members = []
    for name, data in parts.items():
        if name in replace:
            raw, crc, size = replace[name]
            members.append((name, raw, 8, crc, size))
        else:
            members.append((name, deflate(data), 8, zlib.crc32(data), len(data)))
    return make_zip(members)


def bomb_docx(mib: int, declared: int | None = None) -> bytes:
    """document.xml unpacks to `mib` MiB; its headers say so, or say `declared` bytes."""
    raw, crc = spaces_stream(mib)
    return repack(small_docx(), {"word/document.xml": (raw, crc, mib * MiB if declared is None else declared)})


_MEASURED = """
import atexit, os, runpy, sys

def peak():  # VmHWM: this process's own peak resident memory (ru_maxrss of a child can include its parent's)
    with open("/proc/self/status") as f, open(os.environ["GUGUGO_TEST_HWM"], "w") as out:
        out.write(next(l for l in f if l.startswith("VmHWM:")).split()[1])

atexit.register(peak)
sys.argv = ["gugugo-translate", *sys.argv[1:]]
runpy.run_module("gugugo_cli", run_name="__main__")
"""


def run_measured(args, tmp_path, stdin=None) -> tuple[int, str, int]:
    """Run the CLI in a child process: exit code, stderr, the child's own peak RSS in KB."""
    hwm = tmp_path / "peak-rss-kb"
    proc = subprocess.run([sys.executable, "-c", _MEASURED, *map(str, args)], stdin=stdin or subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300,
                          env={**os.environ, "GUGUGO_TEST_HWM": str(hwm)})
    return proc.returncode, proc.stderr, int(hwm.read_text())


def one_line(stderr: str, *fragments) -> str:
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("gugugo-translate: error: ") and "Traceback" not in stderr
    for f in fragments:
        assert str(f) in lines[0], lines[0]
    return lines[0]


NO_MODEL = ["--model", str(UNLOADABLE_MODEL), "--device", "cpu", "--no-cache"]


# --- zip bombs -----------------------------------------------------------------------------------------------


def test_docx_bomb_with_honest_headers_is_refused_in_bounded_memory(tmp_path):
    path = tmp_path / "bomb.docx"
    path.write_bytes(bomb_docx(1024))  # ~1 MB on disk, 1 GiB unpacked
    assert path.stat().st_size < 2 * MiB
    code, stderr, peak_kb = run_measured([path, "--to", "ko", *NO_MODEL], tmp_path)
    assert code == 1
    one_line(stderr, path, "word/document.xml", "1 GiB", "--max-input-size")
    assert peak_kb < RSS_LIMIT_KB, f"peak RSS {peak_kb // 1024} MiB"
    assert not (tmp_path / "bomb.ko.docx").exists()


def test_docx_bomb_whose_headers_lie_is_refused_in_bounded_memory(tmp_path):
    path = tmp_path / "liar.docx"
    path.write_bytes(bomb_docx(1024, declared=4096))  # says 4 KiB, unpacks to 1 GiB
    code, stderr, peak_kb = run_measured([path, "--to", "ko", *NO_MODEL], tmp_path)
    assert code == 1
    one_line(stderr, path, "word/document.xml", "more than", "header says")
    assert peak_kb < RSS_LIMIT_KB, f"peak RSS {peak_kb // 1024} MiB"


def test_high_compression_ratio_is_refused_below_the_size_limit():
    data = bomb_docx(40)  # 40 MiB of spaces, ~1000:1
    with pytest.raises(InputError, match=r"compressed \d+:1"):
        read_document("ratio.docx", data)
    # a larger limit raises the size above which the ratio is checked (this one then fails as not Word XML)
    with pytest.raises(InputError) as raised:
        read_document("ratio.docx", data, limits=Limits(max_input=1 << 30))
    assert "compressed" not in str(raised.value)


def test_limits_and_the_option_that_raises_them(tmp_path):
    built = repack(small_docx())
    path = tmp_path / "doc.docx"
    path.write_bytes(built)
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--max-input-size", "1K", "--dry-run", *NO_MODEL])
    assert result.exit_code == 1
    one_line(result.stderr, path, "larger than 1 KiB", "--max-input-size")
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--max-input-size", "100K", "--dry-run", *NO_MODEL])
    assert result.exit_code == 1  # the file is within 100 KiB, its unpacked parts are not
    one_line(result.stderr, path, "unpacks to", "more than 100 KiB")
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--dry-run", *NO_MODEL])
    assert result.exit_code == 0, result.stderr
    assert parse_size("256M") == 256 * MiB and parse_size("1.5G") == 3 << 29 and parse_size("4096") == 4096


def test_member_count_and_compression_method_are_checked():
    parts = small_docx()
    many = dict(parts, **{f"customXml/item{i}.xml": b"<a/>" for i in range(10_001)})
    with pytest.raises(InputError, match="members"):
        read_document("many.docx", repack(many))
    members = [(n, zlib.compress(d), 12, zlib.crc32(d), len(d)) for n, d in parts.items()]  # "bzip2"
    with pytest.raises(InputError, match="unsupported compression"):
        read_document("bz.docx", make_zip(members))


def test_real_documents_pass_the_checks():
    paths = sorted((DATA / "realworld").glob("*.docx"))
    assert sum(bool(read_document(path).texts()) for path in paths) >= 6


# --- DOCTYPE, entities ---------------------------------------------------------------------------------------


def with_doctype(xml: bytes, doctype: str, reference: str) -> bytes:
    head, sep, body = xml.partition(b"?>")
    body = body.replace(b"</w:t>", reference.encode() + b"</w:t>", 1)
    return head + sep + doctype.encode() + body


def footnotes_docx() -> dict[str, bytes]:
    with zipfile.ZipFile(DATA / "realworld" / "mammoth_footnotes.docx") as z:
        return {n: z.read(n) for n in z.namelist()}


def test_external_entity_in_footnotes_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    parts = footnotes_docx()
    parts["word/footnotes.xml"] = with_doctype(parts["word/footnotes.xml"],
                                               f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>', "&xxe;")
    path = tmp_path / "xxe.docx"
    path.write_bytes(repack(parts))
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", *NO_MODEL])
    assert result.exit_code == 1
    one_line(result.stderr, path, "word/footnotes.xml", "DOCTYPE")
    assert not (tmp_path / "xxe.ko.docx").exists()
    # the format's own parsers, reached without the package check, neither resolve the entity nor go on
    with pytest.raises(InputError, match="DOCTYPE"):
        DocxDocument(path.read_bytes(), str(path), FormatOptions())


def test_internal_entity_in_the_body_is_refused(tmp_path):
    parts = small_docx()
    parts["word/document.xml"] = with_doctype(parts["word/document.xml"], '<!DOCTYPE d [<!ENTITY e "boom">]>', "&e;")
    path = tmp_path / "entity.docx"
    path.write_bytes(repack(parts))
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", *NO_MODEL])
    assert result.exit_code == 1
    one_line(result.stderr, path, "word/document.xml", "DOCTYPE")
    with pytest.raises(InputError, match="DOCTYPE"):
        DocxDocument(path.read_bytes(), str(path), FormatOptions())


def test_doctype_in_utf16_part_is_found():
    parts = small_docx()
    xml = parts["word/styles.xml"].decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    head, sep, body = xml.partition("?>")
    parts["word/styles.xml"] = (head + sep + '<!DOCTYPE s [<!ENTITY e "x">]>' + body).encode("utf-16")
    with pytest.raises(InputError, match="word/styles.xml.*DOCTYPE"):
        read_document("u16.docx", repack(parts))


# --- input size ----------------------------------------------------------------------------------------------


def test_stdin_from_dev_zero_is_refused_in_bounded_memory(tmp_path):
    with open("/dev/zero", "rb") as zero:
        code, stderr, peak_kb = run_measured(["--to", "ko", *NO_MODEL], tmp_path, stdin=zero)
    assert code == 1
    one_line(stderr, "stdin", "larger than 256 MiB", "--max-input-size")
    assert peak_kb < RSS_LIMIT_KB, f"peak RSS {peak_kb // 1024} MiB"


def test_file_linked_to_dev_zero_is_refused_in_bounded_memory(tmp_path):
    link = tmp_path / "zero.txt"
    link.symlink_to("/dev/zero")
    code, stderr, peak_kb = run_measured([link, "--to", "ko", "--max-input-size", "64M", *NO_MODEL], tmp_path)
    assert code == 1
    one_line(stderr, link, "larger than 64 MiB")
    assert peak_kb < 200 * 1024, f"peak RSS {peak_kb // 1024} MiB"


def test_large_regular_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "big.txt"
    with open(path, "wb") as f:
        f.truncate(300 * MiB)  # sparse: nothing to read, only its size
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", *NO_MODEL])
    assert result.exit_code == 1
    one_line(result.stderr, path, "larger than 256 MiB")
    raised = CliRunner().invoke(cli, [str(path), "--to", "ko", "--max-input-size", "1G", "--dry-run", *NO_MODEL])
    assert "larger than" not in raised.stderr  # within the raised limit it is read (and found to be binary)


def test_a_safe_lxml_is_required():
    import re

    import lxml

    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    bound = re.search(r'"lxml>=(\d+)', pyproject)
    assert bound and int(bound.group(1)) >= 5  # 5.0: no external entities by default (LP#1742885)
    assert int(lxml.__version__.split(".")[0]) >= 5


def test_every_zip_format_checks_its_package_against_the_limits_it_is_given(tmp_path):
    import io
    import zipfile

    from gugugo_cli.formats import FormatOptions, read_document
    from gugugo_cli.safety import Limits

    # a small, valid-looking package of each kind, unpacking to ~200 KiB: within the default limits,
    # over a limit of 64 KiB, whichever format reads it
    for suffix in (".docx", ".xlsx", ".pptx", ".hwpx", ".epub"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("mimetype", "application/octet-stream")
            z.writestr("filler.bin", b"x" * 200_000)
        small = Limits(max_input=64 * 1024)
        with pytest.raises(InputError, match="more than 64 KiB"):
            read_document(f"f{suffix}", buf.getvalue(), limits=small)
        with pytest.raises(InputError, match="more than 64 KiB"):
            from gugugo_cli.formats import _format_class

            _format_class(suffix)(buf.getvalue(), f"f{suffix}", FormatOptions(limits=small))


@pytest.mark.parametrize("path", ["tbl-having-tables.docx", "calamine_rph.xlsx", "python-pptx_tbl-cell.pptx",
                                  "hwpxlib_Table.hwpx", "epub3-samples_wasteland.epub"])
def test_a_package_with_two_members_of_one_name_is_refused(path, tmp_path):
    import warnings

    data = (DATA / "realworld" / path).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = [(i, z.read(i)) for i in z.infolist()]
    twice = next(i for i, content in infos if i.filename.endswith((".xml", ".xhtml", ".opf")) and b"<" in content)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it is asked to write
        for info, content in infos:
            z.writestr(info, content)
        z.writestr(twice.filename, b"<x>another text under the same name</x>")
    target = tmp_path / path
    target.write_bytes(out.getvalue())
    with pytest.raises(InputError) as e:
        read_document(target)
    message = str(e.value)
    assert "\n" not in message and path in message and twice.filename in message
