"""The comparison of two facts scripts' answers (tests/facts_compare.py) sees a change,
and leaves out what moved between the earlier script's two runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

from kit.facts import parse_facts
from kit.facts.gather import script
from kit.facts.model import KernelPrep
from tests.facts_compare import compare, differences

DATA = Path(__file__).parent / "data" / "facts"


def test_the_same_facts_differ_in_nothing():
    facts = parse_facts((DATA / "debian12.txt").read_text())
    assert differences(facts, facts, facts) == []


def test_a_fact_the_new_script_changes_is_named():
    old = parse_facts((DATA / "debian12.txt").read_text())
    new = dataclasses.replace(old, timezone="Europe/Berlin")
    assert differences(old, new, old) == ["timezone: 'Etc/UTC', new 'Europe/Berlin'"]


def test_a_fact_that_moved_between_the_old_runs_is_left_out():
    old = parse_facts((DATA / "debian12.txt").read_text())
    moved = dataclasses.replace(old, timezone="Asia/Tokyo")
    new = dataclasses.replace(old, timezone="Europe/Berlin")
    assert differences(old, new, moved) == []


def test_sysctls_are_compared_one_by_one():
    old = parse_facts((DATA / "debian12.txt").read_text())
    again = dataclasses.replace(
        old, sysctls=MappingProxyType({**old.sysctls, "fs.file-nr": "1 0 2"})
    )
    new = dataclasses.replace(
        old, sysctls=MappingProxyType({**old.sysctls, "fs.file-nr": "3 0 2", "vm.swappiness": "1"})
    )
    assert differences(old, new, again) == [
        f"sysctls[vm.swappiness]: {old.sysctls['vm.swappiness']!r}, new '1'"
    ]


RECORDED = (DATA / "debian12.txt").read_text()
TOKYO = RECORDED.replace("link=/usr/share/zoneinfo/Etc/UTC", "link=/usr/share/zoneinfo/Asia/Tokyo")


def _run(new_answers: list[str]):
    """run(text) for compare(): the recorded Debian answer for the old script, the next
    of new_answers for the new one."""
    pending = iter(new_answers)
    return lambda text: next(pending) if text == script() else RECORDED


def test_compare_names_what_differs_in_every_attempt():
    assert compare(_run([TOKYO] * 4)) == ["timezone: 'Etc/UTC', new 'Asia/Tokyo'"]


def test_compare_leaves_out_what_differed_in_one_attempt_only():
    assert compare(_run([TOKYO, RECORDED])) == []


DF = (
    "Filesystem     1024-blocks     Used Available Capacity Mounted on\n"
    "/dev/vda         264212084 {used}  {free}      34% /\n"
)
CGROUPS = "@@proc-cgroups\n#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t4\t{n}\t1\n"


def _prep(used: int = 35575864, cgroups: int = 88, fs: str = "tmpfs") -> KernelPrep:
    df = DF.format(used=used, free=300000000 - used)
    return KernelPrep(
        disk=MappingProxyType({"/var/lib/kubelet": ("/var/lib", df)}),
        cgroup=f"@@fs\n{fs}\n" + CGROUPS.format(n=cgroups),
    )


def test_used_space_and_cgroup_counts_are_not_compared():
    """They count what the machine holds at the moment, so they move under other tests."""
    old = dataclasses.replace(parse_facts(RECORDED), kernelprep=_prep())
    new = dataclasses.replace(old, kernelprep=_prep(used=35575900, cgroups=90))
    assert differences(old, new, old) == []


def test_a_group_of_facts_is_named_by_the_part_that_differs():
    old = dataclasses.replace(parse_facts(RECORDED), kernelprep=_prep())
    new = dataclasses.replace(old, kernelprep=_prep(used=1, fs="cgroup2fs"))
    [found] = differences(old, new, old)
    assert found.startswith("kernelprep.cgroup: '@@fs\\ntmpfs\\n")
    assert "new '@@fs\\ncgroup2fs\\n" in found
    # A count masked on both sides, so only the part that differs is shown.
    assert "disk" not in found and "88" not in found


def test_a_df_line_of_another_shape_is_still_a_difference():
    old = dataclasses.replace(parse_facts(RECORDED), kernelprep=_prep())
    torn = KernelPrep(disk=MappingProxyType({"/var/lib/kubelet": ("/var/lib", DF[:70])}))
    new = dataclasses.replace(old, kernelprep=dataclasses.replace(_prep(), disk=torn.disk))
    assert [d.split(":")[0] for d in differences(old, new, old)] == ["kernelprep.disk"]
