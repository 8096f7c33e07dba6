"""Bounds on what a run reads: the raw bytes of an input, and (for zip-based formats) the size of the package
once unpacked. One limit, `--max-input-size`, raises both.

Defaults, generous for real documents and far below what would exhaust a machine:
- an input file or stdin: at most 256 MiB of raw bytes;
- a zip package (.docx and the zip-based formats to come): at most 256 MiB unpacked in all and per member,
  at most 10,000 members, only stored or deflated members, and a member of more than 1/16 of the limit
  (16 MiB by default) may not be compressed more than 100:1 (real XML compresses 5-20:1, a zip bomb ~1000:1).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass

from .errors import InputError

MiB = 1 << 20
DEFAULT_MAX_INPUT = 256 * MiB
MAX_MEMBERS = 10_000
MAX_RATIO = 100
READ_CHUNK = 1 * MiB

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": MiB, "mb": MiB, "mib": MiB,
          "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}


@dataclass(frozen=True)
class Limits:
    """What one input may be: max_input bounds its raw bytes and, for a zip package, its unpacked size."""

    max_input: int = DEFAULT_MAX_INPUT
    max_members: int = MAX_MEMBERS
    max_ratio: int = MAX_RATIO

    @property
    def ratio_floor(self) -> int:
        """Members up to this size are not held to the compression-ratio limit (small XML compresses well)."""
        return self.max_input // 16


def parse_size(text: str) -> int:
    """'256M', '1.5G', '500k', '1048576' -> bytes (binary units); ValueError for anything else."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text or "")
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"{text!r} is not a size (e.g. 512M, 2G)")
    size = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if size < 1:
        raise ValueError(f"{text!r}: a size must be at least 1 byte")
    return size


def format_size(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", 1 << 10)):
        if n >= factor:
            value = n / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def too_large(name, limits: Limits, what: str = "input") -> InputError:
    return InputError(name, f"{what} larger than {format_size(limits.max_input)} (--max-input-size to raise the limit)")


def read_stream(f, name, limits: Limits) -> bytes:
    """All bytes of a binary stream, refusing (without reading further) one longer than the limit."""
    chunks, total = [], 0
    while True:
        chunk = f.read(min(READ_CHUNK, limits.max_input + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limits.max_input:
            raise too_large(name, limits)
        chunks.append(chunk)


def read_file(path, limits: Limits) -> bytes:
    """A file's bytes within the limit: a regular file is measured first, anything else (a device such as
    /dev/zero, a pipe) is read only up to the limit."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise InputError(path, "is a folder")
            if stat.S_ISREG(st.st_mode) and st.st_size > limits.max_input:
                raise too_large(path, limits)
            return read_stream(f, path, limits)
    except IsADirectoryError:
        raise InputError(path, "is a folder") from None
    except OSError as e:
        raise InputError(path, describe_os_error(path, e)) from None


def describe_os_error(path, e: OSError) -> str:
    """What is wrong with a path, in words: a symlink loop or a dangling link is not 'no such file'."""
    import errno

    if e.errno == errno.ELOOP:
        return "symbolic link loop (too many levels of symbolic links)"
    if e.errno == errno.ENOENT and os.path.islink(path):
        return f"broken symbolic link (to {os.readlink(path)})"
    if e.errno == errno.ENOENT:
        return "no such file"
    return f"cannot read ({e.strerror or e})"
