"""Every benchmark, one after the other, each writing its results file; then every row of
every earlier results file beside its new value.

    python benchmarks/all.py [--only fix,scale] [--list]      # as root

The commands are those that made the results files (each file names its own command);
BENCHMARKS lists them. Before a benchmark runs, its results file is read as it stands;
after, the tables of the old and the new file are matched row by row (by the columns
that name a row: hosts, RTT, suite, phase, tool) and written side by side to
benchmarks/results-compare.md, with each benchmark's exit status and runtime. A
benchmark that fails (a verdict mismatch, a fix that did not take, this machine
changed) is reported there and the rest still run; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Benchmark:
    name: str
    argv: tuple[str, ...]  # after `python`
    out: str  # the results file it writes, under benchmarks/


def _bench(name: str, command: str, out: str) -> Benchmark:
    return Benchmark(name, tuple(shlex.split(command)), out)


BENCHMARKS = (
    _bench("results", "benchmarks/run.py --hosts 4,16 --rtt-ms 0", "results.md"),
    _bench(
        "64",
        "benchmarks/run.py --hosts 64 --rtt-ms 10 --testinfra-max-hosts 16 --extra-checks 0 "
        "--out benchmarks/results-64.md",
        "results-64.md",
    ),
    _bench(
        "64-auto",
        "benchmarks/run.py --hosts 64 --rtt-ms 10 --testinfra-max-hosts 16 --extra-checks 0 "
        "--workers auto --out benchmarks/results-64-auto.md",
        "results-64-auto.md",
    ),
    _bench("plain", "benchmarks/run.py --suite plain --hosts 4 --rtt-ms 0", "results-plain.md"),
    _bench(
        "plain-workers4",
        "benchmarks/run.py --suite plain --hosts 4 --rtt-ms 0 --workers 4",
        "results-plain-workers4.md",
    ),
    _bench(
        "plain-workersauto",
        "benchmarks/run.py --suite plain --hosts 16 --rtt-ms 10 --workers auto",
        "results-plain-workersauto.md",
    ),
    _bench(
        "workers4",
        "benchmarks/run.py --hosts 4,16 --rtt-ms 10 --workers 4 --extra-checks 100",
        "results-workers4.md",
    ),
    _bench(
        "scale",
        "benchmarks/scale.py --hosts 4,16,64,256 --rtt-ms 0 --extra-checks 50 "
        "--plot benchmarks/scale.png",
        "results-scale.md",
    ),
    _bench(
        "ssh-commands",
        "benchmarks/ssh_commands.py --count-processes --out benchmarks/results-ssh-commands-run.md",
        "results-ssh-commands-run.md",
    ),
    _bench("fix", "benchmarks/fix.py --hosts 4,16,64", "results-fix.md"),
    _bench(
        "worker-startup",
        "benchmarks/worker_startup.py --out benchmarks/results-worker-startup.md",
        "results-worker-startup.md",
    ),
)

# The columns that name a row rather than measure it.
KEYS = ("hosts", "RTT ms", "suite", "phase", "tool", "workers")


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Each markdown table of text: its header cells and its rows' cells."""
    found: list[tuple[list[str], list[list[str]]]] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not (line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---")):
            continue
        header = _cells(line)
        rows = []
        for body in lines[i + 2 :]:
            if not body.startswith("|"):
                break
            rows.append(_cells(body))
        found.append((header, rows))
    return found


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def keyed(text: str) -> dict[tuple[str, ...], dict[str, str]]:
    """Every table row, by the cells of its KEYS columns (the table's place breaks ties)."""
    out: dict[tuple[str, ...], dict[str, str]] = {}
    for t, (header, rows) in enumerate(tables(text)):
        for row in rows:
            cells = dict(zip(header, row, strict=False))
            key = (str(t), *(f"{k}={cells[k]}" for k in KEYS if k in cells))
            out[key] = cells
    return out


_NUMBER = re.compile(r"^-?\d+(\.\d+)?")


def beside(old: str, new: str) -> list[str]:
    """Markdown rows: each measured cell of each row, old and new."""
    a, b = keyed(old), keyed(new)
    lines = []
    for key in list(dict.fromkeys([*a, *b])):
        was, now = a.get(key, {}), b.get(key, {})
        name = ", ".join(k for k in key[1:]) or f"table {key[0]}"
        cells = []
        for col in dict.fromkeys([*was, *now]):
            if col in KEYS:
                continue
            x, y = was.get(col, "-"), now.get(col, "-")
            if _NUMBER.match(x) or _NUMBER.match(y):
                cells.append(f"{col}: {x} → {y}")
        lines.append(f"| {name} | {'; '.join(cells)} |")
    return lines


_ROUND = re.compile(
    r"^(hostkit, a channel per command|hostkit|testinfra)\b.*?\(\s*([\d.]+) ms each"
    r"(?:.*?, ([\d.]+) host processes each)?"
)


def ssh_commands_before(text: str) -> str:
    """results-ssh-commands.md, written by hand before ssh_commands.py had --out: its
    first "after" block (the kit as it stood) as the table --out writes, medians of the
    rounds per tool."""
    block = text.split("\nafter\n", 1)[1].split("```", 1)[0] if "\nafter\n" in text else ""
    ms: dict[str, list[float]] = {}
    procs: dict[str, str] = {}
    for line in block.splitlines():
        m = _ROUND.match(line)
        if m:
            ms.setdefault(m.group(1), []).append(float(m.group(2)))
            procs[m.group(1)] = m.group(3) or "-"
    if "testinfra" not in ms:
        return ""
    ti = statistics.median(ms["testinfra"])
    rows = [
        f"| {tool} | {statistics.median(v):.2f} | {ti / statistics.median(v):.1f}x "
        f"| {procs[tool]} |"
        for tool, v in ms.items()
    ]
    return (
        "| tool | ms per command | testinfra / it | host processes per command |\n"
        "|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )


def before(b: Benchmark) -> str:
    path = HERE / b.out
    if path.exists():
        return path.read_text()
    if b.name == "ssh-commands" and (HERE / "results-ssh-commands.md").exists():
        return ssh_commands_before((HERE / "results-ssh-commands.md").read_text())
    return ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", help="benchmark names, comma separated (default: all)")
    ap.add_argument("--list", action="store_true", help="print the commands and stop")
    ap.add_argument("--out", type=Path, default=HERE / "results-compare.md")
    args = ap.parse_args()
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only.split(",")]
    if args.only and len(chosen) != len(args.only.split(",")):
        known = ", ".join(b.name for b in BENCHMARKS)
        ap.error(f"--only {args.only!r}: the benchmarks are {known}")
    if args.list:
        for b in chosen:
            print(f"python {' '.join(b.argv)}")
        return 0
    started = time.perf_counter()
    sections: list[str] = []
    failed = False
    for b in chosen:
        path = HERE / b.out
        old = before(b)
        print(f"== python {' '.join(b.argv)}", flush=True)
        t = time.perf_counter()
        done = subprocess.run([sys.executable, *b.argv], cwd=HERE.parent)
        took = time.perf_counter() - t
        failed |= done.returncode != 0
        new = path.read_text() if path.exists() else ""
        sections += [
            f"## {b.out}\n",
            f"`python {' '.join(b.argv)}`: exit status {done.returncode}, {took:.0f} s.\n",
            "| row | old → new |",
            "|---|---|",
            *beside(old, new),
            "",
        ]
    total = time.perf_counter() - started
    text = (
        "# Every benchmark row, before and after\n\n"
        f"`python benchmarks/all.py{' --only ' + args.only if args.only else ''}` on "
        f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{total / 60:.0f} minutes in all. Old: each results file as it stood before the "
        "run; new: as the run wrote it. Estimated figures keep their (est.).\n\n"
        + "\n".join(sections)
    )
    args.out.write_text(text)
    print(f"{total:.0f} s in all; {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
