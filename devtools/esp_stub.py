"""A local stand-in for Postmark's send API, for Anymail's real Postmark backend.

It answers `POST /email` and `POST /email/batch` with Postmark's JSON shapes (and the outbound
message search, `GET /messages/outbound`, by metadata), so the tests, the
benchmarks and the demo send through `anymail.backends.postmark.EmailBackend` over real HTTP by
pointing `ANYMAIL["POSTMARK_API_URL"]` at `ESPStub.api_url`. Accepted messages are kept in
`stub.messages`; tests script failures with `plan()` (HTTP errors, refused recipients, delays and
hangs), refuse addresses for good with `stub.refuse_addresses`, or slow every send with
`stub.latency`.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses
from typing import Any, Literal, get_args
from urllib.parse import parse_qsl, urlsplit

from devtools.stub_server import JSONHandler, Plan, Reply, ScriptedServer

__all__ = ["ESPStub", "PlanKind", "esp_stub_start"]

PlanKind = Literal["status", "refuse", "delayed", "hang"]

AUTH_HEADER = "X-Postmark-Server-Token"
ENDPOINTS = ("/email", "/email/batch")

_PLAN_KINDS = get_args(PlanKind)
_RECIPIENT_FIELDS = ("To", "Cc", "Bcc")
# Postmark's own wording; Anymail finds the refused addresses by matching these sentences.
_INACTIVE_TAIL = (
    "Inactive recipients are ones that have generated a hard bounce, a spam complaint, "
    "or a manual suppression."
)
_MISSING_AUTH = (
    "No Account or Server API tokens were supplied in the HTTP headers. Please add a header "
    "for either X-Postmark-Server-Token or X-Postmark-Account-Token."
)
_WRONG_AUTH = (
    "The Server Token you provided in the X-Postmark-Server-Token request header was invalid. "
    "Please verify that you are using a valid token."
)
_STATUS_MESSAGES = {
    401: (10, _WRONG_AUTH),
    422: (300, "Invalid email request."),
    429: (None, "Rate limit exceeded."),
}


def _error(status: int, code: int | None, message: str, **headers: str) -> Reply:
    body: dict[str, Any] = {"Message": message}
    if code is not None:
        body = {"ErrorCode": code, **body}
    return Reply(status, body, headers)


def _status_error(plan: Plan) -> Reply:
    code, message = _STATUS_MESSAGES.get(plan.status) or (
        None,
        "Internal server error." if plan.status >= 500 else f"Request failed ({plan.status}).",
    )
    headers = {} if plan.retry_after is None else {"Retry-After": f"{plan.retry_after:g}"}
    return _error(plan.status, code, message, **headers)


def _recipients(message: dict[str, Any]) -> tuple[list[str], str | None]:
    """The addr_specs of To, Cc and Bcc, or Postmark's complaint about the first bad one."""
    found: list[str] = []
    for name in _RECIPIENT_FIELDS:
        value = message.get(name)
        if not value:
            continue
        if not isinstance(value, str):
            return [], f"Invalid '{name}' address: '{value}'."
        for _display, addr_spec in getaddresses([value]):
            if "@" not in addr_spec:
                return [], f"Invalid '{name}' address: '{addr_spec}'."
            domain = addr_spec.rpartition("@")[2]
            if "." not in domain.strip("."):
                # Anymail checks only the form; Postmark also refuses domains like "localhost".
                return [], (
                    f"Error parsing '{name}': Illegal email domain '{domain}' "
                    f"in address '{addr_spec}'."
                )
            found.append(addr_spec)
    if not found:
        return [], "Zero recipients specified"
    return found, None


class _Handler(JSONHandler):
    server: ESPStub

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = self.server.answer(self.path.split("?")[0], raw, self.headers)
        if reply is None:  # stopped during a planned hang: hang up without an answer
            self.close_connection = True
            return
        self._send(reply)

    def do_GET(self) -> None:
        self._send(self.server.search(self.path, self.headers))


class ESPStub(ScriptedServer):
    """A Postmark-compatible send API on 127.0.0.1; start it with `esp_stub_start`."""

    plan_kinds = _PLAN_KINDS

    def __init__(
        self,
        *,
        token: str = "test-token",  # noqa: S107 - a stub's token, not a secret
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port, _Handler)
        self.token = token
        self.messages: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.refuse_addresses: set[str] = set()
        self.latency = 0.0  # seconds every send waits before it is accepted, like a real ESP
        self._ids = random.Random(seed)  # ids look random but repeat from run to run

    @property
    def api_url(self) -> str:
        host, port = self.server_address[:2]
        assert isinstance(host, str)  # an AF_INET address
        return f"http://{host}:{port}/"

    def answer(self, path: str, raw: bytes, headers: Message) -> Reply | None:
        """Record one POST and answer it; None when stopped during a hang."""
        given = headers.get(AUTH_HEADER)
        record: dict[str, Any] = {"path": path, "status": None, "has_token": given is not None}
        with self._lock:
            self.requests.append(record)
        reply = self._answer(path, raw, given)
        with self._lock:
            record["status"] = None if reply is None else reply.status
        return reply

    def search(self, raw_path: str, headers: Message) -> Reply:
        """Postmark's outbound message search: `GET /messages/outbound?count&offset&metadata_…`."""
        given = headers.get(AUTH_HEADER)
        if given != self.token:
            return _error(401, 10, _MISSING_AUTH if given is None else _WRONG_AUTH)
        parts = urlsplit(raw_path)
        if parts.path != "/messages/outbound":
            return _error(404, None, f"stub: no GET {parts.path}")
        query = dict(parse_qsl(parts.query))
        try:
            count, offset = int(query["count"]), int(query["offset"])
        except (KeyError, ValueError):
            return _error(422, 1000, "The 'count' and 'offset' parameters are required.")
        wanted = {k[len("metadata_") :]: v for k, v in query.items() if k.startswith("metadata_")}
        with self._lock:
            found = [
                m
                for m in self.messages
                if all((m.get("Metadata") or {}).get(k) == v for k, v in wanted.items())
            ]
        page = found[::-1][offset : offset + count]  # newest first, as Postmark lists them
        return Reply(
            200,
            {
                "TotalCount": len(found),
                "Messages": [
                    {
                        "MessageID": m["MessageID"],
                        "To": [{"Email": a} for a in _recipients(m)[0]],
                        "Subject": m.get("Subject", ""),
                        "Metadata": m.get("Metadata") or {},
                        "Status": "Sent",
                    }
                    for m in page
                ],
            },
        )

    def _answer(self, path: str, raw: bytes, given: str | None) -> Reply | None:
        if given is None:
            return _error(401, 10, _MISSING_AUTH)
        if given != self.token:
            return _error(401, 10, _WRONG_AUTH)
        if path not in ENDPOINTS:
            return _error(404, None, f"stub: no POST {path}")
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        batch = path == "/email/batch"
        shape_ok = isinstance(body, list) if batch else isinstance(body, dict)
        if not shape_ok or (batch and not all(isinstance(m, dict) for m in body)):
            return _error(422, 402, "Received invalid JSON input.")
        with self._lock:
            plan = self.next_plan()
        if self.latency and self._stopping.wait(self.latency):
            return None
        if plan is not None and plan.kind == "status":
            return _status_error(plan)
        if plan is not None and plan.kind == "hang" and self._stopping.wait(plan.seconds):
            return None
        # After a hang the message is still accepted, as an ESP may accept one whose
        # sender has already given up waiting.
        if batch:
            return Reply(200, [self._one(message, plan) for message in body])
        result = self._one(body, plan)
        return Reply(200 if result["ErrorCode"] == 0 else 422, result)

    def _one(self, message: dict[str, Any], plan: Plan | None) -> dict[str, Any]:
        """Postmark's answer for one message, keeping it if accepted."""
        if not isinstance(message.get("From"), str) or "@" not in message["From"]:
            return {
                "ErrorCode": 300,
                "Message": f"Invalid 'From' address: '{message.get('From')}'.",
            }
        addresses, complaint = _recipients(message)
        if complaint is not None:
            return {"ErrorCode": 300, "Message": complaint}
        refused = {a.lower() for a in addresses}
        if plan is None or plan.kind != "refuse":
            refused &= {a.lower() for a in self.refuse_addresses}
        listed = ", ".join(sorted(refused))
        if refused and refused == {a.lower() for a in addresses}:
            return {
                "ErrorCode": 406,
                "Message": "You tried to send to recipient(s) that have been marked as inactive. "
                f"Found inactive addresses: {listed}. {_INACTIVE_TAIL}",
            }
        if refused:
            said = f"Message OK, but will not deliver to these inactive addresses: {listed}. "
            said += _INACTIVE_TAIL
        elif plan is not None and plan.kind == "delayed":
            said = "Message accepted, but delivery may be delayed."
        else:
            said = "OK"
        with self._lock:
            message_id = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
            self.messages.append({**message, "MessageID": message_id})
        result: dict[str, Any] = {"To": message["To"]} if message.get("To") else {}
        submitted_at = datetime.now(UTC).isoformat()
        return result | {
            "SubmittedAt": submitted_at,
            "MessageID": message_id,
            "ErrorCode": 0,
            "Message": said,
        }


def esp_stub_start(*, token: str = "test-token", port: int = 0) -> ESPStub:  # noqa: S107
    """Serve a Postmark-compatible send API on 127.0.0.1 from a background thread."""
    server = ESPStub(token=token, port=port)
    # A short poll lets `stop()` return at once rather than after serve_forever's 0.5 s.
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server
