"""Kernel release and build options, as kubeadm's SystemVerification judges them.

The reference cannot run here (it is Go, and reads the running kernel); the tests follow
system-validators validators/kernel_validator.go: validateKernelVersion (a warning since
1.10), validateCachedKernelConfig (y and m pass; n, absence and `# ... is not set` fail;
the first of an option's names that the config sets decides), parseKernelConfig (only
`^CONFIG_[A-Z0-9_]+=[myn]` lines) and getKernelConfigReader (the path order).

The configs under data/kernelprep are hand-written excerpts, in the shape of Debian 12's,
Ubuntu 22.04's and Rocky 9's /boot/config-$(uname -r), holding the options the validator
reads.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hostkit_catalog.checks import test_kernel
from kit.catalog import profile
from kit.runner import kernel
from tests.unit.test_catalog_verdicts import fails, load

DATA = Path(__file__).parent / "data" / "kernelprep"
RELEASES = {
    "debian12": "6.1.0-18-amd64",
    "ubuntu2204": "5.15.0-91-generic",
    "rocky9": "5.14.0-362.8.1.el9_3.x86_64",
}
PROFILES = Path(test_kernel.__file__).parent / "profiles"


def _node():
    return profile.load("kubernetes-node", PROFILES)


def _config(name: str) -> tuple[str, dict[str, str]]:
    path = f"/boot/config-{RELEASES[name]}"
    return path, kernel.parse_kernel_config((DATA / f"config-{RELEASES[name]}").read_text())


def test_parse_reads_only_what_the_validator_reads():
    values = kernel.parse_kernel_config(
        'CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D="text"\nCONFIG_E=64\n'
        "  CONFIG_F=n  \nCONFIG_g=y\n"
    )
    assert values == {"CONFIG_A": "y", "CONFIG_B": "m", "CONFIG_F": "n"}


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_every_required_option_passes_on_the_three_distributions(name):
    path, values = _config(name)
    for option, _scope in _node().values("kernel_config_required"):
        test_kernel.config_verdict(path, values, option, RELEASES[name])


def test_built_as_a_module_counts_as_enabled():
    # Rocky 9 and Debian build ext4 as a module; Ubuntu builds it in: all three pass.
    path, values = _config("rocky9")
    assert values["CONFIG_EXT4_FS"] == "m"
    test_kernel.config_verdict(path, values, "EXT4_FS", RELEASES["rocky9"])


def test_disabled_and_absent_options_fail_as_the_validator_reports_them():
    path, values = _config("ubuntu2204")
    fails(
        test_kernel.config_verdict,
        path,
        {**values, "CONFIG_MEMCG": "n"},
        "MEMCG",
        "r",
        match="CONFIG_MEMCG disabled (/boot/config-5.15.0-91-generic: CONFIG_MEMCG=n)",
    )
    # `# CONFIG_AUFS_FS is not set` is no CONFIG_ line: "not set", like an absent one.
    fails(test_kernel.config_verdict, path, values, "AUFS_FS", "r", match="CONFIG_AUFS_FS not set")


def test_the_first_name_the_config_sets_decides_and_absence_names_the_last():
    path = "/proc/config.gz"
    both = {"CONFIG_NETFILTER_XT_TARGET_REDIRECT": "n", "CONFIG_IP_NF_TARGET_REDIRECT": "m"}
    option = "NETFILTER_XT_TARGET_REDIRECT|IP_NF_TARGET_REDIRECT"
    fails(test_kernel.config_verdict, path, both, option, "r", match="XT_TARGET_REDIRECT disabled")
    test_kernel.config_verdict(path, {"CONFIG_IP_NF_TARGET_REDIRECT": "y"}, option, "r")
    fails(test_kernel.config_verdict, path, {}, option, "r", match="CONFIG_IP_NF_TARGET_REDIRECT")


def test_no_config_anywhere_fails_naming_where_it_looked():
    message = fails(test_kernel.config_verdict, None, {}, "MEMCG", "6.1.0-18-amd64")
    assert "/proc/config.gz, /boot/config-6.1.0-18-amd64, /usr/src/linux-6.1.0-18" in message
    assert "then fail: failed to parse kernel config)" in message


def test_paths_in_the_validators_order():
    paths = kernel.kernel_config_paths("6.1.0-18-amd64")
    assert paths[:2] == ("/proc/config.gz", "/boot/config-6.1.0-18-amd64")
    assert paths.index("/usr/lib/modules/6.1.0-18-amd64/config") == 4
    assert paths[-1] == "/lib/modules/6.1.0-18-amd64/build/.config"


@pytest.mark.parametrize(
    "release,ok",
    [
        ("6.1.0-18-amd64", True),  # Debian 12
        ("5.15.0-91-generic", True),  # Ubuntu 22.04
        ("6.8.0-31-generic", True),  # Ubuntu 24.04
        ("5.14.0-362.8.1.el9_3.x86_64", False),  # Rocky 9: not an upstream LTS
        ("4.18.0-513.el8.x86_64", False),  # Rocky 8
        ("5.4.0-150-generic", True),  # Ubuntu 20.04
        ("10.0.1", True),
        ("6.1", False),  # the 6.x pattern wants three numbers
    ],
)
def test_kernel_release_against_the_specs_patterns(release, ok):
    ((pattern,),) = _node().values("kernel_release")
    assert bool(re.search(pattern, release)) is ok


def test_rocky9_kernel_fails_the_version_check_with_the_release():
    facts = load("rocky9")
    ((pattern,),) = _node().values("kernel_release")
    message = fails(test_kernel.test_kernel_version, facts, pattern)
    assert "kernel release 5.14.0-362.8.1.el9_3.x86_64 is unsupported" in message
    test_kernel.test_kernel_version(load("ubuntu2204"), pattern)  # 5.15.0-105-generic
