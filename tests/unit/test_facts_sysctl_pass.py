"""/proc/sys read in one pass (kit/facts/gather.sh): the files' paths, then one line per
file from `paste -s` (its lines joined by tabs), then paste's errors. The parser gives
the values `grep -r . /proc/sys` gave and the empty sysctls `grep -r -L .` and md5sum
gave: files that read without an error and hold no character but newlines."""

from __future__ import annotations

from kit.facts import parse_facts

PATHS = (
    "/proc/sys/kernel/hostname",
    "/proc/sys/net/ipv4/tcp_rmem",
    "/proc/sys/dev/cdrom/info",
    "/proc/sys/net/ipv6/conf/all/stable_secret",
    "/proc/sys/net/ipv4/conf/eth0.100/rp_filter",
    "/proc/sys/kernel/panic_sys_info",
    "/proc/sys/net/ipv4/ip_local_reserved_ports",
)
# One line per path, in their order: the empty files' lines last, which the capture
# of the answer may have dropped with the last newlines.
VALUES = ("node1", "4096\t131072\t6291456", "CD-ROM information\t\tdrive name:", "", "2")
ERRORS = ("paste: /proc/sys/net/ipv6/conf/all/stable_secret: Input/output error",)


def answer(values: tuple[str, ...] = VALUES) -> str:
    body = "\n".join(("@@paths", *PATHS, "@@values", *values, "@@errors", *ERRORS))
    return f"\n@@hostkit:sysctls\n{body}\n\n@@hostkit:kernelprep-cgroup\n@@fs\n"


def test_one_pass_gives_the_values_grep_gave():
    facts = parse_facts(answer())
    assert dict(facts.sysctls) == {
        "kernel.hostname": "node1",
        "net.ipv4.tcp_rmem": "4096 131072 6291456",
        "dev.cdrom.info": "CD-ROM information drive name:",
        "net.ipv4.conf.eth0/100.rp_filter": "2",
    }
    assert facts.hostname == "node1"


def test_one_pass_gives_the_empty_sysctls_but_not_those_that_did_not_read():
    facts = parse_facts(answer())
    assert facts.kernelprep is not None
    assert facts.kernelprep.empty_sysctls == {
        "kernel.panic_sys_info",
        "net.ipv4.ip_local_reserved_ports",
    }


def test_a_value_line_for_each_path_or_nothing_is_said():
    """A values block that does not line up with the paths (more lines than paths) is
    no answer: no sysctl is known rather than each one taken for another's."""
    facts = parse_facts(answer((*VALUES, "", "", "extra")))
    assert dict(facts.sysctls) == {}
    assert facts.kernelprep is not None and facts.kernelprep.empty_sysctls == frozenset()


def test_a_file_paste_could_not_open_has_no_line_and_the_next_keep_theirs():
    """A file gone between the walk and paste (an interface removed) or one the login may
    not open prints no line, only an error: the next files' lines stay theirs."""
    paths = ("/proc/sys/a/gone", "/proc/sys/a/denied", "/proc/sys/a/eio", "/proc/sys/a/b")
    errors = (
        "paste: /proc/sys/a/gone: No such file or directory",
        "paste: /proc/sys/a/denied: Permission denied",
        "paste: /proc/sys/a/eio: Input/output error",
    )
    body = "\n".join(("@@paths", *paths, "@@values", "", "2", "@@errors", *errors))
    facts = parse_facts(f"\n@@hostkit:sysctls\n{body}\n\n@@hostkit:kernelprep-cgroup\n@@fs\n")
    assert dict(facts.sysctls) == {"a.b": "2"}
    assert facts.kernelprep is not None and facts.kernelprep.empty_sysctls == frozenset()
