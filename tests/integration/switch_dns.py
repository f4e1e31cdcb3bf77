#!/usr/bin/env python3
"""A DNS server on loopback (UDP) whose answers a test switches at run time by rewriting a file.

The answers file is JSON, re-read on every query (so a test changes the answers by replacing the
file, atomically: write elsewhere, then rename):
  {"shop.example.test": ["127.0.0.2", "127.0.0.3"],   A records (TTL 0: nothing may cache them)
   "gone.example.test": "nxdomain",
   "sick.example.test": "servfail"}
Names are compared case-insensitively, without the trailing dot. A name listed with addresses
answers other query types (AAAA, ...) with NOERROR and no records; a name not listed is NXDOMAIN.
An unreadable or malformed file answers SERVFAIL to everything and says why in the log, so a
broken fixture shows up as such instead of as an agent defect.

It logs one line per query to stderr ("query A shop.example.test -> 127.0.0.2 127.0.0.3"), binds
127.0.0.1 only, and exits by itself after --max-seconds. Standard library only.
"""
import argparse
import json
import signal
import socket
import struct
import sys
import time

RCODE = {"noerror": 0, "servfail": 2, "nxdomain": 3}
QTYPE_NAMES = {1: "A", 28: "AAAA", 5: "CNAME", 6: "SOA", 15: "MX", 16: "TXT", 33: "SRV"}


def log(msg):
    print(f"switch_dns: {msg}", file=sys.stderr, flush=True)


def parse_query(packet):
    """(id, flags, name, qtype, end of the question) of a standard query, else None."""
    if len(packet) < 12:
        return None
    qid, flags, qdcount = struct.unpack(">HHH", packet[:6])
    if flags & 0x8000 or (flags >> 11) & 0xF != 0 or qdcount != 1:
        return None
    labels, off = [], 12
    while True:
        if off >= len(packet):
            return None
        n = packet[off]
        off += 1
        if n == 0:
            break
        if n > 63 or off + n > len(packet):  # no compression in a question we accept
            return None
        labels.append(packet[off:off + n].decode("ascii", "replace"))
        off += n
    if off + 4 > len(packet):
        return None
    qtype, _qclass = struct.unpack(">HH", packet[off:off + 4])
    return qid, flags, ".".join(labels).lower(), qtype, off + 4


def load_answers(path):
    """The answers file as {name: list of IPv4 | "servfail" | "nxdomain"}, or an error string."""
    try:
        with open(path) as f:
            raw = json.load(f)
    except (OSError, ValueError) as e:
        return f"cannot read {path}: {e}"
    if not isinstance(raw, dict):
        return f"{path}: expected a JSON object of name -> answer"
    answers = {}
    for name, value in raw.items():
        key = str(name).lower().rstrip(".")
        if value in ("servfail", "nxdomain"):
            answers[key] = value
        elif isinstance(value, list) and value:
            try:
                for ip in value:
                    socket.inet_aton(ip)
            except (OSError, TypeError):
                return f"{path}: {name}: {value!r} is not a list of IPv4 addresses"
            answers[key] = list(value)
        else:
            return f"{path}: {name}: expected a non-empty list of IPv4, \"servfail\" or \"nxdomain\""
    return answers


def respond(packet, path):
    """The response to one query packet and a line for the log, or (None, reason) to drop it."""
    q = parse_query(packet)
    if q is None:
        return None, "not a standard query; dropped"
    qid, qflags, name, qtype, qend = q
    answers = load_answers(path)
    records, rcode, said = [], RCODE["noerror"], ""
    if isinstance(answers, str):
        rcode, said = RCODE["servfail"], f"SERVFAIL (answers file: {answers})"
    else:
        answer = answers.get(name, "nxdomain")
        if isinstance(answer, str):
            rcode, said = RCODE[answer], answer.upper()
        elif qtype == 1:
            records = answer
            said = " ".join(answer)
        else:
            said = "NOERROR, no records"
    flags = 0x8000 | 0x0400 | (qflags & 0x0100) | 0x0080 | rcode  # QR AA RD(copied) RA rcode
    out = struct.pack(">HHHHHH", qid, flags, 1, len(records), 0, 0) + packet[12:qend]
    for ip in records:
        out += struct.pack(">HHHIH", 0xC00C, 1, 1, 0, 4) + socket.inet_aton(ip)
    return out, f"query {QTYPE_NAMES.get(qtype, qtype)} {name} -> {said}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--answers", required=True, help="the JSON answers file, re-read per query")
    ap.add_argument("--max-seconds", type=float, default=300)
    args = ap.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.port))
    sock.settimeout(0.2)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    log(f"listening on 127.0.0.1:{args.port} (udp), answers from {args.answers}")
    deadline = time.monotonic() + args.max_seconds
    while not stopping and time.monotonic() < deadline:
        try:
            packet, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        reply, line = respond(packet, args.answers)
        log(line)
        if reply is not None:
            sock.sendto(reply, peer)
    log("stopped")


if __name__ == "__main__":
    main()
