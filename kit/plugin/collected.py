"""What the plugin knows about collected items: their host, probes, failure style."""

from __future__ import annotations

import re
import traceback
from types import FrameType
from typing import Any

import pytest

from kit.catalog.check import meta_of
from kit.errors import KitValueError
from kit.facts.model import Probes
from kit.plugin import fix as fixflow
from kit.plugin.hosts import HostContext, context_of
from kit.printable import printable


def param_id(values: tuple[Any, ...]) -> str:
    """`key=value` for a pair of profile values, else the values joined by `-`."""
    if len(values) == 2:
        return f"{values[0]}={values[1]}"
    return "-".join(str(v) for v in values)


_LABEL = pytest.StashKey["str | None"]()


def host_label(item: pytest.Item) -> str | None:
    # Asked for each item by collection's filters, sorting and prefetch; an item's host
    # does not change, and looking it up goes through testinfra's backend to the registry.
    try:
        return item.stash[_LABEL]
    except KeyError:
        pass
    callspec = getattr(item, "callspec", None)
    host = callspec.params.get(fixflow.HOST_PARAM) if callspec else None
    label = item.stash[_LABEL] = host.backend.get_pytest_id() if host is not None else None
    return label


def context(item: pytest.Item) -> HostContext | None:
    callspec = getattr(item, "callspec", None)
    host = callspec.params.get(fixflow.HOST_PARAM) if callspec else None
    return context_of(host.backend) if host is not None else None


def concise_failures(item: pytest.Item, check_id: str) -> None:
    """A failing check reads as its id and message, not a traceback, unless --tb asks for one.

    What a compliance run reports is the state the check found; the check's source is
    noise there, and formatting it costs more than running the check. The first line is
    what pytest's short summary shows, so it carries the id; the location is the line
    that failed, not the decorator the item's own location points at.
    """
    full = item.repr_failure

    def repr_failure(excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if style is not None or item.config.option.tbstyle != "auto":
            return full(excinfo, style) if style is not None else full(excinfo)
        # A check's message quotes what its host sent: each line is shown escaped.
        if excinfo.errisinstance(AssertionError):
            said = _for_people(str(excinfo.value).splitlines())
            lines = [printable(x) for x in said] or ["check failed"]
            where = _failed_at(item, excinfo)
            return "\n".join([f"{check_id}: {lines[0]}", *(f"E   {x}" for x in lines[1:]), where])
        if excinfo.errisinstance(pytest.fail.Exception) and not excinfo.value.pytrace:
            # A fix that failed: its one line, then the check's own first line; the rest
            # (the fix's traceback) only under -v.
            lines = [printable(x) for x in str(excinfo.value).splitlines()] or [""]
            shown = lines if item.config.option.verbose > 0 else lines[:2]
            return "\n".join([f"{check_id}: {shown[0]}", *(f"E   {x}" for x in shown[1:])])
        return full(excinfo)

    item.repr_failure = repr_failure  # type: ignore[method-assign]


# An object's repr in pytest's account of an assert expression: an address, a dataclass's
# fields, `<SSHConnection ...>`. It says nothing to the operator the check's message does not.
_REPR = re.compile(r"\b0x[0-9a-f]{6,}\b|\b[A-Z]\w*\(\w+=|<[A-Za-z_][\w.]* ")
_EXPLAINED = re.compile(r"^\s*\+\s")  # `  +  where x = f(y)`, `  +  and ...`


def _for_people(lines: list[str]) -> list[str]:
    """A failed check's message and notes, without the lines of pytest's account of the
    assert expression that show objects' reprs (`<function f at 0x...>`, `Facts(os=...)`).
    An assert line that shows one goes, and with it the lines explaining it."""
    kept: list[str] = []
    dropping = False
    for n, line in enumerate(lines):
        if n and line.startswith("assert "):
            dropping = bool(_REPR.search(line))
        elif not (n and _EXPLAINED.match(line)):
            dropping = False
        elif _REPR.search(line):
            continue
        if not dropping:
            kept.append(line)
    return kept


def _failed_at(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """The check's line that failed; a failure re-raised after a fix keeps it in its context."""
    path = item.location[0]
    exc: BaseException | None = excinfo.value
    while exc is not None:
        lines = [n for f, n in traceback.walk_tb(exc.__traceback__) if _in(f, item)]
        if lines:
            return f"{path}:{lines[-1]}: check failed"
        exc = exc.__cause__ or exc.__context__
    return f"{path}: check failed"


def _in(frame: FrameType, item: pytest.Item) -> bool:
    return frame.f_code.co_filename == str(item.path)


def set_probes(items: list[pytest.Item]) -> None:
    """Give each host the files and packages its checks read, for its facts gather."""
    wanted: dict[str, tuple[HostContext, dict[str, None], dict[str, None]]] = {}
    for item in items:
        meta, ctx = meta_of(item), context(item)
        if meta is None or ctx is None or not (meta.reads_file or meta.reads_package):
            continue
        _, files, packages = wanted.setdefault(ctx.key, (ctx, {}, {}))
        params = fixflow.check_params(item)
        if meta.reads_file:
            files[str(params[meta.reads_file])] = None
        if meta.reads_package:
            packages[str(params[meta.reads_package])] = None
    for ctx, files, packages in wanted.values():
        try:
            ctx.probes = Probes(tuple(files), tuple(packages))
        except KitValueError as exc:
            raise pytest.UsageError(f"{ctx.label}: {exc}") from None
