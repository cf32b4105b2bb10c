"""The files an operator gives the kit (waivers, inventories and their variables files,
profiles, hostkit_ variables): an alias bomb is one line naming the file, at once; text
written by json.dump reads back as the characters it holds, never as lone surrogates."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kit import inventory
from kit.catalog import profile
from kit.errors import KitValueError
from kit.inventory.parse import ini_value
from kit.plugin import waivers

SMILE = "\U0001f600"

# Nine levels of ten: a billion `lol`s once expanded, a few hundred bytes as written.
LAUGHS = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 9)
)
RECURSIVE = "loop: &loop [*loop]\n"


def bomb_waivers(tmp_path: Path, body: str) -> Callable[[], Any]:
    # The bomb sits where a waiver's date goes: expires, which was turned into text.
    (tmp_path / "w.yaml").write_text(
        "- check: a.b\n  justification: x\n  expires:\n    " + body.replace("\n", "\n    ")
    )
    return lambda: waivers.load(tmp_path / "w.yaml", dt.date(2026, 1, 1))


def bomb_inventory(tmp_path: Path, body: str) -> Callable[[], Any]:
    indented = body.replace("\n", "\n        ")
    (tmp_path / "hosts.yaml").write_text(
        f"all:\n  hosts:\n    web1:\n      vars_here:\n        {indented}\n"
    )
    return lambda: inventory.load(tmp_path / "hosts.yaml", backend="builtin")


def bomb_group_vars(tmp_path: Path, body: str) -> Callable[[], Any]:
    (tmp_path / "hosts.ini").write_text("[web]\nweb1\n")
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "web.yaml").write_text(body)
    return lambda: inventory.load(tmp_path / "hosts.ini", backend="builtin")


def bomb_profile(tmp_path: Path, body: str) -> Callable[[], Any]:
    # description is turned into text as the profile loads.
    indented = body.replace("\n", "\n  ")
    (tmp_path / "p.yaml").write_text(f"checks: [a.b]\ndescription:\n  {indented}\n")
    return lambda: profile.load(str(tmp_path / "p.yaml"), [tmp_path])


def bomb_host_variable(tmp_path: Path, body: str) -> Callable[[], Any]:
    flow = "{" + ", ".join(line for line in body.splitlines()) + "}"
    return lambda: profile.host_overrides("web1", {"hostkit_sysctls": flow})


LOADERS = {
    "waivers": (bomb_waivers, "--waivers "),
    "inventory": (bomb_inventory, "inventory "),
    "group-vars": (bomb_group_vars, "variables file "),
    "profile": (bomb_profile, "profile "),
    "hostkit-variable": (bomb_host_variable, "inventory host web1: hostkit_sysctls"),
}


@pytest.mark.parametrize("body", [LAUGHS, RECURSIVE], ids=["billion-laughs", "recursive"])
@pytest.mark.parametrize("kind", LOADERS)
def test_an_alias_bomb_is_one_line_naming_the_file_at_once(tmp_path, kind, body):
    make, named = LOADERS[kind]
    load = make(tmp_path, body)
    began = time.monotonic()
    with pytest.raises(KitValueError) as err:
        load()
    assert time.monotonic() - began < 2
    message = str(err.value)
    assert "\n" not in message and message.startswith(named), message
    assert "alias" in message, message


def test_an_inventory_s_merge_keys_still_read(tmp_path):
    (tmp_path / "hosts.yaml").write_text(
        "all:\n  hosts:\n"
        "    web1: &base {ansible_user: ops, ansible_port: 2200}\n"
        "    web2: {<<: *base, ansible_port: 2201}\n"
    )
    found = {h.name: h.spec for h in inventory.load(tmp_path / "hosts.yaml", backend="builtin")}
    assert (found["web2"].user, found["web2"].port) == ("ops", 2201)


LONE = "\ud83d"


def test_a_json_dumped_waiver_reads_back_as_its_characters(tmp_path):
    why = f"ticket {SMILE} and {LONE} alone"
    (tmp_path / "w.yaml").write_text(json.dumps([{"check": "a.b", "justification": why}]))
    assert "\\ud83d\\ude00" in (tmp_path / "w.yaml").read_text()
    (found,) = waivers.load(tmp_path / "w.yaml", dt.date(2026, 1, 1)).entries
    assert found.justification == f"ticket {SMILE} and \ufffd alone"


def test_json_dumped_inventories_and_variables_read_back_as_their_characters(tmp_path):
    hosts = {"all": {"hosts": {"web1": {"note": f"{SMILE} {LONE}"}}}}
    (tmp_path / "hosts.yaml").write_text(json.dumps(hosts))
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "web1.json").write_text(json.dumps({"owner": f"{LONE}x"}))
    (web1,) = inventory.load(tmp_path / "hosts.yaml", backend="builtin")
    assert web1.vars["note"] == f"{SMILE} \ufffd"
    assert web1.vars["owner"] == "\ufffdx"


def test_an_ini_value_written_as_a_python_string_reads_back_encodable():
    assert ini_value("'\\ud83d\\ude00 \\ud83d'") == f"{SMILE} \ufffd"


def test_a_json_dumped_profile_reads_back_as_its_characters(tmp_path):
    text = json.dumps({"checks": ["a.b"], "description": f"{SMILE} {LONE}"})
    (tmp_path / "p.yaml").write_text(text)
    assert profile.load(str(tmp_path / "p.yaml"), [tmp_path]).description == f"{SMILE} \ufffd"
