"""deploy/archive.py: a root filesystem as a docker-archive tarball that names its layer by
the layer's own digest, and leaves what the runtime mounts empty."""

from __future__ import annotations

import hashlib
import json
import tarfile

from deploy import archive


def test_the_tarball_holds_one_layer_its_config_names_by_digest(tmp_path):
    root = tmp_path / "root"
    for name in ("usr/bin", "proc/1", "dev", "sys/kernel", "tmp"):
        (root / name).mkdir(parents=True)
    (root / "usr/bin/hostkit").write_text("#!/bin/sh\n")
    (root / "proc/1/status").write_text("not the image's\n")
    (root / "dev/null-ish").write_text("")
    out = tmp_path / "hostkit.tar"
    archive.write(root, out, tag="hostkit:0.1.0", entrypoint=["hostkit"])
    with tarfile.open(out) as tar:
        (manifest,) = json.loads(tar.extractfile("manifest.json").read())
        config = tar.extractfile(manifest["Config"]).read()
        (layer_name,) = manifest["Layers"]
        layer = tar.extractfile(layer_name).read()
    assert manifest["RepoTags"] == ["hostkit:0.1.0"]
    assert manifest["Config"] == hashlib.sha256(config).hexdigest() + ".json"
    doc = json.loads(config)
    assert doc["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
    assert doc["config"]["Entrypoint"] == ["hostkit"]
    layer_path = tmp_path / "layer.tar"
    layer_path.write_bytes(layer)
    with tarfile.open(layer_path) as tar:
        names = set(tar.getnames())
    assert "./usr/bin/hostkit" in names
    assert {"./proc", "./dev", "./sys"} <= names  # there, and empty
    assert not [n for n in names if n.startswith(("./proc/", "./dev/", "./sys/"))]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostkit.tar", "layer.tar", "root"]
