"""Properties of user files: any profile or inventory loads to a value or a KitError."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kit import inventory
from kit.catalog import profile
from kit.connection.spec import parse
from kit.errors import KitError

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(["base", "p", "22", "node1", "root", "a b", "-x", "10.0.0.1"]),
)
_keys = st.one_of(
    st.sampled_from(
        [
            "name",
            "description",
            "extends",
            "checks",
            "params",
            "all",
            "vars",
            "hosts",
            "children",
            "web",
            "web1",
            "ansible_host",
            "ansible_port",
            "ansible_user",
            "ansible_ssh_private_key_file",
        ]
    ),
    st.integers(0, 3),
    st.text(max_size=4),
)
_trees = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=12,
)
# Bytes a hand-edited or damaged file may hold.
_raw = st.one_of(
    st.binary(max_size=64),
    st.lists(
        st.sampled_from(['"', "'", "\\", "[", "]", ":", "=", "\n", " ", "#", "\xe9", "\x00"])
        | st.text(max_size=6),
        max_size=16,
    ).map(lambda parts: "".join(parts).encode("utf-8", "surrogateescape")),
)
_files = st.one_of(_trees.map(lambda t: yaml.safe_dump(t).encode()), _raw)


def _dump(tree: object) -> bytes:
    return yaml.safe_dump(tree).encode()


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(_files, _files)
@example(b"extends: 5\n", b"")
@example(b"extends: [base]\n", b"")
@example(b"{1: a, b: c}\n", b"")
@example(b"checks: [a]\n\xff\n", b"")
@example(b"extends: base\n", b"extends: p\n")
def test_any_profile_is_a_profile_or_a_kit_error(text: bytes, base: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "p.yaml").write_bytes(text)
        (directory / "base.yaml").write_bytes(base)
        try:
            loaded = profile.load("p", directory)
        except KitError as exc:
            assert str(exc)
            return
    assert isinstance(loaded, profile.Profile)
    assert all(isinstance(c, str) for c in loaded.checks)
    for key in loaded.params:
        with contextlib.suppress(KitError):
            loaded.values(key)


_ini_lines = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "[web]",
                "[web:vars]",
                "[prod:children]",
                "[web",
                "web1 ansible_host=10.0.0.1",
                'web1 ansible_user="adm in',
                "web2 ansible_port=22",
                "web2 ansible_port=x",
                "ansible_user=deploy",
                "web",
                "\\",
                '"',
                "'",
                "#",
            ]
        ),
        st.text(max_size=12),
    ),
    max_size=8,
).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogateescape"))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_ini_lines, _files), st.sampled_from(["hosts.ini", "hosts.yaml"]))
@example(b'[web]\nweb1 ansible_user="admin\n', "hosts.ini")
@example(b"[web]\nweb1 x=\\\n", "hosts.ini")
@example(b"all:\n  hosts: [web1]\n", "hosts.yaml")
@example(b"all:\n  hosts:\n    web1: 5\n", "hosts.yaml")
@example(b"all:\n  hosts:\n    web1: {ansible_port: [22]}\n", "hosts.yaml")
@example(b"all: &a\n  children:\n    g: *a\n", "hosts.yaml")
@example(b"[web]\nweb1 ansible_host=\xe9\n", "hosts.ini")
def test_any_inventory_is_hosts_or_a_kit_error(text: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(text)
        try:
            hosts = inventory.load(path)
        except KitError as exc:
            assert str(exc)
            return
    for host in hosts:
        # Every host is as valid as one given on the command line.
        again = parse(str(host.spec))
        assert (again.host, again.user, again.port) == (
            host.spec.host.lower(),
            host.spec.user,
            host.spec.port,
        )
