"""Reading deploy/'s manifests: their pod, and the hostkit command line each pod runs.

The tests prove the manifests by what these return (tests/unit/test_deploy_manifests.py,
tests/local/test_deploy_image.py), so what is proved is what `kubectl apply` gets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deploy.image import ENTRYPOINT

# Where each kind keeps its pod template.
_POD_PATH = {
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


class ManifestError(ValueError):
    pass


def load(path: Path) -> list[dict[str, Any]]:
    """The documents of a manifest file, each a mapping with a kind."""
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc:
            raise ManifestError(f"{path}: a document without a kind")
    return docs


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    try:
        node: Any = doc
        for key in _POD_PATH[doc["kind"]]:
            node = node[key]
    except KeyError as exc:
        raise ManifestError(
            f"{doc['kind']} {doc.get('metadata', {}).get('name')}: no {exc}"
        ) from None
    return node


def hostkit_argv(doc: dict[str, Any]) -> list[str]:
    """hostkit's arguments in the pod: its container's args, which the image's entrypoint
    (or the DaemonSet's loop, as "$@") hands to hostkit."""
    (container,) = pod_spec(doc)["containers"]
    return [str(a) for a in container["args"]]


def pod_argv(doc: dict[str, Any]) -> list[str]:
    """The pod's whole command line: its command (the image's entrypoint when none), then
    its args, as the kubelet starts it."""
    (container,) = pod_spec(doc)["containers"]
    command = container.get("command") or list(ENTRYPOINT)
    return [*map(str, command), *hostkit_argv(doc)]


def env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: str(e["value"]) for e in container.get("env", ())}
