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

from kit.catalog.check import check
from kit.facts import UNKNOWN


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


@check("bench.file.owner", "File has the wanted owner and mode", reads_file="path")
@pytest.mark.parametrize("path,user,group,mode", [OWNED_FILE])
def test_file_owner_mode(facts, path, user, group, mode):
    stat = facts.files[path]
    assert stat is not None and (stat.owner, stat.group, stat.mode) == (user, group, mode)


@check("bench.package", "Package is installed", reads_package="name")
@pytest.mark.parametrize("name", [PACKAGE])
def test_package(facts, name):
    assert facts.packages[name]


@check("bench.hostname", "Host has a hostname")
def test_hostname(facts):
    assert facts.hostname not in ("", UNKNOWN)
