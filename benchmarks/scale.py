"""How a hostkit run grows with its fleet: controller CPU, wall time and peak memory.

    python benchmarks/scale.py --hosts 4,16,64,256 --rtt-ms 0 --plot benchmarks/scale.png

For each fleet size the node suite runs twice against the same sshd fleet (see
benchmarks/fleet.py): as it is, and with `--extra-checks` facts-only checks added. The
difference between the two gives the controller's CPU per check per host at that size,
free of connecting and gathering; the plain run gives the wall time, the controller's
CPU and its peak resident memory. Growth is judged from these figures, not from the
wall time alone, since the simulated hosts' sshds share this machine's cores.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks import fleet as fleetmod  # noqa: E402
from benchmarks.run import LOGIN_TEXT, Run, run_suite  # noqa: E402

# Targets on a 2-core machine, per host: what one more check or one more host may cost.
CPU_MS_PER_CHECK = 1.0
MB_PER_HOST = 1.0


@dataclass(frozen=True)
class Point:
    hosts: int
    base: Run
    more: Run
    extra: int

    @property
    def checks(self) -> int:
        return len(self.base.verdicts) // self.hosts

    @property
    def cpu_ms_per_check(self) -> float:
        return (self.more.cpu - self.base.cpu) / (self.extra * self.hosts) * 1000


def measure(hosts: list[int], rtt: float, extra: int, workers: str) -> list[Point]:
    points = []
    with fleetmod.running(max(hosts), rtt) as fl:
        for n in hosts:
            base = run_suite("hostkit", fl, n, rtt, workers)
            more = run_suite("hostkit", fl, n, rtt, workers, extra=extra)
            for run in (base, more):
                if run.rc not in (0, 1) or not run.verdicts:
                    raise SystemExit(f"hostkit run at {n} hosts failed:\n{run.output[-3000:]}")
            point = Point(n, base, more, extra)
            print(row(point, points[0] if points else None), flush=True)
            points.append(point)
    return points


HEADER = (
    "| hosts | checks/host | wall s | controller CPU s | CPU ms per check per host "
    "| peak MB | MB per added host | sshd CPU s |"
)


def mb_per_host(point: Point, first: Point | None) -> str:
    if first is None or point.hosts == first.hosts:
        return "-"
    grown = (point.base.maxrss_mb - first.base.maxrss_mb) / (point.hosts - first.hosts)
    return f"{grown:.2f}"


def row(point: Point, first: Point | None) -> str:
    b = point.base
    return (
        f"| {point.hosts} | {point.checks} | {b.wall:.2f} | {b.cpu:.2f} "
        f"| {point.cpu_ms_per_check:.2f} | {b.maxrss_mb:.0f} | {mb_per_host(point, first)} "
        f"| {b.hosts_cpu:.1f} |"
    )


def verdicts(points: list[Point]) -> list[str]:
    """Where each target stands, and whether anything grows faster than the fleet."""
    out = []
    worst = max(points, key=lambda p: p.cpu_ms_per_check)
    out.append(
        f"- Controller CPU per check per host: at most {worst.cpu_ms_per_check:.2f} ms "
        f"(at {worst.hosts} hosts); target {CPU_MS_PER_CHECK:g} ms: "
        + ("met" if worst.cpu_ms_per_check <= CPU_MS_PER_CHECK else "not met")
    )
    first = points[0]
    grown = [
        (p.base.maxrss_mb - first.base.maxrss_mb) / (p.hosts - first.hosts)
        for p in points[1:]
        if p.hosts > first.hosts
    ]
    if grown:
        out.append(
            f"- Peak memory per added host: at most {max(grown):.2f} MB; target "
            f"{MB_PER_HOST:g} MB: " + ("met" if max(grown) <= MB_PER_HOST else "not met")
        )
    for a, b in itertools.pairwise(points):
        ratio = (b.base.cpu / a.base.cpu) / (b.hosts / a.hosts)
        out.append(
            f"- {a.hosts} -> {b.hosts} hosts: controller CPU x{b.base.cpu / a.base.cpu:.1f} "
            f"for x{b.hosts / a.hosts:.0f} hosts ({ratio:.2f} of linear); per-check CPU "
            f"{a.cpu_ms_per_check:.2f} -> {b.cpu_ms_per_check:.2f} ms"
        )
    return out


def plot(points: list[Point], path: Path, title: str) -> None:
    # matplotlib only here: a run of the kit never imports it.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hosts = [p.hosts for p in points]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    ax = axes[0]
    ax.plot(hosts, [p.base.wall for p in points], "o-", label="wall s")
    ax.plot(hosts, [p.base.cpu for p in points], "s-", label="controller CPU s")
    ax.plot(hosts, [p.base.hosts_cpu for p in points], "^--", label="sshd CPU s (same cores)")
    lin = [points[0].base.cpu * h / hosts[0] for h in hosts]
    ax.plot(hosts, lin, ":", color="grey", label="linear from the first point")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("hosts")
    ax.set_title("time per run")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.plot(hosts, [p.cpu_ms_per_check for p in points], "o-")
    ax.axhline(CPU_MS_PER_CHECK, color="red", linestyle="--", label="target")
    ax.set_xscale("log", base=2)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("hosts")
    ax.set_title("controller CPU ms per check per host")
    ax.legend(fontsize=8)
    ax = axes[2]
    ax.plot(hosts, [p.base.maxrss_mb for p in points], "o-", label="peak MB")
    base = points[0].base.maxrss_mb
    ax.plot(
        hosts,
        [base + MB_PER_HOST * (h - hosts[0]) for h in hosts],
        "--",
        color="red",
        label=f"target: +{MB_PER_HOST:g} MB per host",
    )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hosts")
    ax.set_title("controller peak memory")
    ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, dpi=100, format="png")
    os.replace(tmp, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--hosts", default="4,16,64,256", help="fleet sizes, comma separated")
    ap.add_argument("--rtt-ms", type=float, default=0.0, help="round-trip time of every host")
    ap.add_argument("--extra-checks", type=int, default=100, help="facts-only checks added")
    ap.add_argument("--workers", default="0", help="xdist workers: a number, or auto")
    ap.add_argument("--plot", type=Path, help="write a PNG of the figures here")
    ap.add_argument("--out", type=Path, default=HERE / "results-scale.md")
    args = ap.parse_args()
    try:
        hosts = sorted({int(x) for x in args.hosts.split(",")})
    except ValueError:
        ap.error(f"--hosts {args.hosts!r}: give host counts such as 4,16,64")
    if not hosts or hosts[0] < 1 or args.extra_checks < 1:
        ap.error("--hosts and --extra-checks must be at least 1")
    load = os.getloadavg()[0]
    points = measure(hosts, args.rtt_ms, args.extra_checks, args.workers)
    command = f"python benchmarks/scale.py {shlex.join(sys.argv[1:])}"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    lines += [row(p, points[0] if i else None) for i, p in enumerate(points)]
    found = verdicts(points)
    print("\n".join(found))
    text = (
        "# How a run grows with the fleet\n\n"
        f"`{command}` on {os.cpu_count()} cores, {when}; RTT {args.rtt_ms:g} ms, workers "
        f"{args.workers}, {args.extra_checks} extra facts-only checks for the per-check cost.\n"
        f"{LOGIN_TEXT}\n"
        f"1-minute load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.\n\n"
        + "\n".join(lines)
        + "\n\n"
        + "\n".join(found)
        + "\n"
    )
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, args.out)
    if args.plot:
        plot(points, args.plot, f"{command} ({when}, load {load:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
