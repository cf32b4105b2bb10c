"""Asserting a compliance run's verdicts against the reference, and that a --fix harmed nothing."""

from __future__ import annotations

from dataclasses import dataclass

from tests.hosts import compliance, installers

PASSED = "passed"
# Not failing: passed, or not in the run (a profile that no longer selects the check).
NOT_FAILING = "not failing"


@dataclass(frozen=True)
class Fails:
    """A check the reference fails, and a fragment its message must hold (why)."""

    why: str


def mismatches(run: compliance.Run, expect: dict[str, str | Fails | None]) -> list[str]:
    """Every way run differs from expect (test-name prefix -> PASSED, Fails(why), or None
    for "not in the run at all"); all of them at once, so one run names every gap.
    A key "PREFIX|TEXT" selects the cases whose name starts with PREFIX and holds TEXT
    (a parameter, such as the file a case is about)."""
    found = []
    for key, want in expect.items():
        prefix, _, inside = key.partition("|")
        names = [n for n in run.cases if n.startswith(prefix) and inside in n]
        if want is None:
            if names:
                found.append(f"{key}: in the run, the reference has no such check")
            continue
        if not names:
            if want != NOT_FAILING:
                found.append(f"{key}: not in the run")
            continue
        for name in names:
            case = run.cases[name]
            if want in (PASSED, NOT_FAILING) and case.outcome != "passed":
                found.append(f"{name}: {case.outcome}, want passed: {case.message.strip()[:300]}")
            elif isinstance(want, Fails):
                if case.outcome not in ("failed", "warning", "error"):
                    found.append(f"{name}: {case.outcome}, want failing ({want.why})")
                elif want.why not in case.message:
                    found.append(f"{name}: message lacks {want.why!r}: {case.message[:300]}")
    return found


def assert_verdicts(run: compliance.Run, expect: dict[str, str | Fails | None]) -> None:
    gaps = mismatches(run, expect)
    assert not gaps, "\n".join(gaps)


@dataclass
class Harm:
    """The installer's state before a --fix: every file's sha256, every package's status."""

    node: installers.Node
    sums: dict[str, str]

    @classmethod
    def before(cls, conn, node: installers.Node) -> Harm:
        sums = installers.sha256s(conn, node.paths)
        assert "absent" not in sums.values(), sums  # the builder wrote them all
        return cls(node, sums)

    def changed(self, conn) -> set[str]:
        after = installers.sha256s(conn, self.node.paths)
        return {p for p in self.node.paths if after[p] != self.sums[p]}

    def assert_unharmed(self, conn, allowed: set[str] = frozenset()) -> None:
        """The installer's packages all still installed, and its files changed only where
        allowed (files a failing check is about)."""
        status = installers.packages_installed(conn, self.node.packages)
        removed = {n: s for n, s in status.items() if s != "install ok installed"}
        changed = self.changed(conn) - set(allowed)
        assert not removed and not changed, {"packages": removed, "files changed": changed}


def fix_twice(host, tmp_path, *args: str, select: str | None = None):
    """A --fix, then a second --fix that must change nothing: (before, fixed, again)."""
    before = compliance.run(host, tmp_path, "before", *args, select=select)
    fixed = compliance.run(host, tmp_path, "fix", "--fix", *args, select=select)
    again = compliance.run(host, tmp_path, "again", "--fix", *args, select=select)
    return before, fixed, again


def assert_settled(again: compliance.Run, *, except_prefixes: tuple[str, ...] = ()) -> None:
    """The second --fix applied nothing (checks named by except_prefixes aside)."""
    acted = {
        n: c.fixes
        for n, c in again.cases.items()
        if c.fixes and not n.startswith(except_prefixes or ("\0",))
    }
    assert acted == {}, acted
