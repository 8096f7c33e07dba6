"""The `gugugo-translate` command: a thin layer over the Python API.

Imports nothing heavy at start-up; torch and transformers load only once a segment needs the model, and Kiwi
or kss only once Korean text must be split into sentences.
"""

from __future__ import annotations

import codecs
import logging
import signal
import sys
from pathlib import Path

import click

from . import config, splitters
from .cli_help import SectionedCommand, list_formats
from .console import PROG, setup_logging
from .engines.base import DecodeOptions
from .engines.loading import (BITSANDBYTES_CPU_ERROR, ENGINE_CHOICES, INT8_DTYPE_ERROR, Request, WrapOptions,
                              resolve_device)
from .errors import GugugoError, UsageError
from .languages import LANGUAGES
from .splitters import KOREAN_SPLITTERS, SPLITTER_ENV_VAR

log = logging.getLogger("gugugo_cli")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, taken the way Ctrl-C is: finished files kept, nothing half-written, exit 143."""


def _on_sigterm(signum, frame):
    raise Terminated()


def _usage(message: str) -> None:
    log.error(message)
    sys.exit(EXIT_USAGE)


def _check_languages(src: str, tgt: str, splitter) -> None:
    if tgt not in LANGUAGES:
        _usage(f"--to {tgt!r}: unknown language (choose ko or en)")
    if src not in ("auto",) + LANGUAGES:
        _usage(f"--from {src!r}: unknown language (choose auto, ko or en)")
    if src == tgt:
        _usage(f"--from and --to are both {tgt!r}")
    if splitter == "kiwi" and not splitters.available("kiwi"):
        _usage("--splitter kiwi needs kiwipiepy (pip install kiwipiepy)")
    splitters.use_splitter(splitter)


def _inputs_or_stdin(inputs: tuple) -> tuple:
    """The inputs named, else stdin ("-") when text is piped in."""
    if inputs:
        return inputs
    if sys.stdin is None or sys.stdin.isatty():
        _usage("no input: name files or folders, or pipe text into stdin (see --help)")
    return ("-",)


@click.command(cls=SectionedCommand, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("inputs", nargs=-1, metavar="[INPUT]...")
@click.option("--to", "tgt", metavar="ko|en", help="Language to translate into (required).")
@click.option("--from", "src", default="auto", show_default=True, metavar="auto|ko|en",
              help="Source language; auto decides per line by its grammar (Hangul words against English "
                   "function words; English terms in Korean text do not count) and leaves "
                   "lines already in the target language as they are.")
@click.option("-o", "--output", type=click.Path(),
              help="Output file, or folder (ending in / or existing; needed for folders and several inputs, "
                   "whose paths are mirrored there). Default: NAME.<to>.EXT beside each input.")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs (never an input); else they are skipped.")
@click.option("--glob", "include", multiple=True, metavar="PATTERN",
              help="In folders, translate only files matching PATTERN (repeatable).")
@click.option("--exclude", multiple=True, metavar="PATTERN", help="In folders, leave out matching files (repeatable).")
@click.option("--model", envvar=config.MODEL_ENV_VAR, default=config.DEFAULT_MODEL, show_default=True,
              help=f"Hugging Face hub id or local model folder [env: {config.MODEL_ENV_VAR}].")
@click.option("--device", default="auto", show_default=True, type=click.Choice(["auto", "cuda", "cpu"]))
@click.option("--dtype", default="auto", show_default=True,
              type=click.Choice(["auto", "bfloat16", "float16", "float32"]),
              help="auto: bf16/fp16 on GPU; bf16 on CPUs with native BF16, else float32.")
@click.option("--quantize", type=click.Choice(["4bit", "8bit", "int8"]),
              help="4bit/8bit: bitsandbytes on GPU (extra [quant]); int8: dynamic int8 on CPU.")
@click.option("--engine", default="auto", show_default=True,
              type=click.Choice(ENGINE_CHOICES),
              help="Greedy decoding loop: slots (static slots, CUDA graphs on a GPU) or continuous (continuous "
                   "batching); auto or hf: continuous (slots on a GPU once checked exactly there); vllm: vLLM (extra [vllm]).")
@click.option("--engine-option", "engine_option_texts", multiple=True, metavar="KEY=VALUE",
              help="With --engine vllm: an argument for vllm.LLM, e.g. tensor_parallel_size=2, "
                   "gpu_memory_utilization=0.85, quantization=awq (repeatable).")
@click.option("--batch-size", type=click.IntRange(1), help="Sentences per generate call (default: 64 CPU, 256 GPU).")
@click.option("--batch-tokens", type=click.IntRange(16), help="Token budget (prompt + new) per generate call.")
@click.option("--num-beams", default=1, show_default=True, type=click.IntRange(1),
              help="Beam search width; 1 is greedy (much faster).")
@click.option("--max-new-tokens", default=config.MAX_NEW_TOKENS, show_default=True, type=click.IntRange(1),
              help="Upper cap on tokens generated per sentence.")
@click.option("--encoding", help="Output text encoding (default UTF-8).")
@click.option("--list-formats", is_flag=True, expose_value=False, is_eager=True, callback=list_formats,
              help="List the file formats (extensions) read, documents and datasets, and exit.")
@click.option("--line-width", type=click.IntRange(8),
              help="Subtitles: line limit in columns, a full-width character counting 2 (default 32 for ko, 42 for en).")
@click.option("--bilingual", is_flag=True, help="Subtitles: show the translation above the original in each cue. Word (.docx): keep each original paragraph and put its translation under it.")
@click.option("--cache", "cache_path", type=click.Path(path_type=Path), envvar="GUGUGO_CACHE",
              help="Segment cache file (default: in the user cache folder) [env: GUGUGO_CACHE].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the segment cache.")
@click.option("--cache-clear", is_flag=True,
              help="Delete the segment cache (--cache, or the default one) and exit; it keeps every text "
                   "translated until deleted.")
@click.option("--field", "fields", multiple=True, metavar="PATH",
              help="Datasets (.jsonl .json .csv .tsv .parquet): a field to translate in every row, e.g. "
                   "instruction, meta.title, messages[*].content (repeatable; a column name for CSV/TSV). "
                   "Without it, a dataset's string fields are listed.")
@click.option("--keep-source", is_flag=True, help="Datasets: write each translation beside its field as FIELD_<to>.")
@click.option("--quoting", type=click.Choice(["auto", "csv", "none"]), default="auto", show_default=True,
              help="CSV/TSV datasets: csv reads CSV quoting, none reads quotes as text; auto: CSV quoting only "
                   "where the file uses it.")
@click.option("--ray", "use_ray", is_flag=True,
              help="Datasets (.jsonl, .parquet): translate on a Ray cluster ($RAY_ADDRESS, else a local one) and "
                   "write a folder of parts. Needs the ray extra (pip install '.[ray]').")
@click.option("--ray-actors", type=click.IntRange(1), default=None, metavar="N",
              help="With --ray: translating actors, each loading the model once (default: one per GPU; on CPU, "
                   "one per 4 CPUs, 1 to 8).")
@click.option("--max-input-size", default="256M", show_default=True, metavar="SIZE",
              help="Largest document read (a file or stdin), and largest unpacked size of a package (.docx, "
                   ".xlsx, .pptx, .hwpx, .epub), e.g. 512M, 2G. Datasets are streamed and not bound by it.")
@click.option("--guard", is_flag=True,
              help="Check every translation (loops, lost text, wrong language, empty) and retry suspect ones: "
                   "with a repetition penalty, then in parts; what stays suspect is reported.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="With --guard (implied): write every suspect segment (file, segment, source, output, reason) "
                   "to this JSON Lines file.")
@click.option("--glossary", "glossary_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Terms to translate one fixed way: a TSV file of SOURCE<TAB>TARGET[<TAB>case|nocase] lines "
                   "(# comments); every source term comes out as its target term. --dry-run counts its uses.")
@click.option("--no-protect", is_flag=True,
              help="Let the model translate URLs, e-mail addresses, paths, code, entities, format placeholders "
                   "and numbers with units (by default they come back exactly as they were).")
@click.option("--splitter", type=click.Choice(KOREAN_SPLITTERS), envvar=SPLITTER_ENV_VAR,
              help="Korean sentence splitter: kiwi (the default; kss when kiwipiepy is not "
                   f"installed) or kss [env: {SPLITTER_ENV_VAR}].")
@click.option("--workers", type=click.IntRange(1), metavar="N",
              help="Processes that read, split and write files and dataset windows while the model translates "
                   "(default: the CPUs this process may use, at most one per 512 MB of available memory; 1: all in "
                   "this process).")
@click.option("--dry-run", is_flag=True, help="Read and segment everything and report; load no model, write nothing.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.version_option(package_name="gugugo-translate", prog_name=PROG)
def cli(inputs, tgt, src, output, overwrite, include, exclude, model, device, dtype, quantize, engine, batch_size,
        batch_tokens, num_beams, max_new_tokens, encoding, line_width, bilingual, cache_path, no_cache, dry_run,
        quiet, debug, fields=(), keep_source=False, max_input_size="256M", guard=False, report_path=None,
        use_ray=False, ray_actors=None, glossary_path=None, no_protect=False, engine_option_texts=(),
        cache_clear=False, quoting="auto", splitter=None, workers=None):
    """Translate documents, subtitles and datasets (or stdin) between Korean and English with a Gugugo model.

    Text, Markdown, HTML, EPUB, Word, Excel, PowerPoint, HWPX; SubRip, WebVTT, SAMI and ASS/SSA subtitles;
    JSON Lines, JSON, CSV/TSV and Parquet datasets (with --field). --list-formats lists their extensions.

    \b
      gugugo-translate notes.txt --to ko            writes notes.ko.txt
      gugugo-translate subs.srt --to ko             writes subs.ko.srt
      gugugo-translate ./docs --to ko -o ./docs-ko  translates a folder tree
      cat notes.txt | gugugo-translate --to en      writes the translation to stdout

    Exit status: 0 all done, 1 some files failed, 2 usage error, 130 interrupted, 143 terminated.
    """
    interactive = sys.stderr.isatty() and not quiet
    setup_logging(debug, quiet, interactive)
    if cache_clear:
        sys.exit(_clear_cache(cache_path, inputs))
    if tgt is None:
        raise click.UsageError("Missing option '--to'.")
    limits = _check_options(encoding, quantize, device, max_input_size, dtype, model)
    glossary = _load_glossary(glossary_path)
    engine_options = _engine_options(engine_option_texts, engine)
    _check_languages(src, tgt, splitter)
    inputs = _inputs_or_stdin(inputs)
    previous_sigterm = _handle_sigterm()

    request = Request(model, device, dtype, quantize,
                      DecodeOptions(num_beams=num_beams, max_new_tokens=max_new_tokens, batch_size=batch_size,
                                    batch_tokens=batch_tokens, engine=engine, engine_options=engine_options),
                      WrapOptions(guard=guard or report_path is not None, protect=not no_protect, glossary=glossary))
    try:
        from .formats import FormatOptions

        options = FormatOptions(tgt=tgt, encoding=encoding, line_width=line_width, bilingual=bilingual)
        datasets = _is_dataset_run(inputs, use_ray or ray_actors or fields or keep_source, options)
        if use_ray or ray_actors:
            from .datasets.command import run_ray

            code = run_ray(list(inputs), fields, keep_source, src, tgt, output, overwrite, request,
                           None if no_cache else cache_path, no_cache, dry_run, ray_actors, report_path)
        elif datasets:
            from .datasets.command import run as run_datasets

            code = run_datasets(list(inputs), fields, keep_source, src, tgt, output, overwrite, request,
                                None if no_cache else cache_path, no_cache, dry_run, interactive, report_path,
                                quoting=quoting, workers=workers)
        else:
            from .job.command import run as run_documents

            code = run_documents(list(inputs), src, output, overwrite, include, exclude, request, options,
                                 None if no_cache else cache_path, no_cache, dry_run, interactive, limits,
                                 report_path, workers)
    except GugugoError as e:
        if debug:
            raise
        log.error(str(e))
        code = EXIT_USAGE if isinstance(e, UsageError) else EXIT_FAILED
    except KeyboardInterrupt as e:
        terminated = isinstance(e, Terminated)
        log.error("%s: finished files are written, translated segments are cached",
                  "terminated" if terminated else "interrupted")
        code = EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - the one place that turns surprises into one line
        if debug:
            raise
        log.error(f"unexpected {type(e).__name__}: {e} (run with --debug for details)")
        code = EXIT_FAILED
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
    sys.exit(code)


def _check_options(encoding, quantize, device, max_input_size, dtype="auto", model=None):
    """Every option that can be checked without the model, before anything is read: a usage error (exit 2)
    in the first second rather than after translating. Returns the input limits."""
    from .safety import Limits, parse_size

    if encoding is not None:
        try:
            info = codecs.lookup(encoding)
        except LookupError:
            _usage(f"--encoding {encoding}: unknown encoding")
        if not getattr(info, "_is_text_encoding", True):
            _usage(f"--encoding {encoding}: not a text encoding")
    if quantize == "int8" and device == "cuda":
        _usage("--quantize int8 is the CPU path; on a GPU use --quantize 8bit")
    if quantize == "int8" and dtype in ("bfloat16", "float16"):
        _usage(INT8_DTYPE_ERROR.format(dtype=dtype))
    if quantize in ("4bit", "8bit") and resolve_device(device, probe_torch=False) == "cpu":
        _usage(BITSANDBYTES_CPU_ERROR.format(quantize=quantize))
    try:
        limits = Limits(max_input=parse_size(max_input_size))
    except ValueError as e:
        _usage(f"--max-input-size {e}")
    _check_model_folder(model)
    return limits


def _check_model_folder(model) -> None:
    """A --model that names a folder (./m, ../m, /m, ~/m, or an existing folder) must be a model folder: checked
    before anything is read, in a dry run too. A hub id is looked up only when the model loads."""
    from .engines.loading import looks_like_path

    name = config.model_id(model)
    if not looks_like_path(name):
        return
    folder = Path(name).expanduser()
    if not folder.is_dir():
        _usage(f"model folder {name}: {'not a folder' if folder.exists() else 'no such folder'} (--model takes "
               "a folder with config.json, or a hub id owner/name)")
    if not (folder / "config.json").is_file():
        _usage(f"model folder {name}: not a model folder (no config.json)")


def _is_dataset_run(inputs, dataset_options, options) -> bool:
    """Whether the run goes to the datasets command (a dataset option given, or a dataset file named); options
    for some document formats given then are a warning each."""
    from .datasets import is_dataset
    from .formats import OPTION_FORMATS

    if not (dataset_options or any(i != "-" and Path(i).is_file() and is_dataset(i) for i in inputs)):
        return False
    given = {"--bilingual": options.bilingual, "--line-width": options.line_width is not None}
    for option, (_, applies_to) in OPTION_FORMATS.items():
        if given[option]:
            log.warning("%s does nothing for datasets: it applies to %s", option, applies_to)
    return True


def _engine_options(texts, engine) -> tuple:
    """--engine-option KEY=VALUE..., for vllm.LLM, as (key, value) pairs sorted by key; a bad one, or one without
    --engine vllm, is a usage error."""
    from .engines.loading import parse_engine_option

    if texts and engine != "vllm":
        _usage("--engine-option is passed to vLLM: it needs --engine vllm")
    options = {}
    for text in texts:
        try:
            key, value = parse_engine_option(text)
        except ValueError as e:
            _usage(f"--engine-option {e}")
        options[key] = value
    return tuple(sorted(options.items()))


def _load_glossary(path):
    """The --glossary file, read before anything else (a bad file is a usage error naming its line)."""
    if path is None:
        return None
    from .glossary import GlossaryError, load

    try:
        glossary = load(path)
    except GlossaryError as e:
        _usage(str(e))
    if not glossary:
        log.warning("glossary %s has no terms", path)
    return glossary or None


def _clear_cache(cache_path, inputs) -> int:
    from .job.cache import clear_cache, default_cache_path

    if inputs:
        _usage("--cache-clear deletes the segment cache and translates nothing: run it without inputs")
    path = cache_path or default_cache_path()
    try:
        found = clear_cache(path)
    except ValueError as e:
        _usage(f"--cache {e}")
    except OSError as e:
        log.error("%s: cannot delete the segment cache (%s)", path, e.strerror or e)
        return EXIT_FAILED
    click.echo(f"{PROG}: {'deleted the segment cache' if found else 'no segment cache at'} {path}", err=True)
    return EXIT_OK


def _handle_sigterm():
    """Turn SIGTERM into the Ctrl-C path; the handler it replaced (None where signals cannot be set here)."""
    try:
        return signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        return None


def main() -> None:
    cli(prog_name=PROG)
