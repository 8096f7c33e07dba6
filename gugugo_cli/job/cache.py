"""A SQLite cache of segment translations, so a re-run (or a run started again after Ctrl-C) translates
nothing it already did. Keyed by the translator's identity (model, revision, decoding options), the
direction and the exact source text. WAL mode: what was committed survives a kill.

Each translation is kept with its verdict (a JSON object: capped, suspect, repaired; NULL for a plain good
translation), so a run that reuses it reports and fails the same segments as the run that made it. A cache
file written before verdicts were kept gains the column; its rows count as plain translations.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Iterable, Optional

log = logging.getLogger("gugugo_cli")


SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite's files beside the database


def default_cache_path() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("gugugo-translate")) / "segments.sqlite3"


def _make_private(path: Path) -> None:
    """The cache holds every text translated: its folder, when made here, is 0700; the database and SQLite's
    files beside it are 0600 (SQLite gives those the database's mode), an older cache's mode tightened."""
    folder = path.parent
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
    for name in ("",) + SIDE_FILES:
        try:
            st = os.stat(f"{path}{name}")
            if st.st_mode & 0o077 and st.st_uid == getattr(os, "geteuid", lambda: -1)():
                os.chmod(f"{path}{name}", 0o600)
        except FileNotFoundError:
            pass


def clear_cache(path: Path) -> bool:
    """Delete a segment cache and SQLite's files beside it; False if there was none. ValueError (nothing
    deleted) for a file that is not a SQLite database."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        return False
    if head and head != b"SQLite format 3\x00":
        raise ValueError(f"{path} is not a segment cache (not a SQLite database); nothing deleted")
    for name in ("",) + SIDE_FILES:
        try:
            os.unlink(f"{path}{name}")
        except FileNotFoundError:
            pass
    return True


class SegmentCache:
    def __init__(self, path: Optional[Path]):
        self.path = path
        self.db: Optional[sqlite3.Connection] = None
        if path is None:
            return
        try:
            _make_private(Path(path))
            db = sqlite3.connect(str(path), timeout=10)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS segments (key TEXT PRIMARY KEY, translation TEXT NOT NULL, "
                       "verdict TEXT)")
            if "verdict" not in [row[1] for row in db.execute("PRAGMA table_info(segments)")]:
                db.execute("ALTER TABLE segments ADD COLUMN verdict TEXT")
            db.execute("SELECT count(*) FROM segments LIMIT 1").fetchone()
            db.commit()
            self.db = db
        except (sqlite3.Error, OSError) as e:
            log.warning("cache %s cannot be used (%s); going on without it", path, e)

    @staticmethod
    def key(translator_key: str, src: str, tgt: str, text: str) -> str:
        # surrogatepass: a text with an unpaired surrogate still has a key (SQLite would refuse the text itself)
        joined = "\x1f".join((translator_key, src, tgt, text))
        return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()

    def get_many(self, translator_key: str, src: str, tgt: str,
                 texts: Iterable[str]) -> dict[str, tuple[str, Optional[dict]]]:
        """text -> (translation, verdict or None) for the texts the cache has."""
        if self.db is None:
            return {}
        keys = {self.key(translator_key, src, tgt, t): t for t in texts}
        found: dict[str, tuple[str, Optional[dict]]] = {}
        items = list(keys)
        try:
            for i in range(0, len(items), 500):
                chunk = items[i:i + 500]
                rows = self.db.execute(
                    f"SELECT key, translation, verdict FROM segments WHERE key IN ({','.join('?' * len(chunk))})",
                    chunk).fetchall()
                found.update((keys[k], (v, _verdict(verdict))) for k, v, verdict in rows)
        except sqlite3.Error as e:
            self._disable(e)
        return found

    def put_many(self, translator_key: str, src: str, tgt: str,
                 rows: Iterable[tuple[str, str, Optional[dict]]]) -> None:
        """(text, translation, verdict or None) for each text."""
        if self.db is None:
            return
        try:
            self.db.executemany(
                "INSERT OR REPLACE INTO segments (key, translation, verdict) VALUES (?, ?, ?)",
                [(self.key(translator_key, src, tgt, t), o, json.dumps(v, ensure_ascii=False) if v else None)
                 for t, o, v in rows if _storable(o)],
            )
            self.db.commit()
        except sqlite3.Error as e:
            self._disable(e)

    def _disable(self, error: Exception) -> None:
        log.warning("cache %s stopped working (%s); going on without it", self.path, error)
        try:
            self.db.close()
        except sqlite3.Error:
            pass
        self.db = None

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


def _storable(translation: str) -> bool:
    """SQLite keeps UTF-8 text: a translation with an unpaired surrogate is not cached."""
    try:
        translation.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _verdict(text: Optional[str]) -> Optional[dict]:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
