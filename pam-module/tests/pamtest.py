# Runs one PAM transaction through pypamtest (under pam_wrapper, set up by the
# caller). Request on stdin as JSON: {"service", "user", "ops": [[op, rv, flags]],
# "passwords": [...]}. Prints {"ok": bool, "error": str, "info": [...], "errors": [...]}.
import ctypes
import json
import resource
import sys

import pypamtest

OPS = {
    "auth": pypamtest.PAMTEST_AUTHENTICATE,
    "setcred": pypamtest.PAMTEST_SETCRED,
    "account": pypamtest.PAMTEST_ACCOUNT,
    "chauthtok": pypamtest.PAMTEST_CHAUTHTOK,
    "open_session": pypamtest.PAMTEST_OPEN_SESSION,
}

PR_GET_DUMPABLE = 3
libc = ctypes.CDLL(None, use_errno=True)


def process_state():
    """What a PAM module must not change in its host."""
    limits = {name: resource.getrlimit(getattr(resource, name))
              for name in dir(resource) if name.startswith("RLIMIT_")}
    with open("/proc/self/status") as f:
        sig = {k: v.strip() for k, v in (l.split(":", 1) for l in f) if k in ("SigBlk", "SigIgn", "SigCgt")}
    return {"dumpable": libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), "rlimits": limits, "signals": sig}


before = process_state()
req = json.load(sys.stdin)
cases = [pypamtest.TestCase(OPS[op], expected_rv=rv, flags=flags) for op, rv, flags in req["ops"]]
try:
    res = pypamtest.run_pamtest(req["user"], req["service"], cases, req["passwords"])
    out = {"ok": True, "info": list(res.info), "errors": list(res.errors)}
except pypamtest.PamTestError as e:
    out = {"ok": False, "error": str(e)}
out["state_before"] = before
out["state_after"] = process_state()
print(json.dumps(out))
