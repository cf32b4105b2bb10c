"""A plain testinfra file, as a user writes one: no hostkit in it.

`benchmarks/run.py --suite plain` runs it unchanged under testinfra's own backend and
under hostkit, on the same hosts. The hosts are this machine's root filesystem seen
through an sshd per network namespace, so what passes here is what this machine has;
some checks fail on purpose (a Kubernetes node's expectations this machine does not
meet), because failing checks are half of what a compliance run reports.
"""

import pytest

PACKAGES = (("openssh-server", True), ("sudo", True), ("bash", True), ("docker-ce", True))
SYSCTLS = (
    ("kernel.randomize_va_space", 2),
    ("fs.protected_hardlinks", 1),
    ("net.ipv4.ip_forward", 1),
    ("kernel.panic", 10),
)


@pytest.mark.parametrize(
    "path,mode", [("/etc/passwd", 0o644), ("/etc/shadow", 0o640), ("/etc/sudoers", 0o440)]
)
def test_file_mode(host, path, mode):
    f = host.file(path)
    assert f.exists
    assert f.user == "root"
    assert f.mode == mode


def test_sshd_config_denies_root_login(host):
    assert host.file("/etc/ssh/sshd_config").contains("^PermitRootLogin no")


def test_os_release_is_debian(host):
    assert "ID=debian" in host.file("/etc/os-release").content_string


def test_swap_off(host):
    assert host.file("/proc/swaps").content_string.splitlines()[1:] == []


def test_kubelet_config_present(host):
    assert host.file("/var/lib/kubelet/config.yaml").is_file


@pytest.mark.parametrize("name,installed", PACKAGES, ids=[p for p, _ in PACKAGES])
def test_package_installed(host, name, installed):
    assert host.package(name).is_installed is installed


def test_bash_version(host):
    assert host.package("bash").version.startswith("5.")


@pytest.mark.parametrize("key,value", SYSCTLS, ids=[f"{k}={v}" for k, v in SYSCTLS])
def test_sysctl(host, key, value):
    assert host.sysctl(key) == value


def test_sshd_listening(host):
    assert host.socket("tcp://0.0.0.0:22").is_listening


@pytest.mark.parametrize("port", [6443, 10250])
def test_kube_port_listening(host, port):
    assert host.socket(f"tcp://0.0.0.0:{port}").is_listening


@pytest.mark.parametrize("name", ["ssh", "sudo", "containerd"])
def test_service_enabled(host, name):
    assert host.service(name).is_enabled


def test_kubelet_running(host):
    assert host.service("kubelet").is_running


def test_kernel_is_linux(host):
    assert host.run("uname -s").stdout.strip() == "Linux"


def test_br_netfilter_loaded(host):
    assert host.run("grep -q '^br_netfilter ' /proc/modules").rc == 0


def test_root_user(host):
    root = host.user("root")
    assert root.uid == 0
    assert root.home == "/root"


def test_kube_user_exists(host):
    assert host.user("kube").exists


def test_sudo_group(host):
    assert host.group("sudo").gid == 27


def test_root_filesystem(host):
    assert host.mount_point("/").filesystem == "ext4"


def test_executables(host):
    assert host.exists("ip")
    assert host.exists("ss")
