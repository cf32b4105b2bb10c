"""A file change's diff (dry run, fix, JUnit, JSON, HTML) never shows a secret: a file that
holds a secret-looking key anywhere shows digests instead, whatever the key's spelling."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kit.runner.change import private_diff

PATH = "/etc/app/app.conf"
VALUE = "Zq9-S3cr3t-value"


def shown(old: str, new: str) -> str:
    return private_diff(PATH, old.encode(), new.encode(), readable=True)


# Lines from real configuration files, each holding VALUE as a secret.
SECRET_LINES = {
    "db_password": f"db_password={VALUE}",
    "client_secret": f"client_secret: {VALUE}",
    "PGPASSWORD": f"export PGPASSWORD={VALUE}",
    "apiToken-json": f'  "apiToken": "{VALUE}",',
    "authorization-header": f"Authorization: Bearer {VALUE}",
    "proxy-authorization": f'proxy_set_header Proxy-Authorization "Basic {VALUE}";',
    "aws-secret-access-key": f"aws_secret_access_key = {VALUE}",
    "django-secret-key": f"SECRET_KEY = '{VALUE}'",
    "ansible-become-pass": f"web1 ansible_become_pass={VALUE}",
    "wireguard-private-key": f"PrivateKey = {VALUE}",
    "wireguard-preshared-key": f"PresharedKey = {VALUE}",
    "wpa-psk": f"  psk={VALUE}",
    "redis-requirepass": f"requirepass {VALUE}",
    "redis-masterauth": f"masterauth {VALUE}",
    "netrc": f"machine example.org login deploy password {VALUE}",
    "xml-element": f"<password>{VALUE}</password>",
    "flag-in-a-unit": f"ExecStart=/usr/bin/agent --api-token {VALUE} --verbose",
    "flag-with-equals": f"ExecStart=/usr/bin/agent --db-password={VALUE}",
    "url-userinfo": f"proxy=http://deploy:{VALUE}@proxy.example:3128",
    "registry-credentials": f'credentials = "{VALUE}"',
    "basic-auth": f"basic_auth: {VALUE}",
    "oauth-upper": f"OAUTH={VALUE}",
    "docker-auth": f'{{"auths": {{"r.example": {{"auth": "{VALUE}"}}}}}}',
    "passphrase": f"ssl_passphrase = {VALUE}",
    "kubelet-token": f"    token: {VALUE}",
}


@pytest.mark.parametrize("line", SECRET_LINES.values(), ids=SECRET_LINES.keys())
def test_a_real_secret_line_is_never_shown(line):
    for old, new in (("", line + "\n"), (line + "\n", "")):
        diff = shown("# app\n" + old, "# app\n" + new)
        assert VALUE not in diff, diff
        assert "content not shown" in diff and "sha256" in diff


def test_a_private_key_block_is_never_shown():
    body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
    pem = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n"
    assert body not in shown("", pem)


# Keys that only look like secrets: their diffs are shown (the nice-to-have).
PLAIN_LINES = {
    "passive_mode": "passive_mode=YES",
    "sshd-password-authentication": "PasswordAuthentication no",
    "sshd-kbd-interactive": "KbdInteractiveAuthentication no",
    "login-defs": "PASS_MAX_DAYS 90",
    "author": "author: Jane Doe",
    "compass": "compass_heading: 270",
    "password-file": "password_file=/etc/app/db.pass",
    "token-path": "token_path: /var/run/secrets/token",
    "k8s-secret-name": "      secretName: app-tls",
    "pg-auth-method": "auth_method = scram-sha-256",
    "sysctl": "kernel.keys.maxkeys = 2000",
    "nginx-proxy-pass": "    proxy_pass http://backend:8080;",
    "login-defs-comment": "# Password aging controls:",
    "fstab-header": "# <file system> <mount point> <type> <options> <dump> <pass>",
}


@pytest.mark.parametrize("line", PLAIN_LINES.values(), ids=PLAIN_LINES.keys())
def test_an_ordinary_key_is_shown(line):
    diff = shown("", line + "\n")
    assert f"+{line}" in diff, diff


NAMES = st.sampled_from(
    [
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "private_key",
        "privatekey",
        "credentials",
        "authorization",
        "pass",
        "pwd",
        "auth",
    ]
)
AFFIXES = st.from_regex(r"[A-Za-z0-9]{0,6}[_.-]?", fullmatch=True)
FORMATS = st.sampled_from(
    ["{k}={v}", "{k} = {v}", "{k}: {v}", '"{k}": "{v}"', "'{k}': '{v}'", "export {k}={v}"]
)
CASES = st.sampled_from([str.lower, str.upper, str.title, lambda s: s])
VALUES = st.text(
    st.characters(codec="utf-8", exclude_categories=["C", "Z"], exclude_characters="\"'"),
    min_size=4,
    max_size=40,
)
SKELETON = f"--- {PATH}\n+++ {PATH}\n(content not shown: it holds secret-looking keys; sha256 "


@given(AFFIXES, NAMES, FORMATS, CASES, VALUES, st.booleans())
def test_a_secret_value_never_survives(prefix, name, form, case, value, added):
    key = case(prefix + name)
    assume(value not in SKELETON and not re.fullmatch(r"[0-9a-f >()\-\n]*", value))
    line = form.format(k=key, v=value)
    diff = shown("", line + "\n") if added else shown(line + "\n", "")
    assert value not in diff, (line, diff)


@pytest.mark.parametrize(
    "text",
    [b"a" * 1_000_000, b"# password x " * 80_000, b"x-" * 500_000, b"k=" * 500_000],
    ids=["one-long-word", "prose-in-one-comment", "dashes", "equals"],
)
def test_a_big_file_is_looked_at_in_one_pass(text):
    began = time.monotonic()
    private_diff(PATH, text, text + b"\n", readable=True)
    # Seconds, on a loaded machine; a pass per key start (quadratic) would take hours.
    assert time.monotonic() - began < 5
