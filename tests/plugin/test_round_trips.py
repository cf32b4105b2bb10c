"""A host's whole compliance read is one round trip: the facts gather answers every check."""

from __future__ import annotations

from pathlib import Path

from kit.connection.local import LocalConnection

CATALOG = Path(__file__).resolve().parents[2] / "checks"


def test_catalog_reads_a_host_in_one_command(pytester, monkeypatch):
    sent: list[str] = []
    real = LocalConnection._exec

    def counting(self, cmdline, *, stdin, timeout):
        sent.append(cmdline)
        return real(self, cmdline, stdin=stdin, timeout=timeout)

    monkeypatch.setattr(LocalConnection, "_exec", counting)
    result = pytester.runpytest_inprocess(
        str(CATALOG),
        "-p",
        "no:cacheprovider",
        f"--profile={CATALOG / 'profiles' / 'kubernetes-control-plane.yaml'}",
    )
    outcomes = result.parseoutcomes()
    assert sum(v for k, v in outcomes.items() if k != "seconds") >= 20
    assert len(sent) == 1, sent
    assert "@@hostkit:" in sent[0]  # the facts script, as an argument: no stdin channel
