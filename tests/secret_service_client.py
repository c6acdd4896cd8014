#!/usr/bin/python3
"""Drives a Secret Service with python3-secretstorage (and, with `keyring`,
Python's keyring) and prints what it sees, one fact a line, without object
paths or times: the same script runs against gnome-keyring-daemon and
keyward-secret-service, and the two transcripts must be equal.

usage: secret_service_client.py items|keyring|lock-unlock|unlock-prompt
"""
import sys

import secretstorage


def show(*words):
    print(*words, flush=True)


def labels(items):
    return sorted(i.get_label() for i in items)


def items(conn):
    col = secretstorage.get_default_collection(conn)
    show("default collection locked:", col.is_locked())
    a = col.create_item("kw A", {"app": "kwtest", "user": "alice"}, b"pw-alice")
    col.create_item("kw B", {"app": "kwtest", "user": "bob"}, b"pw-bob", content_type="application/x-test")
    found = list(col.search_items({"app": "kwtest"}))
    show("search app=kwtest:", labels(found))
    show("service-wide search user=alice:", labels(secretstorage.search_items(conn, {"user": "alice"})))
    show("no match:", labels(col.search_items({"app": "kwtest", "user": "carol"})))
    show("alice secret:", a.get_secret())
    # gnome-keyring sometimes adds xdg:schema (the item type) of its own
    show("alice attributes:", sorted(kv for kv in a.get_attributes().items() if kv[0] != "xdg:schema"))
    bob = next(col.search_items({"user": "bob"}))
    show("bob secret:", bob.get_secret(), bob.get_secret_content_type())
    # replace=True overwrites the item with exactly these attributes
    col.create_item("kw A2", {"app": "kwtest", "user": "alice"}, b"pw-alice-2", replace=True)
    found = list(col.search_items({"app": "kwtest"}))
    show("after replace:", labels(found))
    show("alice secret after replace:", next(col.search_items({"user": "alice"})).get_secret())
    # replace=False adds a second item with the same attributes
    col.create_item("kw A3", {"app": "kwtest", "user": "alice"}, b"pw-alice-3", replace=False)
    show("after add without replace:", labels(col.search_items({"user": "alice"})))
    a = next(i for i in col.search_items({"user": "alice"}) if i.get_label() == "kw A3")
    a.set_label("kw renamed")
    a.set_attributes({"app": "kwtest", "user": "alice", "extra": "1"})
    show("by new attribute:", labels(col.search_items({"extra": "1"})))
    a.set_secret(b"pw-new\x00\xffbinary")
    show("binary secret:", next(col.search_items({"extra": "1"})).get_secret())
    created, modified = a.get_created(), a.get_modified()
    show("created <= modified:", 0 < created <= modified)
    show("secrets in collection:", sorted(i.get_secret() for i in col.get_all_items() if i.get_attributes().get("app") == "kwtest"))
    for i in list(col.search_items({"app": "kwtest"})):
        i.delete()
    show("after delete:", labels(col.search_items({"app": "kwtest"})))


def keyring_backend(_conn):
    import keyring
    from keyring.backends import SecretService

    keyring.set_keyring(SecretService.Keyring())
    keyring.set_password("kw-svc", "alice", "py-secret")
    show("keyring get:", keyring.get_password("kw-svc", "alice"))
    keyring.set_password("kw-svc", "alice", "py-secret-2")
    show("keyring get after set:", keyring.get_password("kw-svc", "alice"))
    cred = keyring.get_credential("kw-svc", None)
    show("keyring credential:", cred.username, cred.password)
    keyring.delete_password("kw-svc", "alice")
    show("keyring get after delete:", keyring.get_password("kw-svc", "alice"))
    try:
        keyring.delete_password("kw-svc", "alice")
    except keyring.errors.PasswordDeleteError:
        show("keyring delete again: PasswordDeleteError")


def lock_unlock(conn):
    """keyward only: Lock locks the vault; Unlock without a terminal is dismissed."""
    col = secretstorage.get_default_collection(conn)
    col.create_item("kw L", {"app": "kwlock"}, b"pw-lock")
    show("locked before:", col.is_locked())
    col.lock()
    show("locked after Lock:", col.is_locked())
    try:
        next(col.search_items({"app": "kwlock"})).get_secret()
        show("search while locked: found")
    except StopIteration:
        show("search while locked: nothing")
    show("Unlock dismissed (no terminal):", col.unlock())
    show("locked after dismissed Unlock:", col.is_locked())
    sys.stdout.flush()
    # the test runs `keyward unlock` now and writes a line to our stdin
    sys.stdin.readline()
    show("locked after keyward unlock:", col.is_locked())
    show("Unlock when unlocked:", col.unlock())
    show("secret:", next(col.search_items({"app": "kwlock"})).get_secret())


def unlock_prompt(conn):
    """keyward only: Unlock of a locked vault returns a Prompt; the service
    asks on its terminal (the test answers there) and Completed carries the
    unlocked objects."""
    from secretstorage.util import DBusAddressWrapper, exec_prompt
    from secretstorage.defines import SS_PATH, SS_PREFIX

    col = secretstorage.get_default_collection(conn)
    col.create_item("kw P", {"app": "kwprompt"}, b"pw-prompt")
    col.lock()
    show("locked after Lock:", col.is_locked())
    service = DBusAddressWrapper(SS_PATH, SS_PREFIX + "Service", conn)
    unlocked, prompt = service.call("Unlock", "ao", [col.collection_path])
    show("unlocked at once:", list(unlocked), "prompt:", prompt != "/")
    sys.stdout.flush()
    dismissed, (signature, result) = exec_prompt(conn, prompt)
    show("Completed dismissed:", dismissed, "result:", signature, list(result) == [col.collection_path])
    show("locked after the prompt:", col.is_locked())
    show("secret:", next(col.search_items({"app": "kwprompt"})).get_secret())


def main():
    conn = secretstorage.dbus_init()
    {
        "items": items,
        "keyring": keyring_backend,
        "lock-unlock": lock_unlock,
        "unlock-prompt": unlock_prompt,
    }[sys.argv[1]](conn)


if __name__ == "__main__":
    main()
