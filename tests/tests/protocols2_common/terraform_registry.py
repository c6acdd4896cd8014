"""A Terraform service host for tests/tests/terraform.rs, over HTTPS on
127.0.0.1: service discovery (/.well-known/terraform.json) with login.v1 and
modules.v1, an OAuth authorization-code login that issues TOKEN, and a module
registry whose API answers only requests bearing that token.

usage: terraform_registry.py PORT CERT KEY TOKEN LOG
"""
import http.server
import io
import json
import ssl
import sys
import tarfile
import urllib.parse

PORT, CERT, KEY, TOKEN, LOG = sys.argv[1:6]
PORT = int(PORT)
CODE = "test-authorization-code"


def log(line):
    with open(LOG, "a") as f:
        f.write(line + "\n")


def module_archive():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        body = b'output "greeting" {\n  value = "hello from the registry"\n}\n'
        info = tarfile.TarInfo("main.tf")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


ARCHIVE = module_archive()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def send(self, code, body=b"", ctype="application/json", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        got = self.headers.get("Authorization")
        ok = got == "Bearer " + TOKEN
        log("%s %s auth=%s" % (self.command, self.path.split("?")[0],
                                "token" if ok else ("other" if got else "none")))
        return ok

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        if url.path == "/.well-known/terraform.json":
            doc = {
                "modules.v1": "/v1/modules/",
                "login.v1": {
                    "client": "terraform-cli",
                    "grant_types": ["authz_code"],
                    "authz": "/oauth/authorization",
                    "token": "/oauth/token",
                    "ports": [10000, 10010],
                },
            }
            return self.send(200, json.dumps(doc).encode())
        if url.path == "/oauth/authorization":
            log("GET /oauth/authorization")
            target = "%s?%s" % (q["redirect_uri"][0], urllib.parse.urlencode(
                {"code": CODE, "state": q["state"][0]}))
            return self.send(302, b"", "text/plain", [("Location", target)])
        if url.path == "/v1/modules/test/greeting/local/versions":
            if not self.authorized():
                return self.send(401, b'{"errors":["unauthorized"]}')
            doc = {"modules": [{"versions": [{"version": "1.0.0"}]}]}
            return self.send(200, json.dumps(doc).encode())
        if url.path == "/v1/modules/test/greeting/local/1.0.0/download":
            if not self.authorized():
                return self.send(401, b'{"errors":["unauthorized"]}')
            get = "https://localhost:%d/archive/greeting.tar.gz" % PORT
            return self.send(204, b"", "text/plain", [("X-Terraform-Get", get)])
        if url.path == "/archive/greeting.tar.gz":
            return self.send(200, ARCHIVE, "application/gzip")
        log("GET %s 404" % url.path)
        self.send(404, b"{}")

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        form = urllib.parse.parse_qs(body.decode())
        if url.path == "/oauth/token" and form.get("code") == [CODE]:
            log("POST /oauth/token")
            doc = {"access_token": TOKEN, "token_type": "bearer"}
            return self.send(200, json.dumps(doc).encode())
        log("POST %s refused" % url.path)
        self.send(400, b'{"error":"invalid_grant"}')


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
