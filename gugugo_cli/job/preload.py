"""Imported by the forkserver that worker processes are started from where they cannot be forked from the main
process (job/host.py): the sentence splitter of the language in GUGUGO_PRELOAD_SPLITTER is loaded there, so the
workers forked from it share one copy of it."""

import os

from .host import PRELOAD_VAR, preload


def _load() -> None:
    lang = os.environ.get(PRELOAD_VAR)
    if not lang:
        return
    try:
        preload(lang)
    except Exception:  # noqa: BLE001 - an error here would stop the server; each worker then loads its own
        pass


_load()
