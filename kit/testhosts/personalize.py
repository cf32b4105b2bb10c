"""What makes one host differ from the image: name, host key, keys allowed in, password."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kit.testhosts import tools
from kit.testhosts.errors import StepFailed
from kit.testhosts.image import TESTER


@dataclass(frozen=True)
class Identity:
    name: str
    kind: str  # "vm" | "container"
    host_key: bytes  # OpenSSH private key
    host_public: str
    client_public: str


def apply(root: Path, who: Identity, password: str) -> None:
    _write(root, "etc/hostname", f"{who.name}\n")
    _write(
        root,
        "etc/hosts",
        f"127.0.0.1\tlocalhost\n127.0.1.1\t{who.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    )
    _write(root, "etc/ssh/ssh_host_ed25519_key", who.host_key, 0o600)
    _write(root, "etc/ssh/ssh_host_ed25519_key.pub", who.host_public + "\n")
    keys = who.client_public + "\n"
    _write(root, "root/.ssh/authorized_keys", keys, 0o600, mkdir_mode=0o700)
    uid, gid = _ids(root, TESTER)
    home = f"home/{TESTER}"
    _write(root, f"{home}/.ssh/authorized_keys", keys, 0o600, owner=(uid, gid), mkdir_mode=0o700)
    if who.kind == "vm":
        _write(root, "etc/fstab", "/dev/vda1 / ext4 defaults 0 1\n")
        interfaces = "auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n"
    else:
        # the container's address is set from outside, on its namespace's veth
        _write(root, "etc/fstab", "")
        interfaces = "auto lo\niface lo inet loopback\n"
    _write(root, "etc/network/interfaces", interfaces)
    # The password goes on stdin, never on a command line. It is hashed here and handed
    # over hashed (-e): chpasswd then writes /etc/shadow itself instead of going through
    # PAM, whose modules inside another release's root (Debian 11's) refuse this
    # machine's chpasswd ("Authentication token manipulation error").
    hashed = tools.run(
        ["openssl", "passwd", "-6", "-stdin"],
        f"hashing {TESTER}'s password",
        stdin=f"{password}\n".encode(),
    ).stdout.strip()
    tools.run(
        ["chpasswd", "-e", "--root", root],
        f"setting {TESTER}'s password",
        stdin=TESTER.encode() + b":" + hashed + b"\n",
    )


def _ids(root: Path, user: str) -> tuple[int, int]:
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise StepFailed(f"finding user {user} in the image", 1, "")


def _write(
    root: Path,
    rel: str,
    data: str | bytes,
    mode: int = 0o644,
    *,
    owner: tuple[int, int] = (0, 0),
    mkdir_mode: int | None = None,
) -> None:
    path = root / rel
    if mkdir_mode is not None and not path.parent.exists():
        path.parent.mkdir(mode=mkdir_mode)
        os.chown(path.parent, *owner)
    # a symlink in the image must never steer a write out of the host's root
    real_root = os.path.realpath(root)
    if os.path.commonpath([os.path.realpath(path.parent), real_root]) != real_root:
        raise StepFailed(f"writing {rel}", 1, "path leaves the host's root")
    raw = data.encode() if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.hostkit")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)
        os.fchown(fd, *owner)
        os.write(fd, raw)
    finally:
        os.close(fd)
    os.replace(tmp, path)
