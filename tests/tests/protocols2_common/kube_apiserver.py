"""A stand-in for a Kubernetes API server for tests/tests/kubectl.rs, over
HTTPS on 127.0.0.1: /api answers to a request bearing `Bearer TOKEN`, or
presenting a client certificate (signed by CA) with CN CLIENT_CN; anything
else gets 401 with a Status, as the real server answers.

usage: kube_apiserver.py PORT CERT KEY CA TOKEN CLIENT_CN LOG
"""
import http.server
import json
import ssl
import sys

PORT, CERT, KEY, CA, TOKEN, CLIENT_CN, LOG = sys.argv[1:8]
PORT = int(PORT)


def log(line):
    with open(LOG, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def send(self, code, doc):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        peer = self.connection.getpeercert() or {}
        cn = [v for rdn in peer.get("subject", ()) for (k, v) in rdn if k == "commonName"]
        by_token = self.headers.get("Authorization") == "Bearer " + TOKEN
        by_cert = cn == [CLIENT_CN]
        log("GET %s token=%s cert=%s" % (self.path, "yes" if by_token else "no",
                                         "yes" if by_cert else "no"))
        if not (by_token or by_cert):
            return self.send(401, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                   "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
        if self.path == "/api":
            return self.send(200, {"kind": "APIVersions", "versions": ["v1"],
                                   "serverAddressByClientCIDRs": [
                                       {"clientCIDR": "0.0.0.0/0",
                                        "serverAddress": "127.0.0.1:%d" % PORT}]})
        self.send(404, {"kind": "Status", "code": 404})


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
ctx.load_verify_locations(CA)
ctx.verify_mode = ssl.CERT_OPTIONAL
server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
