#!/usr/bin/python3
"""Runs a command where the kernel keyring is unusable: a seccomp filter makes
keyctl, add_key and request_key fail with ENOSYS, as Docker's default seccomp
profile does in containers. usage: no_keyring.py PROGRAM [ARGS...]"""
import errno
import os
import sys

import seccomp

f = seccomp.SyscallFilter(seccomp.ALLOW)
for name in ("keyctl", "add_key", "request_key"):
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), name)
f.load()
os.execvp(sys.argv[1], sys.argv[1:])
