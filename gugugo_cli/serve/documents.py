"""Uploaded documents: translated in the background through the CLI's format code and the shared engine,
kept under an unguessable id in a private folder, and deleted once downloaded or when they expire.

A client's file name only picks the format (its extension) and the name the download is offered under; no
path from a client reaches the file system (the stored files are named by their ids)."""

from __future__ import annotations

import hmac
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Optional
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..errors import InputError, first_line
from ..safety import read_stream
from .answers import ApiError
from .batching import Busy
from .segments import document_suffixes, plan_document, supported_document

log = logging.getLogger("gugugo_cli")

CHUNK = 256  # segments a document queues at a time, so text requests get their turn between its parts
_ID = re.compile(r"[0-9a-f]{32}")
_UNSAFE = re.compile(r"[^\w.\- ]+")


def safe_name(name: str) -> str:
    """The last component of a client's file name, without separators or control characters."""
    name = PurePosixPath((name or "").replace("\\", "/")).name
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[-128:] or "document"


def translated_name(name: str, tgt: str) -> str:
    """NAME.<tgt>.EXT, as the CLI names its outputs."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{tgt}.{ext}" if dot and stem else f"{name}.{tgt}"


@dataclass
class Entry:
    id: str
    key: str  # DeepL's document_key: needed with the id for status and result
    name: str  # the name the translation is downloaded under
    tgt: str
    expires: float
    status: str = "queued"  # queued, translating, done, error
    error: Optional[str] = None
    characters: int = 0
    finished: threading.Event = field(default_factory=threading.Event)


class DocumentStore:
    def __init__(self, batcher, settings):
        self.batcher, self.settings = batcher, settings
        self.limits, self.ttl = settings.limits, settings.document_ttl
        self.folder = Path(tempfile.mkdtemp(prefix="gugugo-serve-"))  # mode 0700
        self.entries: dict[str, Entry] = {}
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gugugo-serve-document")
        self._stop = threading.Event()
        threading.Thread(target=self._sweeper, name="gugugo-serve-sweeper", daemon=True).start()

    # --- the routes' side -----------------------------------------------------------------------------------

    async def start(self, upload, src: str, tgt: str, filename: Optional[str] = None) -> Entry:
        """Read an upload (within the input limits) and queue its translation; raises ApiError."""

        name = safe_name(filename or upload.filename or "")
        if not supported_document(name):
            raise ApiError(400, f"Invalid request: file format not supported (supported: "
                                f"{', '.join(document_suffixes())})")
        try:
            data = await run_in_threadpool(read_stream, upload.file, name, self.limits)
        except InputError as e:
            raise ApiError(413, f"Request Entity Too Large: {e.problem}") from None
        self.sweep()
        with self.lock:
            if len(self.entries) >= self.settings.max_documents:
                raise ApiError(503, "too many documents in progress", {"Retry-After": "10"})
            entry = Entry(secrets.token_hex(16), secrets.token_hex(32), translated_name(name, tgt), tgt,
                          time.monotonic() + self.ttl)
            self.entries[entry.id] = entry
        self.pool.submit(self._translate, entry, name, data, src)
        return entry

    async def wait(self, entry: Entry, seconds: float) -> None:
        await run_in_threadpool(entry.finished.wait, seconds)

    def get(self, document_id: str, key: Optional[str] = None) -> Optional[Entry]:
        if not _ID.fullmatch(document_id or ""):
            return None
        with self.lock:
            entry = self.entries.get(document_id)
        if entry is None or entry.expires < time.monotonic():
            return None
        if key is not None and not hmac.compare_digest(key.encode(), entry.key.encode()):
            return None
        return entry

    def take(self, entry: Entry) -> Response:
        """The translated file as a download; it and its entry are gone afterwards."""
        path = self.folder / entry.id
        data = path.read_bytes()
        self._forget(entry.id)
        fallback = entry.name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
        disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(entry.name)}"
        return Response(data, media_type="application/octet-stream",
                        headers={"Content-Disposition": disposition})

    # --- the work --------------------------------------------------------------------------------------------

    def _translate(self, entry: Entry, name: str, data: bytes, src: str) -> None:
        entry.status = "translating"
        try:
            work = plan_document(name, data, entry.tgt, src, self.limits)
            del data
            keys = work.keys()
            entry.characters = sum(len(text) for _, text in keys)
            done = {}
            chunk = min(CHUNK, self.batcher.max_queue)
            for i in range(0, len(keys), chunk):
                part = keys[i:i + chunk]
                futures = self.batcher.submit([(s, entry.tgt, t) for s, t in part], wait=self.ttl)
                done.update((k, f.result(timeout=self.ttl)) for k, f in zip(part, futures))
            self._write(entry.id, work.render(done))
            entry.status = "done"
        except InputError as e:
            entry.status, entry.error = "error", e.problem
        except Busy:
            entry.status, entry.error = "error", "the server is too busy"
        except Exception as e:  # the engine or the format failed: this document fails, the server goes on
            log.error("document %s failed: %s", name, first_line(e))
            entry.status, entry.error = "error", first_line(e)
        finally:
            entry.finished.set()

    def _write(self, document_id: str, data: bytes) -> None:
        temp = self.folder / f"{document_id}.part"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temp, self.folder / document_id)

    # --- expiry ----------------------------------------------------------------------------------------------

    def _forget(self, document_id: str) -> None:
        with self.lock:
            self.entries.pop(document_id, None)
        for path in (self.folder / document_id, self.folder / f"{document_id}.part"):
            path.unlink(missing_ok=True)

    def sweep(self) -> None:
        """Delete every expired document whose translation has finished."""
        now = time.monotonic()
        with self.lock:
            expired = [e.id for e in self.entries.values() if e.expires < now and e.finished.is_set()]
        for document_id in expired:
            self._forget(document_id)

    def _sweeper(self) -> None:
        while not self._stop.wait(min(60.0, max(1.0, self.ttl / 10))):
            self.sweep()

    def close(self) -> None:
        self._stop.set()
        self.pool.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self.folder, ignore_errors=True)
