#!/usr/bin/env python3
"""A tiny hostile DNS server on loopback (UDP only).

--mode servfail|refused|silent answers every query that way. --mode byname (the default) decides
by the query name's first label:
  servfail.*  SERVFAIL
  refused.*   REFUSED
  silent.*    no answer at all
  a name given with --record NAME=IPV4   that A record (AAAA and others: NOERROR, no answer)
  anything else                          NXDOMAIN
It logs one line per query to stderr ("query <type> <name> -> <answer>"), binds 127.0.0.1
only, and exits by itself after --max-seconds. Standard library only.
"""
import argparse
import os
import signal
import socket
import struct
import sys
import time

RCODES = {"noerror": 0, "servfail": 2, "nxdomain": 3, "refused": 5}
QTYPES = {1: "A", 28: "AAAA", 5: "CNAME", 15: "MX", 16: "TXT", 33: "SRV"}


def log(msg):
    print(f"hostile_dns: {msg}", file=sys.stderr, flush=True)


def parse_question(packet):
    """Return (id, flags, name, qtype, end of question) or None for a packet that is not a query."""
    if len(packet) < 12:
        return None
    qid, flags, qdcount = struct.unpack(">HHH", packet[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    labels, off = [], 12
    while off < len(packet):
        n = packet[off]
        off += 1
        if n == 0:
            break
        if n >= 64 or off + n > len(packet):
            return None
        labels.append(packet[off:off + n].decode("latin-1"))
        off += n
    if off + 4 > len(packet):
        return None
    qtype = struct.unpack(">H", packet[off:off + 2])[0]
    return qid, flags, ".".join(labels).lower(), qtype, off + 4


def reply(packet, parsed, rcode, address=None):
    qid, flags, _, qtype, end = parsed
    # QR, the query's opcode and RD, RA; authoritative for the names it knows.
    out_flags = 0x8000 | (flags & 0x7900) | 0x0080 | (0x0400 if rcode == 0 else 0) | rcode
    answers = 0 if address is None else 1
    out = struct.pack(">HHHHHH", qid, out_flags, 1, answers, 0, 0) + packet[12:end]
    if address is not None:
        out += struct.pack(">HHHIH", 0xC00C, 1, 1, 30, 4) + socket.inet_aton(address)
    return out


def decide(mode, records, name, qtype):
    """Return ("silent", None) or (rcode name, address or None)."""
    if mode != "byname":
        return mode, None
    first = name.split(".", 1)[0]
    if first in ("servfail", "refused", "silent"):
        return first, None
    if name in records:
        return ("noerror", records[name]) if qtype == 1 else ("noerror", None)
    return "nxdomain", None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=["byname", "servfail", "refused", "silent"], default="byname")
    p.add_argument("--record", action="append", default=[], help="NAME=IPV4 (byname mode)")
    p.add_argument("--max-seconds", type=float, default=120.0)
    args = p.parse_args()
    records = {}
    for r in args.record:
        name, _, address = r.partition("=")
        socket.inet_aton(address)  # refuse a bad address at start, not at query time
        records[name.lower().rstrip(".")] = address

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.port))
    sock.settimeout(0.5)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    log(f"mode {args.mode} listening on 127.0.0.1:{args.port} (udp)")
    deadline = time.monotonic() + args.max_seconds
    while time.monotonic() < deadline:
        try:
            packet, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        parsed = parse_question(packet)
        if parsed is None:
            log(f"ignored a malformed packet from {peer}")
            continue
        what, address = decide(args.mode, records, parsed[2], parsed[3])
        log(f"query {QTYPES.get(parsed[3], parsed[3])} {parsed[2]} -> {what}"
            f"{' ' + address if address else ''}")
        if what != "silent":
            sock.sendto(reply(packet, parsed, RCODES[what], address), peer)
    log("max-seconds reached, exiting")


if __name__ == "__main__":
    main()
