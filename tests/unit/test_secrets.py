"""Secret providers: a secret never prints itself, and a literal string is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

import kit
from kit.connection.secrets import FromCallable, FromEnv, FromFile, Secret, provider
from kit.errors import KitError, KitValueError

VALUE = "s3cr3t-Value!"


def _never_shows(obj: object) -> None:
    assert VALUE not in repr(obj)
    assert VALUE not in str(obj)
    assert VALUE not in f"{obj}"


def test_secret_reveals_only_on_request() -> None:
    secret = Secret(VALUE)
    assert secret.reveal() == VALUE
    _never_shows(secret)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HK_TEST_SECRET", VALUE)
    source = FromEnv("HK_TEST_SECRET")
    assert source.get().reveal() == VALUE
    _never_shows(source)
    _never_shows(source.get())


def test_from_env_unset_names_the_variable_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HK_TEST_SECRET", raising=False)
    with pytest.raises(KitError, match="HK_TEST_SECRET"):
        FromEnv("HK_TEST_SECRET").get()


@pytest.mark.parametrize("name", ["", "A=B"])
def test_from_env_bad_name(name: str) -> None:
    with pytest.raises(KitValueError):
        FromEnv(name)


def test_from_file_first_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text(VALUE + "\nsecond line\n")
    source = FromFile(path)
    assert source.get().reveal() == VALUE
    _never_shows(source)


def test_from_file_missing_does_not_leak(tmp_path: Path) -> None:
    with pytest.raises(KitError, match="cannot read secret file"):
        FromFile(tmp_path / "absent").get()


def test_from_callable_and_plain_callables() -> None:
    source = provider(lambda: VALUE)
    assert isinstance(source, FromCallable)
    assert source.get().reveal() == VALUE
    _never_shows(source)


@pytest.mark.parametrize("literal", [VALUE, VALUE.encode()])
def test_literal_strings_are_refused_without_echoing_them(literal: str | bytes) -> None:
    with pytest.raises(KitValueError) as caught:
        provider(literal)  # type: ignore[arg-type]
    _never_shows(caught.value)


def test_connect_refuses_a_literal_password() -> None:
    with pytest.raises(KitValueError, match="not a literal string") as caught:
        kit.connect("local://", sudo_password=VALUE)  # type: ignore[arg-type]
    _never_shows(caught.value)


def test_unsupported_provider_type() -> None:
    with pytest.raises(KitValueError):
        provider(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["a\nb", "a\rb"])
def test_line_breaks_are_refused_without_echoing(bad: str) -> None:
    with pytest.raises(KitValueError) as caught:
        Secret(bad)
    assert bad not in str(caught.value)


def test_none_provider_stays_none() -> None:
    assert provider(None) is None


def test_write_line_hands_over_the_secret_and_a_newline() -> None:
    written: list[bytes] = []
    Secret(VALUE).write_line(written.append)
    assert written == [(VALUE + "\n").encode()]


def test_a_failed_write_leaves_no_frame_holding_the_secret() -> None:
    import traceback

    def broken(data: bytes) -> None:
        raise OSError("pipe closed")

    with pytest.raises(OSError) as caught:
        Secret(VALUE).write_line(broken)
    exc = caught.value
    text = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    assert "write_line" in text
    assert VALUE not in text
    assert VALUE not in str(caught.getrepr(showlocals=True, style="long"))
