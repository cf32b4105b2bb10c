"""Profiles: which checks run, in which order, with which parameters. Data, not code.

A profile is a YAML file:

    name: kubernetes-node
    extends: base              # optional: start from another profile
    checks: [k8s.kernel.*, k8s.sysctl]   # ids or patterns; the order is the run order
    checks_add: [k8s.port.owner]         # appended to the checks (the parent's, with extends)
    params:
      sysctls: {net.ipv4.ip_forward: "1"}
      modules: [br_netfilter, overlay]

With `extends`, `checks` replaces the parent's list and `checks_add` extends it (a profile
that only adds checks to its parent's gives `checks_add` alone); each key of `params`
replaces the parent's value for that key. A profile must end up with checks: one that lists
none is an error, not the whole catalog.

A name is looked up along a search path: the run's own profiles directory, then the shipped
catalog's. `extends` looks next to the extending file first, then along the same path, and
never at the extending file itself: a user's `kubernetes-node.yaml` can extend the shipped
`kubernetes-node`.

Before a run, `validate` holds a profile against the catalog: every id or pattern must match
a check, every `params` key must be one that a check declares (`params=` of @check), and
each value must have the shape the check's `argnames` take: a list of values for one name,
a mapping (or a list of pairs) for two, a list of lists for more. A check the profile selects
(by id or pattern) that takes its values from `params` must get at least one set: pytest
would skip a check with an empty parameter set without a word, so it is a profile error.

Which profile a host gets (`--profile`, see `parse_choice`):

    --profile kubernetes-node                        every host
    --profile kube_control_plane=kubernetes-control-plane,kube_node=kubernetes-node
    --profile etcd=kubernetes-control-plane,kubernetes-node   (a bare name: the default)

A mapping needs --inventory. A host in several mapped groups gets the first mapping listed
that names one of its groups; a host in none gets the bare default, and without one is an
error. Inventory variables `hostkit_<param>` (group or host vars; in an INI inventory the
value is read as YAML, e.g. `hostkit_ports_free=[10250]`) change that parameter of the
host's profile, and are validated as the profile's own are: a mapping merges into the
profile's key by key, a key given `null` is taken out (`hostkit_sysctls={kernel.panic:
null}`), and a list replaces the profile's. The run's header names, per host, each
parameter set so taken out: a check that does not run there is said, never dropped in
silence.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit import yamlsafe
from kit.errors import KitValueError

if TYPE_CHECKING:
    from kit.catalog.check import CheckMeta

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_KEYS = {"name", "description", "extends", "checks", "checks_add", "params"}
# Inventory variables with this prefix override the parameter named by the rest.
VAR_PREFIX = "hostkit_"


@dataclass(frozen=True)
class Profile:
    name: str
    description: str = ""
    checks: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None
    # The files it extends, nearest first: their catalogs are the ones it may name.
    parents: tuple[Path, ...] = ()

    def order_of(self, check_id: str) -> int | None:
        """Position of the first pattern matching check_id, or None when not selected."""
        for index, pattern in enumerate(self.checks):
            if fnmatch.fnmatchcase(check_id, pattern):
                return index
        return None

    def values(self, key: str) -> list[tuple[Any, ...]]:
        """Parameter sets for a check: mapping items become (key, value), scalars (value,)."""
        data = self.params.get(key, ())
        if isinstance(data, Mapping):
            return [(k, _text(v)) for k, v in data.items()]
        if isinstance(data, list | tuple):
            return [tuple(v) if isinstance(v, list | tuple) else (v,) for v in data]
        raise KitValueError(f"profile {self.name}: params.{key} must be a list or a mapping")

    def with_params(self, overrides: Mapping[str, Any]) -> Profile:
        """The same profile with a host's own values: a mapping merges into the profile's
        key by key (a key given null is taken out), anything else replaces it."""
        if not overrides:
            return self
        params = dict(self.params)
        for key, value in overrides.items():
            old = params.get(key)
            if isinstance(value, Mapping) and isinstance(old, Mapping):
                value = {**old, **value}
            if isinstance(value, Mapping):
                value = {k: v for k, v in value.items() if v is not None}
            params[key] = value
        return replace(self, params=params)


def taken_out(before: Profile, after: Profile) -> dict[str, list[str]]:
    """The parameter sets of `before` that `after` (a host's profile) no longer has, by
    parameter: the checks a host's inventory variables take out, to be said, not dropped
    in silence."""
    found: dict[str, list[str]] = {}
    for key in before.params:
        if after.params.get(key) is before.params[key]:
            continue
        kept = after.values(key) if key in after.params else []
        if isinstance(before.params[key], Mapping):  # by key: a new value is not a removal
            names = {v[0] for v in kept}
            gone = [v for v in before.values(key) if v[0] not in names]
        else:
            gone = [v for v in before.values(key) if v not in kept]
        if gone:
            found[key] = ["=".join(map(str, v)) for v in gone]
    return found


def _text(value: Any) -> Any:
    # YAML reads `1` as an int; sysctl values and the like are compared as text.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def load(name_or_path: str, directory: Path | Sequence[Path]) -> Profile:
    """Load a profile by name from the first of the directories that has it, or from a path
    to a YAML file."""
    prof = _load(name_or_path, _search_path(directory), seen=())
    if not prof.checks:
        raise KitValueError(
            f"profile {_where(prof)} lists no checks: give `checks:` (or `extends:` a profile"
            " that has them)"
        )
    return prof


def available(directory: Path | Sequence[Path]) -> list[str]:
    return sorted({p.stem for d in _search_path(directory) for p in d.glob("*.yaml")})


def _search_path(directory: Path | Sequence[Path]) -> list[Path]:
    """The directories in order, each once (a checkout's profiles directory is also the
    shipped one)."""
    dirs = [directory] if isinstance(directory, Path) else list(directory)
    return list({d.resolve(): d for d in dirs}.values())


def _where(prof: Profile) -> str:
    return f"{prof.name} ({prof.source})" if prof.source else prof.name


def _load(name_or_path: str, directories: list[Path], seen: tuple[str, ...]) -> Profile:
    # Imported here: a run with no profile does not load a YAML parser.
    import yaml

    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        if not _NAME.fullmatch(name_or_path):
            raise KitValueError(f"invalid profile name {name_or_path!r}")
        found = [f for f in (d / f"{name_or_path}.yaml" for d in directories) if f.is_file()]
        fresh = [f for f in found if str(f.resolve()) not in seen]
        if not found:
            names = ", ".join(available(directories)) or "none"
            raise KitValueError(f"profile {name_or_path!r} not found (available: {names})")
        path = (fresh or found)[0]
    if not path.is_file():
        names = ", ".join(available(directories)) or "none"
        raise KitValueError(f"profile {name_or_path!r} not found (available: {names})")
    if str(path.resolve()) in seen:
        raise KitValueError(f"profile {path} extends itself through {' -> '.join(seen)}")
    try:
        data = yamlsafe.load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise KitValueError(f"profile {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise KitValueError(f"profile {path}: not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise KitValueError(f"profile {path}: invalid YAML: {yamlsafe.problem(exc)}") from None
    if not isinstance(data, dict):
        raise KitValueError(f"profile {path}: expected a mapping at the top level")
    unknown = set(data) - _KEYS
    if unknown:
        names = ", ".join(sorted(str(k) for k in unknown))
        raise KitValueError(
            f"profile {path}: unknown key(s) {names}{_hint(unknown, _KEYS)}; "
            f"known: {', '.join(sorted(_KEYS))}"
        )
    extends = data.get("extends")
    if extends is not None and not isinstance(extends, str):
        raise KitValueError(
            f"profile {path}: extends must be a profile name, not {type(extends).__name__}"
        )
    near = _search_path([path.parent, *directories])
    base = _load(extends, near, (*seen, str(path.resolve()))) if extends else Profile(name="")
    checks = data.get("checks", base.checks)
    added = data.get("checks_add") or []
    params = data.get("params") or {}
    for key, value in (("checks", checks), ("checks_add", added)):
        if not isinstance(value, list | tuple) or not all(isinstance(c, str) for c in value):
            raise KitValueError(f"profile {path}: {key} must be a list of check ids")
    if not isinstance(params, dict):
        raise KitValueError(f"profile {path}: params must be a mapping")
    return Profile(
        name=str(data.get("name") or path.stem),
        description=str(data.get("description") or base.description),
        checks=(*checks, *(c for c in added if c not in checks)),
        params={**base.params, **params},
        source=path,
        parents=(base.source, *base.parents) if base.source else (),
    )


def _hint(wrong: Iterable[Any], known: Iterable[str]) -> str:
    for word in wrong:
        close = difflib.get_close_matches(str(word), list(known), n=1)
        if close:
            return f" (did you mean {close[0]!r}?)"
    return ""


# -- against the catalog -----------------------------------------------------------------


def declared_params(catalog: Sequence[CheckMeta]) -> dict[str, list[CheckMeta]]:
    """Each parameter key a catalog check reads, with the checks that read it."""
    found: dict[str, list[CheckMeta]] = {}
    for meta in catalog:
        if meta.params is not None:
            found.setdefault(meta.params, []).append(meta)
    return found


def validate(prof: Profile, catalog: Sequence[CheckMeta], where: str = "") -> None:
    """Refuse, in one line, a profile whose ids, parameter keys or parameter shapes the
    catalog does not know. where names the parameters' origin when it is not the profile."""
    ids = [meta.id for meta in catalog]
    for pattern in prof.checks:
        if not any(fnmatch.fnmatchcase(i, pattern) for i in ids):
            raise KitValueError(
                f"profile {_where(prof)}: {pattern!r} matches no check in the catalog"
                f"{_hint([pattern], ids)}"
            )
    validate_params(prof.params, catalog, where or f"profile {_where(prof)}")
    validate_selected(prof, catalog, where)


def validate_selected(prof: Profile, catalog: Sequence[CheckMeta], where: str = "") -> None:
    """Refuse a selected check whose parameter set in this profile is empty."""
    for meta in catalog:
        if meta.params is None:
            continue
        index = prof.order_of(meta.id)
        if index is None or prof.values(meta.params):
            continue
        pattern = prof.checks[index]
        chosen = f"selects {meta.id}" + (f" (by {pattern!r})" if pattern != meta.id else "")
        raise KitValueError(
            f"{where or f'profile {_where(prof)}'}: {chosen}, which takes its values from "
            f"params.{meta.params}, and the profile gives none: give params.{meta.params} "
            "or leave the check out"
        )


def validate_params(params: Mapping[str, Any], catalog: Sequence[CheckMeta], where: str) -> None:
    declared = declared_params(catalog)
    for key, value in params.items():
        if key not in declared:
            raise KitValueError(
                f"{where}: unknown parameter {key!r}{_hint([key], declared)}; "
                f"known: {', '.join(sorted(declared))}"
            )
        for meta in declared[key]:
            problem = _shape_problem(value, len(meta.argnames))
            if problem:
                raise KitValueError(
                    f"{where}: params.{key} must be {problem} for check {meta.id} "
                    f"({', '.join(meta.argnames)}), not {_describe(value)}"
                )


def _shape_problem(value: Any, count: int) -> str:
    """What value must be for a check taking count arguments; empty when it is that."""
    if count == 2:
        if isinstance(value, Mapping):
            return ""
        if isinstance(value, list) and all(_row(v, 2) for v in value):
            return ""
        return "a mapping (name: value) or a list of pairs"
    if count == 1:
        if isinstance(value, list) and not any(isinstance(v, list | dict) for v in value):
            return ""
        return "a list of values"
    if isinstance(value, list) and all(_row(v, count) for v in value):
        return ""
    return f"a list of {count}-item lists"


def _row(value: Any, count: int) -> bool:
    return isinstance(value, list) and len(value) == count


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return f"{type(value).__name__} {value!r}"


def excluded(prof: Profile, catalog: Sequence[CheckMeta]) -> list[str]:
    """Catalog check ids the profile does not select."""
    return [m.id for m in catalog if prof.order_of(m.id) is None]


# -- which profile a host gets ------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """What --profile asks for: a default profile and group -> profile mappings in order."""

    default: str | None = None
    groups: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> list[str]:
        wanted = [p for _, p in self.groups] + ([self.default] if self.default else [])
        return list(dict.fromkeys(wanted))


def parse_choice(text: str | None) -> Choice:
    """`NAME`, or `GROUP=NAME[,GROUP=NAME...]` with at most one bare `NAME` as the default."""
    if text is None:
        return Choice()
    if "=" not in text:
        return Choice(default=text.strip() or None)
    default: str | None = None
    groups: list[tuple[str, str]] = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        group, eq, name = (s.strip() for s in entry.partition("="))
        if not eq:
            if default is not None:
                raise KitValueError(
                    f"--profile names two default profiles ({default}, {group}): keep one"
                )
            default = group
            continue
        if not group or not name:
            raise KitValueError(f"--profile entry {entry!r} must be GROUP=PROFILE")
        if any(g == group for g, _ in groups):
            raise KitValueError(f"--profile maps group {group!r} twice")
        groups.append((group, name))
    return Choice(default, tuple(groups))


def profile_for(choice: Choice, host: str, groups: Iterable[str]) -> str:
    """The profile name a host gets: the first mapping naming one of its groups, else the
    default."""
    member = set(groups)
    for group, name in choice.groups:
        if group in member:
            return name
    if choice.default:
        return choice.default
    mapped = ", ".join(g for g, _ in choice.groups)
    raise KitValueError(
        f"host {host} is in none of the groups --profile maps ({mapped}): map one of its "
        "groups or add a default profile (--profile GROUP=PROFILE,DEFAULT)"
    )


def host_overrides(host: str, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a host's inventory variables replace (`hostkit_<param>`)."""
    import yaml

    found: dict[str, Any] = {}
    for name, value in variables.items():
        if not (isinstance(name, str) and name.startswith(VAR_PREFIX)):
            continue
        if isinstance(value, str):
            try:
                value = yamlsafe.load(value)
            except yaml.YAMLError as exc:
                raise KitValueError(
                    f"inventory host {host}: {name} is not a YAML value: {yamlsafe.problem(exc)}"
                ) from None
        found[name[len(VAR_PREFIX) :]] = value
    return found
