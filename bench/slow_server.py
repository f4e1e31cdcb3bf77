#!/usr/bin/python3
"""An HTTP server on 127.0.0.1 that answers every request exactly DELAY after its head arrived.

Usage: slow_server.py PORT [DELAY_SECONDS]   (default 0.2)
asyncio sleeps to 2 ms before the due time, then spins on the monotonic clock, so the answer
leaves within a few µs of the due time. For every answer it prints one line,
`answered <recv> <sent> <error_seconds>` (monotonic seconds; error = sent − recv − DELAY, the
server's own answer-time error), and flushes it. Standard library only; stops on SIGTERM.
"""

import asyncio
import signal
import sys
import time

BODY = b"ok\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            + str(len(BODY)).encode() + b"\r\nConnection: close\r\n\r\n" + BODY)
SPIN = 0.002


class Slow(asyncio.Protocol):
    def __init__(self, delay):
        self.delay = delay
        self.head = b""
        self.received = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if self.received is not None:
            return
        self.head += data
        if b"\r\n\r\n" not in self.head:
            if len(self.head) > 65536:
                self.transport.close()
            return
        self.received = time.monotonic()
        loop = asyncio.get_running_loop()
        loop.call_at(loop.time() + max(0.0, self.delay - SPIN), self.answer)

    def answer(self):
        due = self.received + self.delay
        while time.monotonic() < due:
            pass
        self.transport.write(RESPONSE)
        sent = time.monotonic()
        self.transport.close()
        print(f"answered {self.received:.6f} {sent:.6f} {sent - due:.6f}", flush=True)


async def serve(port, delay):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    server = await loop.create_server(lambda: Slow(delay), "127.0.0.1", port, backlog=64)
    print(f"listening 127.0.0.1:{port} delay {delay}", flush=True)
    async with server:
        await stop


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    asyncio.run(serve(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) == 3 else 0.2))


if __name__ == "__main__":
    main()
