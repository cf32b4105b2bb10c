"""`python -m kit.catalog list|explain`, run as a user runs them, against the real catalog."""

import inspect
import subprocess
import sys

import pytest

from kit.catalog import byhand
from kit.catalog import describe as catalog
from kit.catalog import profile as profiles
from kit.plugin import fix as fixflow

CHECKS = catalog.ROOT / "checks"
METAS = catalog.checks(CHECKS)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kit.catalog", *args],
        cwd=catalog.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows(out: str) -> dict[str, str]:
    return {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}


def test_list_has_a_row_per_check_with_its_declaration():
    result = run("list")
    assert result.returncode == 0, result.stderr
    table = rows(result.stdout)
    assert set(table) == {m.id for m in METAS}
    for meta in METAS:
        row = table[meta.id]
        assert meta.title in row and f" {meta.severity} " in row
        if meta.fix is not None:
            assert f"{meta.fix.__module__}.{meta.fix.__name__}" in row
            assert f" {fixflow.meta_of(meta.fix).disruption} " in row
        path, _, line = row.split()[-1].rpartition(":")
        source = (catalog.ROOT / path).read_text(encoding="utf-8").splitlines()
        # The line named is the check's declaration; a check a factory declares names
        # its id where the factory is called, in the same file.
        declaration = "\n".join(source[int(line) - 1 : int(line) + 3])
        assert declaration.lstrip().startswith(("@check(", "def "))
        assert f'"{meta.id}"' in "\n".join(source)


def test_list_of_a_profile_has_its_checks_in_its_order():
    name = "kubernetes-node"
    prof = profiles.load(name, CHECKS / "profiles")
    result = run("list", "--profile", name)
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    mine = [m for m in METAS if prof.order_of(m.id) is not None]
    assert sorted(listed) == sorted(m.id for m in mine)
    assert [prof.order_of(i) for i in listed] == sorted(prof.order_of(i) for i in listed)


def test_explain_shows_reads_refs_and_what_the_fix_changes():
    for meta in [m for m in METAS if m.fix is not None and m.params][:3]:
        result = run("explain", meta.id)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert out.startswith(f"{meta.id}: {meta.title}\n")
        assert f"profile param {meta.params!r}" in out
        for ref in meta.refs.values():
            assert ref in out
        declared = fixflow.meta_of(meta.fix)
        assert f"strategy: {declared.strategy}" in out
        assert f"disruption: {declared.disruption}" in out
        assert f"survives a reboot: {catalog.survives(declared.persists)}" in out
        first = inspect.getdoc(meta.fix).splitlines()[0]
        assert first in out


def test_explain_names_the_file_a_check_reads():
    meta = next(m for m in METAS if m.reads_file)
    result = run("explain", meta.id)
    assert result.returncode == 0, result.stderr
    assert f"path from argument {meta.reads_file!r}" in result.stdout


@pytest.mark.parametrize("check_id", ["k8s.sysctl", "k8s.swap.off", "k8s.kernel.version"])
def test_explain_says_what_to_do_by_hand_with_or_without_a_fix(check_id):
    meta = next(m for m in METAS if m.id == check_id)
    text = byhand.load(CHECKS, METAS, complete=True)[check_id]
    result = run("explain", check_id)
    assert result.returncode == 0, result.stderr
    section = result.stdout.split("\nBy hand:\n", 1)[1].split("\n\n", 1)[0]
    assert section.splitlines()[0] == f"  {text}"
    if meta.argnames:
        names = ", ".join(f"{{{a}}}" for a in meta.argnames)
        assert f"  {names}: the failing parameters, each one shell word" in section
    else:
        assert len(section.splitlines()) == 1


def test_explain_of_a_site_check_without_a_text_says_so(tmp_path):
    (tmp_path / "test_site.py").write_text(
        "from kit.catalog.check import check\n"
        "@check('site.x', 'x holds')\n"
        "def test_x(conn):\n    assert True\n"
    )
    lines = catalog.explain(tmp_path, "site.x")
    at = lines.index("By hand:")
    assert lines[at + 1] == f"  (no text: add a line 'site.x: ...' to {tmp_path / byhand.FILE})"


def test_explain_of_an_unknown_id_suggests_the_nearest_and_exits_4():
    real = next(m.id for m in METAS if m.id == "k8s.swap.off")
    result = run("explain", real[:-1])
    assert result.returncode == 4  # a usage error, as pytest's own
    assert result.stdout == ""
    assert real in result.stderr and result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_print_and_write_still_work(tmp_path):
    result = run()
    assert result.returncode == 0
    assert result.stdout == catalog.markdown(CHECKS) + "\n"


@pytest.mark.parametrize(
    "module",
    ["boot", "hostprep", "kernel", "kubelet", "network", "packages", "runtime", "sysctl", "time"],
)
def test_every_shipped_remediation_says_whether_it_survives_a_reboot(module):
    mod = __import__(f"hostkit_catalog.remediations.{module}", fromlist=["_"])
    declared = [
        (name, fixflow.meta_of(fn))
        for name, fn in vars(mod).items()
        if callable(fn) and hasattr(fn, "hostkit_remediation")
    ]
    fixes = {m.fix for m in METAS if m.fix is not None and m.fix.__module__ == mod.__name__}
    declared += [(f.__qualname__, fixflow.meta_of(f)) for f in fixes]
    assert declared
    assert [n for n, d in declared if getattr(d, "persists", None) is None] == []
