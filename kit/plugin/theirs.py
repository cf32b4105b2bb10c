"""Hosts of testinfra's other backends (docker, podman, kubectl, salt, lxc, winrm, chroot,
...): installing hostkit leaves them to testinfra.

testinfra's plugin builds their `host` fixture with its own backend, so a plain testinfra
test runs on them exactly as without hostkit. hostkit's checks run on them too, and what
they read besides `host` (`conn`, `facts`) goes through a backend of the same kind, read
only (kit.connection.foreign). --fix refuses them before anything runs: hostkit writes
only through the connections it owns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from kit.connection.foreign import ForeignConnection
from kit.connection.spec import HostSpec

if TYPE_CHECKING:
    from testinfra.backend.base import BaseBackend

    from kit.plugin.hosts import HostContext, HostRegistry, Spec

# Options of testinfra's that choose the user per command; hostkit's connection to the host
# logs in as the backend does and switches user itself.
_PER_COMMAND = ("sudo", "sudo_user")


def register(registry: HostRegistry, hostspec: str, kw: Mapping[str, Any]) -> list[HostContext]:
    """The hosts hostspec names through its testinfra backend, registered for reading.

    Each is labelled as testinfra labels its tests (the backend's pytest id), which is how
    a test's `host` is matched to its context.
    """
    import testinfra.backend

    options = {k: v for k, v in kw.items() if k not in _PER_COMMAND and v is not None}
    contexts = []
    for found in testinfra.backend.get_backends([hostspec], **options):
        kind = found.get_connection_type()
        spec = HostSpec(kind, found.get_hostname())
        contexts.append(
            registry.add_theirs(spec, found.get_pytest_id(), _connector(spec, found, kind))
        )
    return contexts


def inventory_others(
    registry: HostRegistry, spec: Spec, query: Mapping[str, str] | None = None
) -> list[str]:
    """The hosts an `ansible://` spec selects whose ansible_connection hostkit does not carry
    out (docker, winrm, ...), registered as hosts of testinfra's ansible backend, which
    reaches them as without hostkit: their testinfra specs, one per host, with the spec's
    sudo options (query)."""
    path = spec.options.get("ansible_inventory")
    if spec.scheme != "ansible" or not path:
        return []
    from kit import inventory  # loads only for ansible://

    loaded = inventory.load(path, others=True)
    named = []
    for name in inventory.select_others(loaded, [spec.host or "all"]):
        one = f"ansible://{name}?{urlencode({'ansible_inventory': path, **(query or {})})}"
        register(registry, one, {})
        named.append(one)
    return named


def _connector(spec: HostSpec, found: BaseBackend, kind: str) -> Any:
    def run(cmdline: str) -> tuple[int, bytes, bytes]:
        res = found.run(cmdline)
        return res.rc, res.stdout_bytes, res.stderr_bytes

    return lambda: ForeignConnection(spec, run, kind)


def fix_refusal(contexts: list[HostContext]) -> str | None:
    """The usage error of a --fix run with such hosts: a line per host."""
    mine = [c for c in contexts if c.connector is not None]
    if not mine:
        return None
    lines = [f"  {c.label}: testinfra's {c.spec.scheme} backend" for c in mine]
    head = "--fix cannot change hosts hostkit only reads through testinfra's backends:"
    return "\n".join([head, *lines])
