"""Names: every kind refuses what a tool would read as an option."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.edits import modules
from kit.errors import KitValueError
from kit.runner import validate

KINDS = sorted(validate._RULES)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", ["-r", "--now", "-q", "-Hroot@host", "-", "--", "-a.b"])
def test_no_kind_of_name_starts_with_a_dash(kind, value):
    assert not validate.matches(kind, value)
    with pytest.raises(KitValueError, match=kind):
        validate.name(kind, value)


@given(st.sampled_from(KINDS), st.text(min_size=0, max_size=20))
def test_a_dashed_name_is_never_valid(kind, rest):
    assert not validate.matches(kind, "-" + rest)


@pytest.mark.parametrize("name", ["-r", "--all"])
def test_module_edits_refuse_dashed_names(name):
    with pytest.raises(KitValueError):
        modules.add_module("", name)
    with pytest.raises(KitValueError):
        modules.set_options("", name, ["a=1"])
