#!/usr/bin/env python3
"""A webhook receiver for Alertmanager on loopback, for the alert-push integration test.

Every POST body is appended as one line of JSON (re-serialised compactly, so that one
notification is always one line) to <dir>/<path>.jsonl, where <path> is the request path without
its leading slash and with any other '/' replaced by '_' (POST /pager -> pager.jsonl). Each line is
wrapped as {"received": <unix time, float>, "payload": <the posted JSON>} so that a test can tell
when a notification arrived. The answer is always 200 (400 for a body that is not JSON, so that a
broken sender shows up in the log). GET /-/ready answers 200 once listening.

It binds 127.0.0.1 only (port 0 = any free port; the port is written to --port-file once
listening), logs one line per request to stderr, and exits by itself after --max-seconds.
Standard library only.
"""
import argparse
import http.server
import json
import os
import signal
import sys
import threading
import time


def log(msg):
    print(f"webhook_sink: {msg}", file=sys.stderr, flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "webhook_sink"
    lock = threading.Lock()

    def log_message(self, fmt, *args):  # the default writes to stderr without our prefix
        pass

    def answer(self, code, text):
        body = (text + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/-/ready":
            self.answer(200, "ready")
        else:
            self.answer(404, "POST webhook payloads here")

    def do_POST(self):
        received = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            payload = json.loads(raw)
        except ValueError:
            log(f"POST {self.path}: not JSON: {raw[:200]!r}")
            self.answer(400, "expected a JSON body")
            return
        name = self.path.split("?", 1)[0].strip("/").replace("/", "_") or "root"
        line = json.dumps({"received": received, "payload": payload}, separators=(",", ":"))
        with self.lock:
            with open(os.path.join(self.server.out_dir, name + ".jsonl"), "a") as f:
                f.write(line + "\n")
        summary = ""
        if isinstance(payload, dict):
            alerts = payload.get("alerts") or []
            summary = " ".join(
                f"{a.get('status')}:{(a.get('labels') or {}).get('hostname', '?')}"
                for a in alerts if isinstance(a, dict))
            summary = f"receiver={payload.get('receiver')} status={payload.get('status')} [{summary}]"
        log(f"POST {self.path} -> {name}.jsonl {summary}")
        self.answer(200, "ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="where the <path>.jsonl files are written")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="written with the port once listening")
    ap.add_argument("--max-seconds", type=float, default=300)
    args = ap.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.out_dir = args.dir
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    log(f"listening on 127.0.0.1:{port}, writing to {args.dir}")

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Timer(args.max_seconds, stop).start()
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    log("stopped")
    os._exit(0)  # do not wait for the max-seconds timer thread


if __name__ == "__main__":
    main()
