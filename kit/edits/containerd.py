"""containerd's config.toml: the settings Kubernetes needs, read and set in place.

Where a setting lives depends on the file's `version`: containerd 1.x writes version 2,
containerd 2.0-2.2 version 3, which moved the CRI settings into new plugins and renamed
the sandbox (pause) image, and containerd 2.3 version 4 (kubespray's template writes it
for 2.3), which moved only the server's own grpc, ttrpc, debug and metrics tables into
plugins (containerd's cmd/containerd/server/config/config.go, serviceMigrate): the CRI
settings are where version 3 has them. A file without `version` is version 1, whose
plugin tables have other names; these helpers refuse one that configures plugins rather
than guess. One that configures none, as Docker's containerd.io ships it (only
`disabled_plugins`, the rest commented out), reads as the installed containerd's own
version, and an edit writes that version into it.

A key the file does not set takes containerd's built-in default, which is what
`containerd config default` prints: `effective` reads the file over those defaults.

Edits go through tomlkit, which keeps comments, order and layout of everything the edit
does not touch: the file is often the operator's own, or the distribution's.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from kit.errors import KitValueError

CONFIG = "/etc/containerd/config.toml"
VERSIONS = (2, 3, 4)

_CRI_V2 = "io.containerd.grpc.v1.cri"
_RUNC = ("containerd", "runtimes", "runc", "options", "SystemdCgroup")
_RUNTIME_V3 = ("plugins", "io.containerd.cri.v1.runtime", *_RUNC)
SYSTEMD_CGROUP: dict[int, tuple[str, ...]] = {
    2: ("plugins", _CRI_V2, *_RUNC),
    3: _RUNTIME_V3,
    4: _RUNTIME_V3,
}
_SANDBOX_V3 = ("plugins", "io.containerd.cri.v1.images", "pinned_images", "sandbox")
SANDBOX_IMAGE: dict[int, tuple[str, ...]] = {
    2: ("plugins", _CRI_V2, "sandbox_image"),
    3: _SANDBOX_V3,
    4: _SANDBOX_V3,
}
# Names under which disabled_plugins turns the CRI off: its short id (Docker's
# containerd.io ships `disabled_plugins = ["cri"]`), its full id, and in version 3 the
# plugins the CRI service is made of.
_CRI_V3 = ("cri", _CRI_V2, "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images")
CRI_PLUGINS: dict[int, tuple[str, ...]] = {
    1: ("cri", _CRI_V2),
    2: ("cri", _CRI_V2),
    3: _CRI_V3,
    4: _CRI_V3,
}


def parse(text: str, *, source: str = CONFIG) -> dict[str, Any]:
    """The TOML document; KitValueError naming the file and the error when it is not TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KitValueError(f"{source} is not valid TOML: {exc}") from None


def version(doc: dict[str, Any]) -> int:
    value = doc.get("version", 1)
    return value if isinstance(value, int) else 1


def get(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The value at path, or None where any part of it is missing."""
    node: Any = doc
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


@dataclass(frozen=True)
class Setting:
    value: Any
    # Where it comes from: the file, or containerd's built-in default.
    source: str


@dataclass(frozen=True)
class Config:
    """The file (None: absent) over containerd's defaults (None: unknown)."""

    file: dict[str, Any] | None
    defaults: dict[str, Any] | None

    @property
    def version(self) -> int | None:
        """The version whose key paths apply: the file's, or where the file configures no
        plugin table (nothing in it depends on the version), the defaults'."""
        doc = self.file if self.file is not None else self.defaults
        if doc is None:
            return None
        if version(doc) == 1 and "plugins" not in doc and self.defaults is not None:
            return version(self.defaults)
        return version(doc)

    def setting(self, paths: dict[int, tuple[str, ...]]) -> Setting | None:
        """The value containerd runs with, or None when neither the file nor the defaults
        say (containerd is not installed)."""
        ver = self.version
        if ver not in VERSIONS:
            return None
        path = paths[ver]
        if self.file is not None and get(self.file, path) is not None:
            return Setting(get(self.file, path), CONFIG)
        if self.defaults is not None and version(self.defaults) == ver:
            return Setting(get(self.defaults, path), "containerd's default")
        return None

    def disabled_cri(self) -> list[str]:
        """Entries of disabled_plugins that turn the CRI off."""
        ver = self.version
        if self.file is None or ver not in CRI_PLUGINS:
            return []
        disabled = self.file.get("disabled_plugins") or []
        return [p for p in disabled if p in CRI_PLUGINS[ver]]


def effective(file_text: str | None, default_text: str | None) -> Config:
    file = parse(file_text) if file_text is not None else None
    defaults = parse(default_text, source="containerd config default") if default_text else None
    return Config(file, defaults)


def _versioned(text: str, default_version: int) -> str:
    """text with a version, where it has none and configures no plugin (see above)."""
    doc = parse(text)
    if version(doc) == 1 and "plugins" not in doc and "version" not in doc:
        return f"version = {default_version}\n" + text
    if version(doc) not in VERSIONS:
        raise KitValueError(
            f"{CONFIG} is config version {version(doc)}; only versions "
            f"{VERSIONS[0]} to {VERSIONS[-1]} are edited"
            + (
                " (migrate it with `containerd config migrate`)"
                if version(doc) < VERSIONS[0]
                else ""
            )
        )
    return text


def set_value(
    text: str, paths: dict[int, tuple[str, ...]], value: Any, *, default_version: int = 2
) -> str:
    """text with the setting at its path for the file's version set to value.

    default_version: the installed containerd's, for a file that has none to give.
    Tables on the way that do not exist are created as dotted headers, so only the
    innermost one shows, as containerd's own default file writes them.
    """
    versioned = _versioned(text, default_version)
    path = paths[version(parse(versioned))]
    current = get(parse(versioned), path)
    if current == value and type(current) is type(value):
        return text
    import tomlkit  # only an edit needs it: checks read the file with tomllib

    doc = tomlkit.parse(versioned)
    *parents, leaf = path
    table: Any = doc
    for key in parents:
        if key not in table:
            table[key] = tomlkit.table(is_super_table=True)
        table = table[key]
    table[leaf] = value
    return tomlkit.dumps(doc)


def enable_cri(text: str) -> str:
    """text without the disabled_plugins entries that turn the CRI off."""
    ver = version(parse(text))
    if ver not in CRI_PLUGINS:
        raise KitValueError(f"{CONFIG} is config version {ver}, which this kit does not know")
    names = CRI_PLUGINS[ver]
    import tomlkit  # only an edit needs it: checks read the file with tomllib

    doc = tomlkit.parse(text)
    disabled = doc.get("disabled_plugins")
    if disabled is None or not any(p in names for p in disabled):
        return text
    for index in reversed(range(len(disabled))):
        if disabled[index] in names:
            del disabled[index]
    return tomlkit.dumps(doc)


def plugin_status(ctr_plugins_ls: str, type_: str, id_: str) -> str | None:
    """The STATUS column of one plugin in `ctr plugins ls` output (ok, skip, error), or
    None when containerd does not list it (disabled plugins are not listed)."""
    for line in ctr_plugins_ls.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == type_ and fields[1] == id_:
            return fields[-1]
    return None
