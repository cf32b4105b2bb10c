"""Setting one scalar in the kubelet's config file: every other line stays as it was."""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from kit.edits import yamlset
from tests.unit.test_cis_node import CONFIG

COMMENTED = """\
# managed by hand
apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: true   # to be turned off
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
kind: KubeletConfiguration
tlsCipherSuites:
- TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
"""


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in after.splitlines() if line not in before.splitlines()]


def test_replacing_a_value_keeps_comments_and_other_lines():
    after = yamlset.set_scalar(COMMENTED, ["authentication", "anonymous", "enabled"], False)
    assert changed_lines(COMMENTED, after) == ["    enabled: false   # to be turned off"]
    assert len(after.splitlines()) == len(COMMENTED.splitlines())


def test_a_missing_key_goes_at_the_end_of_its_parents_block():
    after = yamlset.set_scalar(COMMENTED, ["authorization", "mode"], "Webhook")
    assert after.startswith(COMMENTED)
    assert after.endswith("authorization:\n  mode: Webhook\n")
    nested = yamlset.set_scalar(COMMENTED, ["authentication", "webhook", "enabled"], True)
    assert "    clientCAFile: /etc/kubernetes/pki/ca.crt\n  webhook:\n    enabled: true\n" in nested
    assert yaml.safe_load(nested)["authentication"]["webhook"] == {"enabled": True}


def test_setting_what_is_already_there_changes_nothing():
    assert yamlset.set_scalar(CONFIG, ["rotateCertificates"], True) == CONFIG
    once = yamlset.set_scalar(CONFIG, ["readOnlyPort"], 0)
    assert yamlset.set_scalar(once, ["readOnlyPort"], 0) == once


def test_a_flow_mapping_falls_back_to_a_full_dump_with_the_same_data():
    after = yamlset.set_scalar("memorySwap: {}\na: 1\n", ["memorySwap", "swapBehavior"], "NoSwap")
    assert yaml.safe_load(after) == {"memorySwap": {"swapBehavior": "NoSwap"}, "a": 1}


def test_a_text_value_that_yaml_would_read_as_another_type_is_quoted():
    after = yamlset.set_scalar("a: 1\n", ["b"], "true")
    assert yaml.safe_load(after)["b"] == "true"
    assert yaml.safe_load(yamlset.set_scalar("a: 1\n", ["b"], "4h0m0s"))["b"] == "4h0m0s"


_KEYS = st.sampled_from(["authentication", "anonymous", "enabled", "readOnlyPort", "x"])
_VALUES = st.one_of(st.booleans(), st.integers(-5, 5), st.sampled_from(["Webhook", "0s", "a b"]))


@given(path=st.lists(_KEYS, min_size=1, max_size=3), value=_VALUES)
def test_any_edit_loads_as_the_wanted_data_and_is_idempotent(path, value):
    data = yaml.safe_load(COMMENTED)
    after = yamlset.set_scalar(COMMENTED, path, value)
    node = data
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    assert yaml.safe_load(after) == data
    assert yamlset.set_scalar(after, path, value) == after
