"""Reading an inventory through Ansible's own `ansible-inventory --list`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from kit import encodable
from kit.errors import KitError, KitValueError
from kit.inventory.model import Model

COMMAND = "ansible-inventory"
TIMEOUT = 120.0
# Settings that would make ansible-inventory wait for an answer nobody can give.
_PROMPTING = {"ANSIBLE_ASK_VAULT_PASS", "ANSIBLE_ASK_PASS", "ANSIBLE_BECOME_ASK_PASS"}
_KEPT = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}


class AnsibleInventoryError(KitError):
    """ansible-inventory failed or gave output that is not an inventory."""


def available() -> bool:
    return shutil.which(COMMAND) is not None


def environment() -> dict[str, str]:
    """The caller's Ansible settings (config, vault password file) and nothing that prompts."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k in _KEPT or (k.startswith("ANSIBLE_") and k not in _PROMPTING)
    }
    env.update(
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        # A file no plugin can read is an error, not an empty inventory.
        ANSIBLE_INVENTORY_UNPARSED_FAILED="1",
        ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="1",
    )
    return env


def run_list(path: Path, timeout: float = TIMEOUT) -> dict[str, Any]:
    exe = shutil.which(COMMAND)
    if exe is None:
        raise KitValueError(f"--inventory-backend=ansible: {COMMAND} is not on the PATH")
    try:
        # No stdin and a new session without a terminal: a vault prompt fails instead of waiting.
        done = subprocess.run(
            [exe, "-i", str(path), "--list"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=environment(),
            timeout=timeout,
            start_new_session=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AnsibleInventoryError(
            f"{COMMAND} -i {path} --list: no answer after {timeout:g}s"
        ) from None
    if done.returncode != 0:
        raise AnsibleInventoryError(f"{COMMAND} -i {path} --list failed: {_reason(done.stderr)}")
    try:
        data = encodable.data(json.loads(done.stdout))
    except ValueError:
        raise AnsibleInventoryError(f"{COMMAND} -i {path} --list: output is not JSON") from None
    if not isinstance(data, dict):
        raise AnsibleInventoryError(f"{COMMAND} -i {path} --list: output is not a mapping")
    return data


def _reason(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    # The plugin's own complaint says what is wrong; the final error only that it failed.
    causes = [ln for ln in lines if ln.startswith("[WARNING]: Failed to parse inventory with")]
    errors = [ln for ln in lines if ln.startswith(("ERROR", "[ERROR]"))]
    chosen = (causes or errors or lines or ["no error message"])[0]
    for prefix in ("[WARNING]: ", "[ERROR]: ", "ERROR! "):
        chosen = chosen.removeprefix(prefix)
    return chosen[:300]


def model(data: dict[str, Any]) -> Model:
    """The --list output as a Model whose host variables are already resolved."""
    result = Model()
    hostvars = data.get("_meta", {}).get("hostvars", {})
    result.resolved = {str(h): {k: _plain(x) for k, x in v.items()} for h, v in hostvars.items()}
    for name, node in data.items():
        if name == "_meta" or not isinstance(node, dict):
            continue
        group = result.group(name)
        for host in node.get("hosts", []):
            result.hostvars.setdefault(host, {})
            if host not in group.hosts:
                group.hosts.append(host)
        for child in node.get("children", []):
            result.group(child)
            if child not in group.children:
                group.children.append(child)
    for host in hostvars:
        result.hostvars.setdefault(host, {})
    return result


def _plain(value: Any) -> Any:
    """A value without the wrapper --list puts around `!unsafe` strings (vault ones stay)."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return _plain(value["__ansible_unsafe"])
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
