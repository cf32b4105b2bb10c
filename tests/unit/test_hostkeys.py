"""known_hosts as OpenSSH reads it: markers, patterns, damaged lines, locking, links."""

from __future__ import annotations

import logging
import multiprocessing
from pathlib import Path

import paramiko
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit.connection import hostkeys
from kit.connection.hostkeys import KnownHosts, entry_name
from kit.errors import HostKeyRejected, KitError

NAME = entry_name("node1.example.com", 22)
ED25519_BLOB = "AAAAC3NzaC1lZDI1NTE5AAAAIGd3ubsb9BtiC6FyxUd4pCp3ZcK+Wa8Thg4KP4J6ShOL"


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Warnings are once per file and process; each test starts with none given.
    monkeypatch.setattr(hostkeys, "_warned", set(), raising=False)


@pytest.fixture(scope="module")
def key() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate()


@pytest.fixture(scope="module")
def other() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate()


def _line(hosts: str, key: paramiko.PKey, marker: str = "") -> str:
    return f"{marker} {hosts} {key.get_name()} {key.get_base64()}".lstrip() + "\n"


def _known(tmp_path: Path, text: str | bytes) -> KnownHosts:
    path = tmp_path / "known_hosts"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return KnownHosts(path)


@pytest.mark.parametrize("policy", ["strict", "accept-new"])
@pytest.mark.parametrize("hosts", [NAME, "*.example.com", "node?.example.com,other"])
def test_a_revoked_key_is_refused_even_when_also_recorded(tmp_path, key, policy, hosts):
    known = _known(tmp_path, _line(NAME, key) + _line(hosts, key, "@revoked"))
    with pytest.raises(HostKeyRejected, match=r"@revoked in .*known_hosts \(line 2\)"):
        known.verify("node1", NAME, key, policy)


def test_a_revoked_line_for_other_hosts_does_not_refuse_this_one(tmp_path, key):
    known = _known(
        tmp_path, _line(NAME, key) + _line("elsewhere,!node1.example.com", key, "@revoked")
    )
    known.verify("node1", NAME, key, "strict")


def test_a_cert_authority_does_not_vouch_for_a_plain_key(tmp_path, key):
    # Even the CA's own key, shown as a plain host key, is not trusted by the CA line.
    known = _known(tmp_path, _line("*.example.com", key, "@cert-authority"))
    with pytest.raises(HostKeyRejected, match="vouches for host certificates only"):
        known.verify("node1", NAME, key, "strict")


def test_accept_new_records_a_host_that_has_only_a_cert_authority_line(tmp_path, key):
    ca_line = _line("*.example.com", key, "@cert-authority")
    known = _known(tmp_path, ca_line)
    known.verify("node1", NAME, key, "accept-new")
    assert known.path.read_text() == ca_line + _line(NAME, key)
    known.verify("node1", NAME, key, "strict")


def test_a_cert_authority_line_leaves_recorded_keys_working(tmp_path, key, other):
    known = _known(tmp_path, _line("*", other, "@cert-authority") + _line(NAME, key))
    known.verify("node1", NAME, key, "strict")
    with pytest.raises(HostKeyRejected, match="CHANGED"):
        known.verify("node1", NAME, other, "strict")


MALFORMED = [
    "node1.example.com\n",
    "node1.example.com ecdsa-sha2-nistp256\n",
    "node1.example.com ecdsa-sha2-nistp256 not*base64\n",
    # An ed25519 blob under another type name.
    f"node1.example.com ecdsa-sha2-nistp256 {ED25519_BLOB}\n",
    "@trusted node1.example.com ssh-ed25519 AAAA\n",
    "@revoked\n",
    "|1|notbase64|x ssh-ed25519 AAAA\n",
    "node1.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGd3\n",
]


@pytest.mark.parametrize("bad", MALFORMED)
def test_a_malformed_line_is_skipped_with_one_warning(tmp_path, key, bad, caplog):
    known = _known(tmp_path, bad + _line(NAME, key) + bad)
    with caplog.at_level(logging.WARNING, logger="kit.connection.hostkeys"):
        known.verify("node1", NAME, key, "strict")
        known.verify("node1", NAME, key, "strict")
        assert known.preferred_types(NAME, ["ssh-ed25519", "ecdsa-sha2-nistp256"])[0] == (
            "ecdsa-sha2-nistp256"
        )
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1, warned
    assert str(known.path) in warned[0]
    assert "line 1" in warned[0]
    assert "and 1 more" in warned[0]


def test_non_utf8_bytes_in_a_comment_are_harmless(tmp_path, key, caplog):
    text = b"# caf\xe9\n" + _line(NAME, key).rstrip("\n").encode() + b" host \xff\xfe\n"
    known = _known(tmp_path, text)
    with caplog.at_level(logging.WARNING):
        known.verify("node1", NAME, key, "strict")
    assert not caplog.records


def test_a_damaged_line_for_the_host_does_not_block_accept_new(tmp_path, key):
    known = _known(tmp_path, f"{NAME} ecdsa-sha2-nistp256 AAAA\n")
    known.verify("node1", NAME, key, "accept-new")
    known.verify("node1", NAME, key, "strict")


def test_a_second_key_of_the_same_type_is_accepted(tmp_path, key, other):
    # OpenSSH accepts any recorded key of the offered type.
    known = _known(tmp_path, _line(NAME, other) + _line(NAME, key))
    known.verify("node1", NAME, key, "strict")
    known.verify("node1", NAME, other, "strict")


def test_accept_new_writes_through_a_symlink(tmp_path, key, other):
    real = tmp_path / "real" / "known_hosts"
    real.parent.mkdir()
    real.write_text(_line("otherhost", other))
    real.chmod(0o644)
    link = tmp_path / "known_hosts"
    link.symlink_to(real)
    KnownHosts(link).verify("node1", NAME, key, "accept-new")
    assert link.is_symlink()
    assert link.resolve() == real
    assert real.read_text() == _line("otherhost", other) + _line(NAME, key)
    assert real.stat().st_mode & 0o777 == 0o644
    KnownHosts(real).verify("node1", NAME, key, "strict")


def test_accept_new_follows_a_dangling_symlink(tmp_path, key):
    real = tmp_path / "real" / "known_hosts"
    link = tmp_path / "known_hosts"
    link.symlink_to(real)
    KnownHosts(link).verify("node1", NAME, key, "accept-new")
    assert link.is_symlink()
    assert real.read_text() == _line(NAME, key)


ROUNDS = 12
WORKERS = 8


def _accept_many(path: str, worker: int, start: multiprocessing.synchronize.Barrier) -> None:
    keys = [paramiko.ECDSAKey.generate() for _ in range(ROUNDS)]
    start.wait()
    for index, key in enumerate(keys):
        name = f"w{worker}-{index}.example.com"
        KnownHosts(path).verify(name, name, key, "accept-new")


def test_processes_accepting_at_once_keep_every_entry(tmp_path):
    path = tmp_path / "known_hosts"
    context = multiprocessing.get_context("fork")
    start = context.Barrier(WORKERS)
    procs = [
        context.Process(target=_accept_many, args=(str(path), w, start)) for w in range(WORKERS)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    assert [p.exitcode for p in procs] == [0] * WORKERS
    names = {line.split()[0] for line in path.read_text().splitlines()}
    expected = {f"w{w}-{i}.example.com" for w in range(WORKERS) for i in range(ROUNDS)}
    assert names == expected
    assert len(path.read_text().splitlines()) == WORKERS * ROUNDS


_pieces = st.sampled_from(
    [
        "@revoked",
        "@cert-authority",
        "@x",
        "|1|",
        "|",
        "*",
        "!",
        ",",
        "[",
        "]:22",
        NAME,
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ssh-rsa",
        ED25519_BLOB,
        ED25519_BLOB[:20],
        "AAAA",
        "=",
        " ",
        "\t",
        "\n",
        "#",
        "\xe9",
    ]
)
_files = st.one_of(
    st.binary(max_size=200),
    st.lists(_pieces | st.text(max_size=4), max_size=30).map(
        lambda parts: "".join(parts).encode("utf-8", "surrogateescape")
    ),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_files, policy=st.sampled_from(["strict", "accept-new"]))
def test_any_file_verifies_or_refuses_with_a_kit_error(tmp_path, key, data, policy):
    path = tmp_path / "fuzzed_known_hosts"
    path.write_bytes(data)
    try:
        KnownHosts(path).verify("node1", NAME, key, policy)
    except KitError:
        return
    assert KnownHosts(path).recorded(NAME).get("ecdsa-sha2-nistp256")
