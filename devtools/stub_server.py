"""What our local stand-ins for outside services share: a threaded HTTP server on loopback
with a queue of scripted faults (a status, a hang, a bad answer) consumed in order; and a
server that accepts connections and never answers."""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["JSONHandler", "Plan", "Reply", "ScriptedServer", "SilentServer"]


@dataclass(frozen=True)
class Reply:
    status: int
    payload: dict[str, Any] | list[dict[str, Any]]
    headers: dict[str, str] = field(default_factory=dict)


class JSONHandler(BaseHTTPRequestHandler):
    """Answers JSON over HTTP/1.1 keep-alive, quietly; subclasses route the requests."""

    disable_nagle_algorithm = True  # headers and body leave at once, no 40 ms stall
    protocol_version = "HTTP/1.1"

    def _send(self, reply: Reply) -> None:
        data = json.dumps(reply.payload, ensure_ascii=False).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (a planned hang outlived its timeout).
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the stubs keep their own record of requests."""


@dataclass(frozen=True)
class Plan:
    kind: str
    status: int = 500
    retry_after: float | None = None
    seconds: float = 5.0


class ScriptedServer(ThreadingHTTPServer):
    """A loopback server whose next answers can be scripted with `plan`."""

    daemon_threads = True
    plan_kinds: tuple[str, ...] = ()

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__((host, port), handler)
        self._plans: deque[Plan] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def plan(
        self,
        kind: str,
        *,
        status: int = 500,
        retry_after: float | None = None,
        seconds: float = 5.0,
        times: int = 1,
    ) -> None:
        """Queue `times` scripted answers for the next requests, before good ones again."""
        if kind not in self.plan_kinds:
            raise ValueError(f"unknown plan {kind!r}; choose from {self.plan_kinds}")
        if kind == "status" and not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error (400-599), not {status}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._plans.extend([Plan(kind, status, retry_after, seconds)] * times)

    def plan_clear(self) -> None:
        """Drop every scripted answer still queued: good answers from the next request on."""
        with self._lock:
            self._plans.clear()

    def next_plan(self) -> Plan | None:
        """The next scripted answer, if any (call with the lock held)."""
        return self._plans.popleft() if self._plans else None

    def stop(self) -> None:
        """Wake planned hangs, stop serving and close the socket."""
        self._stopping.set()
        self.shutdown()
        self.server_close()


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts every connection, reads, and never answers:
    a server that hangs (an LLM stuck behind its load balancer). Counts the connections."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._socket = socket.create_server((host, port))
        self._socket.settimeout(0.05)
        self._held: list[socket.socket] = []
        self._stopping = threading.Event()
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}/v1"

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._held.append(connection)  # held open, never written to

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)
        for connection in self._held:
            connection.close()
        self._socket.close()
