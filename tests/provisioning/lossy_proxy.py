"""INJECTED FAILURE ONLY: an HTTP proxy in front of the real verifier that loses answers.

The real verifier cannot be made to commit a request and then not answer it; a network can.
This proxy forwards every request to the real verifier unchanged and returns its answer,
except for requests matching `lose` (method, path regex): those are forwarded (the verifier
acts on them) and the connection is then closed without an answer.
"""
import re
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _forward(self):
        srv = self.server
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() in ("authorization", "content-type")}
        req = urllib.request.Request(srv.upstream + self.path, data=body, method=self.command,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, raw, ctype = resp.status, resp.read(), resp.headers["Content-Type"]
        except urllib.error.HTTPError as err:
            status, raw, ctype = err.code, err.read(), err.headers["Content-Type"]
        rule = srv.lose
        if rule and self.command == rule[0] and re.fullmatch(rule[1], self.path):
            srv.lost.append((self.command, self.path, status))
            srv.lose = None                       # once
            self.close_connection = True
            return                                 # acted on upstream; no answer here
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/octet-stream")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_DELETE = _forward


def start(upstream):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.upstream, srv.lose, srv.lost = upstream, None, []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"
