"""Host specs: what parses, what is refused, and how specs print back."""

from __future__ import annotations

import pytest

from kit.connection.spec import HostSpec, parse
from kit.errors import KitValueError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("local://", HostSpec("local")),
        ("local", HostSpec("local")),
        ("ssh://node1", HostSpec("ssh", "node1")),
        ("node1", HostSpec("ssh", "node1")),
        ("ssh://admin@node1:2222", HostSpec("ssh", "node1", "admin", 2222)),
        ("admin@10.0.0.5", HostSpec("ssh", "10.0.0.5", "admin")),
        ("ssh://[2001:db8::1]:2200", HostSpec("ssh", "2001:db8::1", None, 2200)),
        ("ssh://ops@[::1]", HostSpec("ssh", "::1", "ops")),
        ("  ssh://n.example.com/  ", HostSpec("ssh", "n.example.com")),
        ("ssh://svc$@host", HostSpec("ssh", "host", "svc$")),
        ("ssh://[fe80::1%eth0]:22", HostSpec("ssh", "fe80::1%eth0", None, 22)),
    ],
)
def test_good_specs(text: str, expected: HostSpec) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("http://node1", "unknown scheme"),
        ("local://node1", "takes no host"),
        ("ssh://user:pw@node1", "passwords"),
        ("ssh://node1/path", "unexpected path"),
        ("ssh://node1?x=1", "unexpected path"),
        ("ssh://node1:99999", "invalid port"),
        ("ssh://node1:0", "invalid port"),
        ("ssh://node1:abc", "invalid port"),
        ("ssh://-rf", "invalid host"),
        ("ssh://no de", "whitespace"),
        ("ssh://root%0A@host", "user.*control character"),
        ("ssh://root\n@host", "control character"),
        ("ssh://no\tde", "control character"),
        ("ssh://node1\x00", "control character"),
        ("ssh://[fe80::1%eth0;x]", "invalid host"),
        ("ssh://node1:\u0663", "invalid port"),
        ("ssh://node1:+22", "invalid port"),
        ("ssh://" + "a" * 254, "invalid host"),
        ("ssh://" + "u" * 40 + "@node1", "invalid user"),
        ("ssh://[not:an:ip:::x]", "invalid host"),
        ("ssh://bad;user@node1", "invalid user"),
        ("ssh://-o@node1", "invalid user"),
    ],
)
def test_bad_specs_say_what_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(KitValueError, match=complaint):
        parse(text)


def test_bad_spec_error_is_also_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse("ftp://x")


@pytest.mark.parametrize(
    "text",
    ["local://", "ssh://node1", "ssh://admin@node1:2222", "ssh://[2001:db8::1]:2200"],
)
def test_specs_print_back_as_written(text: str) -> None:
    assert str(parse(text)) == text
    assert parse(str(parse(text))) == parse(text)


def test_name_is_the_host() -> None:
    assert parse("ssh://a@node7:22").name == "node7"
    assert parse("local://").name == "local"
