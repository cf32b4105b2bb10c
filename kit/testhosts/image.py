"""The Debian root filesystem every test host boots from, built once and cached.

One recipe per Debian release (11 bullseye, 12 bookworm, 13 trixie), each cached by a
key of its own: a hash of the recipe (suite, mirror, package lists, RECIPE_VERSION), so
an image is rebuilt only when its recipe changes. A build goes into a temporary
directory beside the cache entry and is renamed into place at the end: an
interrupted build never leaves a half image behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kit.testhosts import dockerpkg, tools
from kit.testhosts.errors import StepFailed

# Bump when the steps below change in a way the package lists do not show.
RECIPE_VERSION = 5

PACKAGES = (
    # boot and reach it
    "systemd-sysv",
    "dbus",
    "udev",
    "openssh-server",
    "linux-image-cloud-amd64",
    "grub-pc",  # the VM boots through it, so kernel command-line fixes take effect
    "ifupdown",
    "isc-dhcp-client",
    "iproute2",
    # what checks and the runner's operations read and write
    "kmod",
    "procps",
    "sudo",
    "util-linux",
    "e2fsprogs",
    "tzdata",
    "python3-minimal",
    "iptables",
    "nftables",
    "systemd-timesyncd",
    "curl",
    "xz-utils",
)

# Served from a local apt repository inside the image, and deliberately absent from
# the base system, so "required executable" checks can fail and be fixed.
REPO_PACKAGES = (
    "socat",
    "ethtool",
    "conntrack",
    "ebtables",
    "hello",
    "firewalld",
    "ufw",
    "network-manager",
    "containerd",
    "iputils-ping",  # testinfra's host.addr pings: the parity tests install it
)
# Served too, each fetched on its own: they conflict with one another (chrony and ntpsec
# both provide and conflict with time-daemon), so one apt call cannot resolve them all.
# The time daemons a host may have instead of timesyncd (tests/hosts/installers.py).
REPO_ALTERNATIVES = ("chrony", "ntpsec")
# In the base system and also served, so a scenario may remove one and a fix put it back.
REPO_REINSTALLABLE = ("systemd-timesyncd",)
REPO_DIR = "/srv/hostkit-repo"
TESTER = "tester"


@dataclass(frozen=True)
class Release:
    """One Debian release's recipe: where its packages come from and what differs."""

    number: int
    suite: str
    # None: this machine's own apt sources (bookworm, as this machine runs); otherwise
    # the Debian mirror those sources name, with the release's suite.
    mirror: str | None
    # Package names that differ from PACKAGES on this release: added, and taken out.
    add: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(p for p in PACKAGES if p not in self.drop) + self.add


DEBIAN_MIRROR = "http://deb.debian.org/debian"
RELEASES = {
    11: Release(11, "bullseye", DEBIAN_MIRROR),
    12: Release(12, "bookworm", None),
    # The DHCP client ifupdown names first: trixie's ifupdown recommends
    # `dhcpcd-base | dhcp-client`, bullseye's and bookworm's `isc-dhcp-client | dhcp-client`.
    13: Release(13, "trixie", DEBIAN_MIRROR, add=("dhcpcd-base",), drop=("isc-dhcp-client",)),
}
DEFAULT_RELEASE = 12


def release(number: int | None) -> Release:
    """The recipe of Debian `number` (the default release when None); others refused."""
    if number is None:
        number = DEFAULT_RELEASE
    try:
        return RELEASES[number]
    except KeyError:
        known = ", ".join(str(n) for n in RELEASES)
        raise StepFailed(
            "choosing the image", 2, f"no Debian {number}; releases: {known}"
        ) from None


@dataclass(frozen=True)
class Image:
    root: Path
    key: str
    release: int = DEFAULT_RELEASE


def cache_dir() -> Path:
    base = os.environ.get("HOSTKIT_CACHE")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hostkit"


def recipe_key(number: int | None = None) -> str:
    rel = release(number)
    recipe = {
        "version": RECIPE_VERSION,
        "suite": rel.suite,
        "mirror": rel.mirror,
        "packages": sorted(rel.packages),
        "repo": sorted(REPO_PACKAGES),
        "alternatives": list(REPO_ALTERNATIVES),
        "reinstallable": sorted(REPO_REINSTALLABLE),
        "docker": dockerpkg.RECIPE,
    }
    blob = json.dumps(recipe, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def cached(number: int | None = None) -> Image | None:
    rel = release(number)
    key = recipe_key(rel.number)
    root = cache_dir() / "images" / key / "rootfs"
    return Image(root, key, rel.number) if (root / "etc" / "os-release").exists() else None


def ensure(log: Path | None = None, number: int | None = None) -> Image:
    """Return the cached image of Debian `number`, building it first if its recipe changed."""
    rel = release(number)
    found = cached(rel.number)
    if found:
        return found
    tools.require_root()
    tools.require("mmdebstrap", "dpkg-scanpackages", "dpkg-deb")
    key = recipe_key(rel.number)
    build_once(cache_dir() / "images", key, lambda work: _build(rel, work / "rootfs", log))
    image = cached(rel.number)
    assert image is not None
    return image


def build_once(entries: Path, key: str, build: Callable[[Path], None]) -> Path:
    """The cache entry `entries/key`, built first by `build(directory)` if it is missing.

    The build fills a temporary directory beside the entry, renamed into place when it
    succeeds: an interrupted build never leaves a half entry behind. A lock per key makes
    a second process wait for the first one's build, then reuse it.
    """
    entry = entries / key
    if entry.is_dir():
        return entry
    entries.mkdir(parents=True, exist_ok=True)
    with (entries / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if entry.is_dir():
            return entry
        _remove_stale(entries)
        work = entries / f".build-{key}-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        try:
            build(work)
            os.rename(work, entry)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return entry


def _remove_stale(images: Path) -> None:
    for entry in images.glob(".build-*"):
        pid = entry.name.rsplit("-", 1)[-1]
        if not (pid.isdigit() and Path(f"/proc/{pid}").exists()):
            shutil.rmtree(entry, ignore_errors=True)


def _build(rel: Release, root: Path, log: Path | None) -> None:
    repo = f'"$1"{REPO_DIR}'
    archives = '"$1"/var/cache/apt/archives'
    hooks = [
        # Fetch the repository's packages with the image's own apt, so exactly the
        # dependencies the image lacks come along.
        f"rm -f {archives}/*.deb",
        'chroot "$1" apt-get install -y -q --download-only --no-install-recommends '
        + " ".join(REPO_PACKAGES),
        *(
            f'chroot "$1" apt-get install -y -q --download-only --no-install-recommends {name}'
            for name in REPO_ALTERNATIVES
        ),
        f"mkdir -p {repo} && mv {archives}/*.deb {repo}/",
        f'chroot "$1" sh -c "cd {REPO_DIR} && apt-get download -q '
        + " ".join(REPO_REINSTALLABLE)
        + '"',
        f'chroot "$1" useradd --create-home --shell /bin/bash --groups sudo {TESTER}',
    ]
    argv: list[str] = [
        "mmdebstrap",
        "--variant=minbase",
        "--include=" + ",".join(rel.packages),
    ]
    for hook in hooks:
        argv.append(f"--customize-hook={hook}")
    argv += [rel.suite, str(root)]
    if rel.mirror:
        argv.append(rel.mirror)
    started = time.monotonic()
    done = tools.run(argv, "mmdebstrap", timeout=1800, check=False)
    if log:
        log.write_bytes(done.stdout + done.stderr)
    if done.returncode != 0:
        raise StepFailed("mmdebstrap", done.returncode, done.stderr.decode("utf-8", "replace"))
    repo_dir = root / REPO_DIR.lstrip("/")
    dockerpkg.build_into(repo_dir)
    _index_repo(repo_dir)
    _configure(root)
    build = {
        "seconds": round(time.monotonic() - started, 1),
        "key": recipe_key(rel.number),
        "release": rel.number,
    }
    (root.parent / "build.json").write_text(json.dumps(build))


def _index_repo(repo: Path) -> None:
    done = tools.run(["dpkg-scanpackages", "--multiversion", "."], "dpkg-scanpackages", cwd=repo)
    (repo / "Packages").write_bytes(done.stdout)


def _configure(root: Path) -> None:
    etc = root / "etc"
    # No network inside containers: the local repository is the only source, so
    # `apt-get update` succeeds there.
    for source in [etc / "apt/sources.list", *(etc / "apt/sources.list.d").glob("*")]:
        source.unlink()
    (etc / "apt/sources.list.d/hostkit.list").write_text(f"deb [trusted=yes] file:{REPO_DIR} ./\n")
    # Each host gets its own host key when it is started; none is shared.
    for key in (etc / "ssh").glob("ssh_host_*"):
        key.unlink()
    (etc / "ssh/sshd_config.d/hostkit.conf").write_text(
        "HostKey /etc/ssh/ssh_host_ed25519_key\n"
        "PermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UseDNS no\n"
    )
    (etc / "machine-id").write_text("")
    _configure_grub(etc / "default/grub")


# /etc/default/grub as the VM boots with it (vm.grub_cfg writes the same command line):
# no menu to wait at, GRUB and the kernel on the serial console the tests read, and eth0
# named as /etc/network/interfaces has it.
GRUB_SETTINGS = {
    "GRUB_TIMEOUT": "0",
    "GRUB_CMDLINE_LINUX_DEFAULT": '""',
    "GRUB_CMDLINE_LINUX": '"console=ttyS0 net.ifnames=0"',
    "GRUB_TERMINAL": "serial",
    "GRUB_SERIAL_COMMAND": '"serial --unit=0 --speed=115200"',
}


def _configure_grub(path: Path) -> None:
    text = path.read_text()
    for name, value in GRUB_SETTINGS.items():
        line = f"{name}={value}"
        text, found = re.subn(rf"^#?{name}=.*$", line, text, count=1, flags=re.M)
        if not found:
            text += line + "\n"
    path.write_text(text)
