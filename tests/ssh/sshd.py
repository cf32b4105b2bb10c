"""A real sshd on a loopback port, with its own keys and users, for tests and benchmarks.

Everything lives in one temporary directory except what sshd and sudo cannot be
pointed elsewhere for: the test users (useradd) and their sudoers drop-in. Those
are created under an exclusive lock, so two test sessions on one machine take
turns instead of fighting over the same user names, and removed at teardown.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"
USER = "hostkit-test"  # sudo asks this one for a password, except for NOPASSWD_MARK
NOPASSWD_MARK = "hk-nopasswd"  # a command of USER's that ends with this needs no password
SLOW_FLAG = ".hk-slow-login"  # in NOPASSWD_USER's home: seconds its ~/.bashrc sleeps
NOPASSWD_USER = "hostkit-nopw"  # sudo lets it through without a password; login shell bash
ROOT_ONLY_USER = "hostkit-rootonly"  # may become root without a password, and no one else
SUDOERS = Path("/etc/sudoers.d/hostkit-test")
LOCK = Path(tempfile.gettempdir()) / "hostkit-ssh-tier.lock"


class SshdUnavailable(Exception):
    """sshd or what it needs is missing; the tier cannot run here."""


@dataclass
class Sshd:
    """A running sshd and what a client needs to reach it."""

    root: Path
    port: int
    host_key: Path
    client_key: Path
    known_hosts: Path
    log: Path
    proc: subprocess.Popen[bytes]
    users: dict[str, str] = field(default_factory=dict)  # user -> sudo password

    host = "127.0.0.1"

    def spec(self, user: str) -> str:
        return f"ssh://{user}@{self.host}:{self.port}"

    @property
    def host_key_pub(self) -> str:
        return self.host_key.with_suffix(".pub").read_text().strip()

    def known_hosts_line(self) -> str:
        keytype, blob = self.host_key_pub.split()[:2]
        return f"[{self.host}]:{self.port} {keytype} {blob}\n"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path, kind: str = "ed25519") -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "hostkit-test", "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return path


@contextlib.contextmanager
def running(
    *,
    users: bool = True,
    pam: bool = False,
    max_sessions: int = 10,
    pid_namespace: bool = False,
) -> Iterator[Sshd]:
    """Start sshd; with users=True also create the sudo test users (root only).

    pam=True runs sessions through PAM as a distribution's sshd does, which is
    what a real host's channel setup costs; the tests leave it off. max_sessions
    is sshd's MaxSessions, by default sshd's own default. pid_namespace=True
    starts sshd as the first process of a pid namespace of its own (root only),
    where pids are handed out one after another to its sessions' processes
    alone: /proc/sys/kernel/ns_last_pid, read in a session, counts the
    processes the host started for it.
    """
    if not os.path.exists(SSHD) or shutil.which("ssh-keygen") is None:
        raise SshdUnavailable("openssh-server is not installed")
    if users and os.geteuid() != 0:
        raise SshdUnavailable("creating the test users needs root")
    if pid_namespace and (os.geteuid() != 0 or shutil.which("unshare") is None):
        raise SshdUnavailable("a pid namespace of its own needs root and unshare")
    with tempfile.TemporaryDirectory(prefix="hostkit-sshd-") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)  # the test users read authorized_keys through it
        with _lock() if users else contextlib.nullcontext():
            created = _create_users() if users else {}
            try:
                with _sshd(root, pam, max_sessions, pid_namespace) as sshd:
                    sshd.users = created
                    yield sshd
            finally:
                if users:
                    _remove_users()


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    with open(LOCK, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _sshd(root: Path, pam: bool, max_sessions: int, pid_namespace: bool) -> Iterator[Sshd]:
    # sshd refuses to start without its privilege separation directory; the
    # distribution's service unit creates it at boot, which never ran here.
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    host_key = keygen(root / "ssh_host_ed25519_key")
    client_key = keygen(root / "client_key")
    authorized = root / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text())
    authorized.chmod(0o644)
    os.chmod(client_key, 0o600)
    log = root / "sshd.log"
    last_error = ""
    for _ in range(5):
        port = free_port()
        conf = root / "sshd_config"
        conf.write_text(
            f"Port {port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {host_key}\n"
            f"PidFile {root / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {authorized}\n"
            "StrictModes no\n"
            f"UsePAM {'yes' if pam else 'no'}\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\n"
            "AllowTcpForwarding yes\n"
            f"MaxSessions {max_sessions}\n"
            "MaxStartups 100\n"
            "LogLevel VERBOSE\n"
        )
        # --kill-child: stopping unshare ends sshd, and with it the whole namespace.
        prefix = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [*(prefix if pid_namespace else []), SSHD, "-D", "-e", "-f", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        if _wait_listening(port, proc):
            known = root / "known_hosts"
            sshd = Sshd(root, port, host_key, client_key, known, log, proc)
            known.write_text(sshd.known_hosts_line())
            try:
                yield sshd
            finally:
                _stop(proc)
            return
        _stop(proc)
        last_error = log.read_text(errors="replace")[-2000:]
    raise SshdUnavailable(f"sshd did not start: {last_error}")


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _create_users() -> dict[str, str]:
    _remove_users()  # a session killed before its teardown leaves them behind
    passwords = {}
    for user, shell in (
        (USER, "/bin/sh"),
        (NOPASSWD_USER, "/bin/bash"),
        (ROOT_ONLY_USER, "/bin/sh"),
    ):
        subprocess.run(
            ["useradd", "--create-home", "--shell", shell, user],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        password = "hk-" + secrets.token_urlsafe(12)
        subprocess.run(["chpasswd"], input=f"{user}:{password}\n".encode(), check=True)
        passwords[user] = password
    # bash reads ~/.bashrc even for commands sshd runs; a chatty one must not
    # confuse the session framing (the output goes before any command's).
    bashrc = Path(f"/home/{NOPASSWD_USER}/.bashrc")
    # A test makes it slow by writing a number of seconds into SLOW_FLAG.
    bashrc.write_text(
        "echo bashrc-noise; echo bashrc-noise-err >&2\n"
        f'[ -f ~/{SLOW_FLAG} ] && sleep "$(cat ~/{SLOW_FLAG})"\n'
    )
    shutil.chown(bashrc, NOPASSWD_USER, NOPASSWD_USER)
    rules = (
        f"{USER} ALL=(ALL:ALL) ALL\n"
        f"{USER} ALL=(ALL:ALL) NOPASSWD: /bin/sh -c *{NOPASSWD_MARK}\n"
        f"{NOPASSWD_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n"
        f"{ROOT_ONLY_USER} ALL=(root) NOPASSWD: ALL\n"
    )
    # sudo skips names with a dot, so the staged file is inert until the rename.
    with tempfile.NamedTemporaryFile(
        "w", dir=SUDOERS.parent, prefix=".hostkit-test.", delete=False
    ) as fh:
        fh.write(rules)
        staged = Path(fh.name)
    try:
        staged.chmod(0o440)
        subprocess.run(["visudo", "-cqf", str(staged)], check=True)
        staged.rename(SUDOERS)
    except BaseException:
        staged.unlink(missing_ok=True)
        _remove_users()
        raise
    return passwords


def _remove_users() -> None:
    SUDOERS.unlink(missing_ok=True)
    for user in (USER, NOPASSWD_USER, ROOT_ONLY_USER):
        if subprocess.run(["id", user], capture_output=True).returncode == 0:
            # --force: a process a test left behind must not keep the user alive.
            subprocess.run(["userdel", "--force", "--remove", user], capture_output=True)
