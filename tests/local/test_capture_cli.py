"""`hostkit capture` from this machine (local://, reads only) into the test's directory: the
profile it writes loads, validates and reads back as captured; one host only; an existing
file is kept unless --force; bad input is one line and exit 4, an unreachable host 10."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit import yamlsafe
from kit.capture import cli, reads
from kit.catalog import describe
from kit.catalog import profile as profiles
from kit.catalog.shipped import shipped
from kit.cli import main as hostkit


def capture(out: Path, *more: str, hosts: str = "local://") -> int:
    return hostkit.main(
        ["capture", f"--hosts={hosts}", "--profile=kubernetes-node", f"-o={out}", *more]
    )


@pytest.fixture
def out(tmp_path: Path) -> Path:
    (tmp_path / "profiles").mkdir()
    return tmp_path / "profiles" / "site.yaml"


def test_the_profile_loads_validates_and_reads_back_as_captured(out, capsys):
    assert capture(out) == 0
    said = capsys.readouterr().out
    loaded = profiles.load(str(out), [out.parent, shipped() / "profiles"])
    assert loaded.name == "site"
    assert loaded.parents == (shipped() / "profiles" / "kubernetes-node.yaml",)
    written = yamlsafe.load(out.read_text())
    assert written["extends"] == "kubernetes-node"
    parent = profiles.load("kubernetes-node", shipped() / "profiles")
    assert dict(loaded.params) == {**parent.params, **written["params"]}
    profiles.validate(loaded, describe.checks(shipped()))
    # This machine's own values: its kernel release, pinned exactly.
    assert written["params"]["kernel_release"][0].startswith("^")
    # Every parameter the catalog declares is either captured or said not to be, in the
    # file's comments and in the command's output.
    declared = profiles.declared_params(describe.checks(shipped()))
    text = out.read_text()
    for key in declared:
        assert key in written["params"] or f"#   {key}: " in text, key
        assert f"  {key}: " in said, key
    for line in reads.UNREAD:
        assert line in said


def test_more_than_one_host_is_refused_and_nothing_is_written(out, capsys):
    assert capture(out, hosts="local://,ssh://node2.invalid") == 4
    err = capsys.readouterr().err
    assert err.startswith("error: capture reads one golden host") and len(err.splitlines()) == 1
    assert not out.exists()


def test_an_existing_file_is_kept_without_force_and_replaced_with_it(out, capsys):
    out.write_text("# edited by hand\n")
    assert capture(out) == 4
    assert capsys.readouterr().err == f"error: -o {out} exists: give --force to replace it\n"
    assert out.read_text() == "# edited by hand\n"
    assert capture(out, "--force") == 0
    assert yamlsafe.load(out.read_text())["extends"] == "kubernetes-node"
    assert sorted(p.name for p in out.parent.iterdir()) == ["site.yaml"]


@pytest.mark.parametrize(
    "name,why",
    [("site.txt", "name a profile file"), ("Site.yaml", "name a profile file")],
)
def test_an_output_that_is_no_profile_name_is_refused(tmp_path, capsys, name, why):
    assert capture(tmp_path / name) == 4
    assert why in capsys.readouterr().err
    assert not (tmp_path / name).exists()


def test_an_unknown_parent_profile_is_one_line(out, capsys):
    code = cli.main(["--hosts=local://", "--profile=no-such-profile", f"-o={out}"])
    assert code == 4
    err = capsys.readouterr().err
    assert "no-such-profile" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_an_unreachable_host_exits_10_and_writes_nothing(out, capsys, unused_port):
    code = capture(out, hosts=f"ssh://127.0.0.1:{unused_port}")
    assert code == 10, capsys.readouterr().err
    assert not out.exists()


@pytest.fixture
def unused_port() -> int:
    from tests.plugin.fixruns import closed_ports

    return closed_ports(1)[0]


def test_a_parent_given_by_a_path_elsewhere_is_extended_by_that_path(tmp_path, out, capsys):
    other = tmp_path / "elsewhere" / "profiles"
    other.mkdir(parents=True)
    base = other / "base.yaml"
    base.write_text("name: base\nextends: kubernetes-node\nchecks: [k8s.sysctl]\n")
    code = hostkit.main(["capture", "--hosts=local://", f"--profile={base}", f"-o={out}"])
    assert code == 0, capsys.readouterr().err
    assert yamlsafe.load(out.read_text())["extends"] == str(base.resolve())
    loaded = profiles.load(str(out), [out.parent, shipped() / "profiles"])
    assert loaded.parents[0] == base.resolve() and loaded.checks == ("k8s.sysctl",)


def test_a_profile_extending_itself_is_refused(out, capsys):
    out.write_text("name: site\nextends: kubernetes-node\n")
    code = hostkit.main(["capture", "--hosts=local://", "--profile=site", f"-o={out}", "--force"])
    assert code == 4
    assert "is the profile it would extend" in capsys.readouterr().err
    assert out.read_text() == "name: site\nextends: kubernetes-node\n"
