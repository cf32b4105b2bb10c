"""What to do by hand when a check fails: one line of text per check, kept as data.

kube-bench prints a remediation for every item, fixed automatically or not; hostkit's
catalog does the same from `by-hand.yaml` beside the check modules, a mapping of check id
to one line:

    k8s.sysctl: sysctl -w {key}={value}, and set it in /etc/sysctl.d/99-zz-hostkit.conf

`{name}` stands for the failing parameter set's value of the check's parameter `name`,
written as one shell word (kit/connection/quoting.py), so a command in the text can be run
as shown whatever the profile or inventory gave; `{{` and `}}` are literal braces. The
file is checked whole as it loads: an id no check declares, a placeholder that is not a
parameter of its check, a text of a parametrized check naming none of its parameters,
or (for the shipped catalog, which must be complete) a check without a text is one error
naming the file and the entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from kit import yamlsafe
from kit.catalog.check import CheckMeta
from kit.connection.quoting import quote
from kit.errors import KitValueError

FILE = "by-hand.yaml"
# A doubled brace, a placeholder, or a brace on its own (an error).
_PART = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|([{}])")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ByHandError(KitValueError):
    """A by-hand file that cannot be used, named with its entry."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


def placeholders(template: str) -> list[str]:
    """The names a template's placeholders stand for, in order (doubled braces are not)."""
    return [m.group(1) for m in _PART.finditer(template) if m.group(1) is not None]


def render(template: str, params: Mapping[str, object]) -> str:
    """The template with each placeholder replaced by its value as one shell word."""

    def part(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]  # `{{` or `}}`; a lone brace never passed load()
        if match.group(1) not in params:
            return match.group(0)  # the check ran without it: the text says what it needs
        return quote(str(params[match.group(1)]))

    return _PART.sub(part, template)


def load(directory: Path, catalog: Sequence[CheckMeta], *, complete: bool) -> dict[str, str]:
    """The texts of directory's by-hand file, checked against the checks declared there.

    complete: every check must have one (the shipped catalog); otherwise a missing file
    means no texts, and a check without a text shows none."""
    import yaml  # only where a catalog has texts

    path = directory / FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if complete:
            raise ByHandError(
                path, "does not exist; every check of this catalog needs a text"
            ) from None
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ByHandError(
            path, f"cannot read it: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        data = yamlsafe.load(raw)
    except yaml.YAMLError as exc:
        raise ByHandError(path, f"not YAML: {yamlsafe.problem(exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ByHandError(path, "must map check ids to texts (`check.id: what to do`)")
    checks = {meta.id: meta for meta in catalog}
    texts: dict[str, str] = {}
    for check_id, text in data.items():
        meta = checks.get(check_id) if isinstance(check_id, str) else None
        if meta is None:
            raise ByHandError(path, f"{check_id!r} is no check in the catalog {directory}")
        texts[check_id] = _checked(path, meta, text)
    missing = [meta.id for meta in catalog if meta.id not in texts]
    if complete and missing:
        first = checks[missing[0]]
        named = " ".join(f"{{{a}}}" for a in first.argnames)
        example = f"{first.id}: <what an operator runs>" + (f" {named}" if named else "")
        more = f" (and {len(missing) - 1} more: {', '.join(missing[1:])})" if missing[1:] else ""
        raise ByHandError(path, f"no text for {first.id}{more}; add a line '{example}'")
    return texts


def _checked(path: Path, meta: CheckMeta, text: object) -> str:
    if not isinstance(text, str):
        raise ByHandError(path, f"{meta.id}: the text must be a string, not {type(text).__name__}")
    text = text.strip()
    if not text:
        raise ByHandError(path, f"{meta.id}: the text is empty")
    if "\n" in text:
        raise ByHandError(path, f"{meta.id}: the text must be one line (the terminal shows one)")
    used: list[str] = []
    for match in _PART.finditer(text):
        name, lone = match.group(1), match.group(2)
        if lone is not None:
            raise ByHandError(path, f"{meta.id}: a lone {lone!r}; write {lone * 2} for a brace")
        if name is None:
            continue
        if not _NAME.match(name) or name not in meta.argnames:
            has = ", ".join(meta.argnames) or "it has none"
            raise ByHandError(
                path, f"{meta.id}: {{{name}}} is not a parameter of the check ({has})"
            )
        used.append(name)
    if meta.argnames and not used:
        raise ByHandError(
            path,
            f"{meta.id}: the text names none of its parameters ({', '.join(meta.argnames)}): "
            "say which one failed with {name}",
        )
    return text
