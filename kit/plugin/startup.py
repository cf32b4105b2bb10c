"""Option checks made once, before collection, so a mistake is one line and not one per check.

Each check raises KitValueError naming the option, what is wrong with it and what to give
instead; the plugin turns it into a usage error (exit code 4).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kit.connection.secrets import FromEnv, FromFile
from kit.connection.spec import FORMS
from kit.errors import KitError, KitValueError
from kit.plugin.hosts import KIT_SCHEMES
from kit.plugin.waves import parse_batch, parse_fail_percentage, parse_timeout
from kit.runner import validate

# The testinfra connection types hostkit carries out itself; the host-option parsing
# (kit.plugin.hosts) checks each one's own options.
SCHEMES = KIT_SCHEMES
HOST_FORMS = FORMS


def check_options(config: pytest.Config) -> None:
    """Raise KitValueError for the first option that cannot work."""
    if not config.getoption("hostkit_inventory"):
        check_hosts(config.option.hosts or "")
    _check_file("--ssh-identity-file", config.option.ssh_identity_file)
    _check_file("--ssh-config", config.option.ssh_config)
    _check_known_hosts(
        config.getoption("hostkit_known_hosts"), config.getoption("hostkit_accept_new")
    )
    _check_sudo_password(
        config.getoption("hostkit_sudo_env"), config.getoption("hostkit_sudo_file")
    )
    check_batches(
        config.getoption("hostkit_fix_batch"),
        config.getoption("hostkit_max_fail_percentage"),
        fix=config.getoption("hostkit_fix"),
        dist=xdist_mode(config),
    )
    parse_timeout(config.getini("hostkit_wave_timeout"))
    if config.getoption("hostkit_fix_retry") and not config.getoption("hostkit_fix"):
        raise KitValueError("--fix-retry makes again a fix an earlier run made: use it with --fix")
    for ini in ("hostkit_lock_dir", "hostkit_runs_dir"):
        _check_state_dir(ini, config.getini(ini))
    check_reboot(
        config.getoption("hostkit_reboot"),
        config.getoption("hostkit_reboot_timeout"),
        fix=config.getoption("hostkit_fix"),
        workers=xdist_mode(config) is not None,
    )


def _check_state_dir(ini: str, value: str) -> None:
    # A relative directory is made wherever the login lands; one with `..` can be sent
    # elsewhere by a link on its way.
    try:
        validate.state_dir(value)
    except KitValueError as exc:
        raise KitValueError(f"{ini} {exc}") from None


def check_reboot(reboot: bool, timeout: float, *, fix: bool, workers: bool) -> None:
    """--reboot: only after fixes, in one process, with a wait that can end."""
    if not timeout > 0:
        raise KitValueError(f"--reboot-timeout {timeout:g}: give a number of seconds over 0")
    if not reboot:
        return
    if not fix:
        raise KitValueError("--reboot reboots hosts whose fixes need it: use it with --fix")
    if workers:
        raise KitValueError(
            "--reboot holds each host's results until its reboot and re-check; drop -n"
        )


def check_batches(batch: str | None, fail: str | None, *, fix: bool, dist: str | None) -> None:
    """--fix-batch and --max-fail-percentage: well-formed, and only where they mean something."""
    if batch is None:
        if fail is not None:
            raise KitValueError("--max-fail-percentage applies to waves: give --fix-batch too")
        return
    parse_batch(batch)
    if fail is not None:
        parse_fail_percentage(fail)
    if not fix:
        raise KitValueError("--fix-batch fixes hosts in waves: use it together with --fix")
    if dist not in (None, *WAVE_DISTS):
        # Other modes split a host's checks over workers, or run them on every worker.
        raise KitValueError(
            "--fix-batch keeps each host on one worker: use -n alone or --dist load, "
            f"not --dist {dist}"
        )


WAVE_DISTS = ("load", "loadscope")  # the modes kit.plugin.scheduling schedules


def xdist_mode(config: pytest.Config) -> str | None:
    """The --dist mode when xdist will run the checks on workers (-n, or --dist with --tx),
    on the controller; None otherwise."""
    if hasattr(config, "workerinput"):
        return None  # the controller has decided already
    # As xdist decides it: by then -n has become --dist load and one --tx per worker.
    dist = getattr(config.option, "dist", "no")
    return dist if dist != "no" and getattr(config.option, "tx", None) else None


def check_hosts(hosts: str) -> None:
    for name in (h.strip() for h in hosts.split(",")):
        if "://" not in name:
            continue  # a bare name is an ssh host
        scheme = name.partition("://")[0]
        if scheme in SCHEMES or scheme in _testinfra_backends():
            continue  # testinfra's other backends run them (kit.plugin.theirs)
        raise KitValueError(f"--hosts {name}: unknown scheme {scheme!r}; use {HOST_FORMS}")


def _testinfra_backends() -> set[str]:
    try:
        from testinfra.backend import BACKENDS
    except ImportError:
        return set()
    return set(BACKENDS)


def _check_file(option: str, value: str | None) -> None:
    if value is None:
        return
    path = Path(value).expanduser()
    if not path.exists():
        raise KitValueError(f"{option} {value}: no such file")
    if path.is_dir():
        raise KitValueError(f"{option} {value}: a directory, not a file")
    if not path.is_file():
        raise KitValueError(f"{option} {value}: not a regular file")
    if not os.access(path, os.R_OK):
        raise KitValueError(f"{option} {value}: not readable by this user")


def _check_known_hosts(value: str | None, accept_new: bool) -> None:
    if value is None:
        return
    path = Path(value).expanduser()
    if path.exists() or not accept_new:
        if not path.exists():
            raise KitValueError(
                f"--known-hosts {value}: no such file; create it (ssh-keyscan HOST >> {value}) "
                "or add --accept-new-host-keys to record the keys hosts show"
            )
        _check_file("--known-hosts", value)
        return
    if not path.parent.is_dir():
        raise KitValueError(
            f"--known-hosts {value}: directory {path.parent} does not exist, "
            "so new host keys cannot be recorded there"
        )


def _check_sudo_password(env: str | None, file: str | None) -> None:
    if env and file:
        raise KitValueError("give --sudo-password-env or --sudo-password-file, not both")
    if file and Path(file).is_dir():
        raise KitValueError(f"--sudo-password-file {file}: a directory, not a file")
    try:
        # Fetched once to prove it can be; the value is dropped at once.
        if env:
            FromEnv(env).get()
        elif file:
            FromFile(file).get()
    except KitError as exc:
        raise KitValueError(f"--sudo-password-{'env' if env else 'file'}: {exc}") from None
