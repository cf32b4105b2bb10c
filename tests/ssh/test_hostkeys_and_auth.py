"""Host key policies against a real sshd, client key rejection, unreachable ports."""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

import pytest

import kit
from kit.errors import AuthenticationFailed, HostKeyRejected, HostUnreachable
from tests.ssh import sshd


def _fingerprint(pub: Path) -> str:
    # ssh-keygen computes it independently of the code under test.
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, check=True)
    return out.stdout.decode().split()[1]


def _connect(server: sshd.Sshd, known_hosts: Path, **options):
    return kit.connect(
        server.spec(sshd.USER),
        identity_file=server.client_key,
        known_hosts=known_hosts,
        connect_timeout=10,
        **options,
    )


def test_known_key_is_accepted(server: sshd.Sshd) -> None:
    with _connect(server, server.known_hosts) as conn:
        assert conn.run("echo ok").stdout == "ok\n"


def test_unknown_key_is_rejected_naming_host_and_fingerprint(
    server: sshd.Sshd, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    with pytest.raises(HostKeyRejected) as caught:
        _connect(server, known)
    fingerprint = _fingerprint(server.host_key.with_suffix(".pub"))
    assert caught.value.host == "127.0.0.1"
    assert fingerprint in str(caught.value)
    assert "127.0.0.1" in str(caught.value)
    assert known.read_text() == ""


def test_missing_known_hosts_file_means_unknown(server: sshd.Sshd, tmp_path: Path) -> None:
    with pytest.raises(HostKeyRejected):
        _connect(server, tmp_path / "absent")
    assert not (tmp_path / "absent").exists()


def test_accept_new_records_the_key_then_strict_accepts_it(
    server: sshd.Sshd, tmp_path: Path
) -> None:
    known = tmp_path / "sub" / "known_hosts"
    with _connect(server, known, host_key_policy="accept-new") as conn:
        assert conn.run("true").ok
    assert known.read_text() == server.known_hosts_line()
    assert known.stat().st_mode & 0o777 == 0o600
    with _connect(server, known) as conn:
        assert conn.run("true").ok
    assert known.read_text() == server.known_hosts_line()  # not appended twice


def test_accept_new_keeps_existing_entries(server: sshd.Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    other = (
        "otherhost ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGd3ubsb9BtiC6FyxUd4pCp3ZcK+Wa8Thg4KP4J6ShOL"
    )
    known.write_text(other)  # no trailing newline: the new entry still gets its own line
    with _connect(server, known, host_key_policy="accept-new"):
        pass
    assert known.read_text() == other + "\n" + server.known_hosts_line()


@pytest.mark.parametrize("policy", ["strict", "accept-new"])
def test_changed_key_is_always_rejected(server: sshd.Sshd, tmp_path: Path, policy: str) -> None:
    impostor = sshd.keygen(tmp_path / "other_host_key")
    keytype, blob = impostor.with_suffix(".pub").read_text().split()[:2]
    known = tmp_path / "known_hosts"
    recorded = f"[127.0.0.1]:{server.port} {keytype} {blob}\n"
    known.write_text(recorded)
    with pytest.raises(HostKeyRejected) as caught:
        _connect(server, known, host_key_policy=policy)
    assert "CHANGED" in str(caught.value)
    assert _fingerprint(server.host_key.with_suffix(".pub")) in str(caught.value)
    assert known.read_text() == recorded


def test_hashed_entries_are_matched(server: sshd.Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(server.known_hosts_line())
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(known)], check=True, capture_output=True)
    assert known.read_text().startswith("|1|")
    with _connect(server, known) as conn:
        assert conn.run("true").ok


@pytest.mark.parametrize("policy", ["strict", "accept-new"])
def test_revoked_key_is_refused(server: sshd.Sshd, tmp_path: Path, policy: str) -> None:
    keytype, blob = server.host_key_pub.split()[:2]
    known = tmp_path / "known_hosts"
    recorded = server.known_hosts_line() + f"@revoked * {keytype} {blob}\n"
    known.write_text(recorded)
    with pytest.raises(HostKeyRejected, match="@revoked") as caught:
        _connect(server, known, host_key_policy=policy)
    assert _fingerprint(server.host_key.with_suffix(".pub")) in str(caught.value)
    assert known.read_text() == recorded


def test_cert_authority_line_leaves_plain_keys_to_their_own_lines(
    server: sshd.Sshd, tmp_path: Path
) -> None:
    ca = sshd.keygen(tmp_path / "ca")
    known = tmp_path / "known_hosts"
    keytype, blob = ca.with_suffix(".pub").read_text().split()[:2]
    ca_line = f"@cert-authority * {keytype} {blob}\n"
    known.write_text(ca_line + server.known_hosts_line())
    with _connect(server, known) as conn:
        assert conn.run("true").ok


def test_cert_authority_does_not_vouch_for_the_plain_key(server: sshd.Sshd, tmp_path: Path) -> None:
    # The host's own key, listed as a CA: it may sign host certificates, it is not one.
    keytype, blob = server.host_key_pub.split()[:2]
    known = tmp_path / "known_hosts"
    ca_line = f"@cert-authority [127.0.0.1]:{server.port} {keytype} {blob}\n"
    known.write_text(ca_line)
    with pytest.raises(HostKeyRejected, match="certificates only"):
        _connect(server, known)
    with _connect(server, known, host_key_policy="accept-new") as conn:
        assert conn.run("true").ok
    assert known.read_text() == ca_line + server.known_hosts_line()


def test_malformed_lines_are_skipped_with_one_warning(
    server: sshd.Sshd, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(
        "this line is not a host key\n"
        + server.known_hosts_line()
        + "@bogus-marker host ssh-ed25519 AAAA\n"
    )
    with caplog.at_level(logging.WARNING, logger="kit.connection.hostkeys"):
        for _ in range(2):
            with _connect(server, known) as conn:
                assert conn.run("true").ok
    warned = [r.getMessage() for r in caplog.records if str(known) in r.getMessage()]
    assert len(warned) == 1
    assert "line 1" in warned[0]


def test_non_utf8_comment_is_harmless(server: sshd.Sshd, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_bytes(b"# Jos\xe9's hosts\n" + server.known_hosts_line().encode()[:-1] + b" \xff\n")
    with _connect(server, known) as conn:
        assert conn.run("true").ok


def test_accept_new_writes_through_a_symlinked_known_hosts(
    server: sshd.Sshd, tmp_path: Path
) -> None:
    real = tmp_path / "dotfiles" / "known_hosts"
    real.parent.mkdir()
    real.write_text("")
    link = tmp_path / "known_hosts"
    link.symlink_to(real)
    with _connect(server, link, host_key_policy="accept-new") as conn:
        assert conn.run("true").ok
    assert link.is_symlink()
    assert real.read_text() == server.known_hosts_line()


def test_ignore_accepts_with_a_warning(
    server: sshd.Sshd, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    known = tmp_path / "known_hosts"
    with caplog.at_level(logging.WARNING), pytest.warns(UserWarning, match="not verified"):
        conn = _connect(server, known, host_key_policy="ignore")
    with conn:
        assert conn.run("true").ok
    assert any("not verified" in r.getMessage() for r in caplog.records)
    assert not known.exists()


def test_bad_policy_is_refused(server: sshd.Sshd) -> None:
    with pytest.raises(ValueError, match="host_key_policy"):
        _connect(server, server.known_hosts, host_key_policy="yolo")


def test_wrong_client_key_names_the_host(server: sshd.Sshd, tmp_path: Path) -> None:
    stranger = sshd.keygen(tmp_path / "stranger")
    with pytest.raises(AuthenticationFailed) as caught:
        kit.connect(
            server.spec(sshd.USER),
            identity_file=stranger,
            known_hosts=server.known_hosts,
            connect_timeout=10,
        )
    assert caught.value.host == "127.0.0.1"
    assert "127.0.0.1" in str(caught.value)
    assert sshd.USER in str(caught.value)


def test_unreachable_port(server: sshd.Sshd) -> None:
    port = sshd.free_port()
    started = time.monotonic()
    with pytest.raises(HostUnreachable) as caught:
        kit.connect(
            f"ssh://{sshd.USER}@127.0.0.1:{port}",
            identity_file=server.client_key,
            known_hosts=server.known_hosts,
            connect_timeout=5,
        )
    assert time.monotonic() - started < 5
    assert caught.value.host == "127.0.0.1"
    assert str(port) in str(caught.value)


def test_silent_port_times_out(server: sshd.Sshd) -> None:
    # A listening socket that never speaks SSH: the banner wait must end.
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(HostUnreachable):
            kit.connect(
                f"ssh://{sshd.USER}@127.0.0.1:{port}",
                identity_file=server.client_key,
                known_hosts=server.known_hosts,
                connect_timeout=1,
            )
        assert time.monotonic() - started < 8
