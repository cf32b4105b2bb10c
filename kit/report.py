"""Reports of several runs made into one: `python -m kit.report merge OUT IN1 IN2 ...`.

The inputs are the reports of the shards of one run (`--shard K/N`), so no host may
appear in two of them: a host in two inputs is refused, not counted twice. The
merged report's per-host summary is printed as the run prints it.

Each report format is merged by the entry of MERGERS for its file suffix: JUnit
(.xml) and --report-json (.json); a new format adds a function there taking the
output path and input paths and returning the merged run's Tally.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from kit.errors import KitError, KitValueError
from kit.plugin import outcomes

USAGE = 4


class ReportError(KitError):
    """A report cannot be read, or the reports cannot be merged."""


def _props(case: ET.Element) -> list[tuple[str, object]]:
    return [(p.get("name", ""), p.get("value", "")) for p in case.iter("property")]


def _read_junit(path: Path) -> list[ET.Element]:
    try:
        root = ET.parse(path).getroot()  # noqa: S314 - reports this kit wrote, read by their owner
    except (OSError, ET.ParseError) as exc:
        raise ReportError(f"{path}: cannot read it as a JUnit report: {exc}") from None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    if root.tag not in ("testsuite", "testsuites"):
        raise ReportError(f"{path}: not a JUnit report (its root is <{root.tag}>)")
    return suites


def merge_junit(out: Path, inputs: Sequence[Path]) -> outcomes.Tally:
    """One <testsuite> holding every input's test cases, the counts added up."""
    owner: dict[str, Path] = {}
    cases: list[ET.Element] = []
    totals = dict.fromkeys(("tests", "errors", "failures", "skipped"), 0)
    seconds = 0.0
    tally = outcomes.Tally()
    for path in inputs:
        hosts_here: set[str] = set()
        for suite in _read_junit(path):
            for key in totals:
                totals[key] += int(suite.get(key, "0") or 0)
            seconds += float(suite.get("time", "0") or 0)
            for case in suite.iter("testcase"):
                props = _props(case)
                host = outcomes.prop(props, "host")
                outcome = outcomes.prop(props, "outcome")
                if host is not None:
                    hosts_here.add(host)
                    if outcome is not None:
                        tally.count(host, outcome)
                cases.append(case)
        for host in sorted(hosts_here):
            if host in owner:
                raise ReportError(
                    f"host {host} is in both {owner[host]} and {path}: the reports overlap, "
                    "so they are not shards of one run"
                )
            owner[host] = path
    suite = ET.Element("testsuite", name="hostkit", time=f"{seconds:.3f}")
    for key, value in totals.items():
        suite.set(key, str(value))
    suite.extend(cases)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return tally


def merge_json(out: Path, inputs: Sequence[Path]) -> outcomes.Tally:
    """One --report-json document (kit/reports/schema/report-v1.json) from the shards'."""
    owner: dict[str, Path] = {}
    docs = []
    for path in inputs:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReportError(f"{path}: cannot read it as a JSON report: {exc}") from None
        if not isinstance(doc, dict) or "results" not in doc or "hosts" not in doc:
            raise ReportError(f"{path}: not a hostkit JSON report (no hosts and results)")
        # A shard's report lists every host of the run; its own are those with results.
        ran = {r["host"] for r in doc["results"]}
        doc["hosts"] = [h for h in doc["hosts"] if h["name"] in ran]
        for host in doc["hosts"]:
            name = host["name"]
            if name in owner:
                raise ReportError(
                    f"host {name} is in both {owner[name]} and {path}: the reports overlap, "
                    "so they are not shards of one run"
                )
            owner[name] = path
        docs.append(doc)
    modes = {d.get("mode") for d in docs}
    if len(modes) > 1:
        raise ReportError(f"the reports are of different modes: {', '.join(map(str, modes))}")
    merged = dict(docs[0])
    merged["run_id"] = None  # each shard had its own
    merged["started"] = min(d["started"] for d in docs)
    merged["finished"] = max(d["finished"] for d in docs)
    merged["duration"] = max(d["duration"] for d in docs)
    for key in ("hosts", "results"):
        merged[key] = [x for d in docs for x in d[key]]
    for key, ident in (("profiles", None), ("checks", "id"), ("waivers", None)):
        seen: dict[str, object] = {}
        for d in docs:
            for x in d.get(key, []):
                seen.setdefault(x[ident] if ident else json.dumps(x, sort_keys=True), x)
        merged[key] = list(seen.values())
    out.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tally = outcomes.Tally()
    for host in merged["hosts"]:
        tally.by_host.setdefault(host["name"], Counter())
        if host.get("unreachable"):
            tally.unreachable[host["name"]] = host["unreachable"]
    for result in merged["results"]:
        tally.count(result["host"], result["outcome"])
    return tally


# The merger of each report format, by the suffix of its files.
MERGERS: dict[str, Callable[[Path, Sequence[Path]], outcomes.Tally]] = {
    ".xml": merge_junit,
    ".json": merge_json,
}


def merge(out: Path, inputs: Sequence[Path]) -> outcomes.Tally:
    suffixes = {p.suffix for p in [out, *inputs]}
    if len(suffixes) != 1:
        raise KitValueError(f"merge reports of one format: got {', '.join(sorted(suffixes))}")
    suffix = suffixes.pop()
    if suffix not in MERGERS:
        known = ", ".join(sorted(MERGERS))
        raise KitValueError(f"cannot merge {suffix or 'suffix-less'} reports (known: {known})")
    return MERGERS[suffix](out, inputs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kit.report")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("merge", help="merge the reports of a run's shards into one")
    cmd.add_argument("out", type=Path, metavar="OUT")
    cmd.add_argument("inputs", type=Path, nargs="+", metavar="IN")
    args = parser.parse_args(argv)
    try:
        tally = merge(args.out, args.inputs)
    except KitValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.out}: {len(args.inputs)} reports, {len(tally.by_host)} hosts")
    for line in tally.table():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
