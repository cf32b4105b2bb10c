"""`hostkit capture --hosts=SPEC --profile NAME -o PATH.yaml [--force]`.

One host only (the golden node): a --hosts or an inventory selection naming more is
refused. PATH must not exist unless --force is given (a captured profile is often edited
by hand afterwards). The profile is held against the catalog and read back before it is
written, and written atomically (kit/reports/output.py): a failure leaves PATH as it was.
Exit 0 written, 4 a usage error or a profile that does not validate, 10 the host cannot
be reached (kit.cli.codes).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kit.capture import reads
from kit.capture.render import render
from kit.cli import codes
from kit.errors import ConnectError, KitError, KitValueError
from kit.printable import printable

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


def parser(prog: str) -> codes.UsageParser:
    from kit.plugin import hostopts

    made = codes.UsageParser(
        prog=prog, description="write a profile pinned to what one golden host has"
    )
    hostopts.add_arguments(made)
    made.add_argument("--profile", required=True, help="the profile to extend (a name or path)")
    made.add_argument("-o", "--output", required=True, type=Path, metavar="PATH.yaml")
    made.add_argument("--force", action="store_true", help="replace PATH if it exists")
    return made


def main(argv: Sequence[str] | None = None, prog: str = "hostkit capture") -> int:
    args = parser(prog).parse_args(argv)
    try:
        return capture(args)
    except ConnectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return codes.UNREACHABLE
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return codes.USAGE


def _destination(out: Path, force: bool) -> Any:
    from kit.reports import output

    if out.suffix not in (".yaml", ".yml") or not _NAME.fullmatch(out.stem):
        raise KitValueError(
            f"-o {out}: name a profile file such as profiles/site.yaml (the name, a-z, 0-9, "
            "_ and -, is the profile's)"
        )
    if out.exists() and not force:
        raise KitValueError(f"-o {out} exists: give --force to replace it")
    return output.check("-o", str(out), stdout_ok=False)


def capture(args: Any) -> int:
    from kit.catalog import describe
    from kit.catalog import profile as profiles
    from kit.catalog.shipped import shipped
    from kit.catalog.sitedirs import catalog_dirs
    from kit.plugin import hostopts
    from kit.reports import output

    out: Path = args.output
    where = _destination(out, args.force)
    search = [out.parent, shipped() / "profiles"]
    parent = profiles.load(args.profile, search)
    if parent.source is not None and parent.source.resolve() == out.resolve():
        raise KitValueError(f"-o {out} is the profile it would extend: name a new file")
    catalog = [m for d in catalog_dirs(parent, out.parent) for m in describe.checks(d)]
    _, contexts = hostopts.hosts_of(args)
    if len(contexts) != 1:
        named = ", ".join(c.label for c in contexts)
        raise KitValueError(f"capture reads one golden host; the selection names {named}")
    (host,) = contexts
    try:
        golden = reads.Golden(host.conn, host.facts)
        declared = profiles.declared_params(catalog)
        pinned = {
            key: reader(golden, parent, key)
            for key, reader in reads.READERS.items()
            if key in declared
        }
    finally:
        host.close()
    kept = {k: reads.NOT_CAPTURED.get(k, "not read from a node") for k in declared}
    kept = {k: why for k, why in sorted(kept.items()) if k not in pinned}
    extends = _extends(args.profile, parent, out)
    text = render(out.stem, extends, host.label, pinned, kept)
    values = {k: p.value for k, p in pinned.items() if p.value is not None}
    _check(text, values, parent, catalog, out)
    try:
        output.write(where, text)
    except OSError as exc:
        raise KitError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"{out}: profile {out.stem} extends {extends}, pinned to {host.label}")
    for key, got in pinned.items():
        said = "captured" if got.value is not None else "not captured"
        print(f"  {key}: {said}: {printable(got.note)}")
        for line in got.remarks:
            print(f"    {printable(line)}")
    for key, why in kept.items():
        print(f"  {key}: not captured: {why}")
    for line in reads.UNREAD:
        print(f"  not captured: {line}")
    return codes.COMPLIANT


def _extends(given: str, parent: Any, out: Path) -> str:
    """How the written profile names its parent: by name where loading it by name from
    beside PATH finds the same file, else by its absolute path."""
    from kit.catalog import profile as profiles
    from kit.catalog.shipped import shipped

    try:
        by_name = profiles.load(parent.name, [out.parent, shipped() / "profiles"])
    except KitValueError:
        by_name = None
    if by_name is not None and by_name.source == parent.source:
        return parent.name
    return str(parent.source.resolve()) if parent.source else given


def _check(text: str, values: dict[str, Any], parent: Any, catalog: list[Any], out: Path) -> None:
    """Refuse a profile the catalog would refuse, or whose text does not read back as the
    values captured."""
    from dataclasses import replace

    from kit import yamlsafe
    from kit.catalog import profile as profiles

    data = yamlsafe.load(text)
    if (data.get("params") or {}) != values:
        raise KitError(f"-o {out}: the profile written would not read back as captured")
    made = replace(parent, name=out.stem, params={**parent.params, **values}, source=out)
    profiles.validate(made, catalog, f"the profile captured for {out}")
