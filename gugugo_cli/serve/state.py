"""What every route shares: the settings, the one engine (a Batcher) and the documents being translated."""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..errors import first_line
from ..safety import Limits
from .answers import ApiError
from .batching import Batcher, Busy
from .documents import DocumentStore
from .segments import Work

MiB = 1 << 20


@dataclass
class Settings:
    api_key: Optional[str] = None  # when set, every translation request must carry it
    timeout: float = 60.0  # seconds a text request may wait for its translation
    max_body: int = 1 * MiB  # bytes of a text request's body
    limits: Limits = field(default_factory=Limits)  # an uploaded document, as the CLI's inputs
    max_queue: int = 4096  # segments waiting for the engine
    max_batch: int = 256  # segments per engine call
    document_ttl: float = 3600.0  # seconds a document (and its translation) is kept at most
    max_documents: int = 16  # documents being translated or waiting for download
    cache_path: Optional[Path] = None  # the segment cache (None: none)
    cache_key: str = ""
    info: dict = field(default_factory=dict)  # model, engine, device for /health


class State:
    def __init__(self, translator, settings: Settings):
        self.settings = settings
        self.batcher = Batcher(translator, settings.max_queue, settings.max_batch, settings.cache_path,
                               settings.cache_key)
        self.documents = DocumentStore(self.batcher, settings)
        self.characters = 0  # source characters translated (DeepL's /v2/usage)

    def key_ok(self, given: Optional[str]) -> bool:
        wanted = self.settings.api_key
        return wanted is None or (given is not None and hmac.compare_digest(given.encode(), wanted.encode()))

    async def translate(self, works: list[Work], tgt: str) -> dict:
        """Every segment of `works` through the shared engine: (src, text) -> translation."""
        keys = list(dict.fromkeys(k for w in works for k in w.keys()))
        if not keys:
            return {}
        if len(keys) > self.batcher.max_queue:
            raise ApiError(400, f"Invalid request: request ({len(keys)} segments) exceeds text limit "
                                f"({self.batcher.max_queue})")
        try:
            futures = self.batcher.submit((src, tgt, text) for src, text in keys)
        except Busy as e:
            raise ApiError(503, str(e), {"Retry-After": str(e.retry_after)}) from None
        try:
            outputs = await asyncio.wait_for(asyncio.gather(*map(asyncio.wrap_future, futures)),
                                             self.settings.timeout)
        except asyncio.TimeoutError:
            for f in futures:
                f.cancel()
            raise ApiError(503, f"translation took longer than {self.settings.timeout:g} s",
                           {"Retry-After": str(self.batcher.retry_after())}) from None
        except Exception as e:  # the engine failed on these segments
            raise ApiError(500, f"Cannot translate text: {first_line(e)}") from None
        return dict(zip(keys, outputs))

    def close(self) -> None:
        self.documents.close()
        self.batcher.close()
