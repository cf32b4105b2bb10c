"""A root filesystem as a docker-archive tarball: one layer, a config naming the entrypoint,
and the manifest `docker load` and `podman load` read."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

from kit.testhosts import tools

# The container runtime mounts these itself; the image carries them empty.
RUNTIME_MOUNTS = ("dev", "proc", "sys")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def write(root: Path, out: Path, *, tag: str, entrypoint: Sequence[str]) -> None:
    """Write `root` as the image `tag` to `out`, atomically."""
    out = out.resolve()
    with tempfile.TemporaryDirectory(prefix=".hostkit-layer-", dir=out.parent) as tmp:
        layer = Path(tmp) / "layer.tar"
        excludes = [f"--exclude=./{name}/*" for name in RUNTIME_MOUNTS]
        argv = ["tar", "--numeric-owner", "--xattrs", *excludes, "-C", root, "-cf", layer, "."]
        tools.run(argv, "tar of the image's root")
        diff_id = _sha256(layer)
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Entrypoint": list(entrypoint), "Env": [f"PATH={PATH}"]},
                "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
            },
            sort_keys=True,
        ).encode()
        config_name = hashlib.sha256(config).hexdigest() + ".json"
        manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": [f"{diff_id}.tar"]}]
        partial = Path(tmp) / "image.tar"
        with tarfile.open(partial, "w") as tar:
            tar.add(layer, arcname=f"{diff_id}.tar")
            _add_bytes(tar, config_name, config)
            _add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
        os.replace(partial, out)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
