"""A local stand-in for arXiv that serves a recorded day over real HTTP.

It answers like rss.arxiv.org (`/rss/<category>`), export.arxiv.org (`/api/query?id_list=…`)
and arxiv.org's HTML renderings (`/html/<id>v<n>`) from a folder laid out as
`rss/<category>.xml`, `api/*.xml` (Atom responses of the API) and `html/<id>v<n>.html`.
The demo and the tests point ARXIV_RSS_URL and ARXIV_API_URL at it; the bytes it sends are the
recorded ones, so our feed parser and the real `arxiv` client read arXiv's real formats.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from html import escape, unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

__all__ = ["RecordedArxiv", "ReplayServer", "replay_server_start"]

_ENTRY = re.compile(r"<entry>.*?</entry>\s*", re.DOTALL)
_ENTRY_ID = re.compile(r"<id>\s*https?://arxiv\.org/abs/([^<\s]+?)(v\d+)?\s*</id>")
_TOTAL = re.compile(r"<opensearch:totalResults[^>]*>\d+</opensearch:totalResults>")
_START = re.compile(r"<opensearch:startIndex[^>]*>\d+</opensearch:startIndex>")
_PER_PAGE = re.compile(r"<opensearch:itemsPerPage[^>]*>\d+</opensearch:itemsPerPage>")
_QUERY_TITLE = re.compile(r"<title>arXiv Query: [^<]*</title>")
_AUTHOR_NAME = re.compile(r"<author>\s*<name>([^<]*)</name>")
_AU_TERM = re.compile(r'au:(?:"([^"]*)"|(\S+))')
_ERROR_FEED = """<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">
  <channel>
    <title>Feed error for query: {category}</title>
    <link>http://rss.arxiv.org/rss/{category}</link>
    <description>Invalid archive or category: {category}</description>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <managingEditor>rss-help.arxiv.org</managingEditor>
  </channel>
</rss>
"""


@dataclass
class RecordedArxiv:
    """The recorded responses of one day, indexed for replay."""

    folder: Path
    feeds: dict[str, bytes] = field(default_factory=dict)
    entries: dict[str, str] = field(default_factory=dict)
    api_head: str = ""
    api_tail: str = "</feed>\n"
    requests: list[str] = field(default_factory=list)
    faults: list[tuple[str, int]] = field(default_factory=list)
    outages: dict[str, tuple[int, int]] = field(default_factory=dict)

    def fail_after(self, path_prefix: str, ok: int, status: int) -> None:
        """After `ok` more good answers under `path_prefix`, answer every request with `status`."""
        self.outages[path_prefix] = (ok, status)

    def fail_next(self, path_prefix: str, status: int, times: int = 1) -> None:
        """Answer the next `times` requests under `path_prefix` with `status` (for tests)."""
        self.faults.extend([(path_prefix, status)] * times)

    def _take_fault(self, path: str) -> int | None:
        for index, (prefix, status) in enumerate(self.faults):
            if path.startswith(prefix):
                del self.faults[index]
                return status
        for prefix, (ok, status) in self.outages.items():
            if path.startswith(prefix):
                if ok <= 0:
                    return status
                self.outages[prefix] = (ok - 1, status)
        return None

    @classmethod
    def load(cls, folder: Path) -> RecordedArxiv:
        recorded = cls(folder=folder)
        for feed in sorted((folder / "rss").glob("*.xml")):
            recorded.feeds[feed.stem] = feed.read_bytes()
        for response in sorted((folder / "api").glob("*.xml")):
            text = response.read_text(encoding="utf-8")
            first = _ENTRY.search(text)
            if not recorded.api_head:
                recorded.api_head = text[: first.start()] if first else text.rsplit("</feed>", 1)[0]
            for entry in _ENTRY.findall(text):
                match = _ENTRY_ID.search(entry)
                if match:
                    recorded.entries[match.group(1)] = entry
        return recorded

    def author_search(self, search_query: str) -> list[str]:
        """The recorded entries an `au:` search finds (terms joined by OR), in recorded order.

        As arXiv reads a name: the last word is the surname, and a first word of one letter
        stands for any first name with that initial. Other fields (ti:, cat:…) find nothing.
        """
        terms = [
            (quoted or bare).replace("_", " ").lower().split()
            for quoted, bare in _AU_TERM.findall(search_query)
        ]
        terms = [t for t in terms if t]

        def matches(name: str) -> bool:
            parts = name.replace(".", " ").lower().split()
            for words in terms:
                if len(parts) < 2 or parts[-1] != words[-1]:
                    continue
                first = words[0] if len(words) > 1 else ""
                if not first or parts[0] == first or (len(first) == 1 and parts[0][0] == first):
                    return True
            return False

        return [
            entry
            for entry in self.entries.values()
            if any(matches(unescape(n)) for n in _AUTHOR_NAME.findall(entry))
        ]

    def api_response(
        self, id_list: list[str], start: int, max_results: int, search_query: str = ""
    ) -> bytes:
        """An API answer holding the recorded entries of the ids asked for, in the order asked,
        or those an author search finds."""
        wanted = [re.sub(r"v\d+$", "", arxiv_id) for arxiv_id in id_list]
        found = [self.entries[arxiv_id] for arxiv_id in wanted if arxiv_id in self.entries]
        if search_query and not id_list:
            found = self.author_search(search_query)
        page = found[start : start + max_results]
        head = _TOTAL.sub(
            f'<opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
            f"{len(found)}</opensearch:totalResults>",
            self.api_head,
        )
        # The feed's header describes this query, as arXiv's does (not the recorded one).
        query = (
            f"search_query={escape(search_query)}&amp;id_list={escape(','.join(id_list))}"
            f"&amp;start={start}"
        )
        head = _QUERY_TITLE.sub(
            lambda _m: f"<title>arXiv Query: {query}&amp;max_results={max_results}</title>", head
        )
        head = _START.sub(f"<opensearch:startIndex>{start}</opensearch:startIndex>", head)
        head = _PER_PAGE.sub(
            f"<opensearch:itemsPerPage>{max_results}</opensearch:itemsPerPage>", head
        )
        return (head + "".join(page) + self.api_tail).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # headers and body leave at once, no 40 ms stall
    server: ReplayServer

    def do_GET(self) -> None:
        recorded = self.server.recorded
        url = urlsplit(self.path)
        recorded.requests.append(self.path)
        fault = recorded._take_fault(url.path)
        if fault is not None:
            self._send(fault, f"recorded fault {fault}".encode(), "text/plain")
        elif url.path.startswith("/rss/"):
            category = url.path.removeprefix("/rss/").strip("/")
            if category in recorded.feeds:
                self._send(200, recorded.feeds[category], "application/rss+xml; charset=utf-8")
            else:
                body = _ERROR_FEED.format(category=category).encode()
                self._send(400, body, "application/rss+xml; charset=utf-8")
        elif url.path.startswith("/html/"):
            page = recorded.folder / "html" / (url.path.removeprefix("/html/").strip("/") + ".html")
            if page.is_file():
                self._send(200, page.read_bytes(), "text/html; charset=utf-8")
            else:
                self._send(404, b"<html><body>No HTML for this paper</body></html>", "text/html")
        elif url.path == "/api/query":
            query = parse_qs(url.query)
            ids = [i for i in query.get("id_list", [""])[0].split(",") if i]
            start = int(query.get("start", ["0"])[0])
            max_results = int(query.get("max_results", ["100"])[0])
            search = query.get("search_query", [""])[0]
            body = recorded.api_response(ids, start, max_results, search)
            self._send(200, body, "application/atom+xml; charset=utf-8")
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the requests are kept in `recorded.requests` instead."""


class ReplayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, recorded: RecordedArxiv, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.recorded = recorded

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        assert isinstance(host, str)  # an AF_INET address
        return f"http://{host}:{port}"

    @property
    def rss_url(self) -> str:
        return f"{self.base_url}/rss/"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/query"

    @property
    def html_url(self) -> str:
        return f"{self.base_url}/html/"


def replay_server_start(folder: Path, *, port: int = 0) -> ReplayServer:
    """Serve `folder` on 127.0.0.1 from a background thread (for tests and the demo)."""
    server = ReplayServer(RecordedArxiv.load(folder), port=port)
    # A short poll lets `shutdown()` return at once rather than after serve_forever's 0.5 s.
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server
