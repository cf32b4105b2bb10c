"""The README's example check, run as a user runs it: fails, --fix repairs, passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.catalog import describe as catalog
from tests.plugin.fixruns import state_dirs

EXAMPLE = catalog.ROOT / "docs" / "examples" / "test_site_sshd.py"
SSHD_CONFIG = """\
# hostkit test
Port 22
permitrootlogin   yes
UsePAM yes
Match User backup
\tPermitRootLogin yes
"""


@pytest.fixture
def site(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The run imports kit from this checkout, whatever an installed copy holds.
    monkeypatch.setenv("PYTHONPATH", str(catalog.ROOT))
    pytester.makeini("[pytest]\n")
    checks = pytester.mkdir("checks")
    (checks / "test_site_sshd.py").write_text(EXAMPLE.read_text(encoding="utf-8"))
    (checks / "profiles").mkdir()
    config = tmp_path / "sshd_config"
    config.write_text(SSHD_CONFIG)
    (checks / "profiles" / "base.yaml").write_text("checks: []\n")
    (checks / "profiles" / "site.yaml").write_text(
        f"extends: base\nchecks_add: [site.sshd.root-login]\nparams:\n  sshd_configs: [{config}]\n"
    )
    return config


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "--hosts=local://", "--profile=site", *state_dirs(pytester), *args
    )


def test_example_fails_then_fix_repairs_it_then_it_passes(pytester, site):
    first = run(pytester)
    first.assert_outcomes(failed=1)
    assert "PermitRootLogin is yes" in first.stdout.str()

    planned = run(pytester, "--fix", "--dry-run")
    planned.assert_outcomes(failed=1)
    assert site.read_text() == SSHD_CONFIG  # a plan writes nothing

    fixed = run(pytester, "--fix")
    assert fixed.ret == 0, fixed.stdout.str()
    text = site.read_text()
    # The first value is the one replaced; the Match block keeps its own.
    assert text == SSHD_CONFIG.replace("permitrootlogin   yes", "PermitRootLogin no")

    again = run(pytester)
    again.assert_outcomes(passed=1)
    assert site.read_text() == text
