"""Properties over a real /bin/sh: any argument arrives unchanged, any bytes survive put/get."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kit
from kit.connection import Connection

# Any text a command line can carry: no NUL (argv cannot hold it), no lone surrogates.
ARGS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"))

_conn: Connection = kit.connect("local://")


@settings(max_examples=300, deadline=None)
@given(ARGS)
def test_any_argument_reaches_sh_unchanged(value: str) -> None:
    result = _conn.run("printf %%s %s", value)
    assert result.rc == 0
    assert result.stdout_bytes == value.encode()


@settings(max_examples=100, deadline=None)
@given(st.lists(ARGS, min_size=2, max_size=5))
def test_several_arguments_stay_separate(values: list[str]) -> None:
    template = "printf '%%s\\0'" + " %s" * len(values)
    result = _conn.run(template, *values)
    assert result.stdout_bytes.split(b"\0")[:-1] == [v.encode() for v in values]


_folder = Path(tempfile.mkdtemp(prefix="hostkit-props-"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200_000))
def test_any_bytes_survive_put_then_get(data: bytes) -> None:
    path = str(_folder / "blob")
    _conn.put(data, path)
    assert _conn.get(path) == data
    assert Path(path).read_bytes() == data
