"""The catalog described from itself: profiles and their checks as a Markdown section.

python -m kit.catalog            # print the section
python -m kit.catalog --write    # refresh it in README.md between its markers
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from kit import profile as profiles
from kit.check import CheckMeta
from kit.errors import KitError

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- catalog:begin (python -m kit.catalog --write) -->"
END = "<!-- catalog:end -->"


def checks(directory: Path) -> list[CheckMeta]:
    """Every check declared in directory's test modules, in file and definition order."""
    found: list[CheckMeta] = []
    for path in sorted(directory.glob("test_*.py")):
        for value in vars(_load(path)).values():
            for mark in getattr(value, "pytestmark", ()):
                if mark.name == "hostkit_check":
                    found.append(mark.args[0])
    return found


def _load(path: Path) -> ModuleType:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # checks import remediations from the repository root
    spec = importlib.util.spec_from_file_location(f"_catalog_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise KitError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _source(meta: CheckMeta) -> str:
    return ", ".join(f"{k}: {v}" for k, v in meta.refs.items()) or "-"


def _fix_columns(meta: CheckMeta) -> str:
    """fix | disruption | reboot, as the check's remediation declares them."""
    if meta.fix is None:
        return "- | - | -"
    from kit import fix as fixflow

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
    from kit import fix as fixflow

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


def _lines(argv: list[str] | None) -> Iterator[str]:
    parser = argparse.ArgumentParser(prog="python -m kit.catalog", description=__doc__)
    parser.add_argument("--write", action="store_true", help="refresh README.md in place")
    args = parser.parse_args(argv)
    section = markdown(ROOT / "checks")
    if not args.write:
        yield section
        return
    readme = ROOT / "README.md"
    new = refreshed(readme.read_text(encoding="utf-8"), section)
    tmp = readme.with_suffix(".md.tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(readme)
    yield f"{readme}: catalog section refreshed"


def main(argv: list[str] | None = None) -> int:
    try:
        for line in _lines(argv):
            print(line)
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
