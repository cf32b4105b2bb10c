"""Packages through the host's package manager, as its facts name it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar

from kit.connection import Connection, quote
from kit.errors import FixRefused
from kit.facts import Facts, PackageManager, fill
from kit.runner import journal
from kit.runner.change import Change
from kit.runner.files import write_file
from kit.runner.validate import name as valid_name
from kit.runner.validate import path as valid_path

# Installs and cache refreshes download; give them longer than a command's default.
INSTALL_TIMEOUT = 1800.0

# Where each manager's metadata lands: a directory whose mtime moves on a refresh.
_CACHE_STAMP = {"apt": "/var/lib/apt/lists", "dnf": "/var/cache/dnf", "yum": "/var/cache/yum"}
_REPO_DIR = {"apt": "/etc/apt/sources.list.d", "dnf": "/etc/yum.repos.d", "yum": "/etc/yum.repos.d"}
_REPO_SUFFIX = {"apt": ".list", "dnf": ".repo", "yum": ".repo"}
# While a fix is planned to learn what it would install (kit.plugin.fixpackages): the
# packages its install_packages calls name, in order.
_COLLECTING: ContextVar[list[str] | None] = ContextVar("hostkit_packages", default=None)


def _manager(facts: Facts) -> PackageManager:
    pm = facts.require("package_manager")
    assert isinstance(pm, PackageManager)
    return pm


def _names(packages: tuple[str, ...]) -> tuple[str, ...]:
    for p in packages:
        valid_name("package name", p)
    return packages


def _missing(conn: Connection, pm: PackageManager, packages: tuple[str, ...]) -> list[str]:
    """The packages not installed, asked in one round trip."""
    script = "; ".join(f"{{ {fill(pm.query_cmd, p)}; }} || echo {quote(p)}" for p in packages)
    result = conn.read(script)
    return [line for line in result.stdout.splitlines() if line in packages]


def is_package_installed(conn: Connection, facts: Facts, package: str) -> bool:
    """Whether the package is installed, asked of the package manager the facts name.
    Reads only."""
    return not _missing(conn, _manager(facts), _names((package,)))


def install_packages(
    conn: Connection, facts: Facts, *packages: str, dry_run: bool = False
) -> Change:
    """Install the packages that are missing; nothing runs when all are installed.

    The package manager is asked first what the install would do: one that would remove
    or replace an installed package (Docker's containerd.io and docker-ce, which Debian's
    containerd conflicts with; runc, which containerd.io obsoletes) is refused naming them.
    """
    pm = _manager(facts)
    wanted = _COLLECTING.get()
    if wanted is not None and dry_run:
        # Only what it would ask for: which are missing is asked once, for all of them.
        wanted += [p for p in _names(packages) if p not in wanted]
        return Change.made(f"installed {' '.join(packages)}", dry_run=True)
    missing = _missing(conn, pm, _names(packages))
    if not missing:
        together = installed_together(conn, *packages, dry_run=dry_run)
        if together is not None:
            return together
        return Change.none(f"packages already installed: {' '.join(packages)}", dry_run=dry_run)
    _refuse_removals(conn, pm, missing, dry_run)
    with journal.live_step(conn, f"install {' '.join(missing)}", dry_run=dry_run):
        if not dry_run:
            conn.run(fill(pm.install_cmd, *missing), sudo=True, timeout=INSTALL_TIMEOUT).check()
    return Change.made(f"installed {' '.join(missing)}", dry_run=dry_run)


@contextlib.contextmanager
def collecting() -> Iterator[list[str]]:
    """While planning (dry_run=True): the packages install_packages is asked for, in the
    list yielded, without reading the host (and update_package_cache reads nothing)."""
    wanted: list[str] = []
    token = _COLLECTING.set(wanted)
    try:
        yield wanted
    finally:
        _COLLECTING.reset(token)


def install_together(
    conn: Connection, facts: Facts, needs: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """Install, in one package-manager call, the missing packages of several fixes (needs:
    each fix's name and the packages it would install); the packages installed.

    Stale lists are refreshed first (once), and the install is refused as install_packages
    refuses it when it would remove an installed package. Recorded as one step of the
    active journal (op `install A B`, which names exactly what it installed, and which fix
    needed what); each fix's install_packages then finds its packages installed and says
    it installed them, with the others. Any failure raises: the caller lets each fix
    install its own, so one bad package cannot leave the others uninstalled unsaid.
    """
    pm = _manager(facts)
    wanted: list[str] = []
    for names in needs.values():
        wanted += [p for p in _names(names) if p not in wanted]
    missing = _missing(conn, pm, tuple(wanted)) if wanted else []
    if not missing:
        return []
    update_package_cache(conn, facts, max_age=24 * 3600)
    _refuse_removals(conn, pm, missing, False)
    needed = "; ".join(
        f"{fix}: {' '.join(p for p in names if p in missing)}"
        for fix, names in needs.items()
        if any(p in missing for p in names)
    )
    op = f"install {' '.join(missing)}"
    with journal.live_step(conn, op, needs=needed):
        conn.run(fill(pm.install_cmd, *missing), sudo=True, timeout=INSTALL_TIMEOUT).check()
    active = journal.active(conn)
    if active is not None:
        for package in missing:
            active.installed_together[package] = tuple(missing)
    return missing


def installed_together(conn: Connection, *packages: str, dry_run: bool = False) -> Change | None:
    """The change that installed the packages, when this run installed them together for
    several fixes (install_together) before the fix now running; None otherwise. Reads
    nothing: a remediation that finds its package installed asks this first, so a fix whose
    package came with others still says it installed it."""
    active = None if dry_run else journal.active(conn)
    found = active.installed_together if active is not None else {}
    if not packages or not all(p in found for p in packages):
        return None
    others = [p for p in found[packages[0]] if p not in packages]
    for package in packages[1:]:
        others += [p for p in found[package] if p not in packages and p not in others]
    shared = f" with {' '.join(others)}" if others else " for several fixes"
    return Change.made(f"installed {' '.join(packages)} (in one install{shared})", dry_run=False)


def _refuse_removals(
    conn: Connection, pm: PackageManager, missing: list[str], dry_run: bool
) -> None:
    """FixRefused naming what installing missing would remove; nothing when it removes none."""
    if not pm.simulate_cmd:
        return
    simulate = fill(pm.simulate_cmd, *missing)
    res = conn.read(simulate, sudo=True, timeout=INSTALL_TIMEOUT)
    if not res.ok and pm.type == "apt" and "Unable to locate package" in res.stderr:
        if dry_run:
            return  # the lists would be refreshed first; what they bring is unknown now
        # apt's lists may predate a repository or a package, however recent they are:
        # refresh once and ask again, as an operator would.
        conn.run(pm.update_cmd, sudo=True, timeout=INSTALL_TIMEOUT).check()
        res = conn.read(simulate, sudo=True, timeout=INSTALL_TIMEOUT)
    if pm.type == "apt":
        res.check()  # dnf --assumeno always exits 1; its table says what it would do
    removed = would_remove(pm.type, res.stdout)
    if removed:
        tool = {"apt": "apt-get -s", "dnf": "dnf --assumeno", "yum": "yum --assumeno"}[pm.type]
        what = "packages" if len(removed) > 1 else "package"
        raise FixRefused(
            f"installing {' '.join(missing)} would remove the installed {what} "
            f"{', '.join(removed)} ({tool} says so): install it by hand if that is wanted"
        )


# Architectures rpm names carry after a dot in dnf's "replacing NAME.ARCH" lines.
_RPM_ARCHES = {"x86_64", "noarch", "aarch64", "i686", "ppc64le", "s390x", "armv7hl", "src"}


def would_remove(manager: str, output: str) -> list[str]:
    """The installed packages a simulated install would take away, in the order named.

    apt-get -s: its `Remv NAME [VERSION]` lines. dnf and yum (--assumeno): the packages
    under every "Removing..." heading of the transaction table, and the `replacing
    NAME.ARCH VERSION` lines under a package that obsoletes another.
    """
    if manager == "apt":
        return [line.split()[1] for line in output.splitlines() if line.startswith("Remv ")]
    removed: list[str] = []
    removing = False
    for line in output.splitlines():
        if line.startswith("Transaction Summary"):
            break
        if line and not line[0].isspace():
            removing = line.rstrip().endswith(":") and line.startswith("Removing")
            continue
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "replacing":
            name, dot, arch = fields[1].rpartition(".")
            removed.append(name if dot and arch in _RPM_ARCHES else fields[1])
        elif removing and fields:
            removed.append(fields[0])
    return removed


def remove_packages(
    conn: Connection, facts: Facts, *packages: str, dry_run: bool = False
) -> Change:
    """Remove the packages that are installed; nothing runs when none is."""
    pm = _manager(facts)
    wanted = _names(packages)
    missing = set(_missing(conn, pm, wanted))
    present = [p for p in wanted if p not in missing]
    if not present:
        return Change.none(f"packages already absent: {' '.join(packages)}", dry_run=dry_run)
    if not dry_run:
        conn.run(fill(pm.remove_cmd, *present), sudo=True, timeout=INSTALL_TIMEOUT).check()
    return Change.made(f"removed {' '.join(present)}", dry_run=dry_run)


def update_package_cache(
    conn: Connection, facts: Facts, *, max_age: float = 3600, dry_run: bool = False
) -> Change:
    """Refresh package metadata unless it was refreshed less than max_age seconds ago.

    The age bound is what makes a second call a no-op; max_age=0 always refreshes.
    """
    pm = _manager(facts)
    if _COLLECTING.get() is not None and dry_run:
        return Change.none("package cache: not read while planning", dry_run=True)
    stamp = _CACHE_STAMP[pm.type]
    age = conn.read(
        "now=$(date +%%s); then=$(stat -c %%Y %s 2>/dev/null) && echo $((now - then))", stamp
    ).stdout.strip()
    if max_age > 0 and age.isdigit() and int(age) < max_age:
        return Change.none(f"package cache is {age}s old (< {max_age:g}s)", dry_run=dry_run)
    if not dry_run:
        conn.run(pm.update_cmd, sudo=True, timeout=INSTALL_TIMEOUT).check()
    return Change.made(f"{pm.type} package cache refreshed", dry_run=dry_run)


def add_repository(
    conn: Connection,
    facts: Facts,
    name: str,
    content: str,
    *,
    directory: str | None = None,
    dry_run: bool = False,
) -> Change:
    """Install a repository definition as its own file.

    apt: content is sources.list lines, written to sources.list.d/NAME.list;
    dnf/yum: content is a .repo file, written to yum.repos.d/NAME.repo.
    """
    pm = _manager(facts)
    valid_name("repository name", name)
    folder = valid_path(directory or _REPO_DIR[pm.type])
    text = content if content.endswith("\n") else content + "\n"
    dest = f"{folder.rstrip('/')}/{name}{_REPO_SUFFIX[pm.type]}"
    return write_file(conn, dest, text, mode="0644", sudo=True, dry_run=dry_run)
