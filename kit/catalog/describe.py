"""The catalog described from itself: profiles and their checks as a Markdown section.

python -m kit.catalog                      # print the section
python -m kit.catalog --write              # refresh it in README.md between its markers
python -m kit.catalog list [--profile P] [PATH...]   # a table of the checks (of profile P,
                                                     # in its order)
python -m kit.catalog explain ID [PATH...]           # what a check reads, why, what to do by
                                                     # hand, and what its fix does

`list` and `explain` read the shipped catalog and a site's own checks, as a run loads
them: the test modules of the current directory, those next to the `profiles/` directory
of a profile given by path (and of each profile it extends), and those under each PATH,
walked as pytest walks the paths it is given.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from kit.catalog import profile as profiles
from kit.catalog.check import CheckMeta
from kit.catalog.shipped import ROOT, importable, shipped
from kit.errors import KitError

BEGIN = "<!-- catalog:begin (python -m kit.catalog --write) -->"
END = "<!-- catalog:end -->"


@dataclass(frozen=True)
class Entry:
    """A check with the function that declares it."""

    meta: CheckMeta
    function: Callable[..., Any]
    home: Path | None = None  # the catalog directory declaring it

    @property
    def source(self) -> str:
        """file:line of the check's declaration, relative to the repository."""
        path = Path(inspect.getsourcefile(self.function) or "?")
        with_root = path.resolve().is_relative_to(ROOT)
        shown = path.resolve().relative_to(ROOT) if with_root else path
        return f"{shown}:{self.function.__code__.co_firstlineno}"


def entries(directory: Path) -> list[Entry]:
    """Every check declared in directory's test modules, in file and definition order."""
    found: list[Entry] = []
    for path in sorted(directory.glob("test_*.py")):
        for value in vars(_load(path)).values():
            for mark in getattr(value, "pytestmark", ()):
                if mark.name == "hostkit_check":
                    found.append(Entry(mark.args[0], value, directory))
    return found


def entries_of(directories: list[Path]) -> list[Entry]:
    """Every check of the directories, each directory once, in their order."""
    unique = {d.resolve(): d for d in directories}
    return [entry for directory in unique.values() for entry in entries(directory)]


def site_dirs(paths: list[str], profile: str | None = None, here: Path | None = None) -> list[Path]:
    """The catalog directories besides the shipped one: the current directory's own test
    modules when no PATH is given, each PATH's as pytest walks it, and those beside the
    profiles/ directories of a profile given by path and of the profiles it extends."""
    from kit.catalog.sitedirs import catalog_dirs, check_dirs

    here = here or Path.cwd()
    found = check_dirs(here / p for p in paths) if paths else [here]
    if profile is not None and (profile.endswith((".yaml", ".yml")) or "/" in profile):
        prof = profiles.load(profile, shipped() / "profiles")
        found += catalog_dirs(prof, shipped() / "profiles")
    return found


def checks(directory: Path) -> list[CheckMeta]:
    """Every check declared in directory's test modules, in file and definition order."""
    return [entry.meta for entry in entries(directory)]


def _load(path: Path) -> ModuleType:
    importable()  # checks import hostkit_catalog.remediations
    spec = importlib.util.spec_from_file_location(f"_catalog_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise KitError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        # A site's module is the operator's to mend: one line naming it, as a run says.
        raise KitError(f"cannot read the checks in {path}: {type(exc).__name__}: {exc}") from exc
    return module


def _source(meta: CheckMeta) -> str:
    return ", ".join(f"{k}: {v}" for k, v in meta.refs.items()) or "-"


def _fix_columns(meta: CheckMeta) -> str:
    """fix | disruption | reboot, as the check's remediation declares them."""
    if meta.fix is None:
        return "- | - | -"
    from kit.plugin import fix as fixflow

    declared = fixflow.meta_of(meta.fix)
    return f"yes | {declared.disruption} | {'yes' if declared.reboot else 'no'}"


def _params(profile: profiles.Profile, meta: CheckMeta) -> str:
    if meta.params is None:
        return ""
    values = profile.values(meta.params)
    shown = [f"{v[0]}={v[1]}" if len(v) == 2 else " ".join(str(x) for x in v) for v in values]
    return ": " + ", ".join(f"`{s}`" for s in shown)


def markdown(directory: Path) -> str:
    metas = checks(directory)
    lines: list[str] = []
    for name in profiles.available(directory / "profiles"):
        prof = profiles.load(name, directory / "profiles")
        lines += [f"### {prof.name}", "", prof.description, ""]
        lines += [
            "| id | what | severity | fix | disruption | reboot | source |",
            "|---|---|---|---|---|---|---|",
        ]
        for meta in sorted(metas, key=lambda m: _order(prof, m)):
            if prof.order_of(meta.id) is None:
                continue
            what = meta.title + _params(prof, meta)
            lines.append(
                f"| `{meta.id}` | {what} | {meta.severity} | {_fix_columns(meta)} "
                f"| {_source(meta)} |"
            )
        lines.append("")
    return "\n".join(lines + remediations(metas))


NEVER = (
    "Whatever their disruption, no remediation (a user's own included) may stop, disable or "
    "restart the sshd units or the unit serving the kit's session, signal a process the "
    "session runs through, deny or leave dropped the connection's TCP port, reboot the "
    "host, or change the connecting account, its keys or its sudo rights: the runner "
    "refuses with ProtectedError before anything runs."
)


def remediations(metas: list[CheckMeta]) -> list[str]:
    """Every remediation the catalog pairs with a check, with what it declares."""
    from kit.plugin import fix as fixflow

    lines = ["### Remediations", "", NEVER, ""]
    lines += [
        "| remediation | for | disruption | reboot | what it does | never touches |",
        "|---|---|---|---|---|---|",
    ]
    seen: dict[str, list[str]] = {}
    fixes = {}
    for meta in metas:
        if meta.fix is not None:
            name = f"{meta.fix.__module__}.{meta.fix.__name__}"
            seen.setdefault(name, []).append(f"`{meta.id}`")
            fixes[name] = meta.fix
    for name, fix in fixes.items():
        declared = fixflow.meta_of(fix)
        doc = " ".join((fix.__doc__ or "").strip().split("\n\n")[0].split())
        reboot = "yes" if declared.reboot else "no"
        checks = ", ".join(seen[name])
        never = declared.never or "-"
        lines.append(
            f"| `{name}` | {checks} | {declared.disruption} | {reboot} | {doc} | {never} |"
        )
    lines.append("")
    return lines


def _order(prof: profiles.Profile, meta: CheckMeta) -> int:
    rank = prof.order_of(meta.id)
    return rank if rank is not None else len(prof.checks)


def refreshed(readme: str, section: str) -> str:
    head, begin, rest = readme.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise KitError(f"README has no catalog markers ({BEGIN} ... {END})")
    return f"{head}{BEGIN}\n{section}\n{END}{tail}"


class UnknownCheck(KitError):
    """An id that no check in the catalog declares."""


def listing(directory: Path, profile: str | None = None, extra: Sequence[Path] = ()) -> list[str]:
    """id, title, severity, fix, disruption and source of each check, as aligned columns."""
    found = entries_of([directory, *extra])
    if profile is not None:
        prof = profiles.load(profile, directory / "profiles")
        found = [e for e in found if prof.order_of(e.meta.id) is not None]
        found.sort(key=lambda e: _order(prof, e.meta))
    rows = [("ID", "TITLE", "SEVERITY", "FIX", "DISRUPTION", "SOURCE")]
    for entry in found:
        meta = entry.meta
        fix = "-" if meta.fix is None else _fix_name(meta.fix)
        disruption = "-" if meta.fix is None else _declared(meta.fix).disruption
        rows.append((meta.id, meta.title, meta.severity, fix, disruption, entry.source))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]


def find(directory: Path, check_id: str, extra: Sequence[Path] = ()) -> Entry:
    found = entries_of([directory, *extra])
    for entry in found:
        if entry.meta.id == check_id:
            return entry
    near = difflib.get_close_matches(check_id, [e.meta.id for e in found], n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(near)}?" if near else "; see: python -m kit.catalog list"
    raise UnknownCheck(f"no check has id {check_id!r}{hint}")


def explain(directory: Path, check_id: str, extra: Sequence[Path] = ()) -> list[str]:
    """What the check reads, why it matters, and what its fix changes, as plain text."""
    entry = find(directory, check_id, extra)
    if entry.home is not None:
        directory = entry.home  # its by-hand text is its own catalog's
    meta = entry.meta
    lines = [f"{meta.id}: {meta.title}", f"severity: {meta.severity}", f"source: {entry.source}"]
    lines += ["", "Reads:"]
    lines += [f"  {line}".rstrip() for line in _reads(directory, entry)]
    lines += ["", "Why it matters:"]
    lines += [f"  {k}: {v}" for k, v in meta.refs.items()] or ["  (no references declared)"]
    lines += ["", "By hand:"]
    lines += [f"  {line}" for line in _by_hand_lines(directory, meta)]
    lines += ["", "Fix:"]
    lines += [f"  {line}".rstrip() for line in _fix_lines(meta)]
    return lines


def _reads(directory: Path, entry: Entry) -> list[str]:
    meta = entry.meta
    used = set(inspect.signature(entry.function).parameters)
    out = [
        f"fixture {name}: {what}"
        for name, what in (
            ("facts", "the host's facts, gathered in one round trip"),
            ("conn", "the connection: commands and file reads on the host"),
            ("host", "the testinfra host"),
            ("runner", "the runner's operations"),
        )
        if name in used
    ]
    if meta.reads_file:
        out.append(f"file: its stat (mode, owner, kind), path from argument {meta.reads_file!r}")
    if meta.reads_package:
        out.append(f"package: the one named in {meta.reads_package!r}, read with the facts")
    if meta.params:
        out.append(f"profile param {meta.params!r} as ({', '.join(meta.argnames)})")
        for name in profiles.available(directory / "profiles"):
            prof = profiles.load(name, directory / "profiles")
            if prof.order_of(meta.id) is not None and meta.params in prof.params:
                out.append(f"  in {name}{_params(prof, meta)}")
    doc = inspect.getdoc(entry.function)
    if doc:
        out += ["", *doc.splitlines()]
    return out or ["(nothing declared)"]


def by_hand_texts(directory: Path) -> dict[str, str]:
    """The checked by-hand texts of a catalog directory (kit/catalog/byhand.py); the
    shipped catalog's must be complete."""
    from kit.catalog import byhand

    complete = directory.resolve() == shipped().resolve()
    if not complete and not (directory / byhand.FILE).exists():
        return {}  # no need to load the directory's checks
    # A text may name the check's parameters however they are given: the profile's
    # (argnames) or a @pytest.mark.parametrize of its own.
    found = [replace(e.meta, argnames=_parameters(e)) for e in entries(directory)]
    return byhand.load(directory, found, complete=complete)


def _parameters(entry: Entry) -> tuple[str, ...]:
    names = list(entry.meta.argnames)
    for mark in getattr(entry.function, "pytestmark", ()):
        if mark.name == "parametrize" and mark.args:
            given = mark.args[0]
            listed = given.split(",") if isinstance(given, str) else list(given)
            names += [str(n).strip() for n in listed if str(n).strip() not in names]
    return tuple(names)


def _by_hand_lines(directory: Path, meta: CheckMeta) -> list[str]:
    """The check's by-hand text as written: its placeholders are the failing parameters."""
    from kit.catalog import byhand

    text = by_hand_texts(directory).get(meta.id)
    if text is None:
        return [f"(no text: add a line '{meta.id}: ...' to {directory / byhand.FILE})"]
    names = ", ".join(f"{{{a}}}" for a in meta.argnames if a in byhand.placeholders(text))
    return [text] + ([f"{names}: the failing parameters, each one shell word"] if names else [])


def _declared(fix: Callable[..., Any]) -> Any:
    from kit.plugin import fix as fixflow

    return fixflow.meta_of(fix)


def _fix_name(fix: Callable[..., Any]) -> str:
    return f"{fix.__module__}.{fix.__name__}"


def survives(persists: bool | None) -> str:
    if persists is None:
        return "not declared by the remediation"
    if persists:
        return "yes: what it changes is kept where the next boot reads it"
    return "no: a live-only change, undone by a reboot"


def _fix_lines(meta: CheckMeta) -> list[str]:
    if meta.fix is None:
        return ["none: --fix leaves this check to be repaired by hand"]
    declared = _declared(meta.fix)
    out = [
        f"remediation: {_fix_name(meta.fix)}",
        f"strategy: {declared.strategy}",
        f"disruption: {declared.disruption}",
        f"reboot needed: {'yes' if declared.reboot else 'no'}",
        f"survives a reboot: {survives(declared.persists)}",
        f"never touches: {declared.never or '-'}",
    ]
    doc = inspect.getdoc(meta.fix)
    return out + (["", *doc.splitlines()] if doc else [])


def _lines(argv: list[str] | None, prog: str) -> Iterator[str]:
    from kit.cli.codes import UsageParser

    parser = UsageParser(
        prog=prog,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--write", action="store_true", help="refresh README.md in place")
    sub = parser.add_subparsers(dest="command", parser_class=UsageParser)
    show = sub.add_parser("list", help="a table of the checks")
    show.add_argument("--profile", help="only this profile's checks, in its order")
    why = sub.add_parser("explain", help="what a check reads, why, and what its fix does")
    why.add_argument("id", help="a check id")
    for each in (show, why):
        each.add_argument(
            "paths", nargs="*", metavar="PATH", help="your checks, as given to pytest (default .)"
        )
    args = parser.parse_args(argv)
    if args.command == "list":
        yield from listing(shipped(), args.profile, site_dirs(args.paths, args.profile))
        return
    if args.command == "explain":
        yield from explain(shipped(), args.id, site_dirs(args.paths))
        return
    section = markdown(shipped())
    if not args.write:
        yield section
        return
    readme = ROOT / "README.md"
    if not readme.is_file():
        raise KitError(f"--write refreshes a checkout's README.md; there is none at {readme}")
    new = refreshed(readme.read_text(encoding="utf-8"), section)
    tmp = readme.with_suffix(".md.tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(readme)
    yield f"{readme}: catalog section refreshed"


def main(argv: list[str] | None = None, prog: str = "python -m kit.catalog") -> int:
    from kit.cli import codes

    try:
        for line in _lines(argv, prog):
            print(line)
    except KitError as exc:
        # A check id or profile that is not there is a usage mistake, as pytest's are.
        print(f"error: {exc}", file=sys.stderr)
        return codes.USAGE
    return codes.COMPLIANT


if __name__ == "__main__":
    raise SystemExit(main())
