"""The plugin's command-line options and ini values, as `pytest --help` lists them.

What each option means for a run is decided where it is used; the checks that refuse a
combination that cannot work are in kit.plugin.startup.
"""

from __future__ import annotations

import pytest

from kit import reports
from kit.catalog.remediation import DISRUPTIONS
from kit.plugin import fix, reboot, waves
from kit.plugin.planning import DEFAULT_PROFILE
from kit.runner import hostlock, journal

DEFAULT_MAX_DISRUPTION = "medium"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("hostkit", "hostkit compliance and remediation")
    group.addoption(
        "--fix",
        action="store_true",
        dest="hostkit_fix",
        help="run the paired remediation of every failing check, then check again",
    )
    group.addoption(
        "--dry-run",
        action="store_true",
        dest="hostkit_dry_run",
        help="with --fix: show each planned change and its diff, apply nothing",
    )
    group.addoption(
        "--max-disruption",
        dest="hostkit_max_disruption",
        choices=DISRUPTIONS,
        default=DEFAULT_MAX_DISRUPTION,
        help="with --fix: run only remediations this disruptive or less "
        f"(default {DEFAULT_MAX_DISRUPTION})",
    )
    group.addoption(
        "--fix-lock-timeout",
        dest="hostkit_fix_lock_timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="with --fix: how long to wait for another run's fixes on a host to end (default 60)",
    )
    group.addoption(
        "--fix-batch",
        dest="hostkit_fix_batch",
        metavar="N|P%",
        help="with --fix: fix N hosts (or P%% of them) at a time, in the run's host order; "
        "the first wave is the canary, and every host is still checked",
    )
    group.addoption(
        "--max-fail-percentage",
        dest="hostkit_max_fail_percentage",
        metavar="P",
        help="with --fix-batch: when more than P%% of a wave's hosts have a fix that failed, "
        "later waves are only checked (default 0)",
    )
    group.addoption(
        "--reboot",
        action="store_true",
        dest="hostkit_reboot",
        help="with --fix: reboot the hosts whose fixes need it, wave by wave, and report "
        "their checks as run again after the reboot",
    )
    group.addoption(
        "--reboot-timeout",
        dest="hostkit_reboot_timeout",
        type=float,
        default=reboot.DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="with --reboot: how long a host may take to come back with a new boot id "
        f"(default {reboot.DEFAULT_TIMEOUT:g})",
    )
    group.addoption(
        "--profile",
        dest="hostkit_profile",
        default=None,
        metavar="NAME",
        help=f"profile name or YAML path (default {DEFAULT_PROFILE}); with --inventory, "
        "GROUP=PROFILE[,GROUP=PROFILE...][,DEFAULT] chooses by group, the first match winning",
    )
    group.addoption(
        "--inventory",
        dest="hostkit_inventory",
        metavar="FILE",
        help="Ansible inventory (INI or YAML); --hosts then takes Ansible host patterns",
    )
    group.addoption(
        "--inventory-backend",
        dest="hostkit_inventory_backend",
        choices=("auto", "builtin", "ansible"),
        default="auto",
        help="read --inventory with ansible-inventory (ansible), hostkit's static INI/YAML "
        "parser (builtin), or ansible-inventory when it is on the PATH (auto, the default)",
    )
    group.addoption(
        "--known-hosts",
        dest="hostkit_known_hosts",
        metavar="FILE",
        help="known_hosts file to verify host keys against",
    )
    group.addoption(
        "--accept-new-host-keys",
        action="store_true",
        dest="hostkit_accept_new",
        help="record unknown host keys in known_hosts (changed keys stay rejected)",
    )
    group.addoption(
        "--sudo-password-env",
        dest="hostkit_sudo_env",
        metavar="VAR",
        help="environment variable holding the sudo password",
    )
    group.addoption(
        "--sudo-password-file",
        dest="hostkit_sudo_file",
        metavar="FILE",
        help="file whose first line is the sudo password",
    )
    group.addoption(
        "--shard",
        dest="hostkit_shard",
        metavar="K/N",
        help="keep shard K of N of the selected hosts, by a hash of each host's name; "
        "K counts from 0, and auto/N reads K from JOB_COMPLETION_INDEX",
    )
    group.addoption(
        "--check",
        dest="hostkit_check",
        action="append",
        metavar="ID[,ID...]",
        help="run only checks whose id matches (globs such as 'k8s.sysctl*'), within the profile",
    )
    group.addoption(
        "--skip-check",
        dest="hostkit_skip_check",
        action="append",
        metavar="ID[,ID...]",
        help="leave out checks whose id matches (globs)",
    )
    group.addoption(
        "--waivers",
        dest="hostkit_waivers",
        metavar="FILE",
        help="YAML list of accepted failures (check, hosts, justification, expires): "
        "a waived check still runs and is reported as waived, and --fix leaves it alone",
    )
    reports.add_options(group)
    fix.add_options(group)
    parser.addini("hostkit_junit", "default JUnit report path, relative to the rootdir", default="")
    parser.addini(
        "hostkit_runs_dir",
        "where --fix keeps each run's saved files and journal on a host",
        default=journal.ROOT,
    )
    parser.addini(
        "hostkit_lock_dir",
        "where --fix takes its lock on a host (a directory under /run)",
        default=hostlock.LOCK_DIR,
    )
    parser.addini(
        "hostkit_wave_timeout",
        "with --fix-batch under -n: how long a fix waits, with no host of an earlier wave "
        "finishing, before it fails",
        default=str(waves.DEFAULT_TIMEOUT),
    )
    parser.addini(
        "hostkit_profiles",
        "directory of profiles, relative to the rootdir",
        default="checks/profiles",
    )
