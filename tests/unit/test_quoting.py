"""The one quoting function: shell words come back as exactly the values given."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.connection.quoting import command, join, quote


@given(st.text())
def test_quote_reads_back_as_one_word(value: str) -> None:
    assert shlex.split(quote(value)) == [value]


@given(st.lists(st.text(), max_size=6))
def test_join_reads_back_as_the_same_argv(argv: list[str]) -> None:
    assert shlex.split(join(argv)) == argv


@pytest.mark.parametrize(
    "value", ["", "a b", "it's", "$(reboot)", "`id`", "a;b", "*", "-rf", "x\ny", "~root"]
)
def test_dangerous_values_stay_inert(value: str) -> None:
    assert shlex.split(f"echo {quote(value)}") == ["echo", value]


def test_command_fills_placeholders_with_quoted_values() -> None:
    assert command("ls -- %s %s", "a b", Path("/tmp/x y")) == "ls -- 'a b' '/tmp/x y'"
    assert command("kill %s", 12) == "kill 12"


def test_command_without_args_is_left_alone() -> None:
    assert command("echo 100%") == "echo 100%"


def test_literal_percent_with_args_needs_doubling() -> None:
    assert command("printf %%s %s", "x") == "printf %s x"


def test_bool_is_refused() -> None:
    with pytest.raises(TypeError):
        quote(True)  # type: ignore[arg-type]


def test_wrong_argument_count_is_an_error() -> None:
    with pytest.raises(TypeError):
        command("cp %s %s", "only-one")
