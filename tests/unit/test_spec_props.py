"""Properties of host spec parsing: any text is a valid spec or a KitValueError."""

from __future__ import annotations

import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from kit.connection.spec import HostSpec, parse
from kit.errors import KitValueError

# Pieces specs are made of, so generated text often gets past the first checks.
_pieces = st.sampled_from(
    ["ssh://", "local://", "@", ":", "[", "]", "%", "%0A", "%00", "%25", "/", "-", ".", "root", "h"]
)
_text = st.lists(st.one_of(_pieces, st.text(max_size=4)), max_size=12).map("".join)


def _clean(value: str) -> bool:
    return not any(unicodedata.category(c)[0] == "C" or c.isspace() for c in value)


@given(_text)
@example("ssh://root%0A@host")
@example("ssh://root%00@host")
@example("ssh://[fe80::1%eth0\x0b]")
@example("ssh://h:\u0663")
@example("ssh://h\x1c")
@example("ssh://u@h:22\u2028")
def test_any_text_is_a_valid_spec_or_a_kit_value_error(text: str) -> None:
    try:
        spec = parse(text)
    except KitValueError as exc:
        assert str(exc)
        return
    assert isinstance(spec, HostSpec)
    assert spec.scheme in ("local", "ssh")
    for value in (spec.host, spec.user or ""):
        assert _clean(value), spec
        assert not value.startswith("-"), spec
    assert spec.port is None or 0 < spec.port < 65536
    if spec.scheme == "ssh":
        assert 0 < len(spec.host) <= 253
        assert spec.user is None or 0 < len(spec.user) <= 33
        assert parse(str(spec)) == spec
