import pytest

from kit.edits import modules
from kit.errors import KitValueError

MODPROBE = (
    "# CIS 1.1.1.1\n"
    "install cramfs /bin/false\n"
    "blacklist cramfs\n"
    "install  usb-storage\t/bin/true\n"
    "install snd /sbin/modprobe --ignore-install snd && echo loaded\n"
    "options nf_conntrack hashsize=65536\n"
)


def test_install_blocks_find_false_and_true_with_dash_underscore_equivalence():
    assert modules.install_blocks(MODPROBE, "cramfs") == ["install cramfs /bin/false"]
    assert modules.install_blocks(MODPROBE, "usb_storage") == ["install  usb-storage\t/bin/true"]
    assert modules.install_blocks(MODPROBE, "snd") == []
    assert modules.install_blocks(MODPROBE, "br_netfilter") == []


def test_modules_load_add_is_idempotent_and_keeps_comments():
    text = "# load at boot\noverlay\n; old\n"
    out = modules.add_module(text, "br_netfilter")
    assert out == text + "br_netfilter\n"
    assert modules.add_module(out, "br-netfilter") == out
    assert modules.parse_modules_load(out) == ["overlay", "br_netfilter"]


def test_set_options_replaces_one_line_and_removes_when_empty():
    out = modules.set_options(MODPROBE, "nf-conntrack", ["hashsize=131072"])
    assert "options nf-conntrack hashsize=131072\n" in out
    assert "65536" not in out
    assert modules.module_options(out, "nf_conntrack") == ["hashsize=131072"]
    assert modules.set_options(MODPROBE, "nf_conntrack", ["hashsize=65536"]) == MODPROBE
    cleared = modules.set_options(MODPROBE, "nf_conntrack", [])
    assert cleared == MODPROBE.replace("options nf_conntrack hashsize=65536\n", "")


@pytest.mark.parametrize("param", ["novalue", "a=b c", "=1", "a=1\n"])
def test_set_options_rejects_malformed_parameters(param):
    with pytest.raises(KitValueError, match="nf_conntrack"):
        modules.set_options("", "nf_conntrack", [param])
