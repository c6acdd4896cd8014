"""A keyring backend over the keyward vault (see docs/python.md).

Every call runs the ``keyward`` binary: ``keyward get NAME`` answers a
password on its stdout (a pipe), ``keyward set NAME --secret-fd 0`` reads one
from its stdin (a pipe); no password is ever in argv or the environment. A
(service, username) pair is the named secret
``python-keyring/<service>/<username>``, each part escaped by ``escape``
(the same rule as ``keyward import pypirc|netrc``: cli/src/named.rs).

``keyward import netrc`` keeps a ``machine`` under its host name (netrc
has no ports or paths), so a lookup that finds nothing for a URL or a
``host:port`` service tries the bare host next, as netrc's own matching does.

A locked vault: keyward fails at once with a hint ("vault is locked: run
`keyward unlock`", exit 4) unless it can prompt on a terminal, as the git
helper does; this backend then raises ``KeyringLocked`` with that line, which
pip and twine report as a warning and the ``keyring`` command as an error.
"""

import json
import os
import shutil
import subprocess
import urllib.parse

from keyring import credentials, errors
from keyring.backend import KeyringBackend

try:  # keyring >= 23.1
    from jaraco.classes.properties import classproperty
except ImportError:  # pragma: no cover
    from keyring.util.properties import ClassProperty as classproperty  # type: ignore

__all__ = ["KeywardKeyring", "escape", "unescape", "secret_name"]

PREFIX = "python-keyring"
MAX_NAME_LEN = 256
# keyward's exit codes (keyward --help)
EXIT_LOCKED = 4
EXIT_NOT_FOUND = 7
_PLAIN = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-@:"
)


def escape(part):
    """One name segment for any string: bytes other than ASCII letters,
    digits and ``._-@:`` as ``+HH``; ``""`` as ``+``; ``.``/``..`` escaped."""
    if part == "":
        return "+"
    if part in (".", ".."):
        return "+2E" * len(part)
    return "".join(
        chr(b) if b in _PLAIN else "+%02X" % b for b in part.encode("utf-8")
    )


def unescape(segment):
    """The string ``escape`` made ``segment`` from."""
    if segment == "+":
        return ""
    out = bytearray()
    i = 0
    raw = segment.encode("ascii")
    while i < len(raw):
        if raw[i : i + 1] == b"+":
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8")


def secret_name(service, username):
    """The named secret that holds (service, username)'s password."""
    return "%s/%s/%s" % (PREFIX, escape(service), escape(username))


def host_of(service):
    """The bare host of a URL or ``host:port`` service (where netrc machines
    are kept), or None when that is the service itself."""
    try:
        host = urllib.parse.urlsplit(service if "//" in service else "//" + service).hostname
    except ValueError:
        return None
    return host if host and host != service else None


def _binary():
    path = os.environ.get("KEYWARD_BIN") or shutil.which("keyward")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("keyward is not on PATH (nor in $KEYWARD_BIN)")
    return path


def _why(proc):
    """keyward's one-line error (names and paths, never a value)."""
    text = proc.stderr.decode("utf-8", "replace").strip()
    return text.splitlines()[-1] if text else "keyward exited with %d" % proc.returncode


class KeywardKeyring(KeyringBackend):
    """Passwords in the keyward vault, through the ``keyward`` command."""

    @classproperty
    def priority(cls):
        # Above the Secret Service (5) and KWallet (4.9): installed, keyward
        # is where the user wants passwords kept; with no keyward binary the
        # backend is not viable at all.
        _binary()
        return 9

    def _run(self, args, stdin=None):
        return subprocess.run(
            [_binary()] + args,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def _name(self, service, username):
        name = secret_name(service, username)
        if len(name) > MAX_NAME_LEN:
            raise errors.KeyringError(
                "keyward: service and user name too long for a secret's name "
                "(%d bytes escaped, at most %d)" % (len(name), MAX_NAME_LEN)
            )
        return name

    def _fail(self, proc, error=errors.KeyringError):
        if proc.returncode == EXIT_LOCKED:
            raise errors.KeyringLocked(_why(proc))
        raise error(_why(proc))

    def get_password(self, service, username):
        password = self._get(service, username)
        host = host_of(service) if password is None else None
        return self._get(host, username) if host else password

    def _get(self, service, username):
        proc = self._run(["get", self._name(service, username)])
        if proc.returncode == EXIT_NOT_FOUND:
            return None
        if proc.returncode != 0:
            self._fail(proc)
        out = proc.stdout
        return (out[:-1] if out.endswith(b"\n") else out).decode("utf-8")

    def set_password(self, service, username, password):
        if "\n" in password or "\r" in password or "\0" in password:
            raise errors.PasswordSetError(
                "keyward stores one line: the password has a line break or NUL"
            )
        data = (password + "\n").encode("utf-8")
        proc = self._run(
            ["set", self._name(service, username), "--secret-fd", "0"], stdin=data
        )
        if proc.returncode != 0:
            self._fail(proc, errors.PasswordSetError)

    def delete_password(self, service, username):
        proc = self._run(["rm", "--kind", "secret", self._name(service, username)])
        if proc.returncode == EXIT_NOT_FOUND:
            raise errors.PasswordDeleteError("no such password")
        if proc.returncode != 0:
            self._fail(proc, errors.PasswordDeleteError)

    def _usernames(self, services):
        """(service, user name) pairs stored for the first of ``services``
        that has any, the most recently updated first."""
        proc = self._run(["list", "--json", "--kind", "secret"])
        if proc.returncode == EXIT_NOT_FOUND:
            return []
        if proc.returncode != 0:
            self._fail(proc)
        entries = json.loads(proc.stdout.decode("utf-8"))
        for service in services:
            head = "%s/%s/" % (PREFIX, escape(service))
            found = [
                (e.get("updated", 0), e["name"][len(head) :])
                for e in entries
                if e.get("name", "").startswith(head)
            ]
            found = sorted((t, s) for t, s in found if "/" not in s)
            if found:
                return [(service, unescape(s)) for _, s in reversed(found)]
        return []

    def get_credential(self, service, username):
        if username is None:
            host = host_of(service)
            found = self._usernames([service] + ([host] if host else []))
            if not found:
                return None
            service, username = found[0]
            password = self._get(service, username)
        else:
            password = self.get_password(service, username)
        if password is None:
            return None
        return credentials.SimpleCredential(username, password)
