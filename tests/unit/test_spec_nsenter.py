"""nsenter:// host specs: a process whose namespaces the commands enter, PID 1 by default."""

from __future__ import annotations

import pytest

from kit.connection.spec import HostSpec, parse
from kit.errors import KitValueError


@pytest.mark.parametrize(
    ("text", "pid"),
    [("nsenter://", "1"), ("nsenter://1", "1"), ("nsenter://4242", "4242"), ("nsenter://1/", "1")],
)
def test_nsenter_specs_name_a_pid(text: str, pid: str) -> None:
    assert parse(text) == HostSpec("nsenter", pid)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("nsenter://0", "invalid pid"),
        ("nsenter://01", "invalid pid"),
        ("nsenter://-1", "invalid pid"),
        ("nsenter://abc", "invalid pid"),
        ("nsenter://99999999", "invalid pid"),
        ("nsenter://root@1", "takes no user"),
        ("nsenter://1:22", "invalid pid"),
        ("nsenter://1/x", "unexpected path"),
        ("nsenter://1?x=1", "unexpected path"),
        ("nsenter://1\x002", "control character"),
    ],
)
def test_bad_nsenter_specs_say_what_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(KitValueError, match=complaint):
        parse(text)


def test_nsenter_specs_print_back_and_name_the_pid() -> None:
    assert str(parse("nsenter://")) == "nsenter://1"
    assert parse(str(parse("nsenter://77"))) == HostSpec("nsenter", "77")
    assert parse("nsenter://77").name == "nsenter:77"


def test_unknown_scheme_message_lists_nsenter() -> None:
    with pytest.raises(KitValueError, match="nsenter://"):
        parse("ftp://x")
