#!/usr/bin/python3
"""Runs a command whose fsync(2) calls fail with EIO (fdatasync still works),
as a failing disk or a lost NFS server can make syncing a directory fail after
a rename succeeded. keyward syncs a new file's data with fdatasync and its
directory with fsync, so only the last step of a write fails.
usage: fail_fsync.py PROGRAM [ARGS...]"""
import errno
import os
import sys

import seccomp

f = seccomp.SyscallFilter(seccomp.ALLOW)
f.add_rule(seccomp.ERRNO(errno.EIO), "fsync")
f.load()
os.execvp(sys.argv[1], sys.argv[1:])
