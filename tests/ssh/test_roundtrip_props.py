"""The same properties over SSH: through the long-lived shell and through exec channels."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit.connection import Connection
from tests.ssh import sshd

ARGS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"))
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=200, deadline=None, suppress_health_check=_SLOW_OK)
@given(value=ARGS)
def test_any_argument_reaches_sh_unchanged_over_ssh(conn: Connection, value: str) -> None:
    result = conn.run("printf %%s %s", value)
    assert (result.rc, result.stdout_bytes, result.stderr_bytes) == (0, value.encode(), b"")


@settings(max_examples=100, deadline=None, suppress_health_check=_SLOW_OK)
@given(data=st.binary(max_size=100_000))
def test_any_bytes_survive_put_then_get_over_ssh(conn: Connection, data: bytes) -> None:
    path = f"/home/{sshd.USER}/hk-prop-blob"
    conn.put(data, path)
    assert conn.get(path) == data


def _octal(data: bytes) -> str:
    """A printf format that prints exactly data."""
    return "".join(f"\\{b:03o}" for b in data)


@settings(max_examples=100, deadline=None, suppress_health_check=_SLOW_OK)
@given(out=st.binary(max_size=3000), err=st.binary(max_size=3000), rc=st.integers(0, 255))
def test_any_output_and_exit_code_come_back_exact(
    conn: Connection, out: bytes, err: bytes, rc: int
) -> None:
    result = conn.run("printf %s; printf %s >&2; exit %s", _octal(out), _octal(err), rc)
    assert (result.rc, result.stdout_bytes, result.stderr_bytes) == (rc, out, err)
