"""What a catalog run says is for people: no object reprs (`<function f at 0x…>`,
`Runtime(containerd_path=…)`), no `None` in prose, no path said twice (`X: X: created`), and
a dry run's plan in the conditional ("would install"), on this machine and over ssh."""

from __future__ import annotations

import json
import re

import pytest

CATALOG = ["--pyargs", "hostkit_catalog.checks", "--profile", "kubernetes-node"]
ADDRESS = re.compile(r"\b0x[0-9a-f]{6,}\b")
DATACLASS_REPR = re.compile(r"\b[A-Z][A-Za-z]+\([a-z_]+=")
OBJECT_REPR = re.compile(r"<[A-Za-z_][\w.]* (object |at |for )")
NONE_IN_PROSE = re.compile(r"\bNone\b")
STUTTER = re.compile(r"(/[\w.@+-][\w./@+-]*): \1:")
PAST_PLAN = re.compile(r"(^|: |; )(installed|created|removed|enabled|disabled|masked|loaded) ")


def problems(lines: list[str]) -> list[str]:
    found = []
    for line in lines:
        # pytest's rendering of an assert expression is Python: `None` there is no prose.
        python = line.lstrip().startswith(("E   assert ", "assert "))
        for name, pattern in [
            ("address", ADDRESS),
            ("dataclass repr", DATACLASS_REPR),
            ("object repr", OBJECT_REPR),
            ("None in prose", None if python else NONE_IN_PROSE),
            ("path said twice", STUTTER),
        ]:
            if pattern is not None and pattern.search(line):
                found.append(f"{name}: {line}")
    return found


@pytest.mark.parametrize("mode", [[], ["--fix", "--dry-run"]], ids=["check", "dry-run"])
def test_catalog_output_is_for_people(pytester, this_kit, root_server, mode):
    state = ["-o", f"hostkit_runs_dir={pytester.path / 'runs'}"]
    state += ["-o", f"hostkit_lock_dir={pytester.path / 'lock'}"]
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        *CATALOG,
        f"--hosts=local://,{root_server.spec('root')}",
        f"--known-hosts={root_server.known_hosts}",
        f"--ssh-identity-file={root_server.client_key}",
        "--report-json=run.json",
        *state,
        *mode,
    )
    out = result.stdout.str()
    assert result.ret in (0, 1), out
    report = json.loads((pytester.path / "run.json").read_text())
    texts = []
    for r in report["results"]:
        texts += (r["message"] or "").splitlines()
        texts += (r["detail"] or "").splitlines()
        texts += [f["summary"] for f in r["fixes"]]
    found = problems(out.splitlines() + texts)
    assert not found, "\n".join(found)
    if mode:
        plans = [
            f["summary"] for r in report["results"] for f in r["fixes"] if f["status"] == "planned"
        ]
        assert plans, out
        past = [p for p in plans if PAST_PLAN.search(p)]
        assert past == [], past
        assert any("would " in p for p in plans), plans
