import pytest

from kit.edits import keyvalue
from kit.errors import KitValueError

GRUB = (
    "# If you change this file, run 'update-grub'.\n"
    "GRUB_DEFAULT=0\n"
    'GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"\n'
    "#GRUB_TERMINAL=console\n"
)


def test_parse_keeps_quotes_and_unquote_strips_one_pair():
    got = keyvalue.parse(GRUB)
    assert got == {"GRUB_DEFAULT": "0", "GRUB_CMDLINE_LINUX_DEFAULT": '"quiet splash"'}
    assert keyvalue.unquote(got["GRUB_CMDLINE_LINUX_DEFAULT"]) == "quiet splash"


def test_set_value_replaces_in_place_and_leaves_commented_keys_alone():
    out = keyvalue.set_value(GRUB, "GRUB_DEFAULT", "1")
    assert out == GRUB.replace("GRUB_DEFAULT=0", "GRUB_DEFAULT=1")
    out = keyvalue.set_value(GRUB, "GRUB_TERMINAL", "serial")
    assert out == GRUB + "GRUB_TERMINAL=serial\n"


def test_spaced_separator_and_custom_separator():
    assert keyvalue.set_value("a = 1\n", "a", "2", spaced=True) == "a = 2\n"
    assert keyvalue.set_value("Port: 22\n", "Port", "2222", sep=":") == "Port=2222\n".replace(
        "=", ":"
    )


@pytest.mark.parametrize(("key", "value"), [("a=b", "1"), ("#a", "1"), ("a", "1\n"), ("a", " 1")])
def test_set_value_rejects_what_would_not_parse_back(key, value):
    with pytest.raises(KitValueError):
        keyvalue.set_value("", key, value)
