"""Waivers: a check known to fail on some hosts, accepted for a stated reason (--waivers FILE).

    - check: k8s.swap.off          # a check id, or a glob such as k8s.port.*
      hosts: [node1, etcd, "gpu-*"]  # host names, inventory groups or globs; omitted: all
      justification: swap stays on until the memory upgrade (CHG-1234)
      expires: 2026-01-31          # optional; the waiver applies through that day

A waived check still runs. What it finds is reported as `waived` with the justification
instead of failing the run, and `--fix` leaves it alone. An expired waiver is not applied,
so the check counts again, and the run says so. Everything here is pure: the plugin gives
the catalog's ids, the host's label and groups, and today's date.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit import yamlsafe
from kit.errors import KitValueError

OPTION = "--waivers"
KEYS = ("check", "hosts", "justification", "expires")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


if TYPE_CHECKING:
    import yaml


@cache
def _loader() -> type[yaml.SafeLoader]:
    """A SafeLoader that reads dates as the text they are, so a bad one is reported as this
    file's mistake, with aliases bounded. Made on first use: a run without waivers does
    not load a YAML parser."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return yamlsafe.loader(Loader)


@dataclass(frozen=True)
class Waiver:
    check: str
    justification: str
    hosts: tuple[str, ...] = ()  # empty: every host
    expires: dt.date | None = None
    entry: int = 0  # its position in the file, from 1

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires

    def covers(self, check_id: str, host: str | None, groups: Iterable[str] = ()) -> bool:
        if not fnmatchcase(check_id, self.check):
            return False
        if not self.hosts:
            return True
        names = [host] if host is not None else []
        names += list(groups)
        return any(fnmatchcase(name, pattern) for pattern in self.hosts for name in names)

    def expiry_line(self) -> str:
        where = ", ".join(self.hosts) if self.hosts else "all hosts"
        return f"waiver for {self.check} on {where} expired on {self.expires}: not applied"

    def to_dict(self, today: dt.date) -> dict[str, Any]:
        return {
            "check": self.check,
            "hosts": list(self.hosts),
            "justification": self.justification,
            "expires": self.expires.isoformat() if self.expires else None,
            "expired": self.expired(today),
        }


@dataclass(frozen=True)
class Waivers:
    entries: tuple[Waiver, ...] = ()
    today: dt.date = dt.date.min

    def active(self) -> list[Waiver]:
        return [w for w in self.entries if not w.expired(self.today)]

    def expired(self) -> list[Waiver]:
        return [w for w in self.entries if w.expired(self.today)]

    def match(self, check_id: str, host: str | None, groups: Iterable[str] = ()) -> Waiver | None:
        """The first unexpired waiver, in file order, covering the check on the host."""
        groups = list(groups)
        for waiver in self.active():
            if waiver.covers(check_id, host, groups):
                return waiver
        return None


def load(path: str | Path, today: dt.date) -> Waivers:
    """Read and check a waivers file; any mistake is one KitValueError naming the entry."""
    where = f"{OPTION} {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KitValueError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise KitValueError(f"{where}: a directory, not a file") from None
    except OSError as exc:
        raise KitValueError(f"{where}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise KitValueError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    return Waivers(parse(text, where), today)


def parse(text: str, where: str) -> tuple[Waiver, ...]:
    import yaml

    try:
        data = yamlsafe.load(text, _loader())
    except yaml.YAMLError as exc:
        raise KitValueError(f"{where}: invalid YAML: {yamlsafe.problem(exc)}") from None
    if data is None:
        return ()
    if not isinstance(data, list):
        raise KitValueError(f"{where}: expected a list of waivers, not {_kind(data)}")
    return tuple(_entry(raw, n, where) for n, raw in enumerate(data, start=1))


def _entry(raw: Any, number: int, where: str) -> Waiver:
    def bad(problem: str) -> KitValueError:
        return KitValueError(f"{where}: entry {number}: {problem}")

    if not isinstance(raw, Mapping):
        raise bad(f"expected a mapping with {', '.join(KEYS)}, not {_kind(raw)}")
    unknown = sorted(str(k) for k in raw if k not in KEYS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], KEYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise bad(f"unknown key(s) {', '.join(unknown)}{hint}; known: {', '.join(KEYS)}")
    check = raw.get("check")
    if not isinstance(check, str) or not check.strip():
        raise bad("check must be a check id or glob")
    justification = raw.get("justification")
    if not isinstance(justification, str) or not justification.strip():
        raise bad("justification is required: say why the check may fail")
    hosts = raw.get("hosts", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h.strip() for h in hosts):
        raise bad("hosts must be a list of host names, inventory groups or globs")
    # What a waiver says is printed to the operator's terminal: no escape sequences there.
    for field, texts in (("check", [check]), ("justification", [justification]), ("hosts", hosts)):
        control = next((c for t in texts for c in t if _control(c, field)), None)
        if control is not None:
            raise bad(f"{field} holds a control character U+{ord(control):04X}")
    return Waiver(
        check=check.strip(),
        justification=" ".join(justification.split()),
        hosts=tuple(h.strip() for h in hosts),
        expires=_date(raw.get("expires"), bad),
        entry=number,
    )


def _date(value: Any, bad: Any) -> dt.date | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        # Not turned into text: a mapping or a list can be of any size.
        raise bad(f"expires is {_kind(value)}, not a date: give YYYY-MM-DD")
    text = str(value)
    if isinstance(value, str) and _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise bad(f"expires {text!r} is not a date: {exc}") from None
    raise bad(f"expires {text!r} is not a date: give YYYY-MM-DD")


def _control(char: str, field: str) -> bool:
    # A justification's line breaks and tabs are folded into spaces; nothing else is.
    if field == "justification" and char in "\t\n\r":
        return False
    return unicodedata.category(char) in ("Cc", "Cf")


def _kind(value: Any) -> str:
    return "a mapping" if isinstance(value, Mapping) else f"a {type(value).__name__}"


def validate(waivers: Waivers, catalog_ids: Sequence[str], path: str | Path) -> None:
    """Refuse a waiver whose check pattern matches no check the run knows."""
    for waiver in waivers.entries:
        if not any(fnmatchcase(i, waiver.check) for i in catalog_ids):
            close = difflib.get_close_matches(waiver.check, sorted(set(catalog_ids)), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise KitValueError(
                f"{OPTION} {path}: entry {waiver.entry}: check {waiver.check!r} "
                f"matches no check in the catalog{hint}"
            )
