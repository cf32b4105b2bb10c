"""The kernel command line the next boot gets, through the bootloader's configuration."""

from __future__ import annotations

from kit.catalog.remediation import Target, remediation
from kit.runner import kernel
from kit.runner.change import Change


@remediation(
    reboot=True,
    persists=True,
    strategy="enable",
    disruption="medium",
    never=(
        "the running kernel; other kernel arguments; other controllers in a cgroup_disable "
        "list; bootloaders other than GRUB (cmdline.txt, systemd-boot): those are left to "
        "the operator"
    ),
)
def enable_cgroup_controller(target: Target, controller: str) -> Change:
    """Put the controller on the next boot's kernel command line: taken out of any
    cgroup_disable list, and `cgroup_enable=<controller>` added where the running kernel
    lacks it, through grubby (RHEL, Rocky: every kernel's entry) or GRUB's defaults
    (Debian, Ubuntu: /etc/default/grub and grub.d, a managed drop-in
    /etc/default/grub.d/99-hostkit.cfg, then update-grub).

    It takes effect at the next boot, which is never implicit: until the host reboots the
    check keeps failing and says the reboot is pending. Medium disruption: a bad
    command line costs a boot.
    """
    return kernel.enable_cgroup_controller(
        target.conn, target.facts, controller, dry_run=target.dry_run
    )


@remediation(
    reboot=True,
    persists=True,
    strategy="configure",
    disruption="medium",
    never=(
        "the running system (the hierarchy changes only with a reboot); other kernel "
        "arguments; bootloaders other than GRUB (cmdline.txt, systemd-boot): those are "
        "left to the operator"
    ),
)
def unify_cgroups(target: Target, version: str) -> Change:
    """Make the next boot mount cgroup v2: `systemd.unified_cgroup_hierarchy=0` (any false
    value) and `systemd.legacy_systemd_cgroup_controller` come off the kernel command
    line, through grubby (RHEL, Rocky: every kernel's entry) or GRUB's defaults (Debian,
    Ubuntu: /etc/default/grub and grub.d, then update-grub). Where the distribution's
    systemd boots v1 by default, `systemd.unified_cgroup_hierarchy=1` goes into the
    managed drop-in /etc/default/grub.d/99-hostkit.cfg.

    It takes effect at the next boot, which is never implicit: until the host reboots the
    check keeps failing and says the reboot is pending. Medium disruption: workloads that
    still need cgroup v1 stop working after that reboot.
    """
    return kernel.unify_cgroups(target.conn, target.facts, dry_run=target.dry_run)
