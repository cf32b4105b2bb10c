"""hostkit against plain testinfra: same hosts, same worker count, one run.

    python benchmarks/run.py --hosts 4,16,64 --rtt-ms 0,10
    python benchmarks/run.py --suite plain --hosts 4 --rtt-ms 0 --workers 4

--suite hostkit (the default) runs one Kubernetes-node suite written twice: as plain
testinfra tests and as hostkit checks that read gathered facts. --suite plain runs one
unchanged plain testinfra file under both: testinfra's own paramiko backend with the
hostkit plugin disabled, and the hostkit plugin. For every (hosts, rtt) point both run
against the same sshd fleet; their per-test verdicts must agree (a mismatch is printed
and the exit status is 1). Prints a table and writes it to benchmarks/results*.md; the
hostkit suite adds the controller's per-check cost and a cProfile summary of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import shlex
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks import fleet as fleetmod  # noqa: E402

# The files each tool runs, per --suite. test_extra.py (the per-check cost) is hostkit's.
SUITES = {
    "hostkit": {
        "hostkit": HERE / "suite_hostkit" / "test_node.py",
        "testinfra": HERE / "suite_testinfra" / "test_node.py",
    },
    "plain": {
        "hostkit": HERE / "suite_plain" / "test_plain.py",
        "testinfra": HERE / "suite_plain" / "test_plain.py",
    },
    # benchmarks/fix.py's: checks with fixes that write only to the hosts' private tmpfs.
    "fix": {
        "hostkit": HERE / "suite_fix" / "test_fix.py",
        "testinfra": HERE / "suite_fix_testinfra" / "test_fix.py",
    },
}
EXTRA = HERE / "suite_hostkit" / "test_extra.py"
SUITE_TEXT = {
    "hostkit": "suite hostkit: suite_testinfra/test_node.py against suite_hostkit/test_node.py",
    "plain": "suite plain: suite_plain/test_plain.py, unchanged, under testinfra's paramiko "
    "backend (-p no:hostkit) and under hostkit",
}
PROCESSES_TEXT = (
    "each host's sshd is pid 1 of a pid namespace of its own, whose pids only grow: "
    "the last pid there before and after the run, less the one process that reads it"
)
LOGIN_TEXT = (
    "Hosts: one sshd per network namespace on this machine's filesystem, each in a mount "
    "namespace whose /root is an empty tmpfs; logins are root with /bin/bash, which reads "
    "Debian's /etc/bash.bashrc (it returns at once when not interactive) and no ~/.bashrc. "
    "Each host's /etc, /usr, /var and /proc/sys (but /proc/sys/net) are read-only."
)


@dataclass
class Run:
    suite: str
    hosts: int
    rtt_ms: float
    wall: float
    cpu: float
    maxrss_mb: float
    rc: int
    verdicts: dict[tuple[str, int, str], str]
    hosts_cpu: float = 0.0
    counts: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    output: str = ""
    processes: int = 0  # processes the hosts started during the run (Fleet.processes)
    outcomes: dict[str, int] = field(default_factory=dict)  # hostkit's outcome property

    def per_host(self, key: str) -> float:
        return self.counts.get(key, 0) / self.hosts


def pytest_argv(
    suite: str,
    fl: fleetmod.Fleet,
    hosts: int,
    workers: str,
    junit: Path,
    extra: int = 0,
    files: str = "hostkit",
) -> list[str]:
    """The pytest command line of one tool (`suite`: hostkit or testinfra) on `files`."""
    argv = [
        "-m", "pytest", "-c", str(HERE / "pytest.ini"), "--rootdir", str(HERE),
        str(SUITES[files][suite]), "-q", "-p", "counting", f"--junitxml={junit}",
        "-o", "junit_family=xunit1",
        "--ssh-identity-file", str(fl.client_key),
    ]  # fmt: skip
    selected = fl.hosts[:hosts]
    if suite == "hostkit":
        specs = [f"ssh://root@{h.endpoint}" for h in selected]
        argv += ["--known-hosts", str(fl.known_hosts)]
    else:
        specs = [f"paramiko://root@{h.endpoint}" for h in selected]
        argv += ["-p", "no:hostkit", "--ssh-config", str(fl.ssh_config)]
    argv.append("--hosts=" + ",".join(specs))
    if extra:
        argv.append(str(EXTRA))
    if workers not in ("", "0"):
        argv += ["-n", workers]
    else:
        argv += ["-p", "no:xdist"]
    return argv


PYCACHE = Path(tempfile.gettempdir()) / "hkb-pycache"
_WARMED: set[tuple[str, str, int]] = set()


def run_suite(
    suite: str,
    fl: fleetmod.Fleet,
    hosts: int,
    rtt_ms: float,
    workers: str,
    *,
    extra: int = 0,
    profile: Path | None = None,
    options: tuple[str, ...] = (),
    files: str = "hostkit",
) -> Run:
    with tempfile.TemporaryDirectory(prefix="hkb-run-") as tmp:
        junit = Path(tmp) / "junit.xml"
        counts_dir = Path(tmp) / "counts"
        counts_dir.mkdir()
        env = dict(os.environ, HKB_COUNTS=str(counts_dir), HKB_EXTRA=str(extra))
        env["PYTHONPATH"] = os.pathsep.join(
            [str(HERE), str(HERE.parent), env.get("PYTHONPATH", "")]
        )
        # Both tools run from compiled bytecode, as an installed package does: pip compiles
        # testinfra and pytest when it installs them, while a checkout of hostkit (or an
        # environment with PYTHONDONTWRITEBYTECODE) would compile the kit on every run.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
        tool = [*pytest_argv(suite, fl, hosts, workers, junit, extra, files), *options]
        if (suite, files, extra) not in _WARMED:
            subprocess.run(
                [sys.executable, *tool, "--collect-only"], env=env, cwd=HERE, capture_output=True
            )
            _WARMED.add((suite, files, extra))
        argv = [sys.executable]
        if profile is not None:
            argv += ["-m", "cProfile", "-o", str(profile)]
        argv += tool
        out = Path(tmp) / "out.txt"
        hosts_cpu = fl.hosts_cpu(hosts)
        pids = fl.last_pids(hosts)
        with open(out, "wb") as fh:
            started = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=HERE)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        time.sleep(0.3)  # sshd reaps the finished sessions, adding their CPU to its own
        hosts_cpu = fl.hosts_cpu(hosts) - hosts_cpu
        processes = fl.processes(pids)
        counts: dict[str, float] = {}
        seconds: dict[str, float] = {}
        for f in counts_dir.glob("*.json"):
            data = json.loads(f.read_text())
            for k, v in data["counts"].items():
                counts[k] = counts.get(k, 0) + v
            for k, v in data["seconds"].items():
                seconds[k] = seconds.get(k, 0) + v
        return Run(
            suite,
            hosts,
            rtt_ms,
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024,
            proc.returncode,
            verdicts(junit, fl) if junit.exists() else {},
            hosts_cpu,
            counts,
            seconds,
            out.read_text(errors="replace"),
            processes,
            outcome_counts(junit) if junit.exists() else {},
        )


def verdicts(junit: Path, fl: fleetmod.Fleet) -> dict[tuple[str, int, str], str]:
    """(test function, host index, parameters) -> passed / failed / error / skipped."""
    index = {h.endpoint: h.index for h in fl.hosts}
    result = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name", "")
        m = re.fullmatch(r"([\w]+)\[(.*)\]", name)
        if not m:
            continue
        func, params = m.groups()
        host_m = re.search(r"ssh://root@([\d.]+(?::\d+)?)|paramiko://([\d.]+)(?:_(\d+))?", params)
        if not host_m:
            continue
        if host_m.group(1):
            host = index.get(host_m.group(1))
        elif host_m.group(3) is not None:
            # testinfra's ids drop the port; pytest numbers equal ids in --hosts order.
            host = int(host_m.group(3))
        else:
            host = index.get(host_m.group(2))
        if host is None:
            continue
        rest = (params[: host_m.start()] + params[host_m.end() :]).strip("-")
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
                break
        result[(func, host, rest)] = outcome
    return result


def outcome_counts(junit: Path) -> dict[str, int]:
    """How many test cases hostkit reported passed, failed, fixed...: its `outcome`
    property (kit.plugin.checkreport), which says `fixed` where JUnit says passed."""
    found: dict[str, int] = {}
    for prop in ET.parse(junit).getroot().iter("property"):
        if prop.get("name") == "outcome":
            value = prop.get("value", "")
            found[value] = found.get(value, 0) + 1
    return found


def compare(a: Run, b: Run) -> list[str]:
    problems = []
    keys_a = {k for k in a.verdicts if k[0] != "test_extra"}
    keys_b = set(b.verdicts)
    for key in sorted(keys_a ^ keys_b):
        problems.append(f"only in {'hostkit' if key in keys_a else 'testinfra'}: {key}")
    for key in sorted(keys_a & keys_b):
        if a.verdicts[key] != b.verdicts[key]:
            problems.append(f"{key}: hostkit {a.verdicts[key]}, testinfra {b.verdicts[key]}")
    if not keys_a:
        problems.append("no verdicts read (did pytest run?)")
    return problems


# -- the report ----------------------------------------------------------------------


HEADER = (
    "| hosts | RTT ms | suite | checks/host | wall s | speed-up | commands/host "
    "| channels/host | host processes/host | controller CPU s | sshd CPU s | peak MB |"
)


def row(run: Run, hosts: int, testinfra_wall: float) -> str:
    """One table row; a run on fewer hosts than the point has is scaled linearly, marked est."""
    factor = hosts / run.hosts
    est = " (est.)" if run.hosts != hosts else ""
    checks = len([k for k in run.verdicts if k[0] != "test_extra"]) / run.hosts
    return (
        f"| {hosts} | {run.rtt_ms:g} | {run.suite} | {checks:.0f} | {run.wall * factor:.2f}{est} "
        f"| {testinfra_wall / (run.wall * factor):.1f}x "
        f"| {run.per_host('commands'):.1f} | {run.per_host('channels'):.1f} "
        f"| {run.processes / run.hosts:.0f} | {run.cpu * factor:.2f}{est} "
        f"| {run.hosts_cpu * factor:.1f}{est} | {run.maxrss_mb:.0f} |"
    )


def profile_summary(path: Path, items: int, hosts: int) -> list[str]:
    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]
    # cProfile sees the main thread only: the plugin connects hosts and gathers their
    # facts on a thread pool inside pytest_collection_finish, so that is one line here.
    wanted = {
        "connect + facts of every host, concurrently (plugin.pytest_collection_finish)": (
            "plugin.py",
            "pytest_collection_finish",
        ),
        "connect (SSHConnection.__init__: TCP, kex, auth)": ("ssh.py", "__init__"),
        "shell session setup (ShellSession.__init__)": ("session.py", "__init__"),
        "facts (HostContext._gather: one round trip + parse)": ("hosts.py", "_gather"),
        "parse_facts": ("parse.py", "parse_facts"),
        "every command (SSHConnection._exec, incl. facts)": ("ssh.py", "_exec"),
        "pytest collection (pytest_collection)": ("main.py", "pytest_collection"),
        "pytest run loop (pytest_runtestloop)": ("main.py", "pytest_runtestloop"),
        "junit xml (pytest_sessionfinish of junitxml)": ("junitxml.py", "pytest_sessionfinish"),
    }
    found: dict[str, float] = {}
    for (file, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for label, (fname, fn) in wanted.items():
            if file.endswith(fname) and func == fn:
                found[label] = max(found.get(label, 0.0), ct)
    lines = [f"profiled wall time {total:.2f} s for {hosts} hosts, {items} items"]
    for label in wanted:
        if label in found:
            lines.append(f"- {label}: {found[label]:.2f} s")
    lines.append(
        "  (connect and facts on the main thread appear only if the plugin did not prefetch)"
    )
    loop = found.get("pytest run loop (pytest_runtestloop)", 0.0)
    conn = found.get("every command (SSHConnection._exec, incl. facts)", 0.0)
    connect = found.get("connect (SSHConnection.__init__: TCP, kex, auth)", 0.0)
    if items:
        per_item = (loop - conn - connect) / items * 1000
        lines.append(
            f"- pytest's own cost per item (run loop minus connect and commands; cProfile "
            f"inflates it): {per_item:.2f} ms"
        )
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--hosts", default="4,16,64", help="host counts, comma separated")
    ap.add_argument("--rtt-ms", default="0,10", help="round-trip times, comma separated")
    ap.add_argument(
        "--suite",
        choices=sorted(SUITES),
        default="hostkit",
        help="hostkit: the node suite as hostkit checks against the same as testinfra tests; "
        "plain: one unchanged testinfra file under both",
    )
    ap.add_argument(
        "--workers", default="0", help="xdist workers for both: a number, or auto (0: serial)"
    )
    ap.add_argument(
        "--testinfra-max-hosts",
        type=int,
        default=16,
        help="run plain testinfra on at most this many hosts and scale its time linearly "
        "(marked est.); 0 runs it on all",
    )
    ap.add_argument(
        "--extra-checks",
        type=int,
        default=300,
        help="for the per-check cost and the profile (hostkit suite; 0 skips both)",
    )
    ap.add_argument(
        "--out", help="default: benchmarks/results[-plain][-workersN].md, by suite and workers"
    )
    args = ap.parse_args()
    if args.workers != "auto" and not args.workers.isdigit():
        ap.error(f"--workers {args.workers!r}: give a number or auto")
    if args.out is None:
        plain = "-plain" if args.suite == "plain" else ""
        spread = f"-workers{args.workers}" if args.workers != "0" else ""
        args.out = str(HERE / f"results{plain}{spread}.md")
    # Other jobs on the same cores inflate every figure; the load says how much to trust one.
    load_before = os.getloadavg()[0]
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    counts = sorted(int(x) for x in args.hosts.split(","))
    rtts = [float(x) for x in args.rtt_ms.split(",")]
    workers = args.workers
    lines = [HEADER, "|" + "|".join(["---"] * (HEADER.count("|") - 1)) + "|"]
    notes: list[str] = []
    failed = False
    print(HEADER, flush=True)
    print(lines[1], flush=True)
    for rtt in rtts:
        sampled: dict[int, Run] = {}
        with fleetmod.running(max(counts), rtt) as fl:
            for n in counts:
                ti_hosts = min(n, args.testinfra_max_hosts) if args.testinfra_max_hosts else n
                # The 16-host sample serves every larger point at this RTT.
                if ti_hosts not in sampled:
                    sampled[ti_hosts] = run_suite(
                        "testinfra", fl, ti_hosts, rtt, workers, files=args.suite
                    )
                ti = sampled[ti_hosts]
                runs = [ti]
                if args.suite == "plain":
                    # hostkit answers testinfra's module reads from one batch per host,
                    # from what the previous run recorded in pytest's cache: the first run
                    # (an empty cache) records, and every later run is batched.
                    with tempfile.TemporaryDirectory(prefix="hkb-cache-") as cache:
                        # pytest.ini turns the cache off for every other run.
                        options = ("-o", "addopts=", "-o", f"cache_dir={cache}")
                        first = run_suite(
                            "hostkit", fl, n, rtt, workers, options=options, files=args.suite
                        )
                        first.suite = "hostkit, first run"
                        hk = run_suite(
                            "hostkit", fl, n, rtt, workers, options=options, files=args.suite
                        )
                        hk.suite = "hostkit, later runs"
                    runs += [first, hk]
                else:
                    runs.append(run_suite("hostkit", fl, n, rtt, workers, files=args.suite))
                ti_wall = ti.wall * n / ti.hosts
                for r in runs:
                    if not r.verdicts:
                        print(r.output[-3000:], file=sys.stderr)
                    line = row(r, n, ti_wall)
                    print(line, flush=True)
                    lines.append(line)
                for r in runs[1:]:
                    problems = compare(_restricted(r, ti_hosts), ti)
                    if problems:
                        failed = True
                        print(
                            f"VERDICT MISMATCH {r.suite}, {n} hosts, {rtt:g} ms:", file=sys.stderr
                        )
                        for p in problems[:50]:
                            print("  " + p, file=sys.stderr)
                    passed = sum(v == "passed" for v in ti.verdicts.values())
                    notes.append(
                        f"- {n} hosts, {rtt:g} ms, {r.suite}: verdicts agree with testinfra on "
                        f"{len(ti.verdicts)} check x host pairs ({passed} passed)"
                        if not problems
                        else f"- {n} hosts, {rtt:g} ms, {r.suite}: {len(problems)} mismatches"
                    )
                    notes.append(
                        f"  time inside calls, summed over hosts: connect "
                        f"{r.seconds.get('kit_connects', 0) / n * 1000:.0f} ms/host, facts "
                        f"{r.seconds.get('facts', 0) / n * 1000:.0f} ms/host, all commands "
                        f"{r.seconds.get('commands', 0) / n * 1000:.0f} ms/host"
                    )
                notes.append(
                    f"  testinfra: connect {ti.seconds.get('connections', 0) / ti.hosts * 1000:.0f}"
                    f" ms/host, commands {ti.seconds.get('commands', 0) / ti.hosts:.2f} s/host"
                )
    # Per-check controller cost and a profile, on the largest fleet at the last RTT.
    extra_lines: list[str] = []
    if args.suite == "hostkit" and args.extra_checks:
        n, rtt = counts[-1], rtts[-1]
        with fleetmod.running(n, rtt) as fl, tempfile.TemporaryDirectory() as tmp:
            # pytest's failure summary scans every report once per failure, so a run with
            # many failing hosts pays per item for it; --tb=line prints no such summary.
            for options in ((), ("--tb=line",)):
                base = run_suite("hostkit", fl, n, rtt, workers, options=options)
                more = run_suite(
                    "hostkit", fl, n, rtt, workers, extra=args.extra_checks, options=options
                )
                per_check = (more.cpu - base.cpu) / (args.extra_checks * n) * 1000
                extra_lines.append(
                    f"- Controller CPU per extra check per host, pytest {' '.join(options) or '-q'}"
                    f" ({n} hosts, {rtt:g} ms, {args.extra_checks} extra facts-only checks): "
                    f"{per_check:.2f} ms ({base.cpu:.2f} s -> {more.cpu:.2f} s CPU, "
                    f"{base.wall:.2f} s -> {more.wall:.2f} s wall)"
                )
            prof = Path(tmp) / "hostkit.prof"
            profiled = run_suite("hostkit", fl, n, rtt, "0", profile=prof)
            extra_lines += ["", f"cProfile of one serial hostkit run ({n} hosts, {rtt:g} ms):", ""]
            extra_lines += profile_summary(prof, len(profiled.verdicts), n)
    print("\n".join([*notes, "", *extra_lines]))
    Path(args.out).write_text(
        "# Benchmark results\n\n"
        f"`python benchmarks/run.py {shlex.join(sys.argv[1:])}` ({SUITE_TEXT[args.suite]}, "
        f"workers {workers}) on {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n"
        f"{LOGIN_TEXT}\n"
        f"1-minute load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at "
        "the end.\n"
        "commands/host: commands sent per host, each one round trip (hostkit: through its "
        "long-lived shell, the facts gather among them; testinfra: "
        "each on an exec channel of its own). channels/host: SSH channels opened per host, "
        "each costing sshd's session setup. host processes/host: processes a host "
        f"started during the run (sshd's own included), counted in its pid namespace "
        f"({PROCESSES_TEXT}). controller CPU s: user+system of the pytest "
        "process and its workers. sshd CPU s: the simulated hosts' sshd processes and "
        "every process they started, which share this machine's cores. "
        "peak MB: largest resident set of any one pytest "
        f"process. kit at commit {commit}.\n\n"
        + "\n".join(lines)
        + "\n\n"
        + "\n".join(notes)
        + "\n\n"
        + "\n".join(extra_lines)
        + "\n"
    )
    return 1 if failed else 0


def _restricted(run: Run, hosts: int) -> Run:
    """The run seen only on its first `hosts` hosts, to compare with a sampled testinfra run."""
    kept = {k: v for k, v in run.verdicts.items() if k[1] < hosts}
    return Run(run.suite, hosts, run.rtt_ms, run.wall, run.cpu, run.maxrss_mb, run.rc, kept)


if __name__ == "__main__":
    sys.exit(main())
