"""The `gugugo-eval` command. Imports nothing heavy at start-up: --help and every usage error come before
torch, transformers, kss or sacrebleu are loaded."""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path

import click

from .. import config
from ..engines.loading import ENGINE_CHOICES
from ..errors import GugugoError, UsageError
from ..languages import LANGUAGES

PROG = "gugugo-eval"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
TOKENIZERS = ("auto", "13a", "intl", "char", "ko-mecab", "zh", "ja-mecab", "none")
log = logging.getLogger("gugugo_cli")


class _OneLine(logging.Formatter):
    def format(self, record):
        return f"{PROG}: {record.levelname.lower()}: {record.getMessage()}"


def _setup_logging(debug: bool, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING)


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--src", "src_path", required=True, metavar="FILE",
              help="Source sentences, one a line; or a dataset (.jsonl .json .csv .tsv .parquet) with --src-field.")
@click.option("--ref", "ref_path", metavar="FILE", help="Reference translations, line N for line N of --src.")
@click.option("--src-field", metavar="FIELD", help="Dataset: the field of each row holding the source (a.b for nested).")
@click.option("--ref-field", metavar="FIELD", help="Dataset: the field of each row holding the reference.")
@click.option("--to", "tgt", required=True, metavar="ko|en", help="Language to translate into.")
@click.option("--from", "src", default="auto", show_default=True, metavar="auto|ko|en", help="Source language.")
@click.option("--limit", type=click.IntRange(1), metavar="N", help="Only the first N sentence pairs.")
@click.option("--model", envvar=config.MODEL_ENV_VAR, default=config.DEFAULT_MODEL, show_default=True,
              help=f"Hugging Face hub id or local model folder [env: {config.MODEL_ENV_VAR}].")
@click.option("--device", default="auto", show_default=True, type=click.Choice(["auto", "cuda", "cpu"]))
@click.option("--dtype", default="auto", show_default=True,
              type=click.Choice(["auto", "bfloat16", "float16", "float32"]))
@click.option("--quantize", type=click.Choice(["4bit", "8bit", "int8"]), help="As in gugugo-translate.")
@click.option("--engine", default="auto", show_default=True,
              type=click.Choice(ENGINE_CHOICES))
@click.option("--batch-size", type=click.IntRange(1), help="Sentences per generate call.")
@click.option("--batch-tokens", type=click.IntRange(16), help="Token budget (prompt + new) per generate call.")
@click.option("--num-beams", default=1, show_default=True, type=click.IntRange(1), help="Beam search width.")
@click.option("--max-new-tokens", default=config.MAX_NEW_TOKENS, show_default=True, type=click.IntRange(1))
@click.option("--guard", is_flag=True, help="Retry translations the guards find suspect (as gugugo-translate --guard).")
@click.option("--glossary", type=click.Path(dir_okay=False), metavar="FILE", help="A glossary TSV file.")
@click.option("--no-protect", is_flag=True, help="Let the model translate URLs, code, numbers with units...")
@click.option("--compare", "compares", multiple=True, metavar="KEY=VALUE[,KEY=VALUE]",
              help="A configuration: the options above with these changed (repeatable; keys: model, device, "
                   "dtype, quantize, engine, num_beams, max_new_tokens, batch_size, batch_tokens, guard, "
                   "protect, glossary). All run on the same sentences; p-values are against the first.")
@click.option("--bootstrap", "samples", default=1000, show_default=True, type=click.IntRange(0), metavar="N",
              help="Bootstrap resamples for the 95% confidence intervals and the paired test (0: none).")
@click.option("--bleu-tokenize", default="auto", show_default=True, type=click.Choice(TOKENIZERS),
              help="auto: ko-mecab for Korean when mecab-ko is installed (pip install 'sacrebleu[ko]'), else "
                   "char; 13a for English.")
@click.option("--comet-model", type=click.Path(path_type=Path), metavar="PATH",
              help="Also score with COMET (needs unbabel-comet): a local checkpoint file or model folder.")
@click.option("--json", "json_target", metavar="FILE|-",
              help="Write the results as one JSON object to FILE, or to stdout instead of the table with -.")
@click.option("--save-outputs", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write each configuration's translations to DIR/<n>-<configuration>.<to>, one a line.")
@click.option("--no-language-check", is_flag=True,
              help="Score even when the references are not in the --to language or the sources not in the other.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr (no progress bar).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.version_option(package_name="gugugo-translate", prog_name=PROG)
def cli(src_path, ref_path, src_field, ref_field, tgt, src, limit, model, device, dtype, quantize, engine,
        batch_size, batch_tokens, num_beams, max_new_tokens, guard, glossary, no_protect, compares, samples,
        bleu_tokenize, comet_model, json_target, save_outputs, no_language_check, quiet, debug):
    """Measure the translation quality (chrF++, BLEU, optionally COMET, with 95% bootstrap confidence
    intervals) and speed of a model configuration, or compare several, on a test set.

    \b
      gugugo-eval --src test.en --ref test.ko --to ko
      gugugo-eval --src pairs.jsonl --src-field en --ref-field ko --to ko
      gugugo-eval --src test.en --ref test.ko --to ko --compare dtype=float32 --compare quantize=int8

    Exit status: 0 done, 1 a model or run failed, 2 usage error (bad options or test set), 130 interrupted.
    """
    _setup_logging(debug, quiet)
    base = dict(model=model, device=device, dtype=dtype, quantize=quantize, engine=engine, num_beams=num_beams,
                max_new_tokens=max_new_tokens, batch_size=batch_size, batch_tokens=batch_tokens, guard=guard,
                protect=not no_protect, glossary=glossary)
    try:
        configs = _configurations(base, compares)
        _check(tgt, src, configs, json_target, save_outputs)
        if importlib.util.find_spec("sacrebleu") is None:
            raise UsageError(f"gugugo-eval needs sacrebleu: {config.install_hint('eval')}")
        comet_path = None
        if comet_model is not None:
            from .comet import checkpoint

            comet_path = checkpoint(comet_model)
        from .run import evaluate

        code = evaluate(**dict(src_path=src_path, ref_path=ref_path, src_field=src_field, ref_field=ref_field,
                             limit=limit, src=src, tgt=tgt, configs=configs, samples=samples,
                             bleu_tokenize=bleu_tokenize, comet_path=comet_path, json_target=json_target,
                             save_outputs=save_outputs, language_check=not no_language_check,
                             progress=sys.stderr.isatty() and not quiet, terminal=sys.stdout.isatty()))
    except GugugoError as e:
        if debug:
            raise
        log.error(str(e))
        code = EXIT_USAGE if isinstance(e, UsageError) else EXIT_FAILED
    except KeyboardInterrupt:
        log.error("interrupted")
        code = EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - the one place that turns surprises into one line
        if debug:
            raise
        log.error(f"unexpected {type(e).__name__}: {e} (run with --debug for details)")
        code = EXIT_FAILED
    sys.exit(code)


def _configurations(base: dict, compares) -> list[tuple[str, dict]]:
    from .pipeline import parse_setting

    if not compares:
        return [(Path(base["model"]).name or base["model"], base)]
    return [(text, {**base, **parse_setting(text)}) for text in compares]


def _check(tgt, src, configs, json_target, save_outputs) -> None:
    """What can be refused before anything is read or loaded."""
    if tgt not in LANGUAGES:
        raise UsageError(f"--to {tgt!r}: unknown language (choose ko or en)")
    if src not in ("auto",) + LANGUAGES:
        raise UsageError(f"--from {src!r}: unknown language (choose auto, ko or en)")
    if src == tgt:
        raise UsageError(f"--from and --to are both {tgt!r}")
    for name, options in configs:
        if options["quantize"] == "int8" and options["device"] == "cuda":
            raise UsageError(f"{name}: quantize int8 is the CPU path; on a GPU use 8bit")
        if options["quantize"] in ("4bit", "8bit") and options["device"] == "cpu":
            raise UsageError(f"{name}: quantize {options['quantize']} needs a GPU; on the CPU use int8")
        if options["glossary"] is not None and not Path(options["glossary"]).is_file():
            raise UsageError(f"{options['glossary']}: no such glossary file")
    if json_target not in (None, "-") and not Path(json_target).resolve().parent.is_dir():
        raise UsageError(f"--json {json_target}: its folder does not exist")
    if save_outputs is not None and save_outputs.exists() and not save_outputs.is_dir():
        raise UsageError(f"--save-outputs {save_outputs}: not a folder")


def main() -> None:
    cli(prog_name=PROG)
