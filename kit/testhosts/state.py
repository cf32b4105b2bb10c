"""A running fleet as recorded in its state directory (fleet.json), and how to reach it.

Data only: bringing a fleet up or down is fleet.py's, which imports this module, so
nothing here imports fleet.py (`kit.testhosts.down(fleet.state_dir)` takes one down).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.testhosts import procs
from kit.testhosts.image import TESTER, cache_dir
from kit.testhosts.keys import write_private

if TYPE_CHECKING:
    from kit.connection import Connection
    from kit.connection.secrets import SecretProvider

STATE_FILE = "fleet.json"
KNOWN_HOSTS = "known_hosts"
IDENTITY = "id_ed25519"
PASSWORD = "sudo-password"  # noqa: S105 - a file name, not a password


def default_dir() -> Path:
    return cache_dir() / "run"


@dataclass
class Host:
    name: str
    kind: str  # "vm" | "container"
    address: str
    port: int
    known_hosts: str
    identity_file: str
    password_file: str
    workdir: str
    user: str = "root"
    sudo_user: str = TESTER
    pid: int = 0
    pid_start: int = -1
    net_index: int | None = None
    system_state: str = ""

    @property
    def spec(self) -> str:
        return f"ssh://{self.user}@{self.address}:{self.port}"

    def spec_for(self, user: str) -> str:
        return f"ssh://{user}@{self.address}:{self.port}"

    @property
    def console(self) -> Path:
        return Path(self.workdir) / "console.log"

    @property
    def proc(self) -> procs.Proc:
        return procs.Proc(self.pid, self.pid_start)

    def alive(self) -> bool:
        return self.pid > 0 and self.proc.alive()

    @property
    def connect_options(self) -> dict[str, Any]:
        """Options for kit.connect: host key verified against the generated known_hosts."""
        return {
            "known_hosts": self.known_hosts,
            "identity_file": self.identity_file,
            "host_key_policy": "strict",
        }

    def sudo_password(self) -> SecretProvider:
        from kit.connection.secrets import FromFile

        return FromFile(self.password_file)

    def connect(self, user: str | None = None, **options: Any) -> Connection:
        """A kit connection as root, or as the sudo user with its password provider."""
        from kit.connection import connect

        who = user or self.user
        merged = {**self.connect_options, **options}
        if who != "root" and "sudo_password" not in merged:
            merged["sudo_password"] = self.sudo_password()
        return connect(self.spec_for(who), **merged)


@dataclass
class Fleet:
    state_dir: Path
    hosts: list[Host] = field(default_factory=list)
    image: str = ""

    @property
    def containers(self) -> list[Host]:
        return [h for h in self.hosts if h.kind == "container"]

    @property
    def vm(self) -> Host | None:
        return next((h for h in self.hosts if h.kind == "vm"), None)

    @property
    def known_hosts(self) -> Path:
        return self.state_dir / KNOWN_HOSTS

    @property
    def identity_file(self) -> Path:
        return self.state_dir / IDENTITY

    @property
    def password_file(self) -> Path:
        return self.state_dir / PASSWORD

    def __getitem__(self, name: str) -> Host:
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)

    def alive(self) -> bool:
        return bool(self.hosts) and all(h.alive() for h in self.hosts)

    def shape(self) -> tuple[int, bool]:
        return len(self.containers), self.vm is not None

    def save(self) -> None:
        data = {"image": self.image, "hosts": [asdict(h) for h in self.hosts]}
        write_private(self.state_dir / STATE_FILE, json.dumps(data, indent=2) + "\n")


def load(state_dir: Path | None = None) -> Fleet | None:
    directory = Path(state_dir) if state_dir else default_dir()
    try:
        data = json.loads((directory / STATE_FILE).read_text())
    except FileNotFoundError:
        return None
    hosts = [Host(**h) for h in data.get("hosts", [])]
    return Fleet(directory, hosts, data.get("image", ""))
