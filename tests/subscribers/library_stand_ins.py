"""Local stand-ins over real HTTP for the library tests: arXiv's API answering title searches
(`ti:"…" OR …`) and id lists from recorded entries, and Zotero's web API answering in the
format of its recorded answers (the envelope key / version / library / links / meta / data)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devtools.arxiv_replay import RecordedArxiv
from subscribers.library import title_key

_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)
_PHRASE = re.compile(r'ti:"([^"]*)"')


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests_seen: list[str]

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def _start(server: _Server) -> _Server:
    server.requests_seen = []
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


class _Arxiv(BaseHTTPRequestHandler):
    server: Any

    def do_GET(self) -> None:
        self.server.requests_seen.append(self.path)
        recorded: RecordedArxiv = self.server.recorded
        query = parse_qs(urlsplit(self.path).query)
        ids = [i for i in query.get("id_list", [""])[0].split(",") if i]
        start = int(query.get("start", ["0"])[0])
        size = int(query.get("max_results", ["100"])[0])
        phrases = _PHRASE.findall(query.get("search_query", [""])[0])
        if phrases:  # a title search: the recorded entries whose title starts with a phrase
            ids = [
                arxiv_id
                for arxiv_id, entry in recorded.entries.items()
                if (found := _TITLE.search(entry))
                and any(title_key(found.group(1)).startswith(p) for p in phrases)
            ]
        body = recorded.api_response(ids, start, size)
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def arxiv_search_start(folder: Path) -> _Server:
    server = _Server(("127.0.0.1", 0), _Arxiv)
    server.recorded = RecordedArxiv.load(folder)  # type: ignore[attr-defined]
    return _start(server)


class _Zotero(BaseHTTPRequestHandler):
    server: Any

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.server.requests_seen.append(url.path)
        if self.headers.get("Authorization") != f"Bearer {self.server.key}":
            return self._send(403, b"Forbidden", "text/plain")
        user = self.server.user_id
        if not url.path.startswith(f"/users/{user}/"):
            return self._send(404, b"Not found", "text/plain")
        listed = self.server.items if url.path.endswith("/items/top") else self.server.collections
        if not url.path.endswith(("/items/top", "/collections")):
            return self._send(404, b"Not found", "text/plain")
        query = parse_qs(url.query)
        start, limit = int(query.get("start", ["0"])[0]), int(query.get("limit", ["25"])[0])
        page = listed[start : start + limit]
        headers = {"Total-Results": str(len(listed))}
        if start + limit < len(listed):  # Zotero pages with a Link header, as pyzotero follows
            headers["Link"] = (
                f"<{self.server.base_url}{url.path}?start={start + limit}&limit={limit}>; "
                'rel="next"'
            )
        self._send(200, json.dumps(page).encode(), "application/json", headers)

    def _send(self, status: int, body: bytes, kind: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def zotero_item(user_id: str, key: str, data: dict[str, Any]) -> dict[str, Any]:
    """An item in the envelope of Zotero's recorded answers (`GET /users/<id>/items/<key>`)."""
    return {
        "key": key,
        "version": 18,
        "library": {
            "type": "user", "id": int(user_id), "name": "reader",
            "links": {"alternate": {"href": "https://www.zotero.org/reader", "type": "text/html"}},
        },
        "links": {
            "self": {"href": f"https://api.zotero.org/users/{user_id}/items/{key}",
                     "type": "application/json"},
            "alternate": {"href": f"https://www.zotero.org/reader/items/{key}",
                          "type": "text/html"},
        },
        "meta": {"creatorSummary": "", "parsedDate": data.get("date", ""), "numChildren": 0},
        "data": {"key": key, "version": 18, "creators": [], "tags": [], "relations": {},
                 "collections": [], **data},
    }  # fmt: skip


def zotero_start(*, user_id: str, key: str, items: list, collections: list) -> _Server:
    server = _Server(("127.0.0.1", 0), _Zotero)
    server.user_id, server.key = user_id, key  # type: ignore[attr-defined]
    server.items, server.collections = items, collections  # type: ignore[attr-defined]
    return _start(server)


# The library the Zotero tests connect to: its user, API key and collections.
ZOTERO_USER, ZOTERO_KEY = "2536190", "Zk3yN0tForLogs99"
ZOTERO_COLLECTIONS = [
    {"key": "RLCOLL1", "data": {"key": "RLCOLL1", "name": "Reinforcement learning"}},
    {"key": "BIOCOLL2", "data": {"key": "BIOCOLL2", "name": "Microbiome"}},
]


@contextmanager
def zotero_serving(settings: Any, items: list) -> Iterator[_Server]:
    """That library with these items, served while the block runs (ZOTERO_API_URL on it)."""
    server = zotero_start(
        user_id=ZOTERO_USER, key=ZOTERO_KEY, items=items, collections=ZOTERO_COLLECTIONS
    )
    settings.ZOTERO_API_URL = server.base_url
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
