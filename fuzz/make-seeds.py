#!/usr/bin/env python3
"""Writes fuzz/corpus/<target>/ seed files from the repository's test data
(git, docker and cargo protocol transcripts, the shipped configuration) and small
hand-built vault index/secret layouts. Run from anywhere; idempotent."""
import base64, hashlib, os, re, struct

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
CORPUS = os.path.join(FUZZ, "corpus")
MAX = 4096  # seeds stay small


def put(target, data):
    if len(data) > MAX:
        return
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def unescape(line):
    """The transcript escapes (git-credential/tests/transcripts/README.md)."""
    def rep(m):
        tok = m.group(1)
        if tok == "NUL":
            return b"\0"
        if tok == "CR":
            return b"\r"
        if tok == "NOEOL":
            return b""
        if tok.startswith("x"):
            return bytes([int(tok[1:], 16)])
        if tok.startswith("REPEAT "):
            _, n, c = tok.split(" ", 2)
            return c.encode() * min(int(n), 300)
        return m.group(0).encode()
    out, pos = b"", 0
    for m in re.finditer(r"\{(NUL|CR|NOEOL|x[0-9A-Fa-f]{2}|REPEAT \d+ .)\}", line):
        out += line[pos:m.start()].encode() + rep(m)
        pos = m.end()
    return out + line[pos:].encode(), line.endswith("{NOEOL}")


def runs(protocol):
    """(arguments, standard input) of every run in the transcripts of `protocol`."""
    tdir = os.path.join(ROOT, "git-credential/tests/transcripts", protocol)
    for t in sorted(os.listdir(tdir)):
        if not t.endswith(".t"):
            continue
        args, stdin = None, b""
        for line in open(os.path.join(tdir, t), encoding="utf-8").read().split("\n"):
            if line == "$" or (line.startswith("$ ") and not line.startswith("$ @")):
                args, stdin = line[1:].split(), b""
                continue
            if args is not None and line.startswith("? "):
                yield args, stdin
                args = None
                continue
            if args is not None:
                data, noeol = unescape(line)
                stdin += data + (b"" if noeol else b"\n")


# git: every run's standard input, and every url= value in it.
for _, stdin in runs("git"):
    put("git_request", stdin)
    for line in stdin.split(b"\n"):
        if line.startswith(b"url="):
            put("git_url", line[4:])

# docker: stdin of store (JSON) and get/erase (server name) runs.
for args, data in runs("docker"):
    if args[:1] == ["store"]:
        put("docker_store", data)
    elif args[:1] in (["get"], ["erase"]):
        put("docker_get", data)

# cargo: each provider session's standard input, and each of its request lines.
for _, data in runs("cargo"):
    put("cargo_request", data)
    for line in data.split(b"\n"):
        put("cargo_request", line)

# config: the shipped file, and one of each setting.
put("config", open(os.path.join(ROOT, "config/keyward.toml"), "rb").read())
put("config", b'unlock_timeout = "1h30m"\nmemory_lock = "required"\nvault_path = "~/v"\n'
    b'login_unlock = false\n[kdf]\nlog_n = 10\nr = 8\np = 1\n')
put("config", b"[kdf]\nlog_n = 40\n")

# INI files as `keyward import aws|pypirc` reads them
put("ini", b"# c\n[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key=s3cret\n"
    b"region: us-east-1\n\n[profile dev]\ns3 =\n    max_concurrent_requests = 10\n\n    x\n")
put("ini", b"[distutils]\nindex-servers =\n    pypi\n    local\n\n[local]\nrepository = http://127.0.0.1:8080/\n"
    b"username = alice\npassword = hunter2\r\n; end\n[]\nk\n = v\n[a] b ]\nlast")
# netrc files as `keyward import netrc` reads them
put("netrc", b"# top\nmachine a.example login alice password s3cret\nmacdef init\ncd /\n\n"
    b"machine \"b ex\" login \"bo\\\"b\" password \"p w\" account x\ndefault login anonymous password me@\n")
put("netrc", b"machine h user u password\tp\n#c\nmachine h2 login u2 password \"unterminated")

# passdb: real scrypt PHC lines, a comment, a bad line, a duplicate.
salt = b"fuzz-seed-salt16"
digest = hashlib.scrypt(b"hunter2", salt=salt, n=16, r=8, p=1, dklen=32)
b64 = lambda b: base64.b64encode(b).rstrip(b"=")
phc = b"$scrypt$ln=4,r=8,p=1$" + b64(salt) + b"$" + b64(digest)
put("passdb", b"# keyward shadow\nalice:" + phc + b"\n\nbob:" + phc + b"\nalice:" + phc + b"\nbad line\n")
put("passdb", b"carol:$scrypt$ln=40,r=8,p=1$c2FsdHNhbHQ$AAAA\n")

# pam_args: stack-line arguments, NUL-separated.
for words in (
    [b"debug", b"nullok", b"db=/etc/keyward/shadow", b"unknown_user=user_unknown"],
    [b"deny=3", b"unlock_time=60", b"tally_dir=/run/keyward/tally", b"nodelay"],
    [b"unlock", b"timeout=1h30m", b"lock_on_close", b"session_dir=/run/k/s", b"config=/etc/keyward/keyward.toml"],
    [b"use_first_pass", b"try_first_pass", b"use_authtok", b"authtok_type=UNIX", b"db=relative", b"deny=x"],
):
    put("pam_args", b"\0".join(words))


# vault index / file / secrets: the layouts FORMAT.md specifies.
def field(b):
    return struct.pack("<I", len(b)) + b


def index(records):
    out = struct.pack("<QI", 7, len(records))
    off = 0
    for i, (kind, proto, host, path, user, authtype, expiry) in enumerate(records):
        out += bytes([i]) * 16 + bytes([kind]) + struct.pack("<QQ", 1, 2)
        out += b"\0" if expiry is None else b"\1" + struct.pack("<Q", expiry)
        out += field(proto) + field(host) + field(path) + field(user)
        out += b"\0" if authtype is None else b"\1" + field(authtype)
        out += struct.pack("<QI", off, 40)
        off += 40
    return out, off


for recs in (
    [],
    [(1, b"https", b"example.com", b"", b"bob", None, None)],
    [(1, b"https", b"example.com:8443", b"team/repo.git", b"al\xc3\xa9", b"Bearer", 3),
     (2, b"", b"https://index.docker.io/v1/", b"", b"ann", None, None)],
):
    plain, secrets_len = index(recs)
    put("vault_index", struct.pack("<I", secrets_len) + plain)
    put("vault_file", struct.pack("<H", secrets_len) + b"\xa5" * secrets_len + plain)

put("vault_secrets", field(b"s3cret") + b"\0\0")
put("vault_secrets", field(b"") + b"\1" + field(b"refresh") + b"\1" + field(b"cred"))

# terraform / token helper / kube: the transcripts' inputs and arguments.
for args, data in runs("terraform"):
    host = (args[-1] if args else "").encode()
    put("terraform_store", data if args[:1] == ["store"] else host + b"\n" + data)
for args, data in runs("tokenhelper"):
    for addr in (b"http://127.0.0.1:8200", b"https://[::1]:8200/", b"unix:///run/bao.sock"):
        put("token_helper", addr + b"\n" + data)
for v in (b"v1", b"v1beta1", b"v1alpha1"):
    put("kube_exec_info", b'{"apiVersion":"client.authentication.k8s.io/' + v
        + b'","kind":"ExecCredential","spec":{"interactive":false}}')
put("kube_exec_info", b"arn:aws:eks:eu-1:1:cluster/prod")
for url in (b"https://registry.npmjs.org/", b"http://127.0.0.1:4873", b"//npm.corp/api/npm/x/?q#f",
            b"https://u:p@Npm.Corp:8443/a/b"):
    put("npm_registry", url)

# The tpm2 slot's payload (shared/tpm/src/blob.rs): without and with a PIN,
# bound to no PCR and to PCR 7; TPM structures stand in as opaque bytes.
def tpm2(flags, mask, name, public, private):
    out = b"KWT2" + bytes([1, flags]) + struct.pack("<I", mask) + bytes(range(16))
    for part in (name, public, private):
        out += struct.pack("<H", len(part)) + part
    return out


put("tpm_payload", tpm2(0, 0, b"\x00\x0b" + b"\x11" * 32, b"\x00\x08\x00\x0b" + b"\x22" * 40, b"\x00\x20" + b"\x33" * 126))
put("tpm_payload", tpm2(1, 1 << 7, b"\x00\x0b" + b"\x44" * 32, b"\x00\x08\x00\x0b" + b"\x55" * 60, b"\x00\x20" + b"\x66" * 158))
