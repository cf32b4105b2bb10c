"""Profile validation rules and --profile's group mapping, as pure functions."""

from __future__ import annotations

import pytest

from kit.catalog import profile
from kit.catalog.check import CheckMeta
from kit.errors import KitValueError

CATALOG = [
    CheckMeta("t.one", "one value", params="items", argnames=("name",)),
    CheckMeta("t.two", "pairs", params="pairs", argnames=("key", "value")),
    CheckMeta("t.three", "triples", params="rows", argnames=("a", "b", "c")),
    CheckMeta("t.plain", "no params"),
]


@pytest.mark.parametrize(
    "params",
    [
        {"items": ["a", 1]},
        {"pairs": {"k": "v"}},
        {"pairs": [["k", "v"]]},
        {"rows": [[1, 2, 3]]},
        {"items": []},
    ],
)
def test_shapes_the_argnames_take_are_accepted(params):
    # The shapes alone: a check selected with an empty set is refused by validate.
    profile.validate_params(params, CATALOG, "profile p")


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"items": {"a": 1}}, "params.items must be a list of values for check t.one"),
        ({"items": [["a"]]}, "params.items must be a list of values"),
        ({"items": "a"}, "not str 'a'"),
        ({"pairs": ["k"]}, "params.pairs must be a mapping (name: value) or a list of pairs"),
        ({"rows": [[1, 2]]}, "params.rows must be a list of 3-item lists"),
        ({"pair": {}}, "unknown parameter 'pair' (did you mean 'pairs'?)"),
    ],
)
def test_wrong_shapes_and_keys_name_the_parameter_and_check(params, complaint):
    with pytest.raises(KitValueError, match=r"^profile p: ") as caught:
        profile.validate(profile.Profile("p", checks=("t.plain",), params=params), CATALOG)
    assert complaint in str(caught.value)


def test_every_pattern_must_match_a_check():
    profile.validate(profile.Profile("p", checks=("t.pl*", "t.plain")), CATALOG)
    with pytest.raises(KitValueError, match=r"'t\.on' matches no check.*did you mean 't\.one'"):
        profile.validate(profile.Profile("p", checks=("t.plain", "t.on")), CATALOG)


def test_checks_add_appends_to_the_parents_list(tmp_path):
    (tmp_path / "base.yaml").write_text("checks: [t.one, t.two]\n")
    (tmp_path / "more.yaml").write_text("extends: base\nchecks_add: [t.plain, t.one]\n")
    assert profile.load("more", tmp_path).checks == ("t.one", "t.two", "t.plain")


def test_parse_choice():
    assert profile.parse_choice("kubernetes-node") == profile.Choice("kubernetes-node")
    choice = profile.parse_choice("kube_control_plane=cp, kube_node=node ,etcd=cp,dflt")
    assert choice.groups == (("kube_control_plane", "cp"), ("kube_node", "node"), ("etcd", "cp"))
    assert choice.default == "dflt"
    assert choice.names == ["cp", "node", "dflt"]
    for wrong in ("a=", "=b", "a=x,a=y", "a=x,b,c"):
        with pytest.raises(KitValueError):
            profile.parse_choice(wrong)


def test_the_first_mapping_listed_wins_then_the_default():
    choice = profile.parse_choice("kube_control_plane=cp,kube_node=node")
    assert profile.profile_for(choice, "h", {"kube_node", "kube_control_plane"}) == "cp"
    assert profile.profile_for(choice, "h", {"kube_node"}) == "node"
    with pytest.raises(KitValueError, match="host h is in none of the groups"):
        profile.profile_for(choice, "h", {"etcd"})
    with_default = profile.parse_choice("kube_node=node,base")
    assert profile.profile_for(with_default, "h", {"etcd"}) == "base"


def test_host_overrides_read_prefixed_variables_as_yaml():
    found = profile.host_overrides(
        "w1", {"hostkit_ports_free": "{10250: kubelet}", "hostkit_items": ["a"], "other": 1}
    )
    assert found == {"ports_free": {10250: "kubelet"}, "items": ["a"]}
    with pytest.raises(KitValueError, match="w1: hostkit_items is not a YAML value"):
        profile.host_overrides("w1", {"hostkit_items": "[a"})
