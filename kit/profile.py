"""Profiles: which checks run, in which order, with which parameters. Data, not code.

A profile is a YAML file:

    name: kubernetes-node
    extends: base              # optional: start from another profile
    checks: [k8s.kernel.*, k8s.sysctl]   # ids or patterns; the order is the run order
    params:
      sysctls: {net.ipv4.ip_forward: "1"}
      modules: [br_netfilter, overlay]
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kit.errors import KitValueError

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class Profile:
    name: str
    description: str = ""
    checks: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None

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


def _text(value: Any) -> Any:
    # YAML reads `1` as an int; sysctl values and the like are compared as text.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def load(name_or_path: str, directory: Path) -> Profile:
    """Load a profile by name from directory, or from a path to a YAML file."""
    return _load(name_or_path, directory, seen=())


def available(directory: Path) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def _load(name_or_path: str, directory: Path, seen: tuple[str, ...]) -> Profile:
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        if not _NAME.fullmatch(name_or_path):
            raise KitValueError(f"invalid profile name {name_or_path!r}")
        path = directory / f"{name_or_path}.yaml"
    if not path.is_file():
        names = ", ".join(available(directory)) or "none"
        raise KitValueError(f"profile {name_or_path!r} not found (available: {names})")
    if str(path) in seen:
        raise KitValueError(f"profile {path} extends itself through {' -> '.join(seen)}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise KitValueError(f"profile {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise KitValueError(f"profile {path}: not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise KitValueError(f"profile {path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise KitValueError(f"profile {path}: expected a mapping at the top level")
    unknown = set(data) - {"name", "description", "extends", "checks", "params"}
    if unknown:
        names = ", ".join(sorted(str(k) for k in unknown))
        raise KitValueError(f"profile {path}: unknown key(s) {names}")
    extends = data.get("extends")
    if extends is not None and not isinstance(extends, str):
        raise KitValueError(
            f"profile {path}: extends must be a profile name, not {type(extends).__name__}"
        )
    base = _load(extends, directory, (*seen, str(path))) if extends else Profile(name="")
    checks = data.get("checks", base.checks)
    params = data.get("params") or {}
    if not isinstance(checks, list | tuple) or not all(isinstance(c, str) for c in checks):
        raise KitValueError(f"profile {path}: checks must be a list of check ids")
    if not isinstance(params, dict):
        raise KitValueError(f"profile {path}: params must be a mapping")
    return Profile(
        name=str(data.get("name") or path.stem),
        description=str(data.get("description") or base.description),
        checks=tuple(checks),
        params={**base.params, **params},
        source=path,
    )
