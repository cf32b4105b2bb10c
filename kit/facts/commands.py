"""Command templates per package manager and init system (`{}` is the quoted name)."""

from __future__ import annotations

from collections.abc import Mapping

from kit.facts.model import InitSystem, PackageManager

_APT_ENV = "DEBIAN_FRONTEND=noninteractive"

PACKAGE_MANAGERS: dict[str, PackageManager] = {
    "apt": PackageManager(
        type="apt",
        update_cmd=f"{_APT_ENV} apt-get update -q",
        install_cmd=f"{_APT_ENV} apt-get install -y -q {{}}",
        remove_cmd=f"{_APT_ENV} apt-get remove -y -q {{}}",
        # "ok installed" covers held packages; removed-with-config ones do not match.
        query_cmd="dpkg-query -W -f='${Status}' {} 2>/dev/null | grep -q 'ok installed$'",
        cache_clean_cmd=f"{_APT_ENV} apt-get clean",
        simulate_cmd=f"{_APT_ENV} apt-get -s -q install {{}}",
    ),
    "dnf": PackageManager(
        type="dnf",
        update_cmd="dnf makecache -q",
        install_cmd="dnf install -y -q {}",
        remove_cmd="dnf remove -y -q {}",
        query_cmd="rpm -q --quiet {}",
        cache_clean_cmd="dnf clean all",
        # --assumeno: the transaction table, then "Operation aborted." and exit code 1.
        simulate_cmd="dnf install --assumeno {}",
    ),
    "yum": PackageManager(
        type="yum",
        update_cmd="yum makecache -q",
        install_cmd="yum install -y -q {}",
        remove_cmd="yum remove -y -q {}",
        query_cmd="rpm -q --quiet {}",
        cache_clean_cmd="yum clean all",
        simulate_cmd="yum install --assumeno {}",
    ),
}

# Preference when several are present: RHEL 8+ ships yum as a dnf alias.
_PM_ORDER = (("apt-get", "apt"), ("dnf", "dnf"), ("yum", "yum"))


def package_manager(executables: Mapping[str, str | None]) -> PackageManager:
    for binary, kind in _PM_ORDER:
        if executables.get(binary):
            return PACKAGE_MANAGERS[kind]
    return PackageManager()


SYSTEMD = InitSystem(
    type="systemd",
    start_cmd="systemctl start -- {}",
    stop_cmd="systemctl stop -- {}",
    enable_cmd="systemctl enable -- {}",
    disable_cmd="systemctl disable -- {}",
    restart_cmd="systemctl restart -- {}",
    is_active_cmd="systemctl is-active --quiet -- {}",
    daemon_reload_cmd="systemctl daemon-reload",
)

OPENRC = InitSystem(
    type="openrc",
    start_cmd="rc-service {} start",
    stop_cmd="rc-service {} stop",
    enable_cmd="rc-update add {} default",
    disable_cmd="rc-update del {} default",
    restart_cmd="rc-service {} restart",
    is_active_cmd="rc-service {} status",
)


def _sysvinit(executables: Mapping[str, str | None]) -> InitSystem:
    # Debian links runlevels with update-rc.d, the RHEL family with chkconfig.
    if executables.get("chkconfig") and not executables.get("update-rc.d"):
        enable, disable = "chkconfig {} on", "chkconfig {} off"
    else:
        enable, disable = "update-rc.d {} defaults", "update-rc.d -f {} remove"
    return InitSystem(
        type="sysvinit",
        start_cmd="service {} start",
        stop_cmd="service {} stop",
        enable_cmd=enable,
        disable_cmd=disable,
        restart_cmd="service {} restart",
        is_active_cmd="service {} status",
    )


def init_system(kind: str, executables: Mapping[str, str | None]) -> InitSystem:
    if kind == "systemd":
        return SYSTEMD
    if kind == "openrc":
        return OPENRC
    if kind == "sysvinit":
        return _sysvinit(executables)
    return InitSystem()
