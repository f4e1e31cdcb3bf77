#!/usr/bin/env python3
"""A hostile HTTP target on loopback, written on a raw socket so that it can send any bytes.

  GET /cafe   200 with the status line "HTTP/1.1 200 OK\\xff", the header "Server: caf\\xe9/1.0"
              (Latin-1, invalid UTF-8) and a body of invalid UTF-8 (a lone continuation byte,
              an overlong '/', a UTF-16 surrogate, a truncated sequence)
  GET /nul    200 with a header whose value holds a NUL byte and a DEL byte
  POST /api/v2/alerts
              a stand-in Alertmanager: the body is decoded as strict UTF-8 and parsed as JSON;
              one line per request is appended to --alerts-file: "ok <n alerts> <the JSON>" or
              "invalid <why>". Answers 200 or 400 accordingly. With --refuse-label KEY=VALUE, a
              batch holding an alert with that label is refused too ("refused <n> <the JSON>"),
              with a 400 whose body holds invalid UTF-8 and a line break, as a hostile or broken
              Alertmanager might send.
  anything else 404

It binds 127.0.0.1 only (port 0 = any free port; the port is written to --port-file once
listening), logs one line per request to stderr, and exits by itself after --max-seconds.
Standard library only.
"""
import argparse
import json
import os
import socket
import sys
import threading

BAD_BODY = b"welcome \x80 lone, \xc0\xaf overlong, \xed\xa0\x80 surrogate, truncated \xe2\x82"


def log(msg):
    print(f"untrusted_server: {msg}", file=sys.stderr, flush=True)


def response(status_line, headers, body):
    head = status_line + b"\r\n"
    for h in headers:
        head += h + b"\r\n"
    head += b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
    return head + body


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return parts[0], parts[1] if len(parts) > 1 else b"/", rest[:length]


def handle(conn, alerts_file, lock, refuse):
    with conn:
        conn.settimeout(10)
        try:
            method, path, body = read_request(conn)
        except (OSError, ValueError) as e:
            log(f"bad request: {e}")
            return
        if method is None:
            return
        if method == b"GET" and path == b"/cafe":
            out = response(b"HTTP/1.1 200 OK\xff",
                           [b"Server: caf\xe9/1.0", b"Content-Type: text/plain"], BAD_BODY)
        elif method == b"GET" and path == b"/nul":
            out = response(b"HTTP/1.1 200 OK",
                           [b"Server: plain", b"X-Nul: a\x00b\x7fc"], b"welcome\n")
        elif method == b"POST" and path == b"/api/v2/alerts":
            answer = b""
            try:
                alerts = json.loads(body.decode("utf-8", errors="strict"))
                if refuse and any(a.get("labels", {}).get(refuse[0]) == refuse[1] for a in alerts):
                    line = f"refused {len(alerts)} {json.dumps(alerts, ensure_ascii=True)}"
                    code = b"400 Bad Request"
                    answer = b"bad alert \xff\r\nts=forged level=error msg=injected\n"
                else:
                    line = f"ok {len(alerts)} {json.dumps(alerts, ensure_ascii=True)}"
                    code = b"200 OK"
            except (UnicodeDecodeError, ValueError) as e:
                line = f"invalid {e!r}"
                code = b"400 Bad Request"
            with lock, open(alerts_file, "a") as f:
                f.write(line + "\n")
            out = response(b"HTTP/1.1 " + code, [b"Content-Type: text/plain"], answer)
        else:
            out = response(b"HTTP/1.1 404 Not Found", [b"Content-Type: text/plain"], b"no\n")
        log(f"{method!r} {path!r} -> {out.split(b' ', 2)[1]!r}")
        try:
            conn.sendall(out)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--alerts-file", required=True)
    ap.add_argument("--refuse-label", help="KEY=VALUE: refuse batches holding such an alert")
    ap.add_argument("--max-seconds", type=float, default=240)
    args = ap.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(64)
    port = sock.getsockname()[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    log(f"listening on 127.0.0.1:{port}")
    threading.Timer(args.max_seconds, lambda: os._exit(0)).start()
    lock = threading.Lock()
    refuse = args.refuse_label.split("=", 1) if args.refuse_label else None
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=handle, args=(conn, args.alerts_file, lock, refuse), daemon=True).start()


if __name__ == "__main__":
    main()
