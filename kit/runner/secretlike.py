"""Whether a file's text holds something that looks like a secret, so its diff is not shown.

A key is secret-looking when a secret's name is anywhere in it, in any case and with any
separators (`db_password`, `PGPASSWORD`, `apiToken`, `client_secret`, `Authorization`),
or when it ends with a short name that is too common inside other words to look for
anywhere (`ansible_become_pass`, `requirepass`, `wpa_psk`, `basic_auth`). A key naming a
setting about a secret rather than the secret (`password_file`, `PasswordAuthentication`,
`secretName`, `auth_method`) is not. Keys are found in `key=value`, `key: value`,
`"key": value`, `<key>value`, `--key value` flags, and `key value` (redis' `requirepass x`,
nginx's `Proxy-Authorization "Basic x"`, netrc's `password x`) outside comment lines,
where prose would match; private key blocks and URLs with a password count too.

Erring means a diff shown as digests, so the names are broad. Every pattern is linear in
the text (possessive runs, anchored at a key's first character): a host's file of any
size costs one pass.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

# Anywhere in a key. Separators are dropped first: api_key, api-key and apiKey are one.
_ANYWHERE = re.compile(
    rb"password|passwd|passphrase|secret|token|apikey|privatekey|presharedkey|accesskey"
    rb"|credential|authori[sz]ation"
)
# At a key's end only: `pass` is in passive, `auth` in author, `pwd` in pwdump.
_AT_END = re.compile(rb"(?:pass|pwd|psk|auth)$")
# Keys that end with a short name and are not secrets: nginx's upstream directives.
_NOT_SECRET = {b"proxypass", b"fastcgipass", b"uwsgipass", b"scgipass", b"grpcpass", b"bypass"}
_NOT_SECRET |= {b"memcachedpass"}
# A key ending so names a setting about a secret (a path, a name, a method), not one.
_ABOUT = (
    b"authentication",
    b"file",
    b"path",
    b"dir",
    b"url",
    b"uri",
    b"name",
    b"length",
    b"policy",
    b"method",
    b"type",
    b"mode",
)

_KEY = rb"(?<![\w.-])([\w.-]++)"
_SEPARATED = re.compile(_KEY + rb"""["']?[ \t]*+[:=]""")
# An XML element with text: <password>x</password>, not fstab's header `<dump> <pass>`.
_ELEMENT = re.compile(rb"<([\w.-]++)>(?=[^<\s])")
# The value is looked at, not taken: it may be the next key.
_SPACED = re.compile(_KEY + rb"""["']?[ \t]++(?=[^\s=:])""")
_FLAG = re.compile(rb"(?<![\w-])--?([\w-]++)(?:=|[ \t]++)(?=[^\s-])")
_MARKERS = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY|://[^/\s:@]++:[^/\s@]++@")
_COMMENT = re.compile(rb"(?m)^[ \t]*+[#;][^\n]*+")


# Every name above contains one of these: a text without them holds no secret-looking key.
_NEEDLES = (b"pass", b"pwd", b"psk", b"auth", b"secret", b"token", b"key", b"credential")


@lru_cache(maxsize=4096)  # a host file repeats its keys; a big one has many
def _secret_key(key: bytes, *, anywhere: bool = True) -> bool:
    plain = key.lower().replace(b"_", b"").replace(b"-", b"").replace(b".", b"")
    if plain in _NOT_SECRET or plain.endswith(_ABOUT):
        return False
    if _AT_END.search(plain):
        return True
    found = _ANYWHERE.search(plain)
    # Outside key=value forms only a key that ends with the name counts: `PasswordAuth...
    # no` is a setting, `requirepass x` a secret.
    return found is not None and (anywhere or found.end() == len(plain))


def holds_secret(text: bytes) -> bool:
    if _MARKERS.search(text):
        return True
    lowered = text.lower()
    if not any(needle in lowered for needle in _NEEDLES):
        return False
    for pattern in (_SEPARATED, _ELEMENT):
        if any(_secret_key(m.group(1)) for m in pattern.finditer(text)):
            return True
    if any(_secret_key(m.group(1), anywhere=False) for m in _FLAG.finditer(text)):
        return True
    comments: list[int] | None = None  # the comment lines' starts and ends, found once
    for match in _SPACED.finditer(text):
        if not _secret_key(match.group(1), anywhere=False):
            continue
        if comments is None:
            comments = [at for c in _COMMENT.finditer(text) for at in c.span()]
        # Inside a comment line when an odd number of span edges lie before it.
        if bisect.bisect_right(comments, match.start()) % 2 == 0:
            return True
    return False
