"""What to do by hand when a check fails: the texts beside the checks, checked as they load."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from kit.catalog import byhand
from kit.catalog import describe as catalog
from kit.catalog.check import CheckMeta
from kit.catalog.shipped import shipped
from kit.errors import KitValueError

CHECKS = catalog.ROOT / "checks"
METAS = catalog.checks(CHECKS)

SITE = [
    CheckMeta("s.sysctl", "a sysctl", params="sysctls", argnames=("key", "value")),
    CheckMeta("s.swap", "swap off"),
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / byhand.FILE
    path.write_text(text)
    return path


def test_every_shipped_check_has_a_text_that_names_its_parameters():
    texts = byhand.load(CHECKS, METAS, complete=True)
    assert set(texts) == {m.id for m in METAS}
    for meta in METAS:
        used = byhand.placeholders(texts[meta.id])
        assert set(used) <= set(meta.argnames), meta.id
        if meta.argnames:
            assert used, f"{meta.id}: its text names none of {meta.argnames}"


def test_the_shipped_texts_are_the_installed_catalogs():
    assert (shipped() / byhand.FILE).is_file()
    assert catalog.by_hand_texts(shipped()) == byhand.load(CHECKS, METAS, complete=True)


def test_a_site_text_renders_the_failing_parameters_as_shell_words(tmp_path):
    write(tmp_path, "s.sysctl: sysctl -w {key}={value} and keep it in /etc/sysctl.d\n")
    texts = byhand.load(tmp_path, SITE, complete=False)
    line = byhand.render(texts["s.sysctl"], {"key": "net.ipv4.ip_local_port_range", "value": "1 2"})
    assert line == "sysctl -w net.ipv4.ip_local_port_range='1 2' and keep it in /etc/sysctl.d"
    hostile = byhand.render(texts["s.sysctl"], {"key": "k; rm -rf /", "value": "$(reboot)"})
    words = shlex.split(hostile.split(" and ")[0])
    assert words == ["sysctl", "-w", "k; rm -rf /=$(reboot)"]


def test_literal_braces_are_doubled(tmp_path):
    write(tmp_path, "s.swap: 'set featureGates: {{Swap: false}} in config.yaml'\n")
    texts = byhand.load(tmp_path, SITE, complete=False)
    assert byhand.render(texts["s.swap"], {}) == "set featureGates: {Swap: false} in config.yaml"


def test_a_site_without_the_file_has_no_texts(tmp_path):
    assert byhand.load(tmp_path, SITE, complete=False) == {}


@pytest.mark.parametrize(
    "text,problem",
    [
        ("s.nope: do it\n", "'s.nope' is no check in the catalog"),
        ("s.sysctl: sysctl -w {key}={valeu}\n", "s.sysctl: {valeu} is not a parameter"),
        ("s.sysctl: edit /etc/sysctl.conf\n", "s.sysctl: the text names none of its parameters"),
        ("s.swap: swapoff {key}\n", "s.swap: {key} is not a parameter of the check (it has none)"),
        ("s.swap: 'set {Swap: false}'\n", "s.swap: {Swap: false} is not a parameter"),
        ("s.swap: set a } alone\n", "s.swap: a lone '}'"),
        ("s.swap: ''\n", "s.swap: the text is empty"),
        ("s.swap: [swapoff -a]\n", "s.swap: the text must be a string"),
        ("s.swap: |\n  swapoff -a\n  and more\n", "s.swap: the text must be one line"),
        ("- s.swap\n", "must map check ids to texts"),
        ("s.swap: [unclosed\n", "not YAML: line 2"),
    ],
    ids=[
        "unknown-id",
        "unknown-placeholder",
        "no-placeholder",
        "placeholder-of-none",
        "brace",
        "lone-brace",
        "empty",
        "not-text",
        "two-lines",
        "not-a-mapping",
        "bad-yaml",
    ],
)
def test_a_bad_file_is_one_error_naming_the_file_and_the_entry(tmp_path, text, problem):
    path = write(tmp_path, text)
    with pytest.raises(KitValueError) as caught:
        byhand.load(tmp_path, SITE, complete=False)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert problem in message
    assert "\n" not in message


def test_a_complete_catalog_missing_a_text_names_the_check(tmp_path):
    path = write(tmp_path, "s.swap: swapoff -a\n")
    with pytest.raises(KitValueError, match=r"no text for s\.sysctl; add a line 's\.sysctl: "):
        byhand.load(tmp_path, SITE, complete=True)
    path.unlink()
    with pytest.raises(KitValueError, match="does not exist"):
        byhand.load(tmp_path, SITE, complete=True)


def test_adding_a_check_is_one_line(tmp_path):
    """A helper adding a check adds one line for it: the file holds nothing else per check."""
    lines = (CHECKS / byhand.FILE).read_text().splitlines()
    entries = [ln for ln in lines if ln and not ln.startswith((" ", "#"))]
    assert len(entries) == len(METAS)


def test_the_wheel_carries_the_texts():
    import fnmatch
    import tomllib

    data = tomllib.loads((catalog.ROOT / "pyproject.toml").read_text())
    globs = data["tool"]["setuptools"]["package-data"]["hostkit_catalog.checks"]
    assert any(fnmatch.fnmatch(byhand.FILE, g) for g in globs), globs


def test_the_readmes_example_text_loads_beside_the_example_check(tmp_path):
    readme = (catalog.ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### What to do by hand\n", 1)[1].split("\n## ", 1)[0]
    (line,) = [ln.strip() for ln in section.splitlines() if ln.strip().startswith("site.")]
    example = catalog.ROOT / "docs" / "examples" / "test_site_sshd.py"
    (tmp_path / example.name).write_text(example.read_text())
    write(tmp_path, line + "\n")
    texts = byhand.load(tmp_path, catalog.checks(tmp_path), complete=True)
    rendered = byhand.render(texts["site.sshd.root-login"], {"path": "/etc/ssh/sshd_config"})
    assert "in /etc/ssh/sshd_config, then" in rendered


def test_a_check_parametrized_by_pytest_names_those_parameters(tmp_path):
    (tmp_path / "test_site.py").write_text(
        "import pytest\n"
        "from kit.catalog.check import check\n"
        "@check('site.v', 'v is one')\n"
        "@pytest.mark.parametrize('v,w', [(2, 3)])\n"
        "def test_v(v, w):\n    assert v == 1\n"
    )
    write(tmp_path, "site.v: set v to 1 (it is {v})\n")
    assert catalog.by_hand_texts(tmp_path) == {"site.v": "set v to 1 (it is {v})"}
    write(tmp_path, "site.v: set x to 1 (it is {x})\n")
    with pytest.raises(KitValueError, match=r"\{x\} is not a parameter of the check \(v, w\)"):
        catalog.by_hand_texts(tmp_path)


def test_a_parameter_the_check_did_not_run_with_stays_a_placeholder():
    """A check collected without its profile's values must still report, not crash."""
    assert byhand.render("sysctl -w {key}={value}", {"key": "a b"}) == "sysctl -w 'a b'={value}"
