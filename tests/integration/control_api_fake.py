#!/usr/bin/env python3
"""A fake of the agent's control API, for the CLI's deploy and gate commands.

usage: control_api_fake.py PORT TOKEN SCENARIO_FILE REQUEST_LOG [CERT KEY]

Listens on 127.0.0.1:PORT (HTTPS with CERT and KEY when given). Every request is appended to REQUEST_LOG as one JSON line (method,
path, query, authorization, content_type, body). SCENARIO_FILE (JSON, re-read on each request)
says how to answer:
  converge_after: N   GET /api/v1/deployments answers converged after N polls since the last
                      announcement; -1: never (shop.example.com keeps serving 1.4.2)
  gate: pass | fail | none | malformed | redirect | huge   the answer of GET /api/v1/gate
        (redirect: a 302 elsewhere; huge: 17 MiB of valid JSON)
POST /api/v1/deployments needs "Authorization: Bearer TOKEN" (else 401 with the API's error
JSON) and a JSON body with service and version (else 400). Standard library only.
"""
import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

PORT, TOKEN, SCENARIO, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
state = {"service": None, "version": None, "polls": 0}


def scenario():
    with open(SCENARIO) as f:
        return json.load(f)


def target(host, version, matches, probed=True):
    return {"target": "shop/version/" + host, "hostname": host, "visibility": "public",
            "check": "version", "address": "127.0.0.1:8443", "version": version,
            "matches": matches, "probed_since_announcement": probed}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("fake-api: " + (fmt % args) + "\n")

    def send_json(self, status, payload, raw=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, error_type, message):
        self.send_json(status, {"status": "error", "errorType": error_type, "error": message})

    def record(self, body):
        url = urlsplit(self.path)
        with open(LOG, "a") as f:
            f.write(json.dumps({"method": self.command, "path": url.path,
                                "query": parse_qs(url.query),
                                "authorization": self.headers.get("Authorization"),
                                "content_type": self.headers.get("Content-Type"),
                                "body": body}) + "\n")
        return url

    def authorized(self):
        if self.headers.get("Authorization") == "Bearer " + TOKEN:
            return True
        self.error(401, "unauthorized", "invalid bearer token")
        return False

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        url = self.record(body)
        if url.path != "/api/v1/deployments":
            return self.error(404, "not_found", "no such endpoint " + url.path)
        if not self.authorized():
            return
        try:
            req = json.loads(body)
            service, version = req["service"], req["version"]
        except (ValueError, KeyError, TypeError):
            return self.error(400, "bad_data", "the body needs service and version")
        state.update(service=service, version=version, polls=0)
        self.send_json(201, {"status": "success", "data": {
            "service": service, "version": version, "announced_at": "2026-11-23T12:00:00Z",
            "converge_within": req.get("converge_within", "10m")}})

    def do_GET(self):
        url = self.record(None)
        query = parse_qs(url.query)
        sc = scenario()
        if url.path == "/api/v1/deployments":
            if not self.authorized():
                return
            if query.get("service") != [state["service"]]:
                return self.send_json(200, {"status": "success", "data": []})
            state["polls"] += 1
            after = sc.get("converge_after", 0)
            done = after >= 0 and state["polls"] >= after
            version = state["version"]
            targets = [target("shop.local", version, True),
                       target("shop.example.com", version if done else "1.4.2", done),
                       target("www.example.com", version, True, probed=done)]
            return self.send_json(200, {"status": "success", "data": [{
                "service": state["service"], "version": version,
                "announced_at": "2026-11-23T12:00:00Z", "converge_within": "10m",
                "converged": done, "targets": targets}]})
        if url.path == "/api/v1/gate":
            mode = sc.get("gate", "pass")
            window = (query.get("for") or [""])[0]
            if mode == "redirect":
                self.send_response(302)
                self.send_header("Location", "http://127.0.0.1:9/api/v1/gate")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if mode == "huge":
                pad = b"x" * (17 << 20)
                return self.send_json(200, None, raw=b'{"status":"success","pad":"' + pad +
                                      b'","data":{"pass":true,"matched":1}}')
            if mode == "malformed":
                return self.send_json(200, None, raw=b'{"status":"success","data":{"pass":tr')
            if mode == "none":
                return self.send_json(200, {"status": "success", "data": {
                    "pass": False, "window": window, "matched": 0, "failing": []}})
            failing = []
            if mode == "fail":
                failing = [{"target": "shop/home/shop.example.com", "service": "shop",
                            "hostname": "shop.example.com", "visibility": "public",
                            "check": "home", "address": "127.0.0.1:8443",
                            "failed_seconds": 73.5, "reason": "http_status",
                            "detail": "status 503 not in [200-299]",
                            "insufficient_history": False}]
            return self.send_json(200, {"status": "success", "data": {
                "pass": mode == "pass", "window": window, "matched": 5, "failing": failing}})
        self.error(404, "not_found", "no such endpoint " + url.path)


server = HTTPServer(("127.0.0.1", PORT), Handler)
if len(sys.argv) > 6:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[5], sys.argv[6])
    server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
