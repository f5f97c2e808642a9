"""How `jaxabot serve` handles connections: uvicorn's h11 protocol with a deadline for each request
and a cap on open connections that closes idle ones first. `jaxabot serve` runs uvicorn with
`http="web.server.connections:GuardedH11Protocol"`; the app's lifespan hands the limits from its settings
to the protocol through the ASGI lifespan state (`connection_limits`).

uvicorn alone waits forever for a request on a new connection (its keep-alive timer only starts
after a response, and any byte cancels it), and its `limit_concurrency` counts those idle
connections: a few hundred clients that never send a request made every request, health
included, get 503. Here instead:
  - a connection has `request_timeout` seconds, from connecting or from the end of its previous
    response, to send complete request headers; then it gets a 408 (if it sent part of a request)
    and is closed. The body has its own deadline in `web.http.security.BodySizeLimitMiddleware`.
  - a client that stops reading its response for `request_timeout` seconds (the send buffers are
    full) is disconnected instead of holding the response open forever;
  - at `max_connections`, a new connection closes the one that has been idle (no request in
    progress) the longest; only when every connection is busy with a request is the new one
    closed. A real client is never locked out by idle ones.
  - uvicorn's own error responses (400 for malformed HTTP) carry the security headers and a JSON
    body like every other error.
Work is bounded by the question queue (`web.server.workqueue`), not by counting connections, so
uvicorn's `limit_concurrency` is not used.
"""

from __future__ import annotations

import json
import resource
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.settings import Settings
from web.http.headers import SECURITY_HEADERS

# File descriptors kept for the index, the model, corpus files read by a rebuild and logs.
_RESERVED_FDS = 256
_MIN_CONNECTIONS = 64


def default_max_connections() -> int:
    """The process's open-file limit minus what the server needs for its own files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 65536
    return max(_MIN_CONNECTIONS, soft - _RESERVED_FDS)


def error_bytes(status: int, phrase: str, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 error response that closes the connection."""
    body = json.dumps({"error": code, "message": message}).encode()
    lines = [f"HTTP/1.1 {status} {phrase}", "content-type: application/json",
             f"content-length: {len(body)}", "connection: close"]
    lines += [f"{name.lower()}: {value}" for name, value in SECURITY_HEADERS.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


LIMITS_KEY = "connection_limits"


def connection_limits(settings: Settings) -> dict:
    """The lifespan state entry the protocol reads its limits from."""
    return {LIMITS_KEY: {"request_timeout": settings.request_timeout,
                         "max_connections": settings.max_connections or default_max_connections()}}


class GuardedH11Protocol(H11Protocol):
    """One per connection; the limits come from the app (lifespan state), else these defaults."""

    request_timeout: float = Settings.model_fields["request_timeout"].default
    max_connections: int = default_max_connections()

    def connection_made(self, transport: Any) -> None:
        limits = self.app_state.get(LIMITS_KEY, {})
        self.request_timeout = limits.get("request_timeout", self.request_timeout)
        self.max_connections = limits.get("max_connections", self.max_connections)
        self._deadline: Any = None
        self._write_deadline: Any = None
        self._idle_since = time.monotonic()
        super().connection_made(transport)
        self._arm()
        self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._write_resumed()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_deadline is None:
            self._write_deadline = self.loop.call_later(self.request_timeout, self._write_stalled)

    def resume_writing(self) -> None:
        self._write_resumed()
        super().resume_writing()

    def handle_events(self) -> None:
        super().handle_events()
        if self._busy():
            self._disarm()  # complete headers arrived: the app (and the body deadline) takes over

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self._busy():
            self._idle_since = time.monotonic()
            self._arm()  # the next request, if any, has the same deadline

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._disarm()  # the connection now belongs to the WebSocket protocol
        super().handle_websocket_upgrade(event)

    def send_400_response(self, msg: str) -> None:
        # uvicorn's version (after logging `msg`) sends text/plain without our headers.
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self.transport.write(error_bytes(400, "Bad Request", "bad_request",
                                             "malformed HTTP request"))
        self.transport.close()

    # -- internals --------------------------------------------------------------------------

    def _busy(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self._busy():
            return
        partial, _ = self.conn.trailing_data
        if partial and self.conn.our_state is h11.IDLE:
            # Part of a request arrived (trickled headers): say why before closing.
            self.transport.write(error_bytes(408, "Request Timeout", "request_timeout",
                                             f"no complete request within {self.request_timeout:g} s"))
        self.transport.close()

    def _write_resumed(self) -> None:
        if self._write_deadline is not None:
            self._write_deadline.cancel()
            self._write_deadline = None

    def _write_stalled(self) -> None:
        # The client has not read for request_timeout seconds: drop the connection (the app's
        # pending send returns, as for any disconnect).
        self._write_deadline = None
        self.transport.abort()

    def _make_room(self) -> None:
        if len(self.connections) <= self.max_connections:
            return
        idle = [c for c in self.connections
                if c is not self and isinstance(c, GuardedH11Protocol) and not c._busy()
                and not c.transport.is_closing()]
        if idle:
            min(idle, key=lambda c: c._idle_since).transport.close()
        else:
            self.transport.close()  # every other connection is working on a request
