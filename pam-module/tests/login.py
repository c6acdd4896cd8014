# Runs PAM transactions through pypamtest (under pam_wrapper, set up by the
# caller) and commands between them, all in this one process, so that the
# commands inherit the session keyring pam_keyinit made for the session, as a
# login shell would. Request on stdin as JSON: {"steps": [step, ...]} where a
# step is {"pam": {"service", "user", "ops": [[op, rv, flags]], "passwords"}}
# or {"run": [argv...], "stdin": str}. Prints one JSON result per step:
# {"ok", "error", "info", "errors"} or {"rc", "stdout", "stderr"}.
import json
import subprocess
import sys

import pypamtest

OPS = {
    "auth": pypamtest.PAMTEST_AUTHENTICATE,
    "setcred": pypamtest.PAMTEST_SETCRED,
    "account": pypamtest.PAMTEST_ACCOUNT,
    "chauthtok": pypamtest.PAMTEST_CHAUTHTOK,
    "open_session": pypamtest.PAMTEST_OPEN_SESSION,
    "close_session": pypamtest.PAMTEST_CLOSE_SESSION,
}

req = json.load(sys.stdin)
results = []
for step in req["steps"]:
    if "pam" in step:
        p = step["pam"]
        cases = [pypamtest.TestCase(OPS[op], expected_rv=rv, flags=flags) for op, rv, flags in p["ops"]]
        try:
            res = pypamtest.run_pamtest(p["user"], p["service"], cases, p["passwords"])
            results.append({"ok": True, "info": list(res.info), "errors": list(res.errors)})
        except pypamtest.PamTestError as e:
            results.append({"ok": False, "error": str(e)})
    else:
        # The commands must not load pam_wrapper themselves.
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin"}
        env.update(step.get("env", {}))
        r = subprocess.run(step["run"], input=step.get("stdin", "").encode(),
                           capture_output=True, env=env)
        results.append({"rc": r.returncode, "stdout": r.stdout.decode(errors="replace"),
                        "stderr": r.stderr.decode(errors="replace")})
print(json.dumps(results))
