#!/usr/bin/env python3
"""An HTTP target on loopback whose health per virtual host is switched by files.

For a request with Host <host> (any ":port" suffix ignored, case-insensitive) it answers
  200 "welcome to <host>"   if the file <dir>/healthy-<host> exists,
  400 "Invalid Hostname"    otherwise,
the way a web server answers a hostname it has no binding for. A test flips a hostname between
healthy and failing by creating or removing that file; no restart or reload is needed.

It binds 127.0.0.1 only (port 0 = any free port; the port is written to --port-file once
listening), logs one line per request to stderr, and exits by itself after --max-seconds.
Standard library only.
"""
import argparse
import http.server
import os
import signal
import sys
import threading


def log(msg):
    print(f"flip_server: {msg}", file=sys.stderr, flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "flip_server"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def respond(self, with_body):
        host = (self.headers.get("Host") or "").strip().lower()
        if host.startswith("["):  # [v6]:port
            host = host.split("]", 1)[0] + "]"
        else:
            host = host.split(":", 1)[0]
        healthy = bool(host) and "/" not in host and os.path.exists(
            os.path.join(self.server.flag_dir, "healthy-" + host))
        code, text = (200, f"welcome to {host}\n") if healthy else (400, "Invalid Hostname\n")
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)
        log(f"{self.command} {self.path} host={host} -> {code}")

    def do_GET(self):
        self.respond(True)

    def do_HEAD(self):
        self.respond(False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="where the healthy-<host> files are looked up")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="written with the port once listening")
    ap.add_argument("--max-seconds", type=float, default=300)
    args = ap.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.flag_dir = args.dir
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    log(f"listening on 127.0.0.1:{port}, flags in {args.dir}")

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Timer(args.max_seconds, stop).start()
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    log("stopped")
    os._exit(0)


if __name__ == "__main__":
    main()
