"""Reading text files of unknown encoding, and writing outputs atomically."""

from __future__ import annotations

import codecs
import errno
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .errors import GugugoError, InputError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass
class DecodedText:
    text: str
    encoding: str
    bom: bool = False


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KB (text with a UTF-16/32 BOM is checked first)."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls > max(4, len(head) // 100)


def decode_bytes(data: bytes, name: str = "<input>") -> DecodedText:
    """BOM, then strict UTF-8, then CP949 (the usual Korean legacy encoding), then a charset detector."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return DecodedText(data[len(bom):].decode(encoding), encoding, bom=True)
            except UnicodeDecodeError as e:
                raise InputError(name, f"invalid {encoding} text after its byte-order mark ({e.reason})") from None
    if looks_binary(data):
        raise InputError(name, "looks like a binary file, not text")
    for encoding in ("utf-8", "cp949"):
        try:
            return DecodedText(data.decode(encoding), encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(name, "cannot tell its text encoding (not UTF-8, UTF-16 or CP949)")
    return DecodedText(str(best), best.encoding)


def file_encoding(f, name: str = "<input>") -> tuple[str, bytes]:
    """decode_bytes' rule for a file read in chunks (memory does not grow with it): (encoding, byte-order mark).
    A BOM, then strict UTF-8, then CP949, each over the whole file, then a charset detector on its first 64 KiB.
    `f` (binary, seekable) is left at its start."""
    head = f.read(1 << 16)
    f.seek(0)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, bom
    if looks_binary(head):
        raise InputError(name, "looks like a binary file, not text")
    for encoding in ("utf-8", "cp949"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return encoding, b""
        except UnicodeDecodeError:
            pass
        finally:
            f.seek(0)
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        raise InputError(name, "cannot tell its text encoding (not UTF-8, UTF-16 or CP949)")
    return best.encoding, b""


# Temp files of atomic_write_bytes: .NAME.XXXXXXXX.part beside the output NAME (the shape mkstemp gave them).
_TEMP_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.part$")


def _temp_path(target: Path) -> Path:
    token = "".join(secrets.choice(_TEMP_CHARS) for _ in range(8))
    return target.with_name(f".{target.name}.{token}.part")


def _is_stream_mode(mode: int) -> bool:
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def is_stream(path: str | os.PathLike) -> bool:
    """A character device or a pipe (/dev/stdout, a FIFO): written into, never replaced, never an old output."""
    try:
        return _is_stream_mode(os.stat(path).st_mode)
    except OSError:
        return False


def write_target(path: str | os.PathLike) -> tuple[Path, bool]:
    """Where a write to path lands: the file a symlink points to (the link itself is left as it is), and
    whether that is a character device or a pipe, written in place (/dev/stdout, a FIFO) rather than replaced.
    OSError for any other kind of special file."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:  # a new file, or a symlink to one
        return Path(os.path.realpath(path)), False
    if _is_stream_mode(mode):  # opened through its links (/dev/stdout -> pipe:[N])
        return Path(path), True
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):  # a folder fails as it always did, when it is replaced
        return Path(os.path.realpath(path)), False
    raise OSError(errno.EINVAL, "not a regular file, a character device or a pipe", os.fspath(path))


def open_temp_beside(target: Path) -> tuple[int, Path]:
    """A new temp file beside target, to be renamed over it: (its descriptor, open for writing; its path).
    Every output gets its mode this one way: a file written over keeps its mode, a new one gets what any new
    file gets (0666 less the umask, e.g. 0644)."""
    try:
        old_mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        old_mode = None
    while True:
        tmp = _temp_path(target)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    if old_mode is not None:
        try:
            os.fchmod(fd, old_mode)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
    return fd, tmp


def write_problem(path: str | os.PathLike, folder: bool = False) -> str | None:
    """Why a file (folder: a folder) cannot be written at path, found without writing anything: the path is a
    folder (a file), a folder on the way there is a file, or the folder it would be created in is not
    writable. None when nothing stands in the way (a full disk shows only when writing)."""
    p = Path(path)
    if os.path.lexists(p):
        try:
            target, special = write_target(p)
        except OSError as e:
            return f"{path}: {e.strerror}"
        if special:
            return None
        if target.is_dir() != folder:
            return f"{path} is a {'file' if folder else 'folder'}"
        p = target
    for parent in p.parents:
        if os.path.lexists(parent) or parent == Path(p.anchor):
            break
    if not parent.is_dir():
        return f"{parent} is a file" if parent.exists() else f"{parent}: no such folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write into {parent} (permission denied)"
    return None


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temp file in the same folder, then rename over the target: no half-written output.

    A symlink is written through (its target replaced, the link kept); a character device or a pipe is
    written into directly. A new file gets the mode any new file gets (0666 less the umask, e.g. 0644); a file
    written over keeps its mode."""
    atomic_write_chunks(path, [data])


def atomic_write_chunks(path: str | os.PathLike, chunks: Iterable[bytes]) -> None:
    """atomic_write_bytes for an output produced piece by piece (never held whole)."""
    target, special = write_target(path)
    if special:
        with os.fdopen(os.open(target, os.O_WRONLY | getattr(os, "O_BINARY", 0)), "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = open_temp_beside(target)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def json_line(value) -> bytes:
    """One JSON Lines record, UTF-8. A string holding a file name that is not UTF-8 (its bytes kept as lone
    surrogates, as os.fsdecode gives them) is written with \\udcXX escapes: valid JSON that reads back to it."""
    return (json.dumps(value, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")


def temp_target(name: str) -> str | None:
    """The output a temp file of atomic_write_bytes (.NAME.XXXXXXXX.part) was for: NAME; None for other names."""
    m = _TEMP_RE.match(name)
    return m.group("name") if m else None


def remove_stale_temp_files(folder: str | os.PathLike, ours: Callable[[str], bool], before: float) -> list[Path]:
    """Remove temp files that killed runs left in a folder a run writes to: regular files named like
    atomic_write_bytes' temp files for an output NAME that ours(NAME) accepts, last modified before `before`
    (the run's start). Returns those removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        target = temp_target(entry.name)
        try:
            if (target and ours(target) and entry.is_file(follow_symlinks=False)
                    and entry.stat(follow_symlinks=False).st_mtime < before):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def encode_like(source: DecodedText, text: str, encoding: str | None = None) -> bytes:
    """Encode an output the way its input was laid out: CRLF line ends if the input had them, a byte-order
    mark if it had one. The output is UTF-8 unless another encoding is asked for."""
    if "\r\n" in source.text and "\r\n" not in text:
        text = text.replace("\n", "\r\n")
    encoding = encoding or "utf-8"
    if source.bom and encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        text = "\ufeff" + text
    try:
        return text.encode(encoding)
    except LookupError:
        raise GugugoError(f"--encoding {encoding}: unknown encoding") from None
    except UnicodeEncodeError as e:
        raise GugugoError(f"the translation cannot be written in {encoding} ({e.object[e.start:e.end]!r})") from None
