"""`gugugo-serve`: load the model once and serve it over the LibreTranslate and DeepL v2 APIs."""

from __future__ import annotations

import ipaddress
import logging
import sys
from pathlib import Path

import click

from .. import config
from ..engines.loading import ENGINE_CHOICES

PROG = "gugugo-serve"
log = logging.getLogger("gugugo_cli")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _fail(message: str, code: int = 2):
    click.echo(f"{PROG}: {message}", err=True)
    sys.exit(code)


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but a loopback address needs --api-key.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--api-key", envvar="GUGUGO_API_KEY", metavar="KEY",
              help="Key every translation request must carry (LibreTranslate: api_key; DeepL: "
                   "Authorization: DeepL-Auth-Key KEY) [env: GUGUGO_API_KEY].")
@click.option("--model", envvar=config.MODEL_ENV_VAR, default=config.DEFAULT_MODEL, show_default=True,
              help=f"Hugging Face hub id or local model folder [env: {config.MODEL_ENV_VAR}].")
@click.option("--device", default="auto", show_default=True, type=click.Choice(["auto", "cuda", "cpu"]))
@click.option("--dtype", default="auto", show_default=True,
              type=click.Choice(["auto", "bfloat16", "float16", "float32"]))
@click.option("--quantize", type=click.Choice(["4bit", "8bit", "int8"]))
@click.option("--engine", default="auto", show_default=True,
              type=click.Choice(ENGINE_CHOICES))
@click.option("--batch-size", type=click.IntRange(1), help="Sentences per generate call.")
@click.option("--batch-tokens", type=click.IntRange(16), help="Token budget (prompt + new) per generate call.")
@click.option("--num-beams", default=1, show_default=True, type=click.IntRange(1))
@click.option("--max-new-tokens", default=config.MAX_NEW_TOKENS, show_default=True, type=click.IntRange(1))
@click.option("--guard", is_flag=True, help="Check every translation and retry suspect ones.")
@click.option("--glossary", "glossary_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              metavar="FILE", help="TSV of source and target terms, applied to every request.")
@click.option("--no-protect", is_flag=True, help="Let the model translate URLs, code, placeholders...")
@click.option("--cache", "cache_path", type=click.Path(path_type=Path), envvar="GUGUGO_CACHE",
              help="Segment cache file (default: in the user cache folder) [env: GUGUGO_CACHE].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the segment cache.")
@click.option("--timeout", default=120.0, show_default=True, type=click.FloatRange(1),
              help="Seconds a text request may wait for its translation (then 503).")
@click.option("--max-queue", default=4096, show_default=True, type=click.IntRange(1),
              help="Segments waiting for the model; a request that does not fit gets 503 with Retry-After.")
@click.option("--max-body", default="1M", show_default=True, metavar="SIZE", help="Largest text request body.")
@click.option("--max-input-size", default="256M", show_default=True, metavar="SIZE",
              help="Largest uploaded document, and its unpacked size for zip-based formats (as the CLI's).")
@click.option("--document-ttl", default=3600.0, show_default=True, type=click.FloatRange(1),
              help="Seconds a document and its translation are kept at most (deleted on download).")
@click.option("--debug", is_flag=True, help="Show debug logs.")
def cli(host, port, api_key, model, device, dtype, quantize, engine, batch_size, batch_tokens, num_beams,
        max_new_tokens, guard, glossary_path, no_protect, cache_path, no_cache, timeout, max_queue, max_body,
        max_input_size, document_ttl, debug):
    """Serve a Gugugo model over the LibreTranslate and DeepL APIs, batching all clients on one engine.

    \b
      gugugo-serve                                  http://127.0.0.1:5000
      LibreTranslate clients: url http://127.0.0.1:5000
      DeepL clients: server_url http://127.0.0.1:5000 (any auth key, or --api-key's)
    """
    from ..console import setup_logging
    from ..safety import Limits, parse_size

    setup_logging(debug, False, sys.stderr.isatty())
    if not is_loopback(host) and not api_key:
        _fail(f"--host {host} is reachable from other machines: set --api-key KEY (or GUGUGO_API_KEY)")
    try:
        limits, body = Limits(max_input=parse_size(max_input_size)), parse_size(max_body)
    except ValueError as e:
        _fail(str(e))
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError:
        _fail(f"the server needs the serve extra: {config.install_hint('serve')}")
    load_options = dict(model=model, device=device, dtype=dtype, quantize=quantize, batch_size=batch_size,
                        batch_tokens=batch_tokens, num_beams=num_beams, max_new_tokens=max_new_tokens,
                        engine=engine, guard=guard, protect=not no_protect, glossary=glossary_path)
    app = build(load_options, host_settings(api_key, timeout, max_queue, body, limits, document_ttl,
                                            None if no_cache else cache_path, no_cache))
    uvicorn.run(app, host=host, port=port, log_level="debug" if debug else "info")


def host_settings(api_key, timeout, max_queue, max_body, limits, document_ttl, cache_path, no_cache):
    from ..job.cache import default_cache_path
    from .state import Settings

    return Settings(api_key=api_key, timeout=timeout, max_queue=max_queue, max_body=max_body, limits=limits,
                    document_ttl=document_ttl, cache_path=None if no_cache else (cache_path or default_cache_path()))


def build(load_options: dict, settings):
    from ..console import quiet_transformers
    from ..errors import GugugoError, first_line
    from .app import create_app
    from .segments import load

    quiet_transformers()
    try:
        translator, settings.cache_key, settings.info = load(load_options)
    except GugugoError as e:
        _fail(first_line(e), 1)
    return create_app(translator, settings)


def main() -> None:
    cli(prog_name=PROG)
