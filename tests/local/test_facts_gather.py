"""Facts gathered from this machine through the local connection: one round trip."""

from __future__ import annotations

import os
import platform
import socket
import time

import pytest

import kit
from hostkit_catalog.checks import test_runtime as rt
from kit.connection.local import LocalConnection
from kit.facts import gather_facts


class CountingConnection(LocalConnection):
    """A real local connection that counts the commands it sends."""

    def __init__(self, spec):
        super().__init__(spec)
        self.sent = 0

    def _exec(self, cmdline, *, stdin, timeout):
        self.sent += 1
        return super()._exec(cmdline, stdin=stdin, timeout=timeout)


def test_one_round_trip_and_facts_match_this_machine():
    conn = CountingConnection(kit.connect("local://").spec)
    facts = gather_facts(conn)
    assert conn.sent == 1
    assert facts.hostname == socket.gethostname()
    assert facts.kernel == platform.release()
    assert facts.cpu_count == os.cpu_count()
    with open("/proc/sys/kernel/random/boot_id") as fh:
        assert facts.boot_id == fh.read().strip()
    with open("/etc/os-release") as fh:
        assert f"ID={facts.os.id}" in fh.read()
    assert facts.interface("lo") is not None
    assert "127.0.0.1" in facts.interface("lo").ipv4
    with open("/proc/sys/vm/swappiness") as fh:
        assert facts.sysctls["vm.swappiness"] == fh.read().strip()
    assert any(m.mountpoint == "/" for m in facts.mounts)


def test_a_listening_socket_appears_in_fresh_facts():
    conn = kit.connect("local://")
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        facts = gather_facts(conn)
    assert any(s.port == port and s.address == "127.0.0.1" for s in facts.listening)
    # Facts are a snapshot: gathering again sees the socket gone.
    assert not any(s.port == port for s in gather_facts(conn).listening)


def test_a_kubelet_that_never_answers_does_not_hold_the_gather(tmp_path, monkeypatch):
    """The host's own programs run under a time limit: a hung `kubelet --version` costs
    its own answer, not the gather's (whose limit is set above the probe's here)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    hung = bindir / "kubelet"
    hung.write_text("#!/bin/sh\nexec sleep 600\n")
    hung.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    conn = kit.connect("local://")
    facts = gather_facts(conn, timeout=45)
    assert facts.runtime is not None
    assert facts.runtime.kubelet_version == (124, "")
    with pytest.raises(AssertionError, match="kubelet --version did not answer within 10s"):
        rt.test_kubelet_version(conn, facts, "1.31")


def test_a_containerd_that_never_answers_does_not_hold_the_gather(tmp_path, monkeypatch):
    """containerd, ctr and the kubelet run in one sub-shell under one time limit: a hung
    `containerd config default` costs its answer and the kubelet's after it, not the
    gather's."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    scripts = {"containerd": "exec sleep 600", "kubelet": "echo Kubernetes v1.31.1"}
    for name, body in scripts.items():
        (bindir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bindir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    started = time.monotonic()
    facts = gather_facts(kit.connect("local://"), timeout=45)
    assert time.monotonic() - started < 30
    assert facts.runtime is not None
    assert facts.runtime.config_default is None
    assert facts.runtime.kubelet_version == (124, "")


def test_the_runtime_programs_answer_each_in_its_place(tmp_path, monkeypatch):
    """The sub-shell's answers go back to their sections: containerd's defaults (a last
    line without its newline kept), the kubelet's version and exit code."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    scripts = {
        "containerd": "printf 'version = 2\\n\\n[plugins]'",
        "kubelet": "echo Kubernetes v1.31.1; exit 3",
    }
    for name, body in scripts.items():
        (bindir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bindir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    facts = gather_facts(kit.connect("local://"))
    assert facts.runtime is not None
    assert facts.runtime.config_default == "version = 2\n\n[plugins]"
    assert facts.runtime.kubelet_version == (3, "Kubernetes v1.31.1")


def test_the_module_boot_section_matches_this_machine(tmp_path):
    facts = gather_facts(kit.connect("local://"))
    gathered = facts.modules_boot
    assert gathered is not None
    assert gathered.sys_modules == frozenset(os.listdir("/sys/module"))
    assert gathered.proc_modules_readable == os.access("/proc/modules", os.R_OK)
    confs = {
        os.path.join(d, f)
        for d in ("/etc/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d", "/run/modprobe.d")
        if os.path.isdir(d)
        for f in os.listdir(d)
        if f.endswith(".conf") and os.path.isfile(os.path.join(d, f))
    }
    assert confs <= set(gathered.modprobe_files)
    if os.path.exists("/proc/config.gz"):
        assert gathered.kconfig.startswith("@path=/proc/config.gz")
