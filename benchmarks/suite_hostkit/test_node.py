"""The Kubernetes-node suite as hostkit checks: facts where facts answer."""

import pytest
from node_profile import (
    EXECUTABLES,
    FREE_PORTS,
    LISTENING_PORT,
    MODULES,
    OWNED_FILE,
    PACKAGE,
    SYSCTLS,
)

from kit.check import check
from kit.facts import UNKNOWN, fill


@check("bench.swap.off", "Swap is off")
def test_swap_off(facts):
    assert not facts.swaps


@check("bench.sysctl", "Kernel parameter has the wanted value")
@pytest.mark.parametrize("key,value", SYSCTLS, ids=[f"{k}={v}" for k, v in SYSCTLS])
def test_sysctl(facts, key, value):
    assert facts.sysctls.get(key) == str(value)


@check("bench.kernel.module", "Kernel module is loaded")
@pytest.mark.parametrize("module", MODULES)
def test_module_loaded(facts, module):
    assert module in facts.modules


@check("bench.executable", "Executable is on the PATH")
@pytest.mark.parametrize("name", EXECUTABLES)
def test_executable(facts, name):
    assert facts.has(name)


@check("bench.port.free", "Port is free")
@pytest.mark.parametrize("port", FREE_PORTS)
def test_port_free(facts, port):
    assert not any(s.proto == "tcp" and s.port == port for s in facts.listening)


@check("bench.sshd.listening", "sshd listens on all IPv4 addresses")
def test_sshd_listening(facts):
    assert any(
        s.proto == "tcp" and s.address == "0.0.0.0" and s.port == LISTENING_PORT
        for s in facts.listening
    )


@check("bench.file.owner", "File has the wanted owner and mode")
def test_file_owner_mode(conn):
    path, user, group, mode = OWNED_FILE
    owner, grp, octal = conn.run("stat -c '%%U %%G %%a' -- %s", path).check().stdout.split()
    assert (owner, grp, int(octal, 8)) == (user, group, mode)


@check("bench.package", "Package is installed")
def test_package(conn, facts):
    assert conn.run(fill(facts.package_manager.query_cmd, PACKAGE)).ok


@check("bench.hostname", "Host has a hostname")
def test_hostname(facts):
    assert facts.hostname not in ("", UNKNOWN)
