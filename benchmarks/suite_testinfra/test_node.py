"""The Kubernetes-node suite as a plain testinfra user writes it."""

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


def test_swap_off(host):
    lines = host.file("/proc/swaps").content_string.splitlines()
    assert lines[1:] == []


@pytest.mark.parametrize("key,value", SYSCTLS, ids=[f"{k}={v}" for k, v in SYSCTLS])
def test_sysctl(host, key, value):
    assert host.sysctl(key) == value


@pytest.mark.parametrize("module", MODULES)
def test_module_loaded(host, module):
    assert host.run("grep -q -- %s /proc/modules", f"^{module} ").rc == 0


@pytest.mark.parametrize("name", EXECUTABLES)
def test_executable(host, name):
    assert host.exists(name)


@pytest.mark.parametrize("port", FREE_PORTS)
def test_port_free(host, port):
    assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening


def test_sshd_listening(host):
    assert host.socket(f"tcp://0.0.0.0:{LISTENING_PORT}").is_listening


@pytest.mark.parametrize("path,user,group,mode", [OWNED_FILE])
def test_file_owner_mode(host, path, user, group, mode):
    f = host.file(path)
    assert f.user == user
    assert f.group == group
    assert f.mode == mode


@pytest.mark.parametrize("name", [PACKAGE])
def test_package(host, name):
    assert host.package(name).is_installed


def test_hostname(host):
    assert host.check_output("hostname").strip()
