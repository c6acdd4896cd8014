#!/usr/bin/python3
"""Smart-HTTP git server for keyward's end-to-end tests.

`git http-backend` (CGI) behind HTTP Basic auth, on 127.0.0.1 only.

usage: git_http_server.py ROOT AUTHFILE LIFETIME_SECONDS LOGFILE

ROOT holds the bare repositories. AUTHFILE holds one line `user:password`
and is re-read on every request, so a test can change the password while the
server runs. The chosen port is printed on the first line of stdout. The
server exits by itself after LIFETIME_SECONDS, so a crashed test cannot leave
it behind. Every request appends `METHOD PATH STATUS USER` to LOGFILE.
"""

import base64
import http.server
import os
import subprocess
import sys
import threading

ROOT, AUTHFILE, LIFETIME, LOGFILE = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
LOG_LOCK = threading.Lock()


def log(line):
    with LOG_LOCK, open(LOGFILE, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def authorised_user(self):
        with open(AUTHFILE) as f:
            user, _, password = f.read().strip("\n").partition(":")
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            given = base64.b64decode(header[6:], validate=True).decode()
        except Exception:
            return None
        return user if given == f"{user}:{password}" else None

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_any(self):
        path, _, query = self.path.partition("?")
        user = self.authorised_user()
        if user is None:
            self.body()
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="keyward-test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            log(f"{self.command} {path} 401 -")
            return
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": ROOT,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REMOTE_USER": user,
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
        }
        for header, var in (("Content-Encoding", "HTTP_CONTENT_ENCODING"),
                            ("Git-Protocol", "GIT_PROTOCOL")):
            if self.headers.get(header):
                env[var] = self.headers[header]
        data = self.body()
        env["CONTENT_LENGTH"] = str(len(data))
        out = subprocess.run(["git", "http-backend"], input=data, env=env,
                             capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = out.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        log(f"{self.command} {path} {status} {user}")

    do_GET = handle_any
    do_POST = handle_any


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Timer(LIFETIME, lambda: os._exit(0)).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
