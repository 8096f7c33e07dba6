"""Which files a run translates and where each translation goes.

Naming: NAME.EXT -> NAME.<to>.EXT beside the input, or under -o (find_inputs says how). The one place that
knows that rule, and which files are outputs of this tool rather than inputs.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from ..errors import UsageError
from ..formats import Document, is_dataset, supported
from ..languages import LANGUAGES
from ..safety import describe_os_error
from ..segment import TextPlan
from ..textio import is_stream, write_problem


DATASET_SKIPPED = "dataset: run it with --field"  # why a folder run leaves a dataset file out


def output_path(path: str | os.PathLike, tgt: str) -> Path:
    """notes.txt -> notes.ko.txt beside the input."""
    p = Path(path)
    return p.with_name(f"{p.stem}.{tgt}{p.suffix}")


def is_output_name(path: Path, tgt: str) -> bool:
    """NAME.<tgt>.EXT: what a run into tgt writes beside its input."""
    return Path(path.stem).suffix == f".{tgt}"


def is_translation_of_neighbour(path: Path) -> bool:
    """NAME.<lang>.EXT (any language this tool writes) whose source NAME.EXT is beside it: an output of this
    tool, never an input of a folder run (a.ko.txt is left out when translating to en, too)."""
    stem = Path(path.stem)
    return stem.suffix[1:] in LANGUAGES and bool(stem.stem) and path.with_name(stem.stem + path.suffix).exists()


def wants_folder(output: str | os.PathLike) -> bool:
    """-o names a folder when it ends with a slash or is an existing folder."""
    text = os.fspath(output)
    return text.endswith(("/", os.sep)) or Path(text).is_dir()


@dataclass
class FileTask:
    source: str  # a path, or "-" for stdin
    dest: Optional[Path]  # None: stdout
    doc: Optional[Document] = None
    plans: list[TextPlan] = field(default_factory=list)
    pending: set = field(default_factory=set)  # (src, text) keys not translated yet
    keys: Optional[list] = None  # every segment's key in order, from planning until the file is rendered
    ident: int = -1  # the host's id of the request that planned it (job/host.py)
    size: int = 0  # input bytes
    untranslated: bool = False  # nothing to translate in it: no output is written


@dataclass
class Summary:
    translated: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, error)
    nothing_to_translate: list[str] = field(default_factory=list)  # files all in the target language, or no text
    segments: int = 0  # segments in all files
    unique: int = 0  # distinct segments
    cache_hits: int = 0
    model_segments: int = 0  # segments the model translated
    est_tokens: int = 0
    seconds: float = 0.0
    capped: int = 0  # translations that reached their new-token limit
    capped_examples: list[str] = field(default_factory=list)  # the first few of their sources
    suspects: list[dict] = field(default_factory=list)  # segments the guards found wrong (see job.run)
    left_alone: dict[str, int] = field(default_factory=dict)  # text a format keeps untranslated, by kind


def find_inputs(
    inputs: list[str],
    tgt: str,
    output: Optional[str | os.PathLike],
    overwrite: bool,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    summary: Optional[Summary] = None,
    *,
    report: Optional[str | os.PathLike] = None,
    beside_output: Optional[Callable[[Path], Path]] = None,
    parts: bool = False,
) -> list[FileTask]:
    """Files to translate, with where each goes. Folders are walked; what is left out goes to summary.skipped.
    Documents, datasets and --ray all name their outputs here.

    Where outputs go (the one place that knows):
    - no -o: NAME.<to>.EXT beside each input;
    - -o with one file (or stdin): that file, or the folder it names (ending in a slash, or existing);
    - -o with a folder or several inputs: a folder; each input's path below the folder its inputs share is
      mirrored there (a.txt b.txt -> out/a.ko.txt out/b.ko.txt; ca/x.txt cb/x.txt -> out/ca/x.ko.txt
      out/cb/x.ko.txt; one folder's tree directly under out).
    Two inputs never share an output: a run that would write one file twice is refused before anything is read.
    parts (--ray): each output is a folder of parts, and -o with one input names that folder itself.
    beside_output(dest): a file written beside each output (a dataset's list of failed rows).
    No output, nor a file beside one, may be an input of the run, and the report file (report) may be none
    of the files the run reads or writes.
    Raises UsageError for a missing input, an -o that cannot be what the inputs need, or such an overlap."""
    summary = summary if summary is not None else Summary()
    names = list(dict.fromkeys(inputs))  # the same argument twice is one input
    for name in names:
        if name != "-":
            _check_exists(name)
    folder_out = None if output is None else _output_folder(output, names, parts)
    base = _shared_parent(names) if (folder_out is not None and len(names) > 1) else None
    out_tree = os.path.realpath(folder_out) if folder_out is not None else None

    def place(path: Path) -> Path:
        """Where an input path (a file, or a folder's root) goes under the output folder."""
        return folder_out / os.path.relpath(os.path.abspath(path), base) if base is not None else folder_out

    tasks: list[FileTask] = []
    considered: list[tuple[Path, Path]] = []  # every (input, output) met, skipped ones too

    def add(path: Path, dest: Path) -> None:
        considered.append((path, dest))
        _add(tasks, path, dest, overwrite, summary, parts)

    for name in names:
        if name == "-":
            if output is None:
                dest = None
            elif folder_out is None:
                dest = Path(output)
            else:
                dest = folder_out / output_path("stdin.txt", tgt).name
            if dest is not None:
                considered.append((Path("-"), dest))
            tasks.append(FileTask("-", dest))
            continue
        path = Path(name)
        if path.is_dir():
            root = place(path) if folder_out is not None else None
            for file in _walk(path, tgt, output is None, include, exclude, summary, out_tree):
                rel = file.relative_to(path)
                dest = output_path(file, tgt) if root is None else root / rel.parent / output_path(rel.name, tgt).name
                add(file, dest)
        else:
            if output is None:
                dest = output_path(path, tgt)
            elif folder_out is None:
                dest = Path(output)
            else:
                folder = folder_out if base is None else folder_out / os.path.relpath(os.path.abspath(path.parent), base)
                dest = folder / output_path(path.name, tgt).name
            add(path, dest)
    tasks = _refuse_collisions(tasks)
    _refuse_overlaps(tasks, considered, summary, report, beside_output)
    _refuse_unwritable(tasks, report, beside_output, parts)
    return tasks


def _check_exists(name: str) -> None:
    try:
        os.stat(name)
    except OSError as e:
        problem = describe_os_error(name, e)
        raise UsageError(f"{name}: {'no such file or folder' if problem == 'no such file' else problem}") from None


def _output_folder(output: str | os.PathLike, names: list[str], parts: bool = False) -> Optional[Path]:
    """The folder -o names, or None when it names the output (one file or stdin in)."""
    text = os.fspath(output)
    path = Path(text)
    needs_folder = len(names) > 1 or any(n != "-" and Path(n).is_dir() for n in names)
    if not needs_folder:
        return path if wants_folder(text) and not parts else None
    what = "a folder input" if any(n != "-" and Path(n).is_dir() for n in names) else "several inputs"
    if path.exists() and not path.is_dir():
        raise UsageError(f"-o {text}: {what} need{'s' if what.startswith('a ') else ''} an output folder, "
                         f"and {text} is a file")
    if not path.exists() and not wants_folder(text) and supported(path):
        raise UsageError(f"-o {text}: {what} need{'s' if what.startswith('a ') else ''} an output folder, and "
                         f"{text} names a file (end it with / for a folder of that name)")
    return path


def _shared_parent(names: list[str]) -> str:
    """The folder all inputs are in (their parents' common path): what is below it is mirrored under -o."""
    parents = [os.path.dirname(os.path.abspath(n)) for n in names if n != "-"]
    return os.path.commonpath(parents) if parents else os.getcwd()


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _refuse_collisions(tasks: list[FileTask]) -> list[FileTask]:
    """Drop a file met twice (a folder and a file inside it); refuse two inputs that would share an output."""
    kept: list[FileTask] = []
    seen: dict[str, FileTask] = {}
    for task in tasks:
        if task.dest is None:
            kept.append(task)
            continue
        key = os.path.normcase(os.path.abspath(task.dest))
        first = seen.get(key)
        if first is None:
            seen[key] = task
            kept.append(task)
        elif first.source == "-" or task.source == "-" or not _same_file(first.source, task.source):
            raise UsageError(f"{first.source} and {task.source} would both be written to {task.dest}; "
                             f"translate them in separate runs or into separate -o folders")
    return kept


def _real(path: str | os.PathLike) -> str:
    return os.path.normcase(os.path.realpath(path))


def _refuse_overlaps(tasks: list[FileTask], considered: list[tuple[Path, Path]], summary: Summary,
                     report: Optional[str | os.PathLike], beside_output: Optional[Callable[[Path], Path]]) -> None:
    """No output, nor a file written beside one, is an input of the run; the report is no file the run touches."""
    inputs = {_real(task.source) for task in tasks if task.source != "-"}
    for task in tasks:
        if task.dest is None:
            continue
        if _real(task.dest) in inputs:
            raise UsageError(f"{task.source}: its output {task.dest} is also an input of this run; "
                             f"translate them in separate runs")
        beside = beside_output(task.dest) if beside_output else None
        if beside is not None and _real(beside) in inputs:
            raise UsageError(f"{beside} is an input of this run, and {task.source} would write its failed rows "
                             f"there (beside its output {task.dest}); choose another -o")
    if report is None:
        return
    touched = [p for pair in considered for p in pair if os.fspath(p) != "-"]
    touched += [beside_output(dest) for _, dest in considered] if beside_output else []
    touched += [p for p, _ in summary.skipped + summary.failed]
    key = _real(report)
    for path in touched:
        if _real(path) == key:
            raise UsageError(f"--report {report}: {path} is a file this run reads or writes; name another report")


def _refuse_unwritable(tasks: list[FileTask], report: Optional[str | os.PathLike],
                       beside_output: Optional[Callable[[Path], Path]], parts: bool) -> None:
    """Every place the run writes (outputs, the files beside them, the report) checked before anything is read
    or translated: one that cannot be written (a file where a folder must be, a folder that is not writable)
    is a usage error naming it."""
    for task in tasks:
        if task.dest is None:
            continue
        problem = write_problem(task.dest, folder=parts)
        if problem is None and beside_output is not None:
            problem = write_problem(beside_output(task.dest))
        if problem is not None:
            raise UsageError(f"cannot write {task.dest}: {problem}")
    if report is not None:
        problem = write_problem(report)
        if problem is not None:
            raise UsageError(f"--report {report}: cannot write it: {problem}")


def _add(tasks: list[FileTask], path: Path, dest: Path, overwrite: bool, summary: Summary, parts: bool = False) -> None:
    if dest.exists() and dest.resolve() == path.resolve():
        summary.failed.append((str(path), "refusing to write over the input file"))
    elif parts:  # a folder of parts: a file there is refused, a folder with parts in it is an existing output
        if dest.exists() and not dest.is_dir():
            summary.failed.append((str(path), f"output {dest} is a file, and --ray writes a folder of parts"))
        elif dest.is_dir() and any(dest.iterdir()) and not overwrite:
            summary.skipped.append((str(path), f"output {dest} exists (--overwrite to replace it)"))
        else:
            tasks.append(FileTask(str(path), dest))
    elif dest.is_dir():
        summary.failed.append((str(path), f"output {dest} is a folder"))
    elif dest.exists() and not overwrite and not is_stream(dest):
        summary.skipped.append((str(path), f"output {dest} exists (--overwrite to replace it)"))
    else:
        tasks.append(FileTask(str(path), dest))


def _walk(folder: Path, tgt: str, beside: bool, include, exclude, summary: Summary, out_tree: Optional[str] = None):
    include, exclude = list(include), list(exclude)
    for root, dirs, files in os.walk(folder):
        # hidden folders and the output tree (when -o is inside the input) are never inputs
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and not (out_tree and os.path.realpath(os.path.join(root, d)) == out_tree))
        for name in sorted(files):
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if name.startswith(".") or any(_match(rel, p) for p in exclude):
                continue
            if include and not any(_match(rel, p) for p in include):
                continue
            if not supported(path):
                summary.skipped.append((str(path), DATASET_SKIPPED if is_dataset(path) else "unsupported file type"))
                continue
            # outputs of earlier runs: NAME.<lang>.EXT beside its source NAME.EXT (in any mode), and
            # NAME.<to>.EXT when outputs go beside their inputs
            if is_translation_of_neighbour(path) or (beside and is_output_name(path, tgt)):
                continue
            yield path


def _match(rel: str, pattern: str) -> bool:
    return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel.rsplit("/", 1)[-1], pattern)
