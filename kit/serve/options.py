"""`hostkit serve`'s own options; everything else is the run's, as `hostkit check` takes it.

Read and checked before anything listens or runs: a mistake is one line naming it and exit
4 (kit.cli.codes.USAGE).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from kit.cli import codes

# Loopback by default: the metrics name every host and check, and a server reachable from
# the network is a choice to make (in a pod: --listen 0.0.0.0:9847).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9847
DEFAULT_INTERVAL = 300.0
# /healthz turns stale after this many intervals without a completed run, and never
# sooner than STALE_FLOOR seconds: a run takes its own time, whatever the interval.
STALE_INTERVALS = 3
STALE_FLOOR = 60.0
# The report of each run is serve's own: it reads it for /metrics.
OWNED = ("--report-json",)


@dataclass(frozen=True)
class Options:
    interval: float
    host: str
    port: int
    fix: bool
    stale_after: float
    run_args: list[str]


def _seconds(flag: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{flag}: {raw!r} is not a number of seconds")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{flag}: {raw} is negative")
    return value


def listen_address(raw: str) -> tuple[str, int]:
    """ADDR:PORT, an IPv6 address in brackets ([::]:9847); port 0 picks a free one."""
    addr, sep, port = raw.rpartition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"--listen: {raw!r} is not ADDR:PORT")
    if not addr:
        raise argparse.ArgumentTypeError(
            f"--listen: {raw!r} names no address (0.0.0.0:{port} for every one)"
        )
    if not port.isdigit():
        raise argparse.ArgumentTypeError(f"--listen: port {port!r} is not a number")
    if int(port) > 65535:
        raise argparse.ArgumentTypeError(f"--listen: port {port} is not in 0..65535")
    if addr.startswith("[") and addr.endswith("]"):
        addr = addr[1:-1]
    return addr, int(port)


class _Parser(codes.UsageParser):
    def error(self, message: str) -> NoReturn:
        # argparse prefixes a type's message with "argument --x:"; ours already name it.
        _, sep, own = message.partition(": ")
        super().error(own if sep and own.startswith("--") else message)


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        allow_abbrev=False,  # --int must not be taken for --interval: the rest is pytest's
        usage=f"{prog} [--interval SECONDS] [--listen ADDR:PORT] [--fix] "
        "[--stale-after SECONDS] [RUN OPTIONS...]",
        description="Check on an interval and serve the verdicts as Prometheus metrics "
        "(/metrics) and a health endpoint (/healthz). Every other option is the run's, "
        "as `hostkit check` takes it.",
    )
    parser.add_argument(
        "--interval",
        type=lambda raw: _seconds("--interval", raw),
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds from the end of a run to the start of the next "
        f"(default {DEFAULT_INTERVAL:g})",
    )
    parser.add_argument(
        "--listen",
        type=listen_address,
        default=(DEFAULT_HOST, DEFAULT_PORT),
        metavar="ADDR:PORT",
        help=f"where to serve (default {DEFAULT_HOST}:{DEFAULT_PORT}; 0.0.0.0:{DEFAULT_PORT} "
        "in a pod)",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="each run is `hostkit fix`: failing checks are fixed (default: read-only)",
    )
    parser.add_argument(
        "--stale-after",
        type=lambda raw: _positive("--stale-after", raw),
        default=None,
        metavar="SECONDS",
        help=f"/healthz fails once no run completed for this long (default "
        f"{STALE_INTERVALS} intervals, at least {STALE_FLOOR:g})",
    )
    return parser


def _positive(flag: str, raw: str) -> float:
    value = _seconds(flag, raw)
    if value == 0:
        raise argparse.ArgumentTypeError(f"{flag}: {raw} must be more than 0 seconds")
    return value


def parse(argv: Sequence[str], prog: str = "hostkit serve") -> Options:
    parser = _parser(prog)
    known, rest = parser.parse_known_args(list(argv))
    for arg in rest:
        if arg.partition("=")[0] in OWNED:
            parser.error(
                f"{arg.partition('=')[0]}: serve writes each run's report itself; "
                "it serves /metrics"
            )
    host, port = known.listen
    stale = known.stale_after
    if stale is None:
        stale = max(STALE_INTERVALS * known.interval, STALE_FLOOR)
    return Options(known.interval, host, port, known.fix, stale, rest)
