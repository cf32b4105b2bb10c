"""The HTML report in a real headless chromium: it loads without a script error, its cells
open what they hold, and its matrix is drawn in the outcome colours, at 3 and 200 hosts.

Chromium runs with --no-sandbox: its sandbox refuses to start as root, which is how the
tests run in CI containers. The page is local and --host-resolver-rules sends every
name nowhere, so the pages are also shown to need no network.
"""

from __future__ import annotations

import html
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from kit.reports import html_report
from kit.reports.model import OUTCOMES, Run
from tests.tiers import unavailable
from tests.unit.reportruns import HOSTILE, fleet

ROOT = Path(__file__).resolve().parents[2]
COLOURS = {
    name: tuple(int(hexa[i : i + 2], 16) for i in (0, 2, 4))
    for name, hexa in re.findall(
        r"--([a-z]+):#([0-9a-f]{6})", (ROOT / "kit/reports/templates/report.html.j2").read_text()
    )
}
MAX_BYTES_200x40 = 3_000_000


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        unavailable("local", "chromium is not installed (apt-get install chromium)")
    return found


def browse(chromium: str, url: str, profile: Path, *args: str) -> tuple[str, list[str]]:
    """Chromium's output for `url`, and every console message the page caused."""
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--force-color-profile=srgb",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    console = [ln for ln in done.stderr.splitlines() if ":CONSOLE" in ln]
    return done.stdout, console


def pixels(png: bytes) -> Counter[tuple[int, int, int]]:
    """How many pixels of each colour an 8-bit RGB or RGBA PNG has."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    size = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * size
    previous, counts = bytearray(stride), Counter()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - size] if i >= size else 0
            up, corner = previous[i], previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                near = min((abs(guess - left), 0), (abs(guess - up), 1), (abs(guess - corner), 2))
                line[i] = (line[i] + (left, up, corner)[near[1]]) & 0xFF
        counts.update(zip(line[0::size], line[1::size], line[2::size], strict=True))
        previous = line
    return counts


def shoot(chromium: str, page: Path, name: str, tmp_path: Path) -> Counter[tuple[int, int, int]]:
    shot = tmp_path / f"{name}.png"
    _, console = browse(
        chromium, page.as_uri(), tmp_path / "shot", f"--screenshot={shot}", "--window-size=1400,900"
    )
    assert console == []
    # Kept beside the run's other reports for a person to look at.
    if (ROOT / "reports").is_dir():
        shutil.copy(shot, ROOT / "reports" / f"{name}.png")
    assert shot.stat().st_size > 10_000
    return pixels(shot.read_bytes())


def rollup_rows(dom: str) -> dict[str, tuple[str, ...]]:
    """The roll-up table's rows in the page: check -> its cells' text."""
    table = dom[dom.index('<section id="rollup">') :]
    table = table[: table.index("</section>")]
    rows = re.findall(r'<tr data-check="([^"]*)">(.*?)</tr>', table, re.S)
    return {
        html.unescape(check): tuple(
            html.unescape(t) for t in re.findall(r"<td[^>]*>(.*?)</td>", row)
        )
        for check, row in rows
    }


def expected_rollup(run: Run) -> dict[str, tuple[str, ...]]:
    """What the roll-up must say, counted from the run's results (one per host and check in
    these runs): the hosts each check failed or warned, was fixed, waived or errored on."""
    columns = {"failed": ("failed", "warning"), "fixed": ("fixed",), "waived": ("waived",)}
    columns["error"] = ("error",)
    found = {}
    for check in run.checks:
        mine = [r for r in run.results if r.check == check.id and r.outcome != "unreachable"]
        counts = [sum(r.outcome in kinds for r in mine) for kinds in columns.values()]
        if any(counts):
            bad = sorted(r.host for r in mine if r.outcome in ("failed", "warning", "error"))
            others = sorted(r.host for r in mine if r.outcome == "fixed") or sorted(
                r.host for r in mine if r.outcome == "waived"
            )
            first = bad or others
            named = ", ".join(first[:3]) + (f" and {len(first) - 3} more" if len(first) > 3 else "")
            found[check.id] = (check.severity, *map(str, counts), str(len(mine)), named)
    return found


def test_the_console_check_sees_a_script_error(chromium, tmp_path):
    """The no-errors assertions below would see an error: a broken page shows it."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>no_such_function();</script>")
    _, console = browse(chromium, page.as_uri(), tmp_path / "profile", "--dump-dom")
    assert any("Uncaught ReferenceError" in line for line in console), console


def test_three_hosts(chromium, tmp_path):
    run = fleet(3, 9)
    page = tmp_path / "report.html"
    page.write_text(html_report.render(run), encoding="utf-8")
    # Host 0's failed check, opened by the address as a click would.
    host = run.hosts[0].name
    check = next(r.check for r in run.results if r.host == host and r.outcome == "failed")
    failed = [c.id for c in run.checks].index(check)
    dom, console = browse(
        chromium, f"{page.as_uri()}#cell=0.{failed}", tmp_path / "profile", "--dump-dom"
    )
    assert console == []
    assert 'data-ready="1"' in dom
    panel = dom[dom.index('<aside id="panel"') :]
    assert panel.startswith('<aside id="panel">')  # shown: no `hidden`
    assert "ssh://node000.example.internal" in panel
    assert "+net.ipv4.ip_forward = 1" in panel  # the planned fix's diff
    # What to do by hand, in the cell's detail as text, whatever the host sent.
    by_hand = re.search(r'<p class="by-hand">(.*?)</p>', panel)
    assert by_hand is not None, panel
    assert by_hand.group(1) == (
        "by hand: sysctl -w net.ipv4.ip_forward=1 and 90-kit.conf; "
        "found &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;"
    )
    # Host output is text on the page, never markup.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;/script&gt;&lt;b&gt;bold" in panel
    assert "<b>bold</b>" not in dom and "<script>alert" not in dom
    assert HOSTILE not in dom

    # The fleet roll-up, as the browser built it: every check that failed, warned, errored,
    # was fixed or waived somewhere, with its host counts (one result per cell here).
    assert rollup_rows(dom) == expected_rollup(run)
    assert rollup_rows(dom)  # fleet() fails something on some host

    seen = shoot(chromium, page, "html-report-3-hosts", tmp_path)
    for outcome in OUTCOMES:  # fleet() gives host 0 one cell of each outcome
        assert seen[COLOURS[outcome]] > 150, (outcome, COLOURS[outcome])


def test_two_hundred_hosts(chromium, tmp_path):
    run = fleet(200, 40)
    text = html_report.render(run)
    assert len(text.encode()) < MAX_BYTES_200x40
    page = tmp_path / "report.html"
    page.write_text(text, encoding="utf-8")
    dom, console = browse(chromium, page.as_uri(), tmp_path / "profile", "--dump-dom")
    assert console == []
    assert 'data-ready="1"' in dom
    # One element per cell: the page grows with hosts x checks, not with what cells hold.
    rolled = rollup_rows(dom)
    assert rolled == expected_rollup(run)
    assert dom.count("<td") == 200 * 40 + 200 * 2 + 40 + 2 + len(rolled) * 7
    assert dom.count("<tr") == 200 + 2 + len(rolled) + 1

    seen = shoot(chromium, page, "html-report-200-hosts", tmp_path)
    for outcome in ("passed", "failed", "unreachable"):
        assert seen[COLOURS[outcome]] > 2_000, outcome
