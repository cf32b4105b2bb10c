"""Docker's packaging, rebuilt locally: `containerd.io` and a `docker-ce` that depends on it.

Docker's apt repository is not reachable here, so the two packages are made with dpkg-deb
from Debian's own containerd and runc .debs (already in the image's local repository) and
served beside them. What matters to the kit is what Docker's packages declare, after
docker/containerd-packaging (debian/control, v1.7.x): `containerd.io` carries containerd AND
runc and says `Provides/Conflicts/Replaces: containerd, runc`, so installing Debian's
`containerd` would remove it and with it `docker-ce`; and it ships
/etc/containerd/config.toml (common/containerd.toml) with the CRI plugin disabled.

The engine itself is not rebuilt: `docker-ce` here holds only a note, and depends on
`containerd.io` as docker/docker-ce-packaging's deb/common/control has it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from kit.testhosts import tools
from kit.testhosts.errors import StepFailed

# Part of the image's cache key: bump when what is built here changes.
RECIPE = 1
CONTAINERD_IO = "containerd.io"
DOCKER_CE = "docker-ce"
DOCKER_CE_VERSION = "5:27.5.1-1~hostkit"
# common/containerd.toml of docker/containerd-packaging, in substance: CRI disabled,
# everything else containerd's defaults.
CONTAINERD_TOML = """\
# As Docker's containerd.io package ships it (docker/containerd-packaging,
# common/containerd.toml): Docker needs no CRI, so the plugin is disabled.
disabled_plugins = ["cri"]

#root = "/var/lib/containerd"
#state = "/run/containerd"
#subreaper = true
#oom_score = 0

#[grpc]
#  address = "/run/containerd/containerd.sock"
#  uid = 0
#  gid = 0
"""


def build_into(repo: Path) -> list[Path]:
    """Build both packages from the containerd and runc .debs in repo; return their paths."""
    containerd = _one(repo, "containerd_")
    runc = _one(repo, "runc_")
    with tempfile.TemporaryDirectory(prefix="hostkit-dockerpkg-") as tmp:
        work = Path(tmp)
        built = [
            _containerd_io(containerd, runc, work / "containerd.io", repo),
            _docker_ce(work / "docker-ce", repo),
        ]
    return built


def _one(repo: Path, prefix: str) -> Path:
    found = sorted(repo.glob(f"{prefix}*.deb"))
    if len(found) != 1:
        names = [p.name for p in found]
        raise StepFailed(f"finding {prefix}*.deb in {repo}", 1, f"found {names}")
    return found[0]


def _field(control: str, name: str) -> str:
    match = re.search(rf"^{name}: (.*)$", control, re.M)
    return match.group(1).strip() if match else ""


def _without(depends: str, names: tuple[str, ...]) -> str:
    """A Depends field with the alternatives naming any of names left out."""
    kept = []
    for part in (p.strip() for p in depends.split(",") if p.strip()):
        if re.split(r"[\s(:]", part, maxsplit=1)[0] not in names:
            kept.append(part)
    return ", ".join(kept)


def _containerd_io(containerd: Path, runc: Path, tree: Path, repo: Path) -> Path:
    control_dir = tree / "DEBIAN"
    # Debian's containerd's maintainer scripts (enable and start the unit) stay.
    tools.run(["dpkg-deb", "-R", str(containerd), str(tree)], "dpkg-deb -R containerd")
    tools.run(["dpkg-deb", "-x", str(runc), str(tree)], "dpkg-deb -x runc")
    control = (control_dir / "control").read_text()
    version = _field(control, "Version").split(":")[-1]
    depends = _without(_field(control, "Depends"), ("runc",))
    fields = [
        f"Package: {CONTAINERD_IO}",
        f"Version: {version}-hostkit1",
        f"Architecture: {_field(control, 'Architecture')}",
        "Maintainer: hostkit tests <root@localhost>",
        *([f"Depends: {depends}"] if depends else []),
        "Provides: containerd, runc",
        "Conflicts: containerd, runc",
        "Replaces: containerd, runc",
        "Section: devel",
        "Priority: optional",
        "Description: An open and reliable container runtime (rebuilt for hostkit's tests)",
        " containerd and runc in one package, declared as Docker's containerd.io is.",
    ]
    (control_dir / "control").write_text("\n".join(fields) + "\n")
    (control_dir / "md5sums").unlink(missing_ok=True)
    config = tree / "etc/containerd/config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(CONTAINERD_TOML)
    conffiles = control_dir / "conffiles"
    listed = conffiles.read_text().split() if conffiles.exists() else []
    if "/etc/containerd/config.toml" not in listed:
        listed.append("/etc/containerd/config.toml")
    conffiles.write_text("\n".join(listed) + "\n")
    return _pack(tree, repo / f"containerd.io_{version}-hostkit1_amd64.deb")


def _docker_ce(tree: Path, repo: Path) -> Path:
    doc = tree / "usr/share/doc/docker-ce"
    doc.mkdir(parents=True)
    (doc / "README.hostkit").write_text(
        "Stands in for Docker's docker-ce: only its dependency on containerd.io is real.\n"
    )
    (tree / "DEBIAN").mkdir()
    fields = [
        f"Package: {DOCKER_CE}",
        f"Version: {DOCKER_CE_VERSION}",
        "Architecture: amd64",
        "Maintainer: hostkit tests <root@localhost>",
        f"Depends: {CONTAINERD_IO} (>= 1.4), iptables",
        "Conflicts: docker.io",
        "Replaces: docker.io",
        "Section: admin",
        "Priority: optional",
        "Description: Docker engine stand-in (rebuilt for hostkit's tests)",
        " Depends on containerd.io as Docker's docker-ce does; holds no engine.",
    ]
    (tree / "DEBIAN/control").write_text("\n".join(fields) + "\n")
    return _pack(tree, repo / "docker-ce_27.5.1-1~hostkit_amd64.deb")


def _pack(tree: Path, out: Path) -> Path:
    tools.run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "-b", str(tree), str(out)],
        "dpkg-deb -b",
    )
    shutil.rmtree(tree)
    return out
