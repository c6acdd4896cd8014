"""A tiny sparse cargo registry that requires authentication, for the
cargo-credential-keyward tests (run with /usr/bin/python3).

    registry.py TOKEN_FILE PORT_FILE LOG_FILE

Builds the crate `kwdemo` 0.1.0 (a real .crate: a gzipped tar with its
Cargo.toml and src/lib.rs) and its index entry in memory, binds 127.0.0.1 on
a free port, writes the port to PORT_FILE and serves until killed:

- /index/config.json: {"dl", "api", "auth-required": true}
- /index/kw/de/kwdemo: the index entry
- /dl/kwdemo/0.1.0/download: the .crate

Every request must carry `Authorization: <token>`, the token being the
content of TOKEN_FILE (re-read on each request, so a test can change it);
otherwise 401 with `WWW-Authenticate: Cargo login_url=...`, as RFC 3139
says. Each request is logged to LOG_FILE as `STATUS PATH`.
"""

import hashlib
import http.server
import io
import json
import os
import sys
import tarfile

TOKEN_FILE, PORT_FILE, LOG_FILE = sys.argv[1:4]


def build_crate():
    files = {
        "kwdemo-0.1.0/Cargo.toml": b'[package]\nname = "kwdemo"\nversion = "0.1.0"\nedition = "2021"\n',
        "kwdemo-0.1.0/src/lib.rs": b'pub fn greeting() -> &\'static str {\n    "hello from the keyward test registry"\n}\n',
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


CRATE = build_crate()
ENTRY = json.dumps(
    {
        "name": "kwdemo",
        "vers": "0.1.0",
        "deps": [],
        "cksum": hashlib.sha256(CRATE).hexdigest(),
        "features": {},
        "yanked": False,
    }
)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def log(self, status):
        with open(LOG_FILE, "a") as f:
            f.write(f"{status} {self.path}\n")

    def do_GET(self):
        port = self.server.server_address[1]
        base = f"http://127.0.0.1:{port}"
        with open(TOKEN_FILE) as f:
            token = f.read().strip()
        if self.headers.get("Authorization") != token:
            self.log(401)
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Cargo login_url="{base}/me"')
            self.send_header("Content-Type", "text/plain")
            body = b"unauthorized: a valid token is required\n"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == "/index/config.json":
            body = json.dumps(
                {"dl": f"{base}/dl/{{crate}}/{{version}}/download", "api": base, "auth-required": True}
            ).encode()
        elif self.path == "/index/kw/de/kwdemo":
            body = (ENTRY + "\n").encode()
        elif self.path == "/dl/kwdemo/0.1.0/download":
            body = CRATE
        else:
            self.log(404)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.log(200)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
tmp = PORT_FILE + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.rename(tmp, PORT_FILE)
server.serve_forever()
