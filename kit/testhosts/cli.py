"""python -m kit.testhosts up [--vm] [--containers N] | down | list | ssh NAME [COMMAND...]"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from kit.errors import KitError
from kit.testhosts import fleet as fleets
from kit.testhosts import image
from kit.testhosts.errors import ToolMissing
from kit.testhosts.state import Fleet, default_dir, load


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kit.testhosts", description="Disposable Debian test hosts."
    )
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help=f"state directory (default {default_dir()})",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    up = sub.add_parser("up", help="boot containers and/or the VM")
    up.add_argument("--vm", action="store_true", help="boot the qemu VM")
    up.add_argument("--containers", type=int, default=None, metavar="N", help="containers")
    up.add_argument("--timeout", type=float, default=None, help="boot timeout, seconds")
    up.add_argument("--release", type=int, default=None, choices=sorted(image.RELEASES),
                    help=f"Debian release (default {image.DEFAULT_RELEASE})")  # fmt: skip
    up.set_defaults(func=_up)
    sub.add_parser("down", help="stop and remove every host").set_defaults(func=_down)
    sub.add_parser("list", help="show the running hosts").set_defaults(func=_list)
    ssh = sub.add_parser("ssh", help="open ssh to a host, its host key verified")
    ssh.add_argument("name")
    ssh.add_argument("--user", default="root")
    ssh.add_argument("command", nargs=argparse.REMAINDER)
    ssh.set_defaults(func=_ssh)
    return parser


def _up(args: argparse.Namespace) -> int:
    count = args.containers if args.containers is not None else (0 if args.vm else 2)
    started = time.monotonic()
    fleet = fleets.up(
        containers=count,
        vm=args.vm,
        state_dir=args.state,
        boot_timeout=args.timeout,
        release=args.release,
    )
    for host in fleet.hosts:
        print(host.spec)
    print(
        f"{len(fleet.hosts)} host(s) up in {time.monotonic() - started:.1f}s; "
        f"known_hosts {fleet.known_hosts}, key {fleet.identity_file}",
        file=sys.stderr,
    )
    return 0


def _down(args: argparse.Namespace) -> int:
    removed = fleets.down(args.state)
    for item in removed:
        print(f"removed {item}")
    if not removed:
        print("nothing running", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    fleet = load(args.state)
    if fleet is None or not fleet.hosts:
        print("nothing running", file=sys.stderr)
        return 0
    for host in fleet.hosts:
        status = "up" if host.alive() else "stopped"
        print(f"{host.name:<8} {host.kind:<10} {status:<8} {host.spec}")
    print(f"known_hosts {fleet.known_hosts}")
    print(f"identity    {fleet.identity_file}")
    print(f"sudo user   tester, password in {fleet.password_file}")
    return 0


def _ssh(args: argparse.Namespace) -> int:
    fleet = load(args.state)
    if fleet is None:
        print("nothing running: run `up` first", file=sys.stderr)
        return 1
    try:
        host = fleet[args.name]
    except KeyError:
        names = ", ".join(h.name for h in fleet.hosts)
        print(f"no host {args.name!r}; running: {names}", file=sys.stderr)
        return 1
    client = shutil.which("ssh")
    if client is None:
        raise ToolMissing("ssh", "openssh-client")
    os.execv(client, ssh_argv(fleet, host.name, args.user, args.command))  # noqa: S606 - argv, no shell
    return 0  # not reached


def ssh_argv(fleet: Fleet, name: str, user: str, command: Sequence[str]) -> list[str]:
    host = fleet[name]
    argv = [
        "ssh",
        "-i",
        str(fleet.identity_file),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        f"UserKnownHostsFile={fleet.known_hosts}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-p",
        str(host.port),
        "-l",
        user,
        host.address,
    ]
    if command:
        argv += ["--", *command]
    return argv
