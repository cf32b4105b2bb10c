"""Which command lines a suite writes itself may be answered from a batch of reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.plugin.readonly import is_read_only, pipeline

READS = [
    "uname -s",
    "grep -q '^br_netfilter ' /proc/modules",
    "cat /etc/os-release | grep ID",
    "getent group sudo | cut -d: -f3",
    "sysctl -n net.ipv4.ip_forward",
    "/usr/sbin/sysctl -n kernel.panic vm.swappiness",
    "systemctl is-active kubelet",
    "systemctl --no-pager show -p ActiveState containerd",
    "ls -la /etc/kubernetes",
    "stat -c %a /etc/shadow",
    "find /etc/ssh -name '*.pub'",
    "tail -n 5 /var/log/dpkg.log",
    "sort /etc/passwd | uniq -c",
    'grep -c "^processor" /proc/cpuinfo',
    "hostname -f",
    "date +%s",
    "swapon --show",
    "timedatectl",
    "rpm -q --queryformat '%{VERSION}' bash",
    "command -v kubelet",
    "cat /dev/null",
    "free -h",
    "findmnt -n -o FSTYPE /",
]

NOT_READS = [
    # more of the shell than words and pipes
    "cat f > g",
    "cat < /etc/passwd",
    "cat a; rm b",
    "cat a && rm b",
    "cat a || rm b",
    "cat a &",
    "cat $(rm x)",
    "cat `rm x`",
    'echo "$HOME"',
    "echo $HOME",
    "cat *.conf",
    "cat ~/.profile",
    "(cat a)",
    "{ cat a; }",
    "cat a # comment",
    "cat a |",
    "| cat a",
    "cat 'unterminated",
    "FOO=1 cat f",
    "",
    # tools that write, wait or act
    "rm -f /tmp/x",
    "touch /tmp/x",
    "tee /tmp/x",
    "sed -i s/a/b/ f",
    "sysctl -w vm.swappiness=1",
    "sysctl vm.swappiness=1",
    "sysctl -p",
    "sysctl --system",
    "date -s 12:00",
    "date 11281200",
    "hostname node1",
    "tail -f /var/log/syslog",
    "tail -nF 5 x",
    "free -s 1",
    "free --count=3 -h",
    "findmnt --poll",
    "findmnt -p /",
    "sort -o /etc/passwd /etc/passwd",
    "sort -ro out in",
    "uniq in out",
    "find / -delete",
    "find / -exec rm {} +",
    "find / -fprint /tmp/x",
    "file -C -m magic",
    "ss -K dst 10.0.0.1",
    "systemctl stop kubelet",
    "systemctl",
    "systemctl -H other status x",
    "systemctl --host=other status x",
    "timedatectl set-ntp false",
    "swapon -a",
    "rpm -e bash",
    "rpm -q --pipe 'rm x' bash",
    "rpm -q --queryformat '%(rm x)' bash",
    "command rm x",
    # what they read could act, or is the batch itself
    "cat /dev/watchdog",
    "head -c1 /dev/sda",
    "grep --file=/dev/tty x",
    "cat ../../dev/watchdog",
    "ps aux",
    "pgrep kubelet",
    # a binary that only shares a reader's name
    "/tmp/cat /etc/passwd",
    "./cat x",
    "/usr/local/bin/cat x",
    "env cat x",
    "sh -c 'cat x'",
]


@pytest.mark.parametrize("line", READS)
def test_a_plain_read_is_a_read(line: str) -> None:
    assert is_read_only(line)


@pytest.mark.parametrize("line", NOT_READS)
def test_anything_else_runs_live(line: str) -> None:
    assert not is_read_only(line)


def test_words_are_what_the_shell_would_pass() -> None:
    assert pipeline("""grep -q '^a b$' "/etc/x y" | cut -d' ' -f1""") == [
        ["grep", "-q", "^a b$", "/etc/x y"],
        ["cut", "-d ", "-f1"],
    ]


SPECIAL = st.sampled_from([";", "&", ">", "<", "$(", "`", "*", "?", "[", "~", "\\", "\n", "#", "("])


@given(read=st.sampled_from(READS), special=SPECIAL, tail=st.text(max_size=12))
def test_an_unquoted_special_character_anywhere_makes_it_live(
    read: str, special: str, tail: str
) -> None:
    assert not is_read_only(f"{read} {special}{tail}")
    assert not is_read_only(f"{special}{tail} {read}")


@given(read=st.sampled_from(READS), tool=st.sampled_from(["rm", "tee", "dd", "touch", "sh"]))
def test_a_pipeline_is_a_read_only_when_every_command_is(read: str, tool: str) -> None:
    assert not is_read_only(f"{read} | {tool} /tmp/x")
    assert is_read_only(f"{read} | {read.split('|')[0].strip()}")
