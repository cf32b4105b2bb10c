"""Text that cannot be encoded as it stands (lone surrogates) never stops a report: a
waiver written by json.dump, and a check message holding lone surrogates, end in every
report written and the run's own exit status."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.plugin.fixruns import report_run as run

ROOT = Path(__file__).resolve().parents[2]

CHECKS = """
from kit.catalog.check import check

@check("t.ok", "always holds")
def test_ok(conn):
    assert conn.run("true").ok

@check("t.vendor", "the vendor's file is as the profile wants")
def test_vendor(conn):
    assert False, "vendor file differs"

@check("t.bytes", "a file's bytes as text: what is not UTF-8 becomes lone surrogates")
def test_bytes(conn):
    assert BYTES_OK, "found " + b"caf\\xe9 \\xff".decode("utf-8", "surrogateescape") + " \\ud83d"
"""

SMILE = "\U0001f600"


@pytest.fixture(autouse=True)
def this_checkout(monkeypatch):
    """The runs import the kit beside these tests, whichever copy is installed."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )


def written(pytester: pytest.Pytester) -> tuple[ET.Element, dict, str]:
    root = ET.parse(pytester.path / "junit.xml").getroot()
    doc = json.loads((pytester.path / "run.json").read_text(encoding="utf-8"))
    return root, doc, (pytester.path / "run.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_a_json_dumped_waiver_leaves_a_compliant_fleet_at_0_with_every_report(pytester, xdist):
    pytester.makepyfile(test_checks="BYTES_OK = True\n" + CHECKS)
    # json.dump writes the smile as a surrogate pair; YAML reads it back as two lone ones.
    waiver = [{"check": "t.vendor", "justification": f"vendor {SMILE} ticket \ud83d alone"}]
    (pytester.path / "waivers.yaml").write_text(json.dumps(waiver))
    assert "\\ud83d\\ude00" in (pytester.path / "waivers.yaml").read_text()
    result = run(pytester, "--waivers=waivers.yaml", *(["-n", "2"] if xdist else []))
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    root, doc, html = written(pytester)
    why = f"vendor {SMILE} ticket \ufffd alone"
    (vendor,) = [r for r in doc["results"] if r["check"] == "t.vendor"]
    assert vendor["outcome"] == "waived" and vendor["waiver"]["justification"] == why
    assert doc["waivers"][0]["justification"] == why
    assert why in ET.tostring(root, encoding="unicode")
    # The page's data is JSON with every non-ASCII character escaped: the smile as its pair.
    assert "vendor \\ud83d\\ude00 ticket \\ufffd alone" in html


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_a_message_with_lone_surrogates_reaches_every_report(pytester, xdist):
    pytester.makepyfile(test_checks="BYTES_OK = False\n" + CHECKS)
    result = run(pytester, "-k", "bytes", *(["-n", "2"] if xdist else []))
    assert result.ret == 1, result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    root, doc, html = written(pytester)
    (found,) = doc["results"]
    assert found["outcome"] == "failed"
    # The one-line message is the terminal's, escaped as everything a host sent is.
    assert found["message"] == "found caf\\udce9 \\udcff \\ud83d"
    (failure,) = root.iter("failure")
    assert "found caf\\udce9 \\udcff \\ud83d" in failure.get("message")
    assert "found caf" in html
