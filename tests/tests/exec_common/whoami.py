"""A tiny npm registry that answers only `npm whoami` (GET /-/whoami), for
the `keyward exec` tests (run with /usr/bin/python3).

    whoami.py TOKEN_FILE PORT_FILE

Binds 127.0.0.1 on a free port, writes it to PORT_FILE, and answers
{"username": "kw-npm-user"} when the request carries
`Authorization: Bearer <token>` (the token is the content of TOKEN_FILE),
401 otherwise.
"""

import http.server
import json
import os
import sys

TOKEN_FILE, PORT_FILE = sys.argv[1:3]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with open(TOKEN_FILE) as f:
            token = f.read().strip()
        if self.path.split("?")[0] != "/-/whoami":
            self.answer(404, {"error": "not found"})
        elif self.headers.get("Authorization") == f"Bearer {token}":
            self.answer(200, {"username": "kw-npm-user"})
        else:
            self.answer(401, {"error": "unauthorized"})


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
tmp = PORT_FILE + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.rename(tmp, PORT_FILE)
server.serve_forever()
