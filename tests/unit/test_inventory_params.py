"""A host's `hostkit_<param>` inventory variable and its profile's mapping: merged key by key
(a key set to null is taken out), as an operator reads `hostkit_sysctls: {key: value}` -
"this one differs here" -, and every parameter set it takes out is named."""

from __future__ import annotations

from kit.catalog import profile

BASE = profile.Profile(
    name="node",
    checks=("t.*",),
    params={
        "sysctls": {"net.ipv4.ip_forward": "1", "vm.overcommit_memory": "1", "kernel.panic": "10"},
        "modules": ["overlay", "br_netfilter"],
    },
)


def test_a_mapping_override_changes_only_its_own_keys():
    host = BASE.with_params(profile.host_overrides("n1", {"hostkit_sysctls": "{kernel.panic: 5}"}))
    assert host.values("sysctls") == [
        ("net.ipv4.ip_forward", "1"),
        ("vm.overcommit_memory", "1"),
        ("kernel.panic", "5"),
    ]
    assert profile.taken_out(BASE, host) == {}


def test_a_key_set_to_null_is_taken_out_and_named():
    given = {"hostkit_sysctls": "{vm.overcommit_memory: null, kernel.panic: 5}"}
    host = BASE.with_params(profile.host_overrides("n1", given))
    assert host.values("sysctls") == [("net.ipv4.ip_forward", "1"), ("kernel.panic", "5")]
    assert profile.taken_out(BASE, host) == {"sysctls": ["vm.overcommit_memory=1"]}


def test_a_list_is_replaced_and_what_it_leaves_out_is_named():
    host = BASE.with_params(profile.host_overrides("n1", {"hostkit_modules": "[overlay]"}))
    assert host.values("modules") == [("overlay",)]
    assert profile.taken_out(BASE, host) == {"modules": ["br_netfilter"]}


def test_a_parameter_the_profile_lacks_is_taken_as_given():
    host = BASE.with_params({"ports_free": {10250: "kubelet"}})
    assert host.values("ports_free") == [(10250, "kubelet")]
    assert profile.taken_out(BASE, host) == {}
