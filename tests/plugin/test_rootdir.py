"""A plugin option's value given after a space (`--known-hosts FILE`) is the option's, not a
path that moves pytest's rootdir, as it is with `=` (`--known-hosts=FILE`).

pytest finds its rootdir and ini file before it loads plugins of entry points (hostkit's,
testinfra's), so a value of theirs after a space first reads as a path argument.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# testinfra's options and hostkit's that take a file.
OPTIONS = ["--known-hosts", "--ssh-config", "--ssh-identity-file", "--sudo-password-file"]


def _layout(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    project = pytester.mkdir("project")
    (project / "test_x.py").write_text("def test_a(host):\n    pass\n")
    elsewhere = pytester.mkdir("keys") / "file"
    elsewhere.write_text("pw\n")
    monkeypatch.chdir(project)
    return project, elsewhere


@pytest.mark.parametrize("option", OPTIONS)
def test_option_value_after_a_space_keeps_the_rootdir(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    project, elsewhere = _layout(pytester, monkeypatch)
    result = pytester.runpytest_subprocess(option, str(elsewhere), "--hosts=local://", "test_x.py")
    out = result.stdout.lines
    assert f"rootdir: {project}" in out, out
    # Progress lines name the test file from the rootdir, not as ../project/test_x.py.
    assert any(line.startswith("test_x.py .") for line in out), out
    assert result.ret == 0, result.stdout.str() + result.stderr.str()


def test_the_project_ini_is_read_not_one_beside_the_value(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, elsewhere = _layout(pytester, monkeypatch)
    (project / "pytest.ini").write_text("[pytest]\naddopts = -v\n")
    # An ini file above the value's directory (and the project's): found first, were the
    # value a path, and its addopts would apply instead of the project's.
    (pytester.path / "tox.ini").write_text("[pytest]\naddopts = -rA --tb=line\n")
    result = pytester.runpytest_subprocess(
        "--known-hosts", str(elsewhere), "--hosts=local://", "test_x.py"
    )
    out = result.stdout.lines
    assert f"rootdir: {project}" in out, out
    assert "configfile: pytest.ini" in out, out
    assert "test_x.py::test_a[local://] PASSED" in " ".join(out), out
    assert "short test summary info" not in result.stdout.str()  # the decoy's -rA
    assert result.ret == 0


def test_rootdir_option_still_wins(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, elsewhere = _layout(pytester, monkeypatch)
    result = pytester.runpytest_subprocess(
        "--known-hosts", str(elsewhere), f"--rootdir={pytester.path}", "test_x.py"
    )
    assert f"rootdir: {pytester.path}" in result.stdout.lines
    assert result.ret == 0
