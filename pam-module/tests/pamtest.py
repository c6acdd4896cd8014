# Runs one PAM transaction through pypamtest (under pam_wrapper, set up by the
# caller). Request on stdin as JSON: {"service", "user", "ops": [[op, rv, flags]],
# "passwords": [...]}. Prints {"ok": bool, "error": str, "info": [...], "errors": [...]}.
import json
import sys

import pypamtest

OPS = {
    "auth": pypamtest.PAMTEST_AUTHENTICATE,
    "setcred": pypamtest.PAMTEST_SETCRED,
    "account": pypamtest.PAMTEST_ACCOUNT,
    "chauthtok": pypamtest.PAMTEST_CHAUTHTOK,
    "open_session": pypamtest.PAMTEST_OPEN_SESSION,
}

req = json.load(sys.stdin)
cases = [pypamtest.TestCase(OPS[op], expected_rv=rv, flags=flags) for op, rv, flags in req["ops"]]
try:
    res = pypamtest.run_pamtest(req["user"], req["service"], cases, req["passwords"])
    out = {"ok": True, "info": list(res.info), "errors": list(res.errors)}
except pypamtest.PamTestError as e:
    out = {"ok": False, "error": str(e)}
print(json.dumps(out))
