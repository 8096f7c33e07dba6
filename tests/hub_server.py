"""A local stand-in for the Hugging Face hub (HF_ENDPOINT=hub.url): it serves one model repository from a
folder and answers 404 for any other (or `status` to every request, when set), and records the paths asked
for and the files sent."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

SHA = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(self, repo_id: str, folder: Path):
        self.repo_id, self.folder = repo_id, Path(folder)
        self.files = {p.name: p.read_bytes() for p in sorted(self.folder.iterdir()) if p.is_file()}
        self.sent: list[str] = []
        self.paths: list[str] = []
        self.status: int | None = None
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub.answer(self, body=False)

            def do_GET(self):
                hub.answer(self, body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def asked(self, repo_id: str) -> int:
        """Requests about a repository (the hub library's other requests, such as its registry, left out)."""
        return sum(f"/{repo_id}" in path for path in self.paths)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _etag(self, name: str) -> str:
        return hashlib.sha1(self.files[name]).hexdigest()

    def answer(self, request, body: bool) -> None:
        path = unquote(urlparse(request.path).path)
        self.paths.append(path)
        if self.status is not None:
            return _send(request, self.status, b'{"error": "down"}', body)
        api = f"/api/models/{self.repo_id}"
        if path == api or path.startswith(api + "/revision/"):
            siblings = [{"rfilename": n, "size": len(d), "blobId": self._etag(n)} for n, d in self.files.items()]
            return _send(request, 200, json.dumps({"id": self.repo_id, "modelId": self.repo_id, "sha": SHA,
                                                   "private": False, "siblings": siblings}).encode(), body)
        if path.startswith(api + "/tree/"):
            tree = [{"type": "file", "path": n, "size": len(d), "oid": self._etag(n)} for n, d in self.files.items()]
            return _send(request, 200, json.dumps(tree).encode(), body)
        prefix = f"/{self.repo_id}/resolve/"
        if path.startswith(prefix):
            name = path[len(prefix):].split("/", 1)[-1]
            if name in self.files:
                if body:
                    self.sent.append(name)
                return _send(request, 200, self.files[name], body,
                             {"X-Repo-Commit": SHA, "ETag": f'"{self._etag(name)}"'})
        _send(request, 404, b'{"error": "Repository not found"}', body, {"X-Error-Code": "RepoNotFound"})


def _send(request, status: int, data: bytes, body: bool, headers: dict | None = None) -> None:
    request.send_response(status)
    request.send_header("Content-Length", str(len(data)))
    request.send_header("Content-Type", "application/octet-stream" if status == 200 and headers else "application/json")
    for key, value in (headers or {}).items():
        request.send_header(key, value)
    request.end_headers()
    if body:
        request.wfile.write(data)
