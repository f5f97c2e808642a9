"""A lean HTTP/1.1 load generator: N keep-alive connections posting /api/ask as fast as answers come.

The load generator shares the two cores with the server it measures, so what it costs per
request is taken from the server: httpx's async client costs ~1.6 ms of CPU for a GET of
/api/health and ~2 ms for an /api/ask (more than the server's own HTTP handling), which pulls a
fast server's req/s down more than a slow one's. This one writes each request's bytes, prepared
once per question, and reads the response by its Content-Length (every /api/* JSON response
has one): ~0.4 ms per request (measured 0.36–0.46 with the answer's JSON parsed), so req/s
follows the server's own CPU per answer more closely.

It speaks only what `jaxabot serve` answers (a status line, headers with Content-Length, a
body; `Connection: close` honoured by reconnecting) and fails loudly on anything else.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit


class Reply:
    """The parts of a response `bench.common.Latencies.record` reads (httpx-compatible)."""

    __slots__ = ("status_code", "content")

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


class ProtocolError(Exception):
    """The server answered something this client does not read."""


def request_bytes(host: str, port: int, path: str, body: dict) -> bytes:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nAccept: application/json\r\n\r\n")
    return head.encode("ascii") + data


async def read_reply(reader: asyncio.StreamReader) -> tuple[Reply, bool]:
    """One response, and whether the server keeps the connection open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    length, keep = None, True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
        elif name == "transfer-encoding":
            raise ProtocolError("chunked responses are not read by this client")
    if length is None:
        raise ProtocolError("a response without Content-Length")
    return Reply(int(parts[1]), await reader.readexactly(length)), keep


async def post_all(base: str, path: str, items: list, body_of, n: int, concurrency: int, on_reply) -> float:
    """Send `n` POSTs cycling over `items` (`body_of(item)` is the JSON body) on `concurrency`
    keep-alive connections; `on_reply(item, started, reply=None, exc=None)` is called per request.
    Returns the wall time in seconds."""
    url = urlsplit(base)
    host, port = url.hostname, url.port or 80
    prepared = [request_bytes(host, port, path, body_of(item)) for item in items]
    counter = iter(range(n))

    async def connection() -> None:
        reader = writer = None
        try:
            for i in counter:
                k = i % len(items)
                started = time.perf_counter()
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    writer.write(prepared[k])
                    reply, keep = await read_reply(reader)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError) as exc:
                    on_reply(items[k], started, exc=exc)
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    continue
                on_reply(items[k], started, reply)
                if not keep:
                    writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - t0
