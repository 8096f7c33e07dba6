"""Which files a run translates and where each translation goes.

Naming: NAME.EXT -> NAME.<to>.EXT beside the input, or under -o. The one place that knows that rule.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from ..errors import UsageError
from ..formats import Document, supported
from ..segment import TextPlan


def output_path(path: str | os.PathLike, tgt: str) -> Path:
    """notes.txt -> notes.ko.txt beside the input."""
    p = Path(path)
    return p.with_name(f"{p.stem}.{tgt}{p.suffix}")


def is_output_name(path: Path, tgt: str) -> bool:
    """NAME.<tgt>.EXT: what a run into tgt writes beside its input."""
    return Path(path.stem).suffix == f".{tgt}"


@dataclass
class FileTask:
    source: str  # a path, or "-" for stdin
    dest: Optional[Path]  # None: stdout
    doc: Optional[Document] = None
    plans: list[TextPlan] = field(default_factory=list)
    pending: set = field(default_factory=set)  # (src, text) keys not translated yet


@dataclass
class Summary:
    translated: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, error)
    segments: int = 0  # segments in all files
    unique: int = 0  # distinct segments
    cache_hits: int = 0
    model_segments: int = 0  # segments the model translated
    est_tokens: int = 0
    seconds: float = 0.0
    capped: int = 0  # translations that reached their new-token limit
    capped_examples: list[str] = field(default_factory=list)  # the first few of their sources


def find_inputs(
    inputs: list[str],
    tgt: str,
    output: Optional[Path],
    overwrite: bool,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    summary: Optional[Summary] = None,
) -> list[FileTask]:
    """Files to translate, with where each goes. Folders are walked; what is left out goes to summary.skipped."""
    summary = summary if summary is not None else Summary()
    tasks: list[FileTask] = []
    several = len(inputs) > 1
    for name in inputs:
        if name == "-":
            tasks.append(FileTask("-", None if output is None else _dest_in(output, Path("stdin.txt"), tgt, several)))
            continue
        path = Path(name)
        if path.is_dir():
            base = output / path.resolve().name if (output is not None and several) else output
            for file in _walk(path, tgt, output is None, include, exclude, summary):
                rel = file.relative_to(path)
                dest = output_path(file, tgt) if base is None else base / rel.parent / output_path(rel.name, tgt).name
                _add(tasks, file, dest, overwrite, summary)
        elif not path.exists():
            raise UsageError(f"{path}: no such file or folder")
        else:
            dest = output_path(path, tgt) if output is None else _dest_in(output, path, tgt, several)
            _add(tasks, path, dest, overwrite, summary)
    return tasks


def _dest_in(output: Path, name: Path, tgt: str, several: bool) -> Path:
    """-o names the output file itself, or (a folder, or several inputs) the folder it goes into."""
    return output / output_path(name, tgt).name if (output.is_dir() or several) else output


def _add(tasks: list[FileTask], path: Path, dest: Path, overwrite: bool, summary: Summary) -> None:
    if dest.exists() and dest.resolve() == path.resolve():
        summary.failed.append((str(path), "refusing to write over the input file"))
    elif dest.exists() and not overwrite:
        summary.skipped.append((str(path), f"output {dest} exists (--overwrite to replace it)"))
    else:
        tasks.append(FileTask(str(path), dest))


def _walk(folder: Path, tgt: str, beside: bool, include, exclude, summary: Summary):
    include, exclude = list(include), list(exclude)
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if name.startswith(".") or any(_match(rel, p) for p in exclude):
                continue
            if include and not any(_match(rel, p) for p in include):
                continue
            if not supported(path):
                summary.skipped.append((str(path), "unsupported file type"))
                continue
            # a translation written beside its source by an earlier run (NAME.ko.EXT when going to ko)
            if beside and is_output_name(path, tgt):
                continue
            yield path


def _match(rel: str, pattern: str) -> bool:
    return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel.rsplit("/", 1)[-1], pattern)
