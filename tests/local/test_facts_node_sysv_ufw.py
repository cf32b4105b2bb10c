"""Answers the facts script now gives itself on the fake node (see fake_node), where it
asked a program: the unit file state of an init script's unit (Debian's
systemd-sysv-install), and `ufw status` where no ufw chain can exist. Each is compared
with the earlier script's, which asked the program, and with what the program says where
the script cannot be sure."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kit.facts import parse_facts
from kit.facts.gather import script
from kit.facts.parse import split_sections
from tests.facts_compare import OLD_SCRIPT
from tests.local.fake_node import run_scripts, started

# The script systemctl runs for an init script's unit (systemd's LIBEXECDIR: /lib/systemd
# on bookworm, /usr/lib/systemd on trixie, the same file where /lib is usr/lib).
SYSV_INSTALL = Path("/lib/systemd/systemd-sysv-install")
_DEBIAN_IS_ENABLED = 'ls "$ROOT"/etc/rc[S5].d/S??"$NAME" >/dev/null 2>&1'


def _debian_script() -> str:
    text = SYSV_INSTALL.read_text() if SYSV_INSTALL.is_file() else ""
    if _DEBIAN_IS_ENABLED not in text:
        pytest.skip("the fake node's systemctl runs this machine's Debian systemd-sysv-install")
    return text


def _gathers(tmp_path: Path, prep: str, **node) -> tuple[str, str, list[str]]:
    """(the earlier script's answer, the script's, the programs the script started) on the
    fake node, after prep (a shell command run in the node first)."""
    # The script runs before the earlier one, whose ufw may load a legacy table.
    _, new, old = run_scripts(tmp_path, [prep, script(), OLD_SCRIPT.read_text()], traced=1, **node)
    return old, new, started(tmp_path, 1)


def _systemctl_verbs(programs: list[str]) -> list[str]:
    # The stub is python3 SCRIPT VERB... (its path may be cut short in the trace).
    return [p.split()[2] for p in programs if p.startswith("python3 ")]


@pytest.mark.parametrize(
    ("files", "prep", "state"),
    [
        ({"/etc/rcS.d/S01ntp": ""}, ":", "enabled"),
        # A link to nowhere counts, as ls counts it (it lists the link itself).
        ({}, "mkdir -p /etc/rc5.d && ln -sf ../init.d/gone /etc/rc5.d/S02ntp", "enabled"),
        # A start link of runlevel 2 only: Debian's script looks at S and 5.
        ({"/etc/rc2.d/S01ntp": ""}, ":", "disabled"),
        ({}, ":", "disabled"),
    ],
    ids=["rcS", "rc5-dangling", "rc2-only", "no-link"],
)
def test_an_init_scripts_unit_state_is_read_where_debians_script_answers(
    tmp_path: Path, files: dict[str, str], prep: str, state: str
):
    _debian_script()
    old, new, programs = _gathers(tmp_path, prep, files=files)
    assert split_sections(new)["units"] == split_sections(old)["units"]
    assert f"ntp.service={state}\n" in split_sections(new)["units"]
    assert parse_facts(new).unit_states["ntp.service"] == state
    assert "is-enabled" not in _systemctl_verbs(programs), programs


@pytest.mark.parametrize(
    "arm",
    [
        # another pattern: runlevels 2 to 5
        'ls "$ROOT"/etc/rc[2345].d/S??"$NAME" >/dev/null 2>&1',
        # Debian's command, after a line that answers first (runlevel 2's link)
        '[ -e /etc/rc2.d/S01"$NAME" ] ||\n        ' + _DEBIAN_IS_ENABLED,
    ],
    ids=["other-runlevels", "a-line-before"],
)
def test_an_init_scripts_unit_state_is_asked_of_a_script_not_recognised(tmp_path: Path, arm: str):
    """A systemd-sysv-install whose is-enabled arm is not Debian's one ls: systemctl is
    asked, and its answer is that script's."""
    other = _debian_script().replace(_DEBIAN_IS_ENABLED, arm)
    (tmp_path / "sysv-install").write_text(other)
    (tmp_path / "sysv-install").chmod(0o755)
    prep = f"mount --bind {tmp_path}/sysv-install {SYSV_INSTALL}"
    old, new, programs = _gathers(tmp_path, prep, files={"/etc/rc2.d/S01ntp": ""})
    assert split_sections(new)["units"] == split_sections(old)["units"]
    assert "ntp.service=enabled\n" in split_sections(new)["units"]
    assert "is-enabled" in _systemctl_verbs(programs), programs


def test_a_unit_file_on_disk_beside_the_init_script_asks_systemctl(tmp_path: Path):
    """A unit file systemd has not loaded yet (show knows nothing of it) is what
    is-enabled answers from: systemctl is asked."""
    _debian_script()
    unit = "/etc/systemd/system/ntp.service"
    old, new, programs = _gathers(tmp_path, ":", files={unit: "[Service]\n"})
    assert split_sections(new)["units"] == split_sections(old)["units"]
    assert "is-enabled" in _systemctl_verbs(programs), programs


_NFT_UFW = (
    "#!/bin/sh\nprintf 'table ip filter {\\n\\tchain ufw-user-input {\\n\\t}\\n"
    "\\tchain INPUT {\\n\\t\\tcounter accept\\n\\t}\\n}\\n'\n"
)
_LEGACY = "ln -sf /usr/sbin/iptables-legacy /etc/alternatives/iptables"
_NFT_FAILS = "#!/bin/sh\necho 'netlink: Error: cannot talk to the kernel' >&2\nexit 1\n"


@pytest.mark.parametrize(
    ("node", "prep", "asked", "status"),
    [
        ({}, ":", False, "Status: inactive"),
        ({"stubs": {"nft": _NFT_UFW}}, ":", True, "Status: active"),
        ({"stubs": {"nft": _NFT_FAILS}}, ":", True, "Status: inactive"),
        # A legacy table in the node's network namespace.
        ({}, "iptables-legacy -w -L -n >/dev/null", True, "Status: inactive"),
        # ufw's iptables is the legacy one (the alternative /etc names), holding its chain;
        # and one without any table loaded yet.
        ({}, f"{_LEGACY} && iptables-legacy -w -N ufw-user-input", True, "Status: active"),
        ({}, _LEGACY, True, "Status: inactive"),
        # Enabled in ufw.conf: nft is not asked, so nothing says that no chain exists.
        ({"files": {"/etc/ufw/ufw.conf": "ENABLED=yes\n"}}, ":", True, "Status: inactive"),
    ],
    ids=[
        "no-chain",
        "nft-ufw-chain",
        "nft-fails",
        "legacy-table",
        "legacy-iptables-chain",
        "legacy-iptables",
        "enabled",
    ],
)
def test_ufw_status_is_asked_only_where_a_ufw_chain_may_exist(
    tmp_path: Path, node: dict, prep: str, asked: bool, status: str
):
    old, new, programs = _gathers(tmp_path, prep, **node)
    assert split_sections(new)["hostprep-ufw"] == split_sections(old)["hostprep-ufw"]
    ufw = parse_facts(new).hostprep
    assert ufw is not None and ufw.ufw is not None
    assert f"@@status\n{status}\nrc=0\n" in ufw.ufw
    assert ("ufw" in [p.split()[0] for p in programs]) == asked, programs


@pytest.mark.parametrize("shell", ["bash --posix", "busybox ash"])
def test_each_shell_reads_the_rc_links_and_ufws_status_alike(tmp_path: Path, shell: str):
    """The glob over the rc links (a link to nowhere among them) and the read of
    ip_tables_names under the other shells hosts' sh may be: what dash's run says."""
    _debian_script()
    if shutil.which(shell.split()[0]) is None:
        pytest.skip(f"{shell} is not installed")
    (tmp_path / "gather.sh").write_text(script())
    prep = "mkdir -p /etc/rc5.d && ln -sf ../init.d/gone /etc/rc5.d/S02ntp"
    other = f'exec {shell} -c "$(cat {tmp_path}/gather.sh)" hostkit-facts "$@"'
    _, by_dash, new = run_scripts(tmp_path, [prep, script(), other], traced=2)
    for name in ("units", "hostprep-ufw"):
        assert split_sections(new)[name] == split_sections(by_dash)[name], name
    assert "ntp.service=enabled\n" in split_sections(new)["units"]
    programs = started(tmp_path, 2)
    assert "is-enabled" not in _systemctl_verbs(programs), programs
    assert "ufw" not in [p.split()[0] for p in programs], programs


def test_ufw_is_asked_where_one_of_its_files_is_missing(tmp_path: Path):
    """ufw stops with an error before its status where one of its files is not there
    (backend.py, _do_checks): the shell does not say "inactive" then, ufw says why."""
    old, new, programs = _gathers(tmp_path, "rm /lib/ufw/ufw-init")
    assert split_sections(new)["hostprep-ufw"] == split_sections(old)["hostprep-ufw"]
    ufw = parse_facts(new).hostprep
    assert ufw is not None and ufw.ufw is not None
    assert "/lib/ufw/ufw-init' does not exist\nrc=1\n" in ufw.ufw
    assert "ufw" in [p.split()[0] for p in programs], programs
