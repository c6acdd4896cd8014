#!/usr/bin/python3
"""Timing equality of PAM authentication failures (run by scripts/bench-pam).

Runs under pam_wrapper with pypamtest. For each stack ("keyward", "unix") and
each round, in shuffled order: a known user with a wrong password (followed by
an unmeasured successful login that resets the failure count), an unknown
user, and a locked-out user giving the right password. Prints medians and
Welch t statistics between every pair of cases of one stack.
"""
import json
import math
import random
import re
import statistics
import sys
import time

import pypamtest

N = int(sys.argv[1])
OUT = sys.argv[2]
STACKS = {
    # service: (known user, locked user)
    "keyward": ("kwuser", "kwlocked"),
    "keyward15": ("kwuser", "kwlocked"),
    "unix": ("unixuser", "unixlocked"),
}
RIGHT, WRONG = "right-pw-1234", "wrong-pw-5678"


def run(service, user, password, ops):
    cases = [pypamtest.TestCase(op, expected_rv=rv) for op, rv in ops]
    pypamtest.run_pamtest(user, service, cases, [password])


def code_of(service, user, password):
    """The code pam_authenticate returns (from pypamtest's mismatch report)."""
    try:
        run(service, user, password, [(pypamtest.PAMTEST_AUTHENTICATE, 0)])
        return 0
    except pypamtest.PamTestError as e:
        m = re.search(r"returned \[(\d+)\]", str(e))
        if not m:
            raise
        return int(m.group(1))


def timed(service, user, password, rv):
    t = time.perf_counter_ns()
    run(service, user, password, [(pypamtest.PAMTEST_AUTHENTICATE, rv)])
    return (time.perf_counter_ns() - t) / 1e6


def reset(service, user):
    run(service, user, RIGHT, [(pypamtest.PAMTEST_AUTHENTICATE, 0), (pypamtest.PAMTEST_ACCOUNT, 0)])


def welch(a, b):
    va, vb = statistics.variance(a), statistics.variance(b)
    return (statistics.mean(a) - statistics.mean(b)) / math.sqrt(va / len(a) + vb / len(b))


codes = {}
for svc, (user, locked) in STACKS.items():
    reset(svc, user)
    for _ in range(3):  # deny=3: lock the locked user for good (unlock_time=0)
        code_of(svc, locked, WRONG)
    codes[svc] = {"wrong": code_of(svc, user, WRONG)}
    reset(svc, user)
    codes[svc]["unknown"] = code_of(svc, "nosuchuser", WRONG)
    codes[svc]["locked"] = code_of(svc, locked, RIGHT)
print("result codes:", json.dumps(codes), file=sys.stderr)

samples = {svc: {c: [] for c in ("wrong", "unknown", "locked")} for svc in STACKS}
start = time.time()
for i in range(N):
    for svc, (user, locked) in STACKS.items():
        order = ["wrong", "unknown", "locked"]
        random.shuffle(order)
        for case in order:
            who, pw = {"wrong": (user, WRONG), "unknown": ("nosuchuser", WRONG),
                       "locked": (locked, RIGHT)}[case]
            samples[svc][case].append(timed(svc, who, pw, codes[svc][case]))
            if case == "wrong":
                reset(svc, user)
    if (i + 1) % 50 == 0:
        print(f"{i + 1}/{N} rounds, {time.time() - start:.0f}s", file=sys.stderr, flush=True)

report = {"n": N, "codes": codes, "stacks": {}}
for svc, cases in samples.items():
    med = {c: statistics.median(v) for c, v in cases.items()}
    sd = {c: statistics.stdev(v) for c, v in cases.items()}
    pairs = {f"{a} vs {b}": welch(cases[a], cases[b])
             for a, b in (("wrong", "unknown"), ("wrong", "locked"), ("unknown", "locked"))}
    report["stacks"][svc] = {"median_ms": med, "stdev_ms": sd, "welch_t": pairs}
with open(OUT, "w") as f:
    json.dump({"report": report, "samples": samples}, f)

print(f"| stack | n | wrong password (median ms) | unknown user | locked-out user | t wrong/unknown | t wrong/locked | t unknown/locked |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for svc, r in report["stacks"].items():
    m, t = r["median_ms"], r["welch_t"]
    print(f"| {svc} | {N} | {m['wrong']:.2f} | {m['unknown']:.2f} | {m['locked']:.2f} | "
          f"{t['wrong vs unknown']:.2f} | {t['wrong vs locked']:.2f} | {t['unknown vs locked']:.2f} |")
print("result codes:", json.dumps(codes))
