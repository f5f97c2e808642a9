"""bench.loadgen, the lean load generator of bench.latency and bench.tune, against a small
HTTP/1.1 server on 127.0.0.1 (keep-alive, a `Connection: close` now and then, a broken reply)."""

import asyncio
import json

import pytest

from bench.loadgen import ProtocolError, Reply, post_all, read_reply


def _reader(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


def test_a_reply_is_read_by_its_content_length():
    async def go():
        body = json.dumps({"answer": "はい"}).encode()
        data = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                + str(len(body)).encode() + b"\r\n\r\n" + body + b"HTTP/1.1 503 Service Unavailable\r\n"
                b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
        reader = _reader(data)
        first, keep = await read_reply(reader)
        second, keep2 = await read_reply(reader)
        return first, keep, second, keep2

    first, keep, second, keep2 = asyncio.run(go())
    assert (first.status_code, first.json(), keep) == (200, {"answer": "はい"}, True)
    assert (second.status_code, second.text, keep2) == (503, "{}", False)


@pytest.mark.parametrize("data", [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                  b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello",
                                  b"SSH-2.0-OpenSSH\r\n\r\n"])
def test_what_it_cannot_read_is_an_error(data):
    async def go():
        return await read_reply(_reader(data))

    with pytest.raises(ProtocolError):
        asyncio.run(go())


def test_every_request_gets_one_outcome_over_reconnecting_keep_alive_connections():
    async def go():
        seen: list[dict] = []
        connections = 0

        async def handle(reader, writer):
            nonlocal connections
            connections += 1
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                      if line.lower().startswith(b"content-length")))
                    body = json.loads(await reader.readexactly(length))
                    seen.append(body)
                    if body["question"] == "broken":
                        writer.write(b"HTTP/1.1 200 OK\r\n\r\n")  # no Content-Length
                        await writer.drain()
                        break
                    out = json.dumps({"echo": body["question"]}).encode()
                    close = len(seen) % 5 == 0
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s"
                                 % (len(out), b"Connection: close\r\n" if close else b"", out))
                    await writer.drain()
                    if close:
                        break
            except asyncio.IncompleteReadError:
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        outcomes: list = []

        def on_reply(item, started, reply: Reply | None = None, exc: Exception | None = None):
            outcomes.append((item, reply.json()["echo"] if reply is not None else type(exc).__name__))

        async with server:
            await post_all(f"http://127.0.0.1:{port}", "/api/ask", ["a", "b", "broken"],
                           lambda q: {"question": q}, 30, 4, on_reply)
        return outcomes, seen, connections

    outcomes, seen, connections = asyncio.run(go())
    assert len(outcomes) == len(seen) == 30
    assert {o for o in outcomes if o[0] != "broken"} == {("a", "a"), ("b", "b")}
    assert {o for o in outcomes if o[0] == "broken"} == {("broken", "ProtocolError")}
    assert connections > 4  # closed connections were opened again
