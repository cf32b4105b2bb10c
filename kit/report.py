"""Reports of several runs made into one: `hostkit report merge OUT IN1 IN2 ...` (or
`python -m kit.report merge ...`); and what changed between two runs: `hostkit report
diff OLD.json NEW.json` (kit/reports/diff.py), exit 1 when a cell got worse, 0 otherwise.

The inputs are the reports of the shards of one run (`--shard K/N`), so no host may
appear in two of them: a host in two inputs is refused, not counted twice. The
merged report's per-host summary is printed as the run prints it, and the command exits
with the fleet's verdict in a run's codes (kit.cli.codes): 0 every host compliant or
fixed, 1 a host non-compliant, 10 the only failures are unreachable hosts.

Each report format is merged by the entry of MERGERS for its file suffix: JUnit
(.xml) and --report-json (.json); a new format adds a function there taking the input
paths and returning the merged report's text and the merged run's Tally. OUT's suffix
picks what is written: the inputs' own format, or the HTML page (.html) from JSON
shards, which carry everything the page shows. OUT is written (as
kit/reports/output.py writes a report) only once every input was read: a bad input is
one line naming it, exit 4, and OUT stays as it was.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kit.cli import codes
from kit.errors import KitError, KitValueError
from kit.plugin import outcomes
from kit.reports import output

USAGE = codes.USAGE


class ReportError(KitError):
    """The reports cannot be merged."""


class BadReport(ReportError, KitValueError):
    """An input is not a report of its format: a usage error naming the file."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


def _props(case: ET.Element) -> list[tuple[str, object]]:
    return [(p.get("name", ""), p.get("value", "")) for p in case.iter("property")]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise BadReport(path, "is a directory, not a report") from None
    except FileNotFoundError:
        raise BadReport(path, "no such file") from None
    except OSError as exc:
        raise BadReport(path, f"cannot read it: {exc.strerror or exc}") from None


def _read_junit(path: Path) -> list[ET.Element]:
    try:
        # Expat refuses entity expansion bombs; these are reports this kit wrote.
        root = ET.fromstring(_read(path))  # noqa: S314
    except ET.ParseError as exc:
        raise BadReport(path, f"not a JUnit report: {exc}") from None
    if root.tag not in ("testsuite", "testsuites"):
        raise BadReport(path, f"not a JUnit report (its root is <{root.tag}>)")
    return [root] if root.tag == "testsuite" else list(root.iter("testsuite"))


def _number(path: Path, suite: ET.Element, key: str, kind: type[int] | type[float]) -> float:
    text = suite.get(key, "0") or "0"
    try:
        return kind(text)
    except ValueError:
        raise BadReport(path, f"not a JUnit report: <testsuite {key}={text!r}>") from None


def merge_junit(inputs: Sequence[Path]) -> tuple[str, outcomes.Tally]:
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
                totals[key] += int(_number(path, suite, key, int))
            seconds += _number(path, suite, "time", float)
            for case in suite.iter("testcase"):
                props = _props(case)
                host = outcomes.prop(props, "host")
                outcome = outcomes.prop(props, "outcome")
                if host is not None:
                    hosts_here.add(host)
                    if outcome is not None:
                        tally.count(host, outcome)
                    reason = outcomes.prop(props, "unreachable")
                    if reason is not None:
                        tally.unreachable.setdefault(host, reason)
                cases.append(case)
        _claim(owner, sorted(hosts_here), path)
    suite = ET.Element("testsuite", name="hostkit", time=f"{seconds:.3f}")
    for key, value in totals.items():
        suite.set(key, str(value))
    suite.extend(cases)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
    return text + "\n", tally


def _claim(owner: dict[str, Path], hosts: Sequence[str], path: Path) -> None:
    for host in hosts:
        if host in owner:
            raise ReportError(
                f"host {host} is in both {owner[host]} and {path}: the reports overlap, "
                "so they are not shards of one run"
            )
        owner[host] = path


def read_json(path: Path) -> dict[str, Any]:
    """A --report-json document, with the shape merging reads checked; BadReport names
    the file and what is wrong with it."""
    raw = _read(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadReport(path, f"not UTF-8 text (byte {exc.start})") from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise BadReport(path, f"not JSON: {exc}") from None
    problem = _json_shape(doc)
    if problem:
        raise BadReport(path, f"not a hostkit JSON report: {problem}")
    return doc


# What merging reads of a --report-json document (schema/report-v1.json has the rest):
# each top-level key's kind, and the text fields of each item of the lists.
_TEXT, _LIST, _NUMBER = (str,), (list,), (int, float)
_TOP: dict[str, tuple[type, ...]] = {
    "mode": _TEXT,
    "started": _TEXT,
    "finished": _TEXT,
    "duration": _NUMBER,
    "profiles": _LIST,
    "hosts": _LIST,
    "checks": _LIST,
    "results": _LIST,
    "waivers": _LIST,
}
_KIND_NAMES = {_TEXT: "text", _LIST: "a list", _NUMBER: "a number"}
_ITEMS: dict[str, tuple[str, ...]] = {
    "hosts": ("name",),
    "checks": ("id",),
    "results": ("host", "outcome"),
}


def _json_shape(doc: Any) -> str | None:
    """What is missing or of the wrong kind in a report, or None."""
    if not isinstance(doc, dict):
        return f"a {type(doc).__name__} at the top, not an object"
    for key, kinds in _TOP.items():
        value = doc.get(key)
        if not isinstance(value, kinds) or isinstance(value, bool):
            return f"{key} is missing or not {_KIND_NAMES[kinds]}"
    for key, fields in _ITEMS.items():
        for n, item in enumerate(doc[key]):
            for name in fields:
                if not isinstance(item, dict) or not isinstance(item.get(name), str):
                    return f"{key}[{n}] has no text {name}"
    return None


def merge_json(inputs: Sequence[Path]) -> tuple[str, outcomes.Tally]:
    """One --report-json document (kit/reports/schema/report-v1.json) from the shards'."""
    merged, tally = _merged_json(inputs)
    return json.dumps(merged, indent=2, ensure_ascii=False) + "\n", tally


def merge_html(inputs: Sequence[Path]) -> tuple[str, outcomes.Tally]:
    """The --report-html page of the fleet, from the shards' JSON reports."""
    from kit.reports import html_report

    merged, tally = _merged_json(inputs)
    return html_report.render(run_of(merged)), tally


def run_of(doc: dict[str, Any]) -> Any:
    """The report model of a merged JSON document: the fields the schema names."""
    from kit.reports import model

    def fields(kind: type, data: dict[str, Any]) -> dict[str, Any]:
        known = kind.__dataclass_fields__
        return {k: v for k, v in data.items() if k in known}

    results = []
    for item in doc["results"]:
        result = model.Result(**fields(model.Result, item))
        result.fixes = [model.Fix(**fields(model.Fix, f)) for f in item.get("fixes") or ()]
        waiver = item.get("waiver")
        result.waiver = model.Waiver(**fields(model.Waiver, waiver)) if waiver else None
        results.append(result)
    run = model.Run(**fields(model.Run, doc))
    run.hosts = [model.Host(**fields(model.Host, h)) for h in doc["hosts"]]
    run.checks = [model.Check(**fields(model.Check, c)) for c in doc["checks"]]
    run.results = results
    return run


def _merged_json(inputs: Sequence[Path]) -> tuple[dict[str, Any], outcomes.Tally]:
    owner: dict[str, Path] = {}
    docs = []
    for path in inputs:
        doc = read_json(path)
        for result in doc["results"]:
            # A kit before the field said nothing by hand: null, as the schema has it.
            result.setdefault("by_hand", None)
        # A shard's report lists every host of the run; its own are those with results.
        ran = {r["host"] for r in doc["results"]}
        doc["hosts"] = [h for h in doc["hosts"] if h["name"] in ran]
        _claim(owner, [h["name"] for h in doc["hosts"]], path)
        docs.append(doc)
    modes = {d["mode"] for d in docs}
    if len(modes) > 1:
        raise ReportError(f"the reports are of different modes: {', '.join(sorted(modes))}")
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
            for x in d[key]:
                seen.setdefault(x[ident] if ident else json.dumps(x, sort_keys=True), x)
        merged[key] = list(seen.values())
    tally = outcomes.Tally()
    for host in merged["hosts"]:
        tally.by_host.setdefault(host["name"], Counter())
        if host.get("unreachable"):
            tally.unreachable[host["name"]] = host["unreachable"]
    for result in merged["results"]:
        tally.count(result["host"], result["outcome"])
    return merged, tally


# The merger of each report format, by the suffix of its files: it reads every input and
# returns the merged report's text, which merge() writes only then.
MERGERS: dict[str, Callable[[Sequence[Path]], tuple[str, outcomes.Tally]]] = {
    ".xml": merge_junit,
    ".json": merge_json,
}
# OUT suffixes written from inputs of another format: (the inputs' suffix, the writer).
CONVERTERS: dict[str, tuple[str, Callable[[Sequence[Path]], tuple[str, outcomes.Tally]]]] = {
    ".html": (".json", merge_html),
}


def merge(out: Path, inputs: Sequence[Path]) -> outcomes.Tally:
    merger = _merger(out, inputs)
    where = output.check("OUT", str(out), stdout_ok=False)
    if any(_same(out, p) for p in inputs):
        raise KitValueError(f"OUT {out} is also an input: name a new file")
    text, tally = merger(inputs)
    try:
        output.write(where, text)
    except OSError as exc:
        raise ReportError(f"cannot write {out}: {exc.strerror or exc}") from None
    return tally


def _merger(
    out: Path, inputs: Sequence[Path]
) -> Callable[[Sequence[Path]], tuple[str, outcomes.Tally]]:
    """The function merging inputs into OUT's format, or one KitValueError saying why none."""
    given = sorted({p.suffix for p in inputs})
    if out.suffix in CONVERTERS:
        wanted, converter = CONVERTERS[out.suffix]
        if given != [wanted]:
            raise KitValueError(
                f"OUT {out} is {out.suffix}: merge the shards' --report-json ({wanted}) "
                f"reports into it, not {', '.join(s or 'suffix-less' for s in given)}"
            )
        return converter
    suffixes = sorted({out.suffix, *given})
    if len(suffixes) != 1:
        raise KitValueError(f"merge reports of one format: got {', '.join(suffixes)}")
    if out.suffix not in MERGERS:
        known = ", ".join(sorted([*MERGERS, *CONVERTERS]))
        raise KitValueError(f"cannot merge {out.suffix or 'suffix-less'} reports (known: {known})")
    return MERGERS[out.suffix]


def fleet_status(tally: outcomes.Tally) -> int:
    """The merged fleet's exit status, as its run would have exited (kit.cli.codes)."""
    verdicts = {tally.verdict(host) for host in tally.by_host}
    if outcomes.NON_COMPLIANT in verdicts:
        return codes.NON_COMPLIANT
    if outcomes.UNREACHABLE in verdicts:
        return codes.UNREACHABLE
    return codes.COMPLIANT


def _diff(old: Path, new: Path, *, as_json: bool) -> int:
    from kit.reports import diff

    try:
        before, after = read_json(old), read_json(new)
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE
    found = diff.changes(before, after)
    text = diff.to_json(found) if as_json else "\n".join(diff.lines(found))
    if text:
        print(text)
    return codes.NON_COMPLIANT if diff.worse(found) else codes.COMPLIANT


def _same(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return a.absolute() == b.absolute()


def main(argv: Sequence[str] | None = None, prog: str = "python -m kit.report") -> int:
    parser = codes.UsageParser(prog=prog)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=codes.UsageParser)
    cmd = sub.add_parser(
        "merge",
        help="merge the reports of a run's shards into one (.xml, .json, or .html from .json)",
    )
    cmd.add_argument("out", type=Path, metavar="OUT")
    cmd.add_argument("inputs", type=Path, nargs="+", metavar="IN")
    compare = sub.add_parser(
        "diff",
        help="what changed outcome between two runs' --report-json reports, new failures "
        "first; exit 1 when something got worse",
    )
    compare.add_argument("old", type=Path, metavar="OLD")
    compare.add_argument("new", type=Path, metavar="NEW")
    compare.add_argument("--json", action="store_true", help="the changes as JSON")
    args = parser.parse_args(argv)
    if args.command == "diff":
        return _diff(args.old, args.new, as_json=args.json)
    try:
        tally = merge(args.out, args.inputs)
    except KitError as exc:
        # Inputs that cannot be merged (unreadable, of another format, overlapping) are
        # the operator's to correct: nothing was written, as for any usage mistake.
        print(f"error: {exc}", file=sys.stderr)
        return USAGE
    print(f"{args.out}: {len(args.inputs)} reports, {len(tally.by_host)} hosts")
    for line in tally.table():
        print(line)
    return fleet_status(tally)


if __name__ == "__main__":
    sys.exit(main())
