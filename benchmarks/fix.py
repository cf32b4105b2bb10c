"""What a fix costs: a check run, a dry run, a --fix and a second --fix, per host.

    python benchmarks/fix.py --hosts 4,16,64 [--rtt-ms 0] [--workers 0]

For each fleet size a fresh fleet starts (benchmarks/fleet.py), each host seeded with
the same non-compliant state in its private tmpfs (benchmarks/fix_profile.py), and runs,
one after the other against the same hosts: testinfra's check run of the same checks
(`suite_fix_testinfra/`; testinfra fixes nothing), hostkit's check run, `--fix
--dry-run`, `--fix`, `--fix` again, and a check run of the now compliant hosts. Every
phase reports the wall time, the controller's CPU, and per host: commands, SSH channels,
processes the host started and the host's CPU. Each phase's outcomes are checked (the
dry run changes nothing, the fix fixes every failing check, the second fix finds nothing
to do and sends no more commands than the last check run), the two check runs' verdicts
must agree, and /etc and /proc/sys of this machine must be as they were
(benchmarks/machine.py); any of these failing makes the exit status 1.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks import fix_profile, machine  # noqa: E402
from benchmarks import fleet as fleetmod  # noqa: E402
from benchmarks.run import LOGIN_TEXT, PROCESSES_TEXT, Run, compare, run_suite  # noqa: E402

# Checks per host in the suite, and how many of them fail on a freshly seeded host.
CHECKS, FAILING = 7, 6


@dataclass(frozen=True)
class Phase:
    name: str
    tool: str
    options: tuple[str, ...]
    # The outcomes every host must end with: outcome word -> checks per host.
    expect: dict[str, int]


def phases(private: Path) -> list[Phase]:
    state = (
        *("-o", f"hostkit_runs_dir={private}/runs"),
        *("-o", f"hostkit_lock_dir={private}/lock"),
    )
    failing = {"passed": CHECKS - FAILING, "failed": FAILING}
    return [
        Phase("check", "testinfra", (), {}),
        Phase("check", "hostkit", (), failing),
        Phase("dry run", "hostkit", ("--fix", "--dry-run", *state), failing),
        Phase("fix", "hostkit", ("--fix", *state), {"passed": CHECKS - FAILING, "fixed": FAILING}),
        Phase("second fix", "hostkit", ("--fix", *state), {"passed": CHECKS}),
        # The yardstick of the second fix: a check run of the same, now compliant, hosts
        # (a compliant host answers more reads than a failing one: a file's content).
        Phase("check, compliant", "hostkit", (), {"passed": CHECKS}),
    ]


@dataclass
class Measured:
    phase: Phase
    hosts: int  # the fleet size the row stands for
    run: Run

    @property
    def factor(self) -> float:
        """A run on fewer hosts than the row (testinfra, sampled) is scaled linearly."""
        return self.hosts / self.run.hosts


HEADER = (
    "| hosts | phase | tool | wall s | testinfra / hostkit | controller CPU s | commands/host "
    "| channels/host | host processes/host | host CPU ms/host | outcomes |"
)


def row(m: Measured, testinfra_wall: float | None) -> str:
    r, est = m.run, " (est.)" if m.factor != 1 else ""
    ratio = (
        f"{testinfra_wall / r.wall:.1f}x" if testinfra_wall and m.phase.tool == "hostkit" else ""
    )
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r.outcomes.items())) or (
        f"{sum(v == 'passed' for v in r.verdicts.values())} passed, "
        f"{sum(v == 'failed' for v in r.verdicts.values())} failed"
    )
    return (
        f"| {m.hosts} | {m.phase.name} | {m.phase.tool} | {r.wall * m.factor:.2f}{est} | {ratio} "
        f"| {r.cpu * m.factor:.2f}{est} | {r.per_host('commands'):.1f} "
        f"| {r.per_host('channels'):.1f} | {r.processes / r.hosts:.0f} "
        f"| {r.hosts_cpu / r.hosts * 1000:.0f} | {outcomes} |"
    )


def problems(m: Measured) -> list[str]:
    """What a phase did that it should not have: wrong outcomes, a failed pytest."""
    r, where = m.run, f"{m.hosts} hosts, {m.phase.name} ({m.phase.tool})"
    if not r.verdicts:
        return [f"{where}: no verdicts read; pytest said:\n{r.output[-3000:]}"]
    if not m.phase.expect:
        return []
    want = {k: v * r.hosts for k, v in m.phase.expect.items()}
    if r.outcomes != want:
        return [f"{where}: outcomes {r.outcomes}, want {want}\n{r.output[-3000:]}"]
    return []


def costlier_than_a_check(measured: list[Measured], hosts: int) -> list[str]:
    """A second --fix on compliant hosts that sends more commands than a check run of them."""
    by_name = {m.phase.name: m.run for m in measured if m.hosts == hosts}
    again, check = by_name.get("second fix"), by_name.get("check, compliant")
    if again is None or check is None:
        return []
    sent, want = again.per_host("commands"), check.per_host("commands")
    if sent <= want:
        return []
    return [
        f"{hosts} hosts: a second --fix sent {sent:.1f} commands per host, a check run {want:.1f}"
    ]


def measure(
    counts: list[int], rtt: float, workers: str, ti_max: int
) -> tuple[list[Measured], list[str]]:
    measured: list[Measured] = []
    found: list[str] = []
    for n in counts:
        with fleetmod.running(n, rtt, seed=fix_profile.SEED) as fl:
            # The suite's paths, in every pytest process the runs start.
            os.environ["HKB_PRIVATE"] = str(fl.private)
            check: Run | None = None
            for phase in phases(fl.private):
                hosts = min(n, ti_max) if phase.tool == "testinfra" and ti_max else n
                run = run_suite(
                    phase.tool, fl, hosts, rtt, workers, options=phase.options, files="fix"
                )
                m = Measured(phase, n, run)
                measured.append(m)
                found += problems(m)
                testinfra = next(
                    (x for x in measured if x.hosts == n and x.phase.tool == "testinfra"), None
                )
                ti_wall = testinfra.run.wall * testinfra.factor if testinfra else None
                print(row(m, ti_wall if phase.name == "check" else None), flush=True)
                if phase.name == "check" and phase.tool == "hostkit":
                    check = run
            found += costlier_than_a_check(measured, n)
            ti = next(x.run for x in measured if x.hosts == n and x.phase.tool == "testinfra")
            if check is not None:
                kept = {k: v for k, v in check.verdicts.items() if k[1] < ti.hosts}
                found += [f"{n} hosts, verdicts: {p}" for p in compare(_only(check, kept), ti)]
    return measured, found


def _only(run: Run, verdicts: dict) -> Run:
    return Run(run.suite, run.hosts, run.rtt_ms, run.wall, run.cpu, run.maxrss_mb, 0, verdicts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--hosts", default="4,16,64", help="fleet sizes, comma separated")
    ap.add_argument("--rtt-ms", type=float, default=0.0, help="round-trip time of every host")
    ap.add_argument("--workers", default="0", help="xdist workers for both: a number, or auto")
    ap.add_argument(
        "--testinfra-max-hosts",
        type=int,
        default=16,
        help="run testinfra on at most this many hosts and scale its time (est.); 0: all",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results-fix.md")
    args = ap.parse_args()
    try:
        counts = sorted({int(x) for x in args.hosts.split(",")})
    except ValueError:
        ap.error(f"--hosts {args.hosts!r}: give fleet sizes such as 4,16,64")
    if not counts or counts[0] < 1:
        ap.error("--hosts: every fleet size must be at least 1")
    load = os.getloadavg()[0]
    started = time.perf_counter()
    before, volatile = machine.snapshot_twice()
    print(HEADER, flush=True)
    measured, found = measure(counts, args.rtt_ms, args.workers, args.testinfra_max_hosts)
    changed = machine.changes(before, machine.snapshot(), volatile)
    found += [f"this machine changed: {c}" for c in changed]
    safety = (
        f"This machine's /etc ({len(before[0])} entries) and /proc/sys ({len(before[1])} "
        f"settings, less {len(volatile)} that moved by themselves before the run) were read "
        "before and after the runs: "
        + ("unchanged." if not changed else f"{len(changed)} changes (see the exit status).")
    )
    lines = [HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    for m in measured:
        ti = next(x for x in measured if x.hosts == m.hosts and x.phase.tool == "testinfra")
        lines.append(row(m, ti.run.wall * ti.factor if m.phase.name == "check" else None))
    command = f"python benchmarks/fix.py {shlex.join(sys.argv[1:])}"
    text = (
        "# What a fix costs, per host\n\n"
        f"`{command}` on {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, RTT {args.rtt_ms:g} ms, "
        f"workers {args.workers}, {time.perf_counter() - started:.0f} s in all.\n"
        f"{LOGIN_TEXT}\n"
        f"1-minute load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.\n\n"
        f"The suite (benchmarks/suite_fix/, benchmarks/fix_profile.py): {CHECKS} checks per "
        f"host, {FAILING} failing on a freshly seeded host: two sysctls of the host's network "
        "namespace, live and in a sysctl.d file, a config file's content, a file's mode, a "
        "symlink, a directory; every path in the host's private tmpfs, where the run records "
        "and the fix lock go too. testinfra runs the same checks "
        "(benchmarks/suite_fix_testinfra/) and fixes nothing; on more hosts than "
        f"{args.testinfra_max_hosts or 'all'} its wall time and CPU are scaled (est.).\n\n"
        "commands/host: commands hostkit sent through its shell (testinfra: each on a "
        "channel of its own); channels/host: SSH channels opened; host processes/host: "
        f"processes a host started, sshd's own included ({PROCESSES_TEXT}); host CPU "
        "ms/host: the host's sshd and everything it started; controller CPU s: the pytest "
        "process and its workers; outcomes: hostkit's outcome per check and host (testinfra: "
        "its JUnit verdicts).\n\n" + "\n".join(lines) + "\n\n" + safety + "\n"
    )
    if found:
        text += "\nProblems:\n\n" + "\n".join(f"- {p.splitlines()[0]}" for p in found) + "\n"
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, args.out)
    print(safety)
    for p in found:
        print(p, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
