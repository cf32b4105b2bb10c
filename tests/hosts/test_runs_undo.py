"""Undo on a disposable container: a catalog --fix run, then `python -m kit.runs undo`
puts every file it changed back as it was, and the checks fail again as they did; the
other container, which has no such run, is named and does not stop the undo."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.hosts import compliance
from tests.hosts.test_cis_node import (
    FIX,
    PROFILE,
    SELECT,
    UNFIXED,
    install_kubelet,
    remove_kubelet,
)

pytestmark = pytest.mark.hosts

# Every file the stand-in kubelet's fixes may touch, and the directories they may add to.
WATCHED = "/etc/systemd/system/kubelet.service.d /var/lib/kubelet /etc/kubernetes /etc/default"


def state(conn) -> dict[str, str]:
    """Each watched file's digest, mode, owner and group."""
    res = conn.run(
        f"find {WATCHED} -xdev \\( -type f -o -type l \\) -print0 | sort -z"
        " | xargs -0 -r sh -c 'for f; do"
        ' printf "%s %s %s\\n" "$f" "$(stat -c "%a %U %G" "$f")" "$(sha256sum < "$f")";'
        " done' sh"
    ).check()
    return dict(line.split(" ", 1) for line in res.stdout.splitlines())


def runs(hosts, *args: str) -> subprocess.CompletedProcess[str]:
    opts = hosts[0].connect_options  # one fleet: one key and one known_hosts
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kit.runs",
            f"--hosts={','.join(h.spec for h in hosts)}",
            f"--known-hosts={opts['known_hosts']}",
            f"--ssh-identity-file={opts['identity_file']}",
            *args,
        ],
        cwd=compliance.ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_undo_of_a_catalog_fix_puts_every_file_back_and_the_checks_fail_again(containers, tmp_path):
    host, other = containers[0], containers[1]
    with host.connect() as conn:
        install_kubelet(conn)
    try:
        before = compliance.run(host, tmp_path, "before", *PROFILE, select=SELECT)
        failing = before.failing()
        assert failing, before.cases
        with host.connect() as conn:
            broken = state(conn)

        fixed = compliance.run(host, tmp_path, "fix", *FIX, select=SELECT)
        fixable = {n for n in failing if not n.startswith(UNFIXED)}
        assert fixable, before.cases
        assert all(fixed.cases[n].outcome == "fixed" for n in fixable), fixed.cases
        with host.connect() as conn:
            assert state(conn) != broken
        listed = runs([host], "list")
        assert listed.returncode == 0, listed.stdout + listed.stderr
        run = [ln.split()[0] for ln in listed.stdout.splitlines()[1:] if "undo of" not in ln][-1]

        plan = runs([host], "undo", run, "--dry-run")
        assert "restore /etc/kubernetes/kubelet.conf as before the run" in plan.stdout, plan
        with host.connect() as conn:
            assert state(conn) != broken  # a dry run changes nothing

        undone = runs([host, other], "undo", run)
        assert undone.returncode == 1, undone.stdout + undone.stderr
        assert f"run {run} is not recorded here" in undone.stdout
        assert "restored /etc/kubernetes/kubelet.conf" in undone.stdout
        assert "left alone" not in undone.stdout and "manual" not in undone.stdout
        with host.connect() as conn:
            assert state(conn) == broken

        after = compliance.run(host, tmp_path, "after", *PROFILE, select=SELECT)
        assert after.failing() == failing
        assert {n: after.cases[n].outcome for n in failing} == {
            n: before.cases[n].outcome for n in failing
        }
    finally:
        with host.connect() as conn:
            remove_kubelet(conn)
