"""--reboot: reboot the hosts whose fixes need it, wave by wave, and check them again.

pytest reports each check as soon as it ends, but a host that is rebooted must be reported
as it is after the reboot. So, under --reboot, each check runs without being reported; when
the last check of a wave (the --fix-batch waves, or all hosts as one) has run, the wave's
hosts that had a fix declaring a reboot, and changing something, are rebooted together.
Each that comes back with a new boot id has its checks run again, without fixes, and those
results are the ones reported; then the wave is reported and the next one starts.

A host that does not come back within --reboot-timeout is reported once, as unreachable,
its checks each saying only NOT_BACK; no later wave is rebooted, and their results say why.
Runs serially only: under xdist a worker's reports reach the controller as they are made.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from _pytest.runner import runtestprotocol

from kit import runner
from kit.errors import KitError, KitValueError
from kit.plugin import collected, outcomes
from kit.plugin import fix as fixflow
from kit.plugin.outcomes import prop
from kit.printable import printable

if TYPE_CHECKING:
    from kit.plugin.hosts import HostContext
    from kit.plugin.runstate import RunState

DEFAULT_TIMEOUT = 600.0
PLUGIN = "hostkit-reboot"
NOT_BACK = "host did not come back after its reboot"
AFTER = "after_reboot"  # the property a check run again after its host's reboot carries
RECHECK = pytest.StashKey[str]()
THREADS = 32

# What a check's first run said that no longer holds once it has run again.
_STALE = {"outcome", "message", "waiver", "waiver_expires", "reboot_required", "unreachable"}


def configure(config: pytest.Config, state: RunState) -> None:
    """Register the plugin; refuse a host that is this machine, which cannot be rebooted."""
    for ctx in state.registry:
        if ctx.spec.scheme == "local":
            raise KitValueError(
                f"--reboot cannot reboot {ctx.label}: it is the machine running the checks"
            )
        if ctx.spec.scheme == "nsenter":
            raise KitValueError(
                f"--reboot cannot reboot {ctx.label}: a reboot ends the process it enters "
                "(on a node, the pod running the checks)"
            )
    config.pluginmanager.register(Reboots(config, state), PLUGIN)


def rechecking(item: pytest.Item) -> bool:
    """Whether the check is being run again after its host's reboot (no fix then)."""
    return RECHECK in item.stash


def awaits(item: pytest.Item) -> bool:
    """Whether the check's fix is judged after a reboot still to come, not now."""
    return item.config.pluginmanager.has_plugin(PLUGIN) and any(
        key == "reboot_required" for key, _ in item.user_properties
    )


@dataclass
class Held:
    """A check that has run, and the reports it is to be reported with."""

    item: pytest.Item
    nextitem: pytest.Item | None
    reports: list[pytest.TestReport]

    @property
    def label(self) -> str:
        return collected.host_label(self.item) or ""

    def call(self) -> pytest.TestReport | None:
        return next((r for r in self.reports if r.when == "call"), None)

    def needs_reboot(self) -> bool:
        report = self.call()
        return report is not None and prop(report.user_properties, "reboot_required") is not None


@dataclass
class Lost:
    host: str
    wave: int  # counted from 1

    def line(self) -> str:
        return f"not rebooted: {self.host} of wave {self.wave} did not come back after its reboot"


class Reboots:
    def __init__(self, config: pytest.Config, state: RunState) -> None:
        self.state = state
        self.timeout: float = config.getoption("hostkit_reboot_timeout")
        self.waves: dict[str, int] | None = None
        self.held: list[Held] = []
        self.lost: Lost | None = None
        self.done: dict[str, str] = {}  # host -> what became of its reboot

    def wave_of(self, session: pytest.Session, label: str | None) -> int | None:
        if self.waves is None:
            ledger = self.state.waves
            groups = ledger.waves if ledger is not None else [_hosts(session.items)]
            self.waves = {host: n for n, wave in enumerate(groups) for host in wave}
        return None if label is None else self.waves.get(label)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        wave = self.wave_of(item.session, collected.host_label(item))
        if wave is None:
            return None  # not a host's check: reported as pytest does
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        self.held.append(Held(item, nextitem, reports))
        after = self.wave_of(item.session, collected.host_label(nextitem)) if nextitem else None
        if after != wave:
            self.end_wave(wave + 1, item.session, nextitem)
        return True

    def end_wave(self, wave: int, session: pytest.Session, nextitem: pytest.Item | None) -> None:
        held, self.held = self.held, []
        due = list(dict.fromkeys(h.label for h in held if h.needs_reboot()))
        if due and self.lost is not None:
            note = self.lost.line()
            for entry in (h for h in held if h.label in due):
                _append(entry, ("held_back", note), failed_note=note)
            self.done.update(dict.fromkeys(due, note))
        elif due:
            # The wave's last check has torn down what the next one does not share; the
            # checks run again start from nothing, as a new host's first check does.
            session._setupstate.teardown_exact(None)
            contexts = {c.label: c for c in self.state.registry}
            with ThreadPoolExecutor(min(THREADS, len(due))) as pool:
                came = pool.map(lambda h: self.reboot(contexts[h]), due)
                results = dict(zip(due, came, strict=True))
            again = [h for h in held if h.label in due and results[h.label][0]]
            for n, entry in enumerate(again):
                following = again[n + 1].item if n + 1 < len(again) else nextitem
                self.recheck(entry, following, results[entry.label][1])
            for host in due:
                back, line = results[host]
                if not back:
                    self.lose(host, wave, line, [h for h in held if h.label == host])
        for entry in held:
            _log(entry)

    def reboot(self, ctx: HostContext) -> tuple[bool, str]:
        """Reboot and wait for a new boot id: whether it came back, and how it went."""
        fixes = self.state.hosts.get(ctx.key)
        if fixes is not None and fixes.journal is not None:
            with contextlib.suppress(KitError):
                fixes.journal.note(event="reboot")
        try:
            change = runner.reboot(ctx.conn, self.timeout, accept_disconnect=True)
        except KitError as exc:
            return False, f"{NOT_BACK}: {exc}"
        with contextlib.suppress(KitError):
            ctx.refresh_facts()  # a gather that fails now fails each check, as it says
        self.done[ctx.label] = f"{change.summary}; its checks ran again"
        return True, f"result from after the reboot ({change.summary})"

    def recheck(self, entry: Held, nextitem: pytest.Item | None, note: str) -> None:
        """Run the check again, unfixed; what it finds replaces its first reports."""
        item = entry.item
        first = entry.call()
        props = [(k, v) for k, v in item.user_properties if k not in _STALE]
        props += [("rebooted", v) for k, v in item.user_properties if k == "reboot_required"]
        item.user_properties[:] = [*props, (AFTER, note)]
        fixed = first is not None and prop(first.user_properties, "fix") is not None
        if fixflow.OUTCOME in item.stash:
            del item.stash[fixflow.OUTCOME]
        if fixed:
            item.stash[fixflow.OUTCOME] = outcomes.FIXED
        item.stash[RECHECK] = note
        try:
            entry.reports = runtestprotocol(item, nextitem=nextitem, log=False)
        finally:
            del item.stash[RECHECK]
        call = entry.call()
        if call is not None and call.failed:
            ledger = self.state.waves
            if fixed and ledger is not None:
                ledger.record_failure(entry.label)
            _append(entry, None, failed_note=note)
        if call is not None:
            found = prop(call.user_properties, "message") or _found(call, item)
            call.user_properties.append(("message", f"{found}; {note}" if found else note))

    def lose(self, host: str, wave: int, line: str, entries: list[Held]) -> None:
        """Report the host's checks as NOT_BACK, the reason once; reboot no later wave."""
        self.done[host] = NOT_BACK  # why: once, among the unreachable hosts
        if self.lost is None:
            self.lost = Lost(host, wave)
        if self.state.waves is not None:
            self.state.waves.record_failure(host)
        for entry in entries:
            first = entry.call()
            base = first.user_properties if first is not None else entry.item.user_properties
            props = [(k, v) for k, v in base if k not in _STALE]
            props += [("unreachable", line), ("outcome", outcomes.ERROR)]
            kept = []
            for report in entry.reports:
                if report.when == "call":
                    continue
                report.user_properties = list(props)
                if report.when == "setup":
                    report.outcome = "failed"
                    report.longrepr = NOT_BACK
                kept.append(report)
            entry.reports = kept

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.done:
            return
        terminalreporter.section("reboots")
        for host, line in sorted(self.done.items()):
            terminalreporter.line(printable(f"{host}: {line}"))  # boot ids are the host's


def _hosts(items: list[pytest.Item]) -> list[str]:
    return list(dict.fromkeys(h for h in map(collected.host_label, items) if h is not None))


def _append(entry: Held, prop_: tuple[str, str] | None, *, failed_note: str) -> None:
    """Add a property to each of the check's reports, and the note to its failure."""
    for report in entry.reports:
        if prop_ is not None:
            report.user_properties.append(prop_)
        if report.when == "call" and report.failed:
            report.longrepr = f"{report.longrepr}\n{failed_note}"


def _found(report: pytest.TestReport, item: pytest.Item) -> str | None:
    """A failed check's own first line, without the id its failure report starts with."""
    if not report.failed:
        return None
    first = str(report.longrepr).partition("\n")[0]
    check_id = prop(item.user_properties, "check_id")
    return first.removeprefix(f"{check_id}: ") if check_id else first


def _log(entry: Held) -> None:
    item = entry.item
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for report in entry.reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
