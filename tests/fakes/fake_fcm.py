"""A fake FCM HTTP v1 server on 127.0.0.1, scripted per registration token.

The real firebase-admin SDK talks to it over HTTP (point `FCM_ENDPOINT` / `FcmSender(endpoint=)`
at `server.endpoint`). It answers `POST /v1/projects/<project>/messages:send` like FCM does, with
FCM's error body format, and `POST /token` like Google's OAuth token service (so a service
account key file whose `token_uri` is `<endpoint>/token` works offline). It records every
request and keeps its per-request work small enough for benchmarks of 100,000 messages
(HTTP/1.1 keep-alive, one socket write per response).

    with running_fake_fcm() as fcm:
        fcm.script("stale-token", Reply.UNREGISTERED)
        fcm.script("flaky-token", Reply.UNAVAILABLE, Reply.UNAVAILABLE, Reply.SUCCESS)
        fcm.script("/topics/news", Reply.UNAVAILABLE)   # topic messages: "/topics/<name>"
        ...
        assert fcm.requests_for("flaky-token")[0].body["message"]["token"] == "flaky-token"

Also here: `loopback_only_dns()`, which makes any lookup of a host other than the loopback fail.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import socketserver
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
_SEND_PATH = re.compile(r"/v1/projects/(?P<project>[^/]+)/messages:send")
_FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


class Reply(StrEnum):
    """How the fake answers one send request."""

    SUCCESS = "SUCCESS"
    UNREGISTERED = "UNREGISTERED"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    SENDER_ID_MISMATCH = "SENDER_ID_MISMATCH"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


# Reply -> (HTTP status, google.rpc status, message), as FCM v1 sends them.
_ERRORS: dict[Reply, tuple[int, str, str]] = {
    Reply.UNREGISTERED: (404, "NOT_FOUND", "Requested entity was not found."),
    Reply.INVALID_ARGUMENT: (
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    Reply.SENDER_ID_MISMATCH: (403, "PERMISSION_DENIED", "SenderId mismatch"),
    Reply.QUOTA_EXCEEDED: (
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Messages' of service 'fcm.googleapis.com'.",
    ),
    Reply.UNAVAILABLE: (503, "UNAVAILABLE", "The service is currently unavailable."),
    Reply.INTERNAL: (500, "INTERNAL", "Internal error encountered."),
}


def fcm_error_body(http_status: int, status: str, message: str, error_code: str | None) -> bytes:
    """Encode an error the way FCM v1 does, with the FcmError detail when there is a code."""
    error: dict[str, Any] = {"code": http_status, "message": message, "status": status}
    if error_code is not None:
        error["details"] = [{"@type": _FCM_ERROR_TYPE, "errorCode": error_code}]
    return json.dumps({"error": error}).encode()


# Encoded once: the error path stays as cheap as the success path.
_ERROR_BODIES = {
    reply: (status, fcm_error_body(status, rpc_status, message, reply.value))
    for reply, (status, rpc_status, message) in _ERRORS.items()
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it; header names are lower-cased."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any

    @property
    def token(self) -> str | None:
        """The registration token the request targets, if any."""
        return _target_token(self.body)

    @property
    def topic(self) -> str | None:
        """The topic the request targets, if any."""
        return _target_topic(self.body)


class FakeFcmServer:
    """A threaded fake of the FCM v1 send endpoint; start() it, or use running_fake_fcm()."""

    def __init__(
        self,
        *,
        default: Reply = Reply.SUCCESS,
        retry_after: int | None = 60,
        expected_bearer: str | None = None,
        access_token: str = "fake-access-token",
        record: bool = True,
        latency: float = 0.0,
    ) -> None:
        self.default = default
        self.retry_after = retry_after
        self.expected_bearer = expected_bearer
        self.access_token = access_token
        self.record = record
        self.latency = latency
        self._lock = threading.Lock()
        self._scripts: dict[str, tuple[Reply, ...]] = {}
        self._served: dict[str, int] = {}
        self._requests: list[RecordedRequest] = []
        self._count = 0
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """Base URL to give the sender, e.g. http://127.0.0.1:54321."""
        host, port = self._require_server().server_address[:2]
        return f"http://{host}:{port}"

    @property
    def request_count(self) -> int:
        """Requests received so far, recorded or not."""
        with self._lock:
            return self._count

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the recorded requests, in arrival order."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, token: str) -> list[RecordedRequest]:
        """The recorded requests that target `token` (or "/topics/<name>")."""
        return [request for request in self.requests if _target(request.body) == token]

    def script(self, token: str, *replies: Reply) -> None:
        """Answer `token` (or "/topics/<name>") with these replies in turn, repeating the last
        one forever."""
        if not replies:
            raise ValueError("give at least one reply")
        with self._lock:
            self._scripts[token] = replies
            self._served[token] = 0

    def reset(self) -> None:
        """Forget scripts and recorded requests; keep the default reply."""
        with self._lock:
            self._scripts.clear()
            self._served.clear()
            self._requests.clear()
            self._count = 0

    def start(self) -> FakeFcmServer:
        """Listen on a random port of 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("already started")
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-fcm",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop kept-alive connections so no handler thread lingers."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_open_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeFcmServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def answer(
        self, method: str, path: str, headers: Mapping[str, str], raw_body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Decide the response (status, extra headers, body) to one request."""
        body = _parse_body(headers, raw_body)
        self._note(method, path, headers, body)
        if self.latency:
            time.sleep(self.latency)
        if method == "POST" and path == "/token":
            return 200, [], self._token_body()
        match = _SEND_PATH.fullmatch(path)
        if method != "POST" or match is None:
            return 404, [], fcm_error_body(404, "NOT_FOUND", f"No route for {path}", None)
        if not self._authorised(headers):
            message = "Request had invalid authentication credentials."
            return 401, [], fcm_error_body(401, "UNAUTHENTICATED", message, None)
        token = _target(body)
        if token is None:
            message = "Request contains an invalid argument."
            return 400, [], fcm_error_body(400, "INVALID_ARGUMENT", message, "INVALID_ARGUMENT")
        return self._reply_for(self._next_reply(token), match["project"])

    def _reply_for(self, reply: Reply, project: str) -> tuple[int, list[tuple[str, str]], bytes]:
        if reply is Reply.SUCCESS:
            name = f"projects/{project}/messages/{next(self._ids)}"
            return 200, [], b'{"name": "' + name.encode() + b'"}'
        status, body = _ERROR_BODIES[reply]
        headers = []
        if reply is Reply.QUOTA_EXCEEDED and self.retry_after is not None:
            headers.append(("Retry-After", str(self.retry_after)))
        return status, headers, body

    def _token_body(self) -> bytes:
        # What oauth2.googleapis.com/token answers to a service account's JWT grant.
        token = {"access_token": self.access_token, "expires_in": 3600, "token_type": "Bearer"}
        return json.dumps(token).encode()

    def _next_reply(self, token: str) -> Reply:
        with self._lock:
            script = self._scripts.get(token)
            if script is None:
                return self.default
            served = self._served[token]
            self._served[token] = served + 1
        return script[min(served, len(script) - 1)]

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        if self.expected_bearer is None:
            return True
        return headers.get("authorization") == f"Bearer {self.expected_bearer}"

    def _note(self, method: str, path: str, headers: Mapping[str, str], body: Any) -> None:
        with self._lock:
            self._count += 1
            if self.record:
                self._requests.append(RecordedRequest(method, path, headers, body))

    def _require_server(self) -> _Server:
        if self._server is None:
            raise RuntimeError("the fake FCM server is not running")
        return self._server


@contextmanager
def running_fake_fcm(**options: Any) -> Iterator[FakeFcmServer]:
    """Run a FakeFcmServer (options as for its constructor) for the duration of the block."""
    server = FakeFcmServer(**options).start()
    try:
        yield server
    finally:
        server.stop()


class ExternalLookupError(AssertionError):
    """A test tried to resolve a host other than the loopback."""


@contextmanager
def loopback_only_dns() -> Iterator[list[str]]:
    """Make socket.getaddrinfo raise for any host but the loopback; yield the names refused.

    Callers should also assert the list is empty afterwards: libraries may swallow the error
    (firebase-admin wraps it into an UnknownError), and the list still tells.
    """
    real_getaddrinfo = socket.getaddrinfo
    refused: list[str] = []

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name.lower() not in LOOPBACK_NAMES:
            refused.append(name)
            raise ExternalLookupError(f"tests may only reach 127.0.0.1/localhost, not {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = guarded_getaddrinfo
    try:
        yield refused
    finally:
        socket.getaddrinfo = real_getaddrinfo


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # send_each opens up to 100 connections at once; the default backlog of 5 would drop SYNs
    # and stall clients for a second on retransmission.
    request_queue_size = 1024
    fake: FakeFcmServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup we neither need
        # nor want in tests.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_open_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves many sends
    disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms to kept-alive responses
    timeout = 60  # an idle kept-alive connection frees its thread eventually
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        self.server.untrack(self.connection)
        super().finish()

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, extra_headers, body = self.server.fake.answer(
            self.command, self.path, headers, raw_body
        )
        self._write(status, extra_headers, body)

    def _write(self, status: int, extra_headers: list[tuple[str, str]], body: bytes) -> None:
        lines = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            "Content-Type: application/json; charset=UTF-8",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in extra_headers),
        ]
        # One write per response: headers and body in separate segments would be slower.
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: a benchmark would print 100,000 lines."""


def _parse_body(headers: Mapping[str, str], raw_body: bytes) -> Any:
    if not raw_body:
        return None
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict(urllib.parse.parse_qsl(raw_body.decode("latin-1")))
    try:
        return json.loads(raw_body)
    except ValueError:
        return None


def _target(body: Any) -> str | None:
    """The token a request targets, or "/topics/<name>" for a topic message."""
    topic = _target_topic(body)
    return f"/topics/{topic}" if topic is not None else _target_token(body)


def _target_topic(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    topic = message.get("topic") if isinstance(message, dict) else None
    return topic if isinstance(topic, str) and topic else None


def _target_token(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    token = message.get("token") if isinstance(message, dict) else None
    return token if isinstance(token, str) and token else None
