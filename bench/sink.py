"""A minimal, fast HTTP sink that counts the events of every library under test.

It understands Mixpanel (``/track``, ``/import``, ``/engage``, ``/groups``: form ``data=`` as
JSON or base64, JSON bodies, gzip), Segment (``/v1/batch``) and PostHog (``/batch/``), and
answers each with a 200 that all of their clients accept. Events are counted, and their
``seq`` property collected, so that loss and duplicates can be told apart.

A second port takes control requests (plain HTTP, always up, even while the sink is down):

    GET  /stats                     {"events", "distinct", "requests", "bad", "last_at", "mode"}
    POST /reset                     forget all counts
    POST /mode?name=normal          answer at once
    POST /mode?name=hang            read requests, never answer (until the mode changes)
    POST /mode?name=down            stop listening and drop connections: connection refused
    POST /mode?name=delay&seconds=0.03    answer each request after a fixed delay

``last_at`` is ``time.monotonic()`` (system-wide on Linux) when the latest event arrived.

    python -m bench.sink --port 8800 --control-port 8801
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
import zlib
from typing import Any
from urllib.parse import parse_qs

from mixtrack.protocol.decode import WireRequest, decode

try:
    import orjson

    loads: Any = orjson.loads
except ImportError:  # pragma: no cover - the bench extra installs orjson
    loads = json.loads

OK = b'{"status":1,"error":null}'
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(OK)).encode()
    + b"\r\n\r\n"
    + OK
)


class Counts:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.events = 0
        self.requests = 0
        self.bad = 0
        self.seqs: set[int] = set()
        self.last_at = 0.0

    def as_json(self, mode: str) -> dict[str, Any]:
        return {
            "events": self.events,
            "distinct": len(self.seqs),
            "requests": self.requests,
            "bad": self.bad,
            "last_at": self.last_at,
            "mode": mode,
        }


def records(path: str, headers: dict[bytes, bytes], body: bytes) -> list[Any]:
    """The events in one request, whatever library sent it."""
    route = path.split("?", 1)[0].strip("/")
    if route in ("v1/batch", "batch", "i/v0/e", "capture"):
        if headers.get(b"content-encoding", b"").lower() == b"gzip":
            body = zlib.decompress(body, 31)
        doc = loads(body)
        batch = doc.get("batch", doc) if isinstance(doc, dict) else doc
        return batch if isinstance(batch, list) else [batch]
    # Mixpanel's own request format: the collector's decoder, so the bench measures clients
    # against what the collector would accept.
    named = {name.decode("latin-1"): value.decode("latin-1") for name, value in headers.items()}
    request = WireRequest.from_url("POST" if body else "GET", path, named, body)
    return decode(request, request.endpoint or "import").records


class Sink:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.mode = "normal"
        self.delay = 0.0
        self.counts = Counts()
        self.server: asyncio.AbstractServer | None = None
        self.connections: set[asyncio.Transport] = set()
        self.released = asyncio.Event()

    async def listen(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: Connection(self), self.host, self.port, reuse_address=True, backlog=1024
        )

    async def set_mode(self, name: str, seconds: float) -> None:
        if name not in ("normal", "hang", "down", "delay"):
            raise ValueError(f"unknown mode {name!r}")
        previous, self.mode, self.delay = self.mode, name, seconds
        if previous == "hang":
            self.released.set()  # hung requests get dropped, not answered
            self.released = asyncio.Event()
        if name == "down":
            if self.server is not None:
                self.server.close()
                self.server = None
            for transport in list(self.connections):
                transport.abort()
        elif self.server is None:
            await self.listen()

    def count(self, found: list[Any]) -> None:
        counts = self.counts
        counts.requests += 1
        counts.events += len(found)
        for record in found:
            props = record.get("properties") if type(record) is dict else None
            seq = props.get("seq") if type(props) is dict else None
            if type(seq) is int:
                counts.seqs.add(seq)
        counts.last_at = time.monotonic()


class Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and Content-Length bodies: what every client here sends."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.waiting: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.sink.connections.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.sink.connections.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self.process()

    def process(self) -> None:
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).split(b"\r\n")
            headers: dict[bytes, bytes] = {}
            for line in head[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            path = head[0].split(b" ")[1].decode("latin-1")
            self.handle(path, headers, body)
            if self.busy:
                return

    def handle(self, path: str, headers: dict[bytes, bytes], body: bytes) -> None:
        sink = self.sink
        if sink.mode == "hang":
            self.busy = True
            self.waiting = asyncio.ensure_future(self.hang(sink.released))
            return
        try:
            found = records(path, headers, body)
        except Exception:
            sink.counts.bad += 1
            found = []
        if sink.mode == "delay" and sink.delay > 0:
            self.busy = True
            asyncio.get_running_loop().call_later(sink.delay, self.answer_later, found)
            return
        sink.count(found)
        assert self.transport is not None
        self.transport.write(ANSWER)

    def answer_later(self, found: list[Any]) -> None:
        self.busy = False
        if self.transport is None or self.transport.is_closing():
            return
        self.sink.count(found)
        self.transport.write(ANSWER)
        self.process()

    async def hang(self, released: asyncio.Event) -> None:
        await released.wait()
        if self.transport is not None:
            self.transport.abort()


async def control(sink: Sink, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        line = await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass
        method, target = line.decode().split(" ")[:2]
        route, _, query = target.partition("?")
        params = {k: v[0] for k, v in parse_qs(query).items()}
        status, doc = "200 OK", {}
        if route == "/mode" and method == "POST":
            await sink.set_mode(params.get("name", "normal"), float(params.get("seconds", "0")))
        elif route == "/reset" and method == "POST":
            sink.counts.reset()
        elif route != "/stats":
            status = "404 Not Found"
        doc = sink.counts.as_json(sink.mode)
        body = json.dumps(doc).encode()
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
    except Exception as exc:  # a bad control request must not stop the sink
        body = str(exc).encode()
        head = b"HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\n\r\n" % len(body)
        writer.write(head + body)
    finally:
        writer.close()


async def serve(host: str, port: int, control_port: int) -> None:
    sink = Sink(host, port)
    await sink.listen()
    server = await asyncio.start_server(
        lambda r, w: control(sink, r, w), host, control_port, reuse_address=True
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="bench sink")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.control_port))


if __name__ == "__main__":
    main()
