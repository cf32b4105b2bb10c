"""Ansible's own answer for host patterns: `python ansible_oracle.py FILE...`.

For each inventory file it chooses patterns (every group and host, and combinations of
them) and prints, as JSON, the hosts `ansible PATTERN --list-hosts` lists for each, using
the same InventoryManager call, so that the whole corpus costs one process.
"""

import json
import sys

from ansible import constants
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

GENERIC = ["all", "*", "*.example.com", "~^[a-m]", "all:!ungrouped", "ungrouped", "nothere"]
PER_GROUP = ["G[0]", "G[1:]", "G[-1]", "G:!H", "G:&H", "G,H", "all:&G", "all:!G", "~G$"]


def patterns(groups: list[str], hosts: list[str]) -> list[str]:
    chosen = [*GENERIC, *groups, *hosts[:10]]
    host = hosts[0] if hosts else "nothere"
    for group in groups[:8]:
        chosen.extend(p.replace("G", group).replace("H", host) for p in PER_GROUP)
    if len(groups) > 3:
        chosen += [f"{groups[2]}:{groups[3]}", f"{groups[2]}:&{groups[3]}:!{host}"]
    return list(dict.fromkeys(chosen))


def answer(path: str) -> dict[str, object]:
    try:
        manager = InventoryManager(loader=DataLoader(), sources=[path])
    except Exception as exc:
        return {"error": str(exc)}
    answers: dict[str, object] = {}
    for pattern in patterns(list(manager.groups), list(manager.hosts)):
        try:
            answers[pattern] = [getattr(h, "name", h) for h in manager.list_hosts(pattern)]
        except Exception as exc:  # an out-of-range subscript, say
            answers[pattern] = f"error: {exc}"
    return {"patterns": answers}


def main() -> None:
    _AnsibleCollectionFinder(paths=constants.COLLECTIONS_PATHS)._install()
    json.dump({path: answer(path) for path in sys.argv[1:]}, sys.stdout)


if __name__ == "__main__":
    main()
