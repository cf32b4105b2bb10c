"""The kubelet's command line as systemd builds it: unit files, environment, flags.

kubeadm's drop-in (10-kubeadm.conf) starts the kubelet as
`kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS
$KUBELET_EXTRA_ARGS`, the variables coming from Environment= lines and from
EnvironmentFile=s (/var/lib/kubelet/kubeadm-flags.env, /etc/default/kubelet or
/etc/sysconfig/kubelet). Every flag keeps the file it came from, so that a verdict can
say where a setting is made and a fix can say which file to change.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Boolean flags take no separate value (pflag: `--flag` alone means true; `--flag=false`
# is the only way to turn one off). The ones the benchmark reads.
BOOL_FLAGS = frozenset(
    {
        "anonymous-auth",
        "fail-swap-on",
        "make-iptables-util-chains",
        "rotate-certificates",
        "rotate-server-certificates",
        "protect-kernel-defaults",
        "seccomp-default",
    }
)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Word:
    text: str
    origin: str


@dataclass(frozen=True)
class Flag:
    name: str
    value: str
    origin: str


@dataclass(frozen=True)
class Service:
    """What the unit files say: Environment= values, EnvironmentFile= paths, ExecStart=."""

    environment: Mapping[str, Word]
    environment_files: tuple[tuple[str, bool], ...]  # (path, optional)
    exec_start: Word | None


def _logical_lines(text: str) -> list[str]:
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if not pending and line.lstrip().startswith(("#", ";")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return out


def parse_units(units: Sequence[tuple[str, str]]) -> Service:
    """units: (path, text) of the unit file then its drop-ins, in systemd's order."""
    environment: dict[str, Word] = {}
    env_files: list[tuple[str, bool]] = []
    exec_start: Word | None = None
    for path, text in units:
        section = ""
        for line in _logical_lines(text):
            stripped = line.strip()
            if stripped.startswith("[") and stripped.endswith("]"):
                section = stripped[1:-1]
                continue
            if section != "Service" or "=" not in stripped:
                continue
            key, _, value = stripped.partition("=")
            key, value = key.strip(), value.strip()
            if key == "Environment":
                if not value:
                    environment.clear()
                for item in _split(value):
                    name, sep, val = item.partition("=")
                    if sep:
                        environment[name] = Word(val, path)
            elif key == "EnvironmentFile":
                if not value:
                    env_files.clear()
                else:
                    env_files.append((value.removeprefix("-"), value.startswith("-")))
            elif key == "ExecStart":
                # An empty ExecStart= resets the list: how a drop-in replaces the command.
                exec_start = Word(value, path) if value else None
    return Service(environment, tuple(env_files), exec_start)


def _split(value: str) -> list[str]:
    try:
        return shlex.split(value)
    except ValueError:
        return value.split()


def parse_env_file(text: str, origin: str) -> dict[str, Word]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (quotes removed)."""
    found: dict[str, Word] = {}
    for line in _logical_lines(text):
        stripped = line.strip()
        if not stripped or "=" not in stripped:
            continue
        key, _, value = stripped.partition("=")
        key, value = key.strip(), value.strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
            if stripped.partition("=")[2].strip()[0] == '"':
                value = re.sub(r'\\(["\\$`])', r"\1", value)
        found[key] = Word(value, origin)
    return found


def command_line(service: Service, env_files: Mapping[str, str]) -> list[Word]:
    """ExecStart's words with the environment expanded: `$VAR` alone splits into words,
    `${VAR}` stays one word, as systemd.service(5) says. env_files: path -> text of the
    EnvironmentFile=s that exist (a later file's variable overrides an earlier one's,
    and any file's overrides Environment=)."""
    if service.exec_start is None:
        return []
    env = dict(service.environment)
    for path, _optional in service.environment_files:
        if path in env_files:
            env.update(parse_env_file(env_files[path], path))
    words: list[Word] = []
    command = service.exec_start.text.lstrip("-@:+!")
    for token in _split(command):
        whole = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", token)
        if whole:
            var = env.get(whole.group(1))
            if var is not None:
                words += [Word(w, var.origin) for w in var.text.split()]
            continue
        origin = service.exec_start.origin
        names = [m.group(1) or m.group(2) for m in _VAR.finditer(token)]
        if names and names[0] in env:
            origin = env[names[0]].origin
        text = _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), Word("", "")).text, token)
        words.append(Word(text, origin))
    return words


def parse_flags(words: Sequence[Word]) -> dict[str, Flag]:
    """The flags of a command line (its first word, the program, skipped); the last
    occurrence of a flag wins, as pflag sets it."""
    flags: dict[str, Flag] = {}
    index = 1
    while index < len(words):
        word = words[index]
        index += 1
        if not word.text.startswith("-") or word.text in ("-", "--"):
            continue
        name, sep, value = word.text.lstrip("-").partition("=")
        if not sep:
            following = words[index].text if index < len(words) else None
            if name in BOOL_FLAGS or following is None or following.startswith("-"):
                value = "true"
            else:
                value, index = following, index + 1
        flags[name] = Flag(name, value, word.origin)
    return flags


def feature_gates(value: str) -> dict[str, str]:
    """--feature-gates=A=true,B=false as {"A": "true", "B": "false"}."""
    gates: dict[str, str] = {}
    for item in value.split(","):
        name, sep, setting = item.strip().partition("=")
        if sep and name:
            gates[name.strip()] = setting.strip().lower()
    return gates
