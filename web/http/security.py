"""Response headers on every response, a request-body size limit, and the admin token check.

Both middlewares are plain ASGI (not BaseHTTPMiddleware) so they see every response, streamed or
not, including static files and errors produced by exception handlers inside the app.
"""

import secrets
from collections.abc import Callable

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.errors import error_body
from web.http.headers import apply_security_headers

MAX_BODY_BYTES = 64 * 1024

class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                apply_security_headers(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    pass


class ClientLeft(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuse bodies over `max_bytes` with 413, whether announced by Content-Length or streamed
    in chunks. The body is read here (at most max_bytes + 1 bytes) and replayed to the app, so
    the app never parses a partial body and the 413 is sent before any route runs.

    The body must arrive within `timeout` seconds (a Content-Length longer than the body, or a
    body trickled byte by byte, gets 408 and the connection is closed), and a client that
    disconnects while sending it is dropped without calling the app."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, timeout: float | None = None,
                 large_bytes: int | None = None, allows_large: Callable[[Scope], bool] | None = None,
                 large_timeout: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        # Uploads: requests `allows_large` accepts (admin uploads, authenticated) may send up to
        # `large_bytes` within `large_timeout` seconds.
        self.large_bytes = large_bytes
        self.allows_large = allows_large
        self.large_timeout = large_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, timeout = self.max_bytes, self.timeout
        if self.large_bytes is not None and self.allows_large is not None and self.allows_large(scope):
            limit, timeout = self.large_bytes, self.large_timeout or timeout
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            try:
                too_large = int(length) > limit
            except ValueError:
                await _send_json(scope, send, 400, "bad_request", "invalid Content-Length header")
                return
            if too_large:
                await _send_json(scope, send, 413, "body_too_large",
                                 f"the request body is larger than {limit} bytes")
                return
        try:
            with anyio.fail_after(timeout):
                body = await self._read(receive, limit)
        except BodyTooLarge:
            await _send_json(scope, send, 413, "body_too_large",
                             f"the request body is larger than {limit} bytes")
            return
        except TimeoutError:
            await _send_json(scope, send, 408, "request_timeout",
                             f"the request body did not arrive within {timeout:g} s")
            return
        except ClientLeft:
            return  # nobody to answer
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body, only a disconnect can come

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive, limit: int) -> bytes:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientLeft
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


async def _send_json(scope: Scope, send: Send, status: int, code: str, message: str) -> None:
    body = error_body(scope["path"], status, code, message)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def token_matches(given: str, expected: str) -> bool:
    # Constant time, on bytes: compare_digest refuses non-ASCII str.
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
