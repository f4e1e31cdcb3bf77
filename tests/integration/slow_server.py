#!/usr/bin/env python3
"""A deliberately misbehaving HTTP server on loopback, for timeout and body-limit tests.

Modes:
  hang     accept the connection, read the request, never answer (until the client leaves).
  endless  answer 200 with a chunked body that never ends.
  huge     answer 200 with Content-Length of 1 TB and write body bytes forever.

It binds 127.0.0.1 only (port 0 = any free port, written to --port-file once listening), logs
one line per connection to stderr, and exits by itself after --max-seconds, so it never
outlives its test. Standard library only.
"""
import argparse
import os
import signal
import socket
import socketserver
import sys
import threading
import time

CHUNK = b"x" * 16384


def log(msg):
    print(f"slow_server: {msg}", file=sys.stderr, flush=True)


class Handler(socketserver.BaseRequestHandler):
    def read_request(self):
        data = b""
        self.request.settimeout(5)
        while b"\r\n\r\n" not in data and len(data) < 65536:
            try:
                part = self.request.recv(4096)
            except OSError:
                return None
            if not part:
                return None
            data += part
        return data.split(b"\r\n", 1)[0].decode("latin-1")

    def handle(self):
        mode, deadline = self.server.mode, self.server.deadline
        line = self.read_request()
        log(f"{mode}: {self.client_address[0]}:{self.client_address[1]} {line!r}")
        if line is None:
            return
        if mode == "hang":
            self.hang(deadline)
        else:
            self.stream(mode, deadline)

    def hang(self, deadline):
        # Hold the connection open without a byte of response until the client closes it.
        self.request.settimeout(0.5)
        while time.monotonic() < deadline:
            try:
                if not self.request.recv(4096):
                    break
            except socket.timeout:
                continue
            except OSError:
                break
        log("hang: client left")

    def stream(self, mode, deadline):
        head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
        if mode == "endless":
            head += "Transfer-Encoding: chunked\r\n\r\n"
            piece = b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"
        else:
            head += f"Content-Length: {10**12}\r\n\r\n"
            piece = CHUNK
        sent = 0
        self.request.settimeout(5)
        try:
            self.request.sendall(head.encode())
            while time.monotonic() < deadline:
                self.request.sendall(piece)
                sent += len(CHUNK)
        except OSError as e:
            log(f"{mode}: client left after {sent} body bytes ({e.__class__.__name__})")
            return
        log(f"{mode}: stopped at the deadline after {sent} body bytes")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["hang", "endless", "huge"], required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--max-seconds", type=float, default=120.0)
    args = p.parse_args()

    server = Server(("127.0.0.1", args.port), Handler)
    server.mode = args.mode
    server.deadline = time.monotonic() + args.max_seconds
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    log(f"mode {args.mode} listening on 127.0.0.1:{port}")

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    time.sleep(max(0.0, server.deadline - time.monotonic()))
    log("max-seconds reached, exiting")
    os._exit(0)


if __name__ == "__main__":
    main()
