"""A stand-in GitHub Enterprise Server for gh's token check, on 127.0.0.1.

gh talks to https://HOST/api/v3/ (REST: the token's scopes from the
X-Oauth-Scopes header) and https://HOST/api/graphql (the login of the
token's owner). It gets here through HTTPS_PROXY: this server answers
CONNECT, then speaks TLS with the certificate it was given (made by the test
for the host name) and answers those two requests. Nothing else is served.

usage: fake_ghes.py CERT KEY LOGIN
Prints its port on stdout; logs one line per request on stderr:
  METHOD PATH AUTHORIZATION-SCHEME TOKEN-SHA256-PREFIX
(never the token itself).
"""
import hashlib
import http.server
import json
import socketserver
import ssl
import sys

cert, key, login = sys.argv[1:4]
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(cert, key)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        digest = hashlib.sha256(token.encode()).hexdigest()[:16] if token else "-"
        sys.stderr.write(f"{self.command} {self.path} {scheme or '-'} {digest}\n")
        sys.stderr.flush()

    def reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Oauth-Scopes", "repo, read:org, gist")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_CONNECT(self):
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        try:
            inner = tls.wrap_socket(self.connection, server_side=True)
        except ssl.SSLError:
            self.close_connection = True
            return
        Handler(inner, self.client_address, self.server)
        self.close_connection = True

    def do_GET(self):
        self.reply({"login": login} if self.path.startswith("/api/v3/user") else {})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.reply({"data": {"viewer": {"login": login}}})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
