#!/usr/bin/env python3
"""A hostile HTTP server on loopback: raw sockets, one port, behaviour chosen per request.

The behaviour is the request path's first segment (or --mode, for every request):
  ok            200 "welcome"
  bin-status    a status line with NUL, invalid UTF-8 and control bytes
  bin-headers   header names and values with NUL and invalid UTF-8
  bad-utf8      200 "welcome" with invalid UTF-8 (no NUL) in the reason phrase, Server and X-Bin
  bin-body      200 with a body full of NUL and invalid UTF-8 bytes (no "welcome")
  slowloris     the status line, then one header byte every 2 s, forever
  endless       200 with a chunked body that never ends
  bigheader     200 with one 1 MB header line
  manyheaders   200 with 10,000 headers
  rst           200, Content-Length 1 MB, 20 kB of body, then a reset (SO_LINGER 0 close)
  gzip-bomb     200, Content-Encoding: gzip, 10 MB of zeros compressed
  bigjson       200, a 50 MB JSON document whose "status" is "degraded"
  deepjson      200, 100,000 nested JSON arrays
  regex         200, 1 MB of "a" (a quadratic case for a.{1000}b without a DFA)
  hang          read the request, never answer (until the client leaves)
  slowbody      200, Content-Length 1 GB, one body byte every 0.5 s
  loop          302 to itself
  chain/N       302 to chain/N-1; chain/0 answers 200
  redirect?to=U 302 to the URL U (percent-encoded)
  seen          200 "seen"
Every request is logged to --log-file as one JSON line (port, path, host, headers; bytes as
latin-1), so tests can see what a client sent. It binds 127.0.0.1 only (port 0 = any free port,
written to --port-file once listening), optionally speaks TLS (--tls-cert/--tls-key), and exits
by itself after --max-seconds. Standard library only.
"""
import argparse
import gzip
import json
import os
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse

MB = 1024 * 1024
_cache = {}
_cache_lock = threading.Lock()


def log(msg):
    print(f"hostile_server: {msg}", file=sys.stderr, flush=True)


def cached(name, build):
    with _cache_lock:
        if name not in _cache:
            _cache[name] = build()
        return _cache[name]


def big_json():
    # Realistic shape (an array of small objects), so a parser that builds a tree pays for it.
    head = b'{"status":"degraded","items":['
    item = b'{"id":%d,"name":"item-%08d","ok":true},'
    parts, size, i = [head], len(head), 0
    while size < 50 * MB:
        p = item % (i, i)
        parts.append(p)
        size += len(p)
        i += 1
    parts.append(b'{"id":-1}]}')
    return b"".join(parts)


BODIES = {
    "bin-body": lambda: b"\x00\xff\xfe\xc3\x28 binary \x00\x01\x7f\x80\xbf" * 2048 + b"\n",
    "gzip-bomb": lambda: gzip.compress(b"\0" * (10 * MB), 9),
    "bigjson": big_json,
    "deepjson": lambda: b"[" * 100000 + b"]" * 100000,
    "regex": lambda: b"a" * MB,
}


class Handler(socketserver.BaseRequestHandler):
    def read_head(self):
        data = b""
        self.request.settimeout(10)
        while b"\r\n\r\n" not in data and len(data) < 65536:
            try:
                part = self.request.recv(4096)
            except OSError:
                return None
            if not part:
                return None
            data += part
        lines = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.append([name.decode("latin-1"), value.strip().decode("latin-1")])
        parts = lines[0].decode("latin-1").split(" ")
        target = parts[1] if len(parts) > 1 else "/"
        return target, headers

    def send(self, data):
        self.request.sendall(data)

    def respond(self, status, body=b"", extra=b"", ctype=b"text/plain"):
        self.send(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype +
                  b"\r\nContent-Length: %d\r\nConnection: close\r\n" % len(body) + extra +
                  b"\r\n" + body)

    def handle(self):
        # Logged before anything is read, so a client that never sends a request shows too.
        log(f"connection from {self.client_address[0]}:{self.client_address[1]}")
        try:
            head = self.read_head()
            if head is None:
                return
            target, headers = head
            url = urllib.parse.urlsplit(target)
            host = next((v for k, v in headers if k.lower() == "host"), "")
            with self.server.log_lock:
                with open(self.server.log_file, "a") as f:
                    f.write(json.dumps({"port": self.server.server_address[1], "path": target,
                                        "host": host, "headers": headers}) + "\n")
            segments = url.path.strip("/").split("/")
            mode = self.server.mode or segments[0]
            getattr(self, "do_" + mode.replace("-", "_"), self.do_missing)(url, segments)
        except OSError as e:
            log(f"client left ({e.__class__.__name__})")

    # --- behaviours ------------------------------------------------------------------------

    def do_missing(self, url, segments):
        self.respond(b"404 Not Found", b"no such behaviour\n")

    def do_ok(self, url, segments):
        self.respond(b"200 OK", b"welcome\n")

    def do_seen(self, url, segments):
        self.respond(b"200 OK", b"seen\n")

    def do_bin_status(self, url, segments):
        self.send(b"HTTP/1.1 200 \xff\xfe\x00\xc3\x28\x01OK\r\nContent-Length: 8\r\n"
                  b"Connection: close\r\n\r\nwelcome\n")

    def do_bin_headers(self, url, segments):
        self.respond(b"200 OK", b"welcome\n",
                     b"X-Bin: \xff\x00\xfe\x01\x7f\xc0\xaf end\r\nX-\xff\xfe: v\x00\r\n")

    def do_bad_utf8(self, url, segments):
        self.send(b"HTTP/1.1 200 \xff\xfeO\xc3\x28K\r\nServer: \xff\xfe\xc3\x28 evil\r\n"
                  b"X-Bin: \xff\xfe\xc0\xaf\x1b[31m end\r\nContent-Length: 8\r\n"
                  b"Connection: close\r\n\r\nwelcome\n")

    def do_bin_body(self, url, segments):
        self.respond(b"200 OK", cached("bin-body", BODIES["bin-body"]), ctype=b"application/\xff")

    def do_slowloris(self, url, segments):
        self.send(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while time.monotonic() < self.server.deadline:
            time.sleep(2)
            self.send(b"z")

    def do_endless(self, url, segments):
        chunk = b"x" * 16384
        self.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        piece = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        while time.monotonic() < self.server.deadline:
            self.send(piece)

    def do_bigheader(self, url, segments):
        self.respond(b"200 OK", b"welcome\n", b"X-Big: " + b"a" * MB + b"\r\n")

    def do_manyheaders(self, url, segments):
        self.respond(b"200 OK", b"welcome\n", b"".join(b"X-H-%d: v\r\n" % i for i in range(10000)))

    def do_rst(self, url, segments):
        self.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % MB)
        self.send(b"r" * 20000)
        time.sleep(0.2)
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.request.close()

    def do_gzip_bomb(self, url, segments):
        self.respond(b"200 OK", cached("gzip-bomb", BODIES["gzip-bomb"]),
                     b"Content-Encoding: gzip\r\n")

    def do_bigjson(self, url, segments):
        self.respond(b"200 OK", cached("bigjson", BODIES["bigjson"]), ctype=b"application/json")

    def do_deepjson(self, url, segments):
        self.respond(b"200 OK", cached("deepjson", BODIES["deepjson"]), ctype=b"application/json")

    def do_regex(self, url, segments):
        self.respond(b"200 OK", cached("regex", BODIES["regex"]))

    def do_hang(self, url, segments):
        self.request.settimeout(0.5)
        while time.monotonic() < self.server.deadline:
            try:
                if not self.request.recv(4096):
                    break
            except socket.timeout:
                continue
        log("hang: client left")

    def do_slowbody(self, url, segments):
        self.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (1024 * MB))
        while time.monotonic() < self.server.deadline:
            self.send(b"s")
            time.sleep(0.5)

    def do_loop(self, url, segments):
        self.respond(b"302 Found", b"", b"Location: /loop\r\n")

    def do_chain(self, url, segments):
        n = int(segments[1]) if len(segments) > 1 and segments[1].isdigit() else 0
        if n <= 0:
            self.respond(b"200 OK", b"welcome\n")
        else:
            self.respond(b"302 Found", b"", b"Location: /chain/%d\r\n" % (n - 1))

    def do_redirect(self, url, segments):
        to = urllib.parse.parse_qs(url.query).get("to", ["/ok"])[0]
        self.respond(b"302 Found", b"", b"Location: " + to.encode() + b"\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls is not None:
            sock.settimeout(10)
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
            except (OSError, ssl.SSLError) as e:
                log(f"TLS handshake failed: {e}")
                sock.close()
                raise OSError("handshake failed") from e
        return sock, addr


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--log-file", required=True, help="one JSON line per request")
    p.add_argument("--mode", help="one behaviour for every request, whatever the path")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--max-seconds", type=float, default=120.0)
    args = p.parse_args()

    server = Server(("127.0.0.1", args.port), Handler)
    server.mode = args.mode
    server.log_file = args.log_file
    server.log_lock = threading.Lock()
    server.deadline = time.monotonic() + args.max_seconds
    server.tls = None
    if args.tls_cert:
        server.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.tls.load_cert_chain(args.tls_cert, args.tls_key)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    log(f"listening on 127.0.0.1:{port}{' (TLS)' if server.tls else ''}")

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    # Build the large bodies now, so the first request for one is not slowed by building it.
    threading.Thread(target=lambda: [cached(n, b) for n, b in BODIES.items()], daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    time.sleep(max(0.0, server.deadline - time.monotonic()))
    log("max-seconds reached, exiting")
    os._exit(0)


if __name__ == "__main__":
    main()
