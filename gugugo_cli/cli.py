"""The `gugugo-translate` command: a thin layer over the Python API.

Imports nothing heavy at start-up; torch, transformers and kss load only once there is text to translate.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from . import config
from .errors import GugugoError

PROG = "gugugo-translate"
log = logging.getLogger("gugugo_cli")


class _OneLineFormatter(logging.Formatter):
    def format(self, record):
        return f"{PROG}: {record.levelname.lower()}: {record.getMessage()}"


def _setup_logging(debug: bool, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLineFormatter())
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG if debug else logging.ERROR if quiet else logging.INFO)


def _fail(message: str) -> None:
    log.error(message)


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("inputs", nargs=-1, metavar="[INPUT]...")
@click.option("--to", "tgt", required=True, metavar="ko|en", help="Language to translate into.")
@click.option("--from", "src", default="auto", show_default=True, metavar="auto|ko|en",
              help="Source language; auto decides per paragraph by its share of Hangul and leaves "
                   "paragraphs already in the target language as they are.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output file, or folder (for several inputs). Default: NAME.<to>.EXT beside the input.")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs (never the input).")
@click.option("--model", envvar=config.MODEL_ENV_VAR, default=config.DEFAULT_MODEL, show_default=True,
              help=f"Hugging Face hub id or local model folder [env: {config.MODEL_ENV_VAR}].")
@click.option("--device", default="auto", show_default=True, type=click.Choice(["auto", "cuda", "cpu"]))
@click.option("--dtype", default="auto", show_default=True,
              type=click.Choice(["auto", "bfloat16", "float16", "float32"]),
              help="auto: bf16/fp16 on GPU; bf16 on CPUs with native BF16, else float32.")
@click.option("--quantize", type=click.Choice(["4bit", "8bit"]), help="Load with bitsandbytes (extra [quant]).")
@click.option("--batch-size", type=click.IntRange(1), help="Sentences per generate call (default: 64 CPU, 256 GPU).")
@click.option("--batch-tokens", type=click.IntRange(16), help="Token budget (prompt + new) per generate call.")
@click.option("--num-beams", default=1, show_default=True, type=click.IntRange(1),
              help="Beam search width; 1 is greedy (much faster).")
@click.option("--max-new-tokens", default=config.MAX_NEW_TOKENS, show_default=True, type=click.IntRange(1),
              help="Upper cap on tokens generated per sentence.")
@click.option("--encoding", help="Output text encoding (default UTF-8).")
@click.option("--line-width", type=click.IntRange(8),
              help="Subtitles: line limit in columns, a full-width character counting 2 (default 32 for ko, 42 for en).")
@click.option("--bilingual", is_flag=True, help="Subtitles: show the translation above the original in each cue.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.version_option(package_name="gugugo-translate", prog_name=PROG)
def cli(inputs, tgt, src, output, overwrite, model, device, dtype, quantize, batch_size, batch_tokens,
        num_beams, max_new_tokens, encoding, line_width, bilingual, quiet, debug):
    """Translate text and subtitle files (or stdin) between Korean and English with a Gugugo model.

    \b
      gugugo-translate notes.txt --to ko          writes notes.ko.txt
      gugugo-translate subs.srt --to ko           writes subs.ko.srt
      cat notes.txt | gugugo-translate --to en    writes the translation to stdout
    """
    _setup_logging(debug, quiet)
    if tgt not in config.LANGUAGES:
        _fail(f"--to {tgt!r}: unknown language (choose ko or en)")
        sys.exit(2)
    if src not in ("auto",) + config.LANGUAGES:
        _fail(f"--from {src!r}: unknown language (choose auto, ko or en)")
        sys.exit(2)
    if src == tgt:
        _fail(f"--from and --to are both {tgt!r}")
        sys.exit(2)
    if not inputs:
        if sys.stdin is None or sys.stdin.isatty():
            _fail("no input: name a file, or pipe text into stdin (see --help)")
            sys.exit(2)
        inputs = ("-",)
    if len(inputs) > 1 and output is not None and not output.is_dir():
        _fail(f"-o {output}: with several inputs, -o must be an existing folder")
        sys.exit(2)

    load_options = dict(model=model, device=device, dtype=dtype, quantize=quantize, batch_size=batch_size,
                        batch_tokens=batch_tokens, num_beams=num_beams, max_new_tokens=max_new_tokens)
    try:
        from .formats import FormatOptions

        options = FormatOptions(tgt=tgt, encoding=encoding, line_width=line_width, bilingual=bilingual)
        failed = _run(list(inputs), tgt, src, output, overwrite, load_options, options)
    except GugugoError as e:
        if debug:
            raise
        _fail(str(e))
        sys.exit(1)
    except KeyboardInterrupt:
        _fail("interrupted")
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - the one place that turns surprises into one line
        if debug:
            raise
        _fail(f"unexpected {type(e).__name__}: {e} (run with --debug for details)")
        sys.exit(1)
    sys.exit(1 if failed else 0)


def _run(inputs, tgt, src, output, overwrite, load_options, options) -> int:
    from .formats import read_document
    from .pipeline import needs_model, output_path_for, translate_documents
    from .textio import atomic_write_bytes

    jobs, failed = [], 0
    for name in inputs:
        try:
            if name == "-":
                doc = read_document("-", sys.stdin.buffer.read(), options)
                dest = None if output is None else output_path_for("stdin.txt", tgt, output, overwrite)
            else:
                dest = output_path_for(name, tgt, output, overwrite)
                doc = read_document(name, options=options)
        except GugugoError as e:
            _fail(str(e))
            failed += 1
            continue
        jobs.append((name, doc, dest))
    if not jobs:
        return failed

    docs = [doc for _, doc, _ in jobs]
    if needs_model(docs):
        from .engine import load_translator

        _quiet_transformers()
        translator = load_translator(**load_options)
        rendered = translate_documents(docs, tgt, src, translator)
    else:
        rendered = [doc.render(doc.texts()) for doc in docs]

    for (name, _, dest), data in zip(jobs, rendered):
        if dest is None:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            atomic_write_bytes(dest, data)
            log.info("wrote %s", dest)
    return failed


def _quiet_transformers() -> None:
    """transformers' own progress bars and advice would clutter stderr; --debug shows them."""
    if log.level <= logging.DEBUG:
        return
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def main() -> None:
    cli(prog_name=PROG)
