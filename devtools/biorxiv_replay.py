"""A local stand-in for the bioRxiv/medRxiv API, answering from real recorded pages.

It answers `details/<server>/<from>/<to>/<cursor>` as api.biorxiv.org does: the records of the
server posted in the window (one per version, a DOI repeating per version), 100 a page from the
cursor, `count` a number and `total` a string (or both numbers), escaped slashes and trailing
blank lines, "no posts found" for an empty window; and `details/<server>/<DOI>` (every version
of one preprint, "no posts found" for a DOI the server does not hold). Scripted faults: a
status for the next requests, a body cut short, a page shorter than it says.

The records are the recorded pages in `../shared/sources-recorded/biorxiv/` (read in place),
and the recorded single-DOI answers (`findpapers_*_details_by_doi.json`) for DOI lookups;
`redate` moves them all to one posting day (so a recorded page serves any issue day), and
`copies` multiplies them under new DOIs (for the bench).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["RECORDED", "RecordedPreprints", "biorxiv_server_start"]

RECORDED = Path(__file__).resolve().parents[2] / "shared" / "sources-recorded" / "biorxiv"
FILES = {
    "biorxiv": "emersusai_biorxiv_details_2026-01-01_2026-04-11_cursor0.json",
    "medrxiv": "emersusai_medrxiv_details_2026-01-01_2026-04-11_cursor0.json",
}
BY_DOI_FILES = {
    "biorxiv": "findpapers_biorxiv_details_by_doi.json",
    "medrxiv": "findpapers_medrxiv_details_by_doi.json",
}
PAGE = 100
_PATH = re.compile(
    r"^/details/(?P<server>[a-z]+)/(?P<first>\d{4}-\d{2}-\d{2})/(?P<last>\d{4}-\d{2}-\d{2})"
    r"(?:/(?P<cursor>\d+))?(?:/json)?/?$"
)
_DOI_PATH = re.compile(
    r"^/details/(?P<server>[a-z]+)/(?P<doi>10\.\d{4,9}/[^?]+?)(?:/na(?:/json)?)?/?$"
)


@dataclass
class RecordedPreprints:
    records: dict[str, list[dict[str, Any]]]
    numeric_counts: bool = False  # count and total both numbers (the API sends either)
    requests: list[str] = field(default_factory=list)
    faults: deque[str] = field(default_factory=deque)  # "500", "cut", "short", consumed in order
    by_doi: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    @classmethod
    def load(
        cls, folder: Path = RECORDED, *, redate: dt.date | None = None, copies: int = 1
    ) -> RecordedPreprints:
        records: dict[str, list[dict[str, Any]]] = {}
        for server, name in FILES.items():
            raw = json.loads((folder / name).read_text())["collection"]
            made = []
            for n in range(copies):
                for record in raw:
                    record = copy.deepcopy(record)
                    if n:
                        record["doi"] = f"{record['doi']}.c{n}"
                    if redate is not None:
                        record["date"] = redate.isoformat()
                    made.append(record)
            records[server] = sorted(made, key=lambda r: r["date"])
        by_doi: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for server, name in BY_DOI_FILES.items():
            for lookup in json.loads((folder / name).read_text()):
                by_doi.setdefault(server, {})[lookup["doi"]] = lookup["raw_response"]["collection"]
        return cls(records=records, by_doi=by_doi)

    def doi_records(self, server: str, doi: str) -> list[dict[str, Any]]:
        """What `details/<server>/<DOI>` holds: the recorded lookup, else the window records."""
        if doi in self.by_doi.get(server, {}):
            return self.by_doi[server][doi]
        return [r for r in self.records.get(server, []) if r["doi"] == doi]

    def fail_next(self, *faults: str) -> None:
        """The next answers: an HTTP status ("503"), "cut" (half a body), "short" (a page of
        fewer records than the window holds from its cursor)."""
        self.faults.extend(faults)

    def answer(self, path: str) -> tuple[int, bytes]:
        self.requests.append(path)
        fault = self.faults.popleft() if self.faults else ""
        if fault.isdigit():
            return int(fault), f"recorded fault {fault}".encode()
        if by_doi := _DOI_PATH.match(path.split("?")[0]):
            found = self.doi_records(by_doi["server"], by_doi["doi"])
            status: dict[str, Any] = {"status": "ok", "category": "all"}
            body = json.dumps(
                {"messages": [status if found else {"status": "no posts found"}],
                 "collection": found}, ensure_ascii=False,
            )  # fmt: skip
            return 200, (body.replace("/", "\\/") + "\n\n").encode()
        match = _PATH.match(path.split("?")[0])
        if not match or match["server"] not in self.records:
            return 404, b'{"messages":[{"status":"not found"}],"collection":[]}'
        first, last = match["first"], match["last"]
        cursor = int(match["cursor"] or 0)
        window = [r for r in self.records[match["server"]] if first <= r["date"] <= last]
        page = window[cursor : cursor + PAGE]
        if fault == "short":
            page = page[: max(1, len(page) // 2)]
        if not page:
            message: dict[str, Any] = {"status": "no posts found"}
        else:
            total: int | str = len(window) if self.numeric_counts else str(len(window))
            message = {
                "status": "ok", "category": "all", "interval": f"{first}:{last}",
                "cursor": cursor, "count": len(page), "total": total,
            }  # fmt: skip
        body = json.dumps({"messages": [message], "collection": page}, ensure_ascii=False)
        data = (body.replace("/", "\\/") + "\n\n\n\n").encode()  # as the API writes it
        return 200, data[: len(data) // 2] if fault == "cut" else data


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        status, body = self.server.recorded.answer(self.path)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the requests are kept in `recorded.requests`."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, recorded: RecordedPreprints, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.recorded = recorded

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


def biorxiv_server_start(recorded: RecordedPreprints, *, port: int = 0) -> _Server:
    """Serve the recorded preprints on 127.0.0.1 from a background thread."""
    server = _Server(recorded, port=port)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server
