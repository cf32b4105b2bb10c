"""Profiles at start-up: held against the catalog, chosen per inventory group, and a check
they leave out is explained, never silently dropped."""

from __future__ import annotations

import re

import pytest

CATALOG = """
import pytest
from kit.catalog.check import check

@check("t.plain", "no parameters")
def test_plain():
    pass

@check("t.item", "one value per item", params="items", argnames="name")
def test_item(name):
    pass

@check("t.pair", "key and value", params="pairs", argnames="key,value")
def test_pair(key, value):
    pass

@check("t.cp", "control plane only")
def test_cp(host):
    pass

@check("t.each", "per host, one value per item", params="items", argnames="name")
def test_each(host, name):
    pass
"""

BASE = """
checks: [t.plain, t.item, t.pair]
params:
  items: [a, b]
  pairs: {k: v}
"""


@pytest.fixture
def catalog(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\n")
    checks = pytester.mkdir("checks")
    (checks / "test_catalog.py").write_text(CATALOG)
    (checks / "profiles").mkdir()
    profile(pytester, "base", BASE)
    return pytester


def profile(pytester: pytest.Pytester, name: str, text: str) -> None:
    (pytester.path / "checks" / "profiles" / f"{name}.yaml").write_text(text)


def usage_error(result: pytest.RunResult) -> str:
    """The run's one line of complaint, after checking it stopped as a usage error."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("ERROR: ")
    return lines[0]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "checks", *args)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("checks: [t.plain, t.pian]\n", r"'t\.pian' matches no check in the catalog"),
        ("checks: [t.nothing.*]\n", r"'t\.nothing\.\*' matches no check"),
        (
            "extends: base\nparams:\n  item: [c]\n",
            r"unknown parameter 'item' \(did you mean 'items'\?\); known: items, pairs",
        ),
        (
            "extends: base\nparams:\n  pairs: [k, v]\n",
            r"params\.pairs must be a mapping .* for check t\.pair \(key, value\), not a list",
        ),
        (
            "extends: base\nparams:\n  items: {a: b}\n",
            r"params\.items must be a list of values for check t\.\w+ \(name\), not a mapping",
        ),
        ("params:\n  items: [a]\n", r"lists no checks: give `checks:`"),
        ("checks: []\n", r"lists no checks"),
        ("check: [t.plain]\n", r"unknown key\(s\) check \(did you mean 'checks'\?\)"),
    ],
)
def test_a_wrong_profile_is_one_usage_error_before_collection(catalog, text, complaint):
    profile(catalog, "wrong", text)
    line = usage_error(run(catalog, "--profile=wrong"))
    assert re.search(complaint, line), line
    assert "wrong" in line


def test_extends_adds_checks_with_checks_add(catalog):
    profile(catalog, "more", "extends: base\nchecks_add: [t.cp]\n")
    result = run(catalog, "--profile=more", "--collect-only", "-q")
    assert result.ret == 0, result.stdout.str()
    ids = {line.split("::")[1] for line in result.stdout.lines if "::" in line}
    assert ids == {
        "test_plain",
        "test_item[a]",
        "test_item[b]",
        "test_pair[k=v]",
        "test_cp[local://]",
    }


def test_checks_the_profile_leaves_out_are_explained(catalog):
    result = run(catalog, "--profile=base")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["hostkit profile base: 3 of 5 catalog checks; 2 not in it do not run"]
    )


def test_a_profile_that_selects_nothing_collected_is_a_usage_error(catalog):
    (catalog.path / "checks" / "test_other.py").write_text(
        "from kit.catalog.check import check\n\n"
        "@check('t.other', 'other')\ndef test_other():\n    pass\n"
    )
    result = catalog.runpytest_inprocess(
        "-p", "no:cacheprovider", "checks/test_other.py", "--profile=base"
    )
    line = usage_error(result)
    assert "profile base selects none of the 1 collected check(s)" in line


INVENTORY = """
all:
  children:
    kube_control_plane:
      hosts:
        cp1: {ansible_host: 192.0.2.1}
        both: {ansible_host: 192.0.2.3}
    kube_node:
      hosts:
        w1: {ansible_host: 192.0.2.2, hostkit_items: [z]}
        both:
    etcd:
      hosts:
        e1: {ansible_host: 192.0.2.4}
"""

WORKER = "checks: [t.each]\nparams:\n  items: [w]\n"
CONTROL = "checks: [t.each, t.cp]\nparams:\n  items: [c]\n"


@pytest.fixture
def fleet(catalog):
    profile(catalog, "worker", WORKER)
    profile(catalog, "control", CONTROL)
    (catalog.path / "hosts.yaml").write_text(INVENTORY)
    return catalog


def collected(result: pytest.RunResult) -> set[str]:
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    return {line.split("::")[1] for line in result.stdout.lines if "::" in line}


def test_inventory_groups_choose_each_hosts_profile_and_params(fleet):
    mapping = "--profile=kube_control_plane=control,kube_node=worker,etcd=worker"
    result = run(fleet, "--inventory=hosts.yaml", mapping, "--collect-only", "-q")
    assert collected(result) == {
        # A host in two mapped groups gets the first mapping listed.
        "test_cp[cp1]",
        "test_cp[both]",
        "test_each[cp1-c]",
        "test_each[both-c]",
        # The host's own hostkit_items replaces its profile's items.
        "test_each[w1-z]",
        "test_each[e1-w]",
    }


def test_the_first_mapping_listed_wins(fleet):
    mapping = "--profile=kube_node=worker,kube_control_plane=control,etcd=worker"
    result = run(fleet, "--inventory=hosts.yaml", mapping, "--collect-only", "-q")
    assert "test_each[both-w]" in collected(result)
    assert "test_cp[both]" not in collected(result)


def test_a_bare_name_is_the_default_for_hosts_in_no_mapped_group(fleet):
    result = run(
        fleet,
        "--inventory=hosts.yaml",
        "--profile=kube_control_plane=control,worker",
        "-q",
        "--collect-only",
    )
    assert {"test_each[e1-w]", "test_each[w1-z]", "test_cp[cp1]"} <= collected(result)


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (
            ["--inventory=hosts.yaml", "--profile=kube_control_plane=control"],
            "host e1 is in none of the groups --profile maps (kube_control_plane)",
        ),
        (
            ["--inventory=hosts.yaml", "--profile=kube_nodes=worker,control"],
            "--profile maps group 'kube_nodes', which no chosen host is in",
        ),
        (["--profile=kube_node=worker"], "--profile GROUP=PROFILE chooses by inventory group"),
        (
            ["--inventory=hosts.yaml", "--profile=kube_node=worker,control,base"],
            "--profile names two default profiles (control, base)",
        ),
    ],
)
def test_group_mapping_mistakes_are_usage_errors(fleet, args, complaint):
    assert complaint in usage_error(run(fleet, *args))


def test_a_host_variable_is_validated_like_the_profile(fleet):
    text = INVENTORY.replace("hostkit_items: [z]", "hostkit_item: [z]")
    (fleet.path / "hosts.yaml").write_text(text)
    line = usage_error(run(fleet, "--inventory=hosts.yaml", "--profile=worker"))
    assert "inventory host w1: unknown parameter 'item' (did you mean 'items'?)" in line


def test_a_check_module_that_does_not_import_is_one_usage_error(catalog):
    (catalog.path / "checks" / "test_broken.py").write_text("import hostkit_no_such_module\n")
    line = usage_error(run(catalog, "--profile=base"))
    assert "cannot read the catalog in" in line
    assert "ModuleNotFoundError: No module named 'hostkit_no_such_module'" in line


def test_a_profile_path_from_another_profiles_directory_names_its_own_checks(catalog):
    other = catalog.path / "elsewhere" / "checks"
    (other / "profiles").mkdir(parents=True)
    (other / "test_own.py").write_text(
        "from kit.catalog.check import check\n\n@check('t.own', 'own')\ndef test_own():\n    pass\n"
    )
    (other / "profiles" / "mine.yaml").write_text("checks: [t.own, t.plain]\n")
    result = run(catalog, f"--profile={other / 'profiles' / 'mine.yaml'}", "--collect-only")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(["hostkit profile mine: 2 of 6 catalog checks; 4 not in it*"])


def test_what_a_hosts_own_values_take_out_of_its_profile_is_said(catalog):
    profile(catalog, "each", "checks: [t.each]\nparams:\n  items: [a, b]\n")
    (catalog.path / "hosts.yaml").write_text(INVENTORY.replace("[z]", "[a]"))
    args = ["--inventory=hosts.yaml", "--hosts=w1,e1", "--profile=each", "--collect-only"]
    assert collected(run(catalog, *args, "-q")) == {
        "test_each[w1-a]",
        "test_each[e1-a]",
        "test_each[e1-b]",
    }
    result = run(catalog, *args)
    result.stdout.fnmatch_lines(["hostkit inventory host w1: hostkit_items takes out b"])
    assert "inventory host e1" not in result.stdout.str()
