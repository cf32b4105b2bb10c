"""mask_url: a URL's password never survives, however malformed the URL."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kit.runner.validate import mask_url

SECRET = "Zq9-SECRET"

schemes = st.sampled_from(["", "https:", "http:", "ftp:", "git+ssh:", "HTTPS:"])
slashes = st.sampled_from(["", "/", "//", "///"])
words = st.text(alphabet=st.characters(blacklist_characters="@:/", codec="utf-8"), max_size=8)
tails = st.text(alphabet=st.characters(blacklist_characters="@", codec="utf-8"), max_size=20)


@given(schemes, slashes, words, words, words, tails)
def test_the_password_never_survives(scheme, slash, user, before, after, tail):
    url = f"{scheme}{slash}{user}:{before}{SECRET}{after}@host{tail}"
    masked = mask_url(url)
    assert SECRET not in masked
    assert masked.endswith(f"@host{tail}")


@given(schemes, slashes, tails)
def test_a_url_without_userinfo_is_kept(scheme, slash, tail):
    url = f"{scheme}{slash}example.org{tail}"
    assert mask_url(url) == url


def test_examples():
    assert mask_url("https:/user:pw@host/x") == "https:/user:***@host/x"
    assert mask_url("https://u:p@ss@host/") == "https://u:***@host/"
    assert mask_url("https://token@host/a") == "https://***@host/a"
    assert mask_url("https://host/pkg@1.0/a") == "https://host/pkg@1.0/a"
