"""What the next boot reads, carried in facts and answered without another round trip."""

from kit.facts.parse import parse_boot_files, parse_facts, parse_hostname_addresses
from kit.runner.kernel import modules_at_boot, sysctl_at_boot

RAW = """@@hostkit:boot-files
@@file:/etc/fstab
UUID=abc / ext4 defaults 0 1
/swapfile none swap sw 0 0

@@file:/etc/modules-load.d/k8s.conf
br-netfilter
# overlay

@@file:/usr/lib/sysctl.d/50-default.conf
net.ipv4.ip_forward = 0
@@file:/etc/sysctl.d/50-default.conf
net.ipv4.ip_forward = 1
@@file:/etc/sysctl.d/99-late.conf
vm.swappiness=10
@@file:/etc/sysctl.conf
vm.swappiness = 60
@@file:/etc/elsewhere.conf
net.ipv4.ip_forward = 7
@@hostkit:hostname-addresses
127.0.1.1       node1
::1             node1 localhost
@@hostkit:end
"""


def test_files_are_kept_by_path_in_order():
    files = parse_facts(RAW).boot_files
    assert list(files)[:2] == ["/etc/fstab", "/etc/modules-load.d/k8s.conf"]
    assert files["/etc/fstab"].endswith("sw 0 0\n")
    assert parse_boot_files("") == {}


def test_sysctl_at_boot_follows_systemd_sysctl_order():
    files = parse_facts(RAW).boot_files.items()
    # /etc/sysctl.d hides the /usr/lib file of the same name; systemd-sysctl reads
    # /etc/sysctl.conf only through a link in a sysctl.d directory, and here there is none.
    assert sysctl_at_boot(files, "net.ipv4.ip_forward") == ("1", "/etc/sysctl.d/50-default.conf")
    assert sysctl_at_boot(files, "vm.swappiness") == ("10", "/etc/sysctl.d/99-late.conf")
    assert sysctl_at_boot(files, "net/ipv4/ip_forward")[0] == "1"
    assert sysctl_at_boot(files, "kernel.pid_max") == (None, None)


def test_modules_at_boot_ignore_comments_and_other_files():
    files = parse_facts(RAW).boot_files.items()
    assert modules_at_boot(files) == {"br_netfilter"}


def test_hostname_addresses():
    assert parse_facts(RAW).hostname_addresses == ("127.0.1.1", "::1")
    assert parse_hostname_addresses("") == ()
