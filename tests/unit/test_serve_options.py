"""`hostkit serve`'s own options: read before anything starts; a mistake is one line naming
it and exit 4 (kit.cli.codes.USAGE), with nothing listening and no run made."""

from __future__ import annotations

import pytest

from kit.cli import codes
from kit.cli import main as cli


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--interval", "soon"], "--interval: 'soon' is not a number of seconds"),
        (["--interval", "-1"], "--interval: -1 is negative"),
        (["--interval", "nan"], "--interval: 'nan' is not a number of seconds"),
        (["--stale-after", "0"], "--stale-after: 0 must be more than 0 seconds"),
        (["--listen", "9100"], "--listen: '9100' is not ADDR:PORT"),
        (["--listen", "127.0.0.1:http"], "--listen: port 'http' is not a number"),
        (["--listen", "127.0.0.1:70000"], "--listen: port 70000 is not in 0..65535"),
        (["--listen", ":9100"], "--listen: ':9100' names no address (0.0.0.0:9100 for every one)"),
        (
            ["--report-json", "out.json"],
            "--report-json: serve writes each run's report itself; it serves /metrics",
        ),
        (
            ["--report-json=-"],
            "--report-json: serve writes each run's report itself; it serves /metrics",
        ),
    ],
)
def test_a_bad_option_is_one_clear_line_and_exit_4(capsys, args, problem):
    assert cli.main(["serve", *args, "--hosts=local://"]) == codes.USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"hostkit serve: error: {problem}"


def test_the_options_are_read_and_the_rest_goes_to_the_run():
    from kit.serve import options

    opts = options.parse(
        ["--interval", "30", "--listen", "[::1]:0", "--fix", "-k", "swap", "--hosts=local://"]
    )
    assert (opts.interval, opts.host, opts.port, opts.fix) == (30.0, "::1", 0, True)
    assert opts.run_args == ["-k", "swap", "--hosts=local://"]
    assert opts.stale_after == 90.0  # three intervals


def test_the_defaults_are_loopback_and_five_minutes_and_read_only():
    from kit.serve import options

    opts = options.parse([])
    assert (opts.host, opts.port, opts.interval, opts.fix) == ("127.0.0.1", 9847, 300.0, False)
    # Three intervals, and never less than a minute: a run itself takes time.
    assert options.parse(["--interval", "0"]).stale_after == 60.0
