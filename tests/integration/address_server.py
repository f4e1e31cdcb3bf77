#!/usr/bin/env python3
"""An HTTP server listening on several loopback addresses at one port, whose answer depends on the
address a request came in on, switched by files: the status is 200 unless <dir>/status-<address>
exists, in which case the status is the number in that file. The body names the address
("served by 127.0.0.3"), so a test can tell which listener answered.

It binds only the addresses given (each must be in 127.0.0.0/8), logs one line per request to
stderr, and exits by itself after --max-seconds. Standard library only.
"""
import argparse
import http.server
import ipaddress
import os
import signal
import sys
import threading


def log(msg):
    print(f"address_server: {msg}", file=sys.stderr, flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "address_server"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        address = self.server.server_address[0]
        code = 200
        try:
            with open(os.path.join(self.server.flag_dir, f"status-{address}")) as f:
                code = int(f.read().strip())
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as e:
            log(f"status-{address}: {e}; answering 200")
        body = f"served by {address}\n".encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        log(f"{address}: GET {self.path} Host={self.headers.get('Host')} -> {code}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True, help="where status-<address> files are looked for")
    ap.add_argument("--max-seconds", type=float, default=300)
    ap.add_argument("addresses", nargs="+")
    args = ap.parse_args()

    servers = []
    for address in args.addresses:
        if ipaddress.ip_address(address) not in ipaddress.ip_network("127.0.0.0/8"):
            sys.exit(f"address_server: {address} is not a loopback address")
        server = http.server.ThreadingHTTPServer((address, args.port), Handler)
        server.daemon_threads = True
        server.flag_dir = args.dir
        servers.append(server)
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
               for s in servers]
    for t in threads:
        t.start()
    log(f"listening on {', '.join(args.addresses)} port {args.port}")

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait(args.max_seconds)
    for s in servers:
        s.shutdown()
        s.server_close()
    log("stopped")


if __name__ == "__main__":
    main()
