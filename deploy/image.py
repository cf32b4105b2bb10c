"""hostkit's container image, built here without a registry: a Debian 12 root filesystem
made by mmdebstrap with hostkit's wheel installed, the same image deploy/Containerfile
builds from debian:bookworm-slim where a registry is at hand.

    python -m deploy.image [--export hostkit.tar] [--tag hostkit:latest]

prints the image's root directory; --export also writes it as a docker-archive tarball
(`docker load -i` / `podman load -i` read it). Run it from a checkout, as root.

Two cache entries, each built once under the hosts tier's cache (kit.testhosts.image):
the base (Debian, a venv, hostkit's dependencies), keyed by its recipe and the names of
the dependency wheels; and the image (the base with hostkit's wheel), keyed by the base
and the wheel's contents. A change to hostkit rebuilds only the second, in seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deploy import archive
from kit.testhosts import image, tools
from kit.testhosts.errors import StepFailed

# Bump when the steps below change in a way the package list does not show.
RECIPE_VERSION = 1
SUITE = "bookworm"
# Only what hostkit itself needs in the pod: the catalog's reads run on the node, through
# nsenter (util-linux, essential in Debian, so present in minbase).
PACKAGES = ("python3", "python3-venv", "util-linux")
# Left out of the image: nothing in the pod reads them. Licences stay.
DPKG_OPTIONS = (
    *(f"path-exclude=/usr/share/{d}/*" for d in ("doc", "man", "info", "locale")),
    "path-include=/usr/share/doc/*/copyright",
)
VENV = "/opt/hostkit"
# On the PATH as well, so a shell loop in a manifest names it as a user would.
COMMAND = "/usr/local/bin/hostkit"
ENTRYPOINT = ("hostkit",)
ROOT = Path(__file__).resolve().parents[1]
# What the wheel is built from: copied out first, so the build's own files stay out of
# the checkout (as tests/local/test_wheel.py does).
SOURCES = (
    "pyproject.toml", "setup.py", "README.md", "kit", "hostkit_catalog", "checks", "remediations",
)  # fmt: skip


@dataclass(frozen=True)
class Image:
    root: Path
    key: str


def ensure(log: Path | None = None) -> Image:
    """hostkit's image, built from this checkout (or found in the cache)."""
    tools.require_root()
    tools.require("mmdebstrap", "chroot")
    with tempfile.TemporaryDirectory(prefix="hostkit-wheels-") as tmp:
        hostkit, deps = wheels(Path(tmp))
        entries = image.cache_dir() / "deploy"
        base_key = _key(
            "base", RECIPE_VERSION, SUITE, sorted(PACKAGES), DPKG_OPTIONS, [d.name for d in deps]
        )
        base = image.build_once(entries, base_key, lambda w: _base(w / "rootfs", deps, log))
        key = _key("image", base_key, contents_digest(hostkit))
        top = image.build_once(entries, key, lambda w: _install(base / "rootfs", w, hostkit))
    return Image(top / "rootfs", key)


def wheels(dest: Path) -> tuple[Path, list[Path]]:
    """hostkit's wheel built from this checkout, and the wheels of its dependencies, as
    this machine's pip finds them (its index settings apply)."""
    source = dest / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    out = dest / "wheels"
    argv = [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check"]
    tools.run([*argv, "-w", out, source], "pip wheel", timeout=900)
    (hostkit,) = out.glob("hostkit-*.whl")
    return hostkit, sorted(w for w in out.glob("*.whl") if w != hostkit)


def contents_digest(wheel: Path) -> str:
    """A digest of a wheel's files and their contents: the same for two builds of the same
    sources, which the zip file's own bytes (its timestamps) are not."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(wheel) as zf:
        for name in sorted(zf.namelist()):
            digest.update(name.encode() + b"\0" + hashlib.sha256(zf.read(name)).digest())
    return digest.hexdigest()


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _base(root: Path, deps: Sequence[Path], log: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="hostkit-deps-") as tmp:
        for dep in deps:
            shutil.copy2(dep, tmp)
        hooks = [
            f'chroot "$1" python3 -m venv {VENV}',
            f'mkdir "$1"/tmp/wheels && cp {tmp}/*.whl "$1"/tmp/wheels/',
            # The wheels' names are globbed inside the image, where they are.
            f'chroot "$1" sh -c "{VENV}/bin/pip install -q --no-index --no-deps'
            ' --disable-pip-version-check /tmp/wheels/*.whl"',
            'rm -rf "$1"/tmp/wheels "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin',
        ]
        argv = ["mmdebstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES)]
        argv += [f"--dpkgopt={option}" for option in DPKG_OPTIONS]
        argv += [f"--customize-hook={hook}" for hook in hooks]
        done = tools.run([*argv, SUITE, root], "mmdebstrap", timeout=1800, check=False)
    if log:
        log.write_bytes(done.stdout + done.stderr)
    if done.returncode != 0:
        raise StepFailed("mmdebstrap", done.returncode, done.stderr.decode("utf-8", "replace"))


def _install(base: Path, work: Path, wheel: Path) -> None:
    root = work / "rootfs"
    tools.run(["cp", "-a", "--reflink=auto", base, root], "copying the base image")
    inside = Path(VENV) / wheel.name  # for the install only
    shutil.copy2(wheel, root / inside.relative_to("/"))
    pip = [f"{VENV}/bin/pip", "install", "-q", "--no-index", "--no-deps"]
    tools.run(["chroot", root, *pip, "--disable-pip-version-check", inside], "pip install")
    (root / inside.relative_to("/")).unlink()
    (root / COMMAND.lstrip("/")).symlink_to(f"{VENV}/bin/hostkit")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.image", description=__doc__)
    parser.add_argument("--export", type=Path, metavar="TAR",
                        help="also write the image as a docker-archive tarball")  # fmt: skip
    parser.add_argument("--tag", default="hostkit:latest", help="the tarball's image name")
    args = parser.parse_args(argv)
    built = ensure()
    print(built.root)
    if args.export:
        archive.write(built.root, args.export, tag=args.tag, entrypoint=ENTRYPOINT)
        print(args.export)
    return 0


if __name__ == "__main__":
    sys.exit(main())
