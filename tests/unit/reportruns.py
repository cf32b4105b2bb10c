"""Runs built directly from the report model: any fleet size, every outcome, no hosts."""

from __future__ import annotations

import random

from kit.reports.model import OUTCOMES, Check, Fix, Host, Result, Run, Waiver, finish

DIFF = "--- /etc/sysctl.d/90-kit.conf\n+++ /etc/sysctl.d/90-kit.conf\n-net.ipv4.ip_forward = 0\n"
DIFF += "+net.ipv4.ip_forward = 1\n"
HOSTILE = "found <script>alert(1)</script> & </script><b>bold</b>"


def result(host: str, check: str, outcome: str, n: int = 0) -> Result:
    """One result as the plugin records it; a non-passing one says why."""
    made = Result(
        host,
        check,
        f"checks/test_sysctl.py::test_{check.replace('.', '_')}[{host}-{n}]",
        outcome,
        {"key": "net.ipv4.ip_forward", "value": "1"},
        duration=0.012,
    )
    if outcome != "passed":
        made.message = f"{outcome}: net.ipv4.ip_forward is 0 {HOSTILE}"
        made.detail = "checks/test_sysctl.py:12: check failed\nE   " + made.message
    if outcome == "fixed":
        made.fixes = [Fix("applied", "set net.ipv4.ip_forward=1", DIFF)]
    if outcome == "failed":
        made.fixes = [Fix("planned", "would set net.ipv4.ip_forward=1", DIFF)]
    if outcome in ("failed", "warning"):
        made.by_hand = f"sysctl -w net.ipv4.ip_forward=1 and 90-kit.conf; {HOSTILE}"
    if outcome == "waived":
        made.waiver = Waiver("the vendor image needs it <until upgrade>", "2027-01-31")
    return made


def fleet(hosts: int, checks: int, seed: int = 1) -> Run:
    """`hosts` x `checks` results, mostly passing, every outcome present when large enough."""
    rng = random.Random(seed)
    check_list = [
        Check(f"k8s.check{n:02d}", f"Check {n} <title>", "warning" if n % 7 == 0 else "error")
        for n in range(checks)
    ]
    for n, check in enumerate(check_list):
        check.refs = {"cis": f"1.{n}", "kubeadm": f"Preflight{n}"}
    host_list = [
        Host(f"ssh://node{n:03d}.example.internal", "kubernetes-node") for n in range(hosts)
    ]
    results = []
    kinds = [o for o in OUTCOMES if o != "unreachable"]
    weights = [2, 8, 4, 4, 2, 3, 77]
    for h, host in enumerate(host_list):
        for c, check in enumerate(check_list):
            if h == 1 and hosts > 2:
                outcome = "unreachable"
            elif c < len(kinds) and h == 0:
                outcome = kinds[c]  # host 0 shows each outcome once, in a known cell
            else:
                outcome = rng.choices(kinds, weights)[0]
            results.append(result(host.name, check.id, outcome))
    for host in host_list:
        if any(r.outcome == "unreachable" for r in results if r.host == host.name):
            host.unreachable = "connect to port 22: connection refused"
    return finish(
        Run(
            "2026-01-01T00:00:00+00:00",
            "2026-01-01T00:01:00+00:00",
            60.0,
            "fix",
            run_id="20260101T000000-abcd",
            profiles=["kubernetes-node"],
            hosts=host_list,
            checks=check_list,
            results=results,
        )
    )
