"""A fleet host's login runs none of this machine's root start-up files."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import fleet

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the fleet makes network namespaces")

# What a non-interactive command sees: its shell flags, whether pyenv is anywhere it
# could be run from, and what its home holds (a .bashrc there would run first).
PROBE = (
    'echo "flags=$-"; type pyenv >/dev/null 2>&1 && echo pyenv=found; '
    'echo "home=$HOME"; ls -A "$HOME"'
)


def _login(fl: fleet.Fleet, host: fleet.Host, command: str) -> str:
    argv = [
        "ssh", "-F", "/dev/null", "-i", str(fl.client_key), "-p", str(host.port),
        "-o", f"UserKnownHostsFile={fl.known_hosts}", "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes", f"root@{host.dial}", command,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True).stdout


def test_a_host_logs_in_to_an_empty_home_with_no_pyenv():
    real_home = sorted(os.listdir("/root"))
    with fleet.running(1) as fl:
        out = _login(fl, fl.hosts[0], PROBE).splitlines()
        # The session's own mount namespace: /root there is the fleet's tmpfs.
        mounts = _login(fl, fl.hosts[0], "grep ' /root ' /proc/self/mounts || true")
    flags = out[0].removeprefix("flags=")
    assert "i" not in flags, out
    assert "pyenv=found" not in out, out
    assert out[1:] == ["home=/root"], out  # nothing listed: the home is empty
    assert mounts.split()[:3] == ["hkb-home", "/root", "tmpfs"], mounts
    # The machine's own /root is untouched, with no mount left over it.
    assert sorted(os.listdir("/root")) == real_home
    assert " /root " not in Path("/proc/self/mounts").read_text()
