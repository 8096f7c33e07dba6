"""A hub model's files on this machine, before an engine loads them: one look at the hub (no retries, a short
timeout) tells a model that does not exist from a hub that cannot be reached, a model in the local hub cache is
used as it is when the hub cannot be reached, and a first download says what it fetches and how large it is.

The engines then load the local folder, so no library retries the hub on its own.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Optional

from ..console import NOTICE
from ..errors import ModelError, first_line

log = logging.getLogger("gugugo_cli")

HUB_TIMEOUT = 10.0  # seconds for the first look at the hub
# What the engines read from a model repository: configuration, tokenizer and weights (one format of them).
CONFIG_SUFFIXES = (".json", ".txt", ".model", ".tiktoken")
WEIGHT_SUFFIXES = (".safetensors", ".bin")


def local_folder(model_id: str) -> str:
    """The folder to load `model_id` from: a folder is itself; a hub id is its snapshot in the hub cache,
    downloaded first where files are missing. A ModelError in one line when the model cannot be had."""
    if Path(model_id).expanduser().is_dir():
        return model_id
    hub_log = logging.getLogger("huggingface_hub")
    level = hub_log.level
    if not log.isEnabledFor(logging.DEBUG):
        hub_log.setLevel(logging.ERROR)  # its warnings (retries, advice) would be lines beside the one that counts
    try:
        return _hub_folder(model_id)
    finally:
        hub_log.setLevel(level)


def _hub_folder(model_id: str) -> str:
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return _cached_or_fail(model_id, "HF_HUB_OFFLINE is set")
    try:
        info = _model_info(model_id)
    except _HubUnreachable as e:
        return _cached_or_fail(model_id, str(e))
    files = wanted_files(info.siblings or ())
    missing = [f for f in files if not _is_cached(model_id, f.rfilename, info.sha)]
    if missing:
        size = sum(f.size or 0 for f in missing)
        log.log(NOTICE, "downloading %s (%s) into the hub cache", model_id, human_size(size))
        folder = _download(model_id, [f.rfilename for f in files])
        log.log(NOTICE, "loading %s", model_id)
        return folder
    return str(Path(_is_cached(model_id, files[0].rfilename, info.sha)).parent)


class _HubUnreachable(Exception):
    """The hub did not answer (no network, a proxy, a timeout, a server error)."""


def _model_info(model_id: str):
    """The hub's record of the model, with file sizes; ModelError for a model the hub does not have."""
    from huggingface_hub import HfApi
    from huggingface_hub.utils import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    try:
        return HfApi().model_info(model_id, timeout=HUB_TIMEOUT, files_metadata=True)
    except GatedRepoError:
        raise ModelError(f"model {model_id}: gated on the hub; accept its conditions on its hub page and log in "
                         "(`hf auth login`)") from None
    except HfHubHTTPError as e:
        status = getattr(getattr(e, "response", None), "status_code", None)
        if isinstance(e, RepositoryNotFoundError) or status in (401, 404):
            raise ModelError(f"model {model_id}: no such model on the hub ({_endpoint()}); check the id, or pass "
                             "a local model folder (a private model needs `hf auth login`)") from None
        raise _HubUnreachable(f"the hub ({_endpoint()}) answered {status or first_line(e)}") from None
    except ValueError as e:  # not a valid repository id
        raise ModelError(f"model {model_id}: not a hub id (owner/name) nor a model folder ({first_line(e)})") from None
    except Exception as e:  # noqa: BLE001 - the HTTP library's connection errors, timeouts, proxy errors
        raise _HubUnreachable(f"the hub ({_endpoint()}) cannot be reached ({first_line(e)})") from None


def _cached_or_fail(model_id: str, why: str) -> str:
    """The model's snapshot in the local hub cache, when the hub cannot be asked; else one line saying so."""
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(model_id, "config.json")
    if isinstance(cached, str):
        log.debug("%s: %s from the hub cache", why, model_id)
        return str(Path(cached).parent)
    raise ModelError(f"model {model_id}: not in the hub cache, and it cannot be downloaded: {why}. Download it "
                     f"where there is a network (`hf download {model_id} --local-dir DIR`) and pass --model DIR")


def wanted_files(siblings) -> list:
    """The repository files an engine reads: top-level configuration and tokenizer files, and the weights in
    safetensors where the repository has them, else in .bin."""
    top = [s for s in siblings if "/" not in s.rfilename]
    config = [s for s in top if s.rfilename.endswith(CONFIG_SUFFIXES)]
    for suffix in WEIGHT_SUFFIXES:
        weights = [s for s in top if s.rfilename.endswith(suffix)]
        if weights:
            break
    files = config + weights
    if not any(s.rfilename == "config.json" for s in files):
        raise ModelError("model on the hub has no config.json: not a transformers model")
    return sorted(files, key=lambda s: s.rfilename != "config.json")


def _is_cached(model_id: str, filename: str, revision: str):
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(model_id, filename, revision=revision)
    return found if isinstance(found, str) else None


def _download(model_id: str, filenames: list[str]) -> str:
    from huggingface_hub import snapshot_download

    from ..console import download_display

    try:
        with download_display() as show, _progress_bars(show):
            return snapshot_download(model_id, allow_patterns=filenames)  # the branch, so refs/main is written
    except KeyboardInterrupt:
        raise
    except Exception as e:  # noqa: BLE001 - a connection lost, a full disk, ...
        log.debug("download failed", exc_info=True)
        raise ModelError(f"model {model_id}: the download failed ({first_line(e)}); run again to resume it") \
            from None


@contextlib.contextmanager
def _progress_bars(show: Optional[bool]):
    """The hub library's progress bars on (True) or off (False) for a download, then as they were."""
    if show is None:
        yield
        return
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    was_disabled = are_progress_bars_disabled()
    (enable_progress_bars if show else disable_progress_bars)()
    try:
        yield
    finally:
        (disable_progress_bars if was_disabled else enable_progress_bars)()


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def human_size(size: int) -> str:
    """2634000000 -> '2.6 GB'."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"
