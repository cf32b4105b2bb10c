"""Every corpus inventory read by hostkit gives the hosts ansible-inventory gives, or a refusal.

The corpus (tests/local/inventories):
- kubespray_sample/: kubespray's inventory/sample and the example of its docs/ansible/inventory.md
  (github.com/kubernetes-sigs/kubespray, Apache-2.0); inventory-filled.ini is the sample with
  its commented hosts switched on.
- ansible_docs/: the INI and YAML examples of Ansible's inventory guide
  (github.com/ansible/ansible-documentation, docs/docsite/rst/inventory_guide/intro_inventory.rst,
  GPL-3.0).
- edge/: precedence, ranges, addresses, vars directories and the refused features.

Ansible is run once per file for --list and once for all its patterns (one playbook whose
plays list their hosts), cached for the session.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from kit import inventory
from kit.errors import KitValueError
from kit.inventory import ansible as ansible_backend
from kit.inventory.model import VarsDirs

CORPUS = Path(__file__).parent / "inventories"
FILES = sorted(
    p
    for p in CORPUS.rglob("*")
    if p.is_file()
    and p.suffix in (".ini", ".yaml", ".yml")
    and not {"group_vars", "host_vars"} & set(p.relative_to(CORPUS).parts)
)
# The features the built-in parser refuses by design, and what its error must say.
REFUSED = {
    "edge/unsupported-common-args.ini": r"ansible_ssh_common_args is not supported",
    "edge/unsupported-unsafe.yaml": r"!unsafe is not supported.*--inventory-backend=ansible",
    "edge/unsupported-plugin.yml": r"plugin .* --inventory-backend=ansible",
}
ANSIBLE_REFUSED = {"edge/unsupported-common-args.ini": r"ansible_ssh_common_args is not supported"}
pytestmark = pytest.mark.skipif(
    shutil.which("ansible-inventory") is None, reason="ansible-core is not installed"
)


def _env() -> dict[str, str]:
    return {**ansible_backend.environment(), "ANSIBLE_LOCALHOST_WARNING": "0"}


@cache
def ansible_list(path: Path) -> dict[str, Any] | str:
    done = subprocess.run(
        ["ansible-inventory", "-i", str(path), "--list"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=_env(),
        timeout=120,
        check=False,
    )
    return json.loads(done.stdout) if done.returncode == 0 else done.stderr


@cache
def ansible_patterns() -> dict[str, dict[str, Any]]:
    """Every file's patterns and their hosts by Ansible's InventoryManager, in one process."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("ansible_oracle.py")), *map(str, FILES)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=_env(),
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout)


def _groups(data: dict[str, Any], host: str) -> set[str]:
    parents = {g: [p for p, n in data.items() if g in n.get("children", [])] for g in data}
    found = {g for g, n in data.items() if host in n.get("hosts", [])}
    frontier = set(found)
    while frontier:
        frontier = {p for g in frontier for p in parents.get(g, [])} - found
        found |= frontier
    return found | {"all"}


def _hostnames(data: dict[str, Any]) -> list[str]:
    # --list leaves hosts without variables out of _meta.hostvars.
    names = [h for g, n in data.items() if g != "_meta" for h in n.get("hosts", [])]
    return list(dict.fromkeys([*data["_meta"]["hostvars"], *names]))


def _unwrap(value: Any) -> Any:
    return value.get("__ansible_unsafe", value) if isinstance(value, dict) else value


def _expected(data: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    expected = {}
    for name in _hostnames(data):
        hv = {k: _unwrap(v) for k, v in data["_meta"]["hostvars"].get(name, {}).items()}
        if hv.get("ansible_connection") == "local":
            where: tuple[Any, ...] = ("local", None, None, None)
        else:
            # Ansible's ssh connection takes the last of an option's variables that is set.
            port = hv.get("ansible_ssh_port", hv.get("ansible_port"))
            where = (
                "ssh",
                hv.get("ansible_ssh_host", hv.get("ansible_host", name)),
                int(port) if port is not None else None,
                hv.get("ansible_ssh_user", hv.get("ansible_user")),
            )
        expected[name] = (*where, frozenset(_groups(data, name)))
    return expected


def _actual(hosts: list[inventory.InventoryHost]) -> dict[str, tuple[Any, ...]]:
    return {
        h.name: (
            h.spec.scheme,
            h.spec.host or None,
            h.spec.port,
            h.spec.user,
            h.groups,
        )
        for h in hosts
    }


def _ids(path: Path) -> str:
    return str(path.relative_to(CORPUS))


def _select(hosts: list[inventory.InventoryHost], pattern: str) -> list[str] | str:
    try:
        return [h.name for h in inventory.select(hosts, [pattern])]
    except KitValueError as exc:
        return "none" if "no host matching" in str(exc) else f"error: {exc}"


def _compare_patterns(
    data: dict[str, Any], hosts: list[inventory.InventoryHost], path: Path, backend: str
) -> None:
    oracle = ansible_patterns()[str(path)]
    assert "patterns" in oracle, oracle
    expected = oracle["patterns"]
    for pattern, names in expected.items():
        got = _select(hosts, pattern)
        where = f"{backend} backend, pattern {pattern!r}"
        if isinstance(names, str) or not names:
            # Ansible fails or matches nothing; hostkit must select no host either.
            assert isinstance(got, str), f"{where}: Ansible gives {names}, hostkit {got}"
            continue
        assert not isinstance(got, str), f"{where}: {got}"
        base = pattern.partition("[")[0]
        if "[" in pattern and not pattern.startswith("~") and data.get(base, {}).get("children"):
            # Ansible walks child groups in set order, so a subscript's pick varies by run.
            assert set(got) <= set(_hostnames(data)) and len(got) == len(names), where
        elif "[" in pattern and not pattern.startswith("~"):
            assert got == names, where
        else:
            assert set(got) == set(names), where


@pytest.mark.parametrize("path", FILES, ids=_ids)
def test_same_hosts_as_ansible_or_a_documented_refusal(path):
    data = ansible_list(path)
    refusal = REFUSED.get(_ids(path))
    try:
        found = inventory.load(path, backend="builtin")
    except KitValueError as exc:
        assert str(path) in str(exc), exc
        if isinstance(data, str):
            return  # Ansible refuses the file too
        assert refusal, f"refused a file Ansible reads: {exc}"
        assert re.search(refusal, str(exc)), exc
        found = None
    if found is not None:
        assert not refusal, "a documented refusal was not made"
        assert not isinstance(data, str), f"Ansible refuses this file: {data[-300:]}"
        assert _actual(found) == _expected(data)
        _compare_patterns(data, found, path, "builtin")
    # The ansible backend reads the same --list output; its refusals are hostkit's own limits.
    try:
        mapped = inventory.from_model(ansible_backend.model(data), path, None, "ansible")
    except KitValueError as exc:
        assert re.search(ANSIBLE_REFUSED.get(_ids(path), r"\A\Z"), str(exc)), exc
        return
    assert _actual(mapped) == _expected(data)
    _compare_patterns(data, mapped, path, "ansible")


def test_vars_directories_follow_ansibles_precedence():
    path = CORPUS / "edge/varsdirs/vars-dirs.ini"
    found = {h.name: h for h in inventory.load(path, backend="builtin")}
    assert str(found["w1"].spec) == "ssh://from_group_vars_web@w1:2501"
    assert str(found["d1"].spec) == "ssh://from_group_vars_all@10.3.3.4:2502"
    assert VarsDirs(path.parent).load("group_vars", "web") == {
        "ansible_user": "from_group_vars_web",
        "ansible_port": 2501,
    }
