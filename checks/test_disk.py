"""Free space where a node keeps its state: kubelet, the container runtime, etcd."""

import re
from dataclasses import dataclass

from kit.catalog.check import check
from kit.errors import KitValueError

# The path's nearest existing parent: before kubelet or containerd are installed their
# directory does not exist, and the filesystem that will hold it is its parent's.
_DF = r"""p=$1
while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname -- "$p"); done
printf '%s\n' "$p"
df -P -k -- "$p"
"""

_ROW = re.compile(
    r"^(?P<device>.*?)\s+(?P<size>\d+)\s+(?P<used>\d+)\s+(?P<avail>\d+)\s+\S+\s+(?P<mount>/.*)$"
)
_THRESHOLD = re.compile(r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>%|MiB|GiB)$")


@dataclass(frozen=True)
class Space:
    """A filesystem's size and the space left to unprivileged users, in KiB (statfs's
    f_blocks and f_bavail, which kubelet's nodefs.available is measured against)."""

    device: str
    mountpoint: str
    size_kib: int
    avail_kib: int

    @property
    def percent_free(self) -> float:
        return 100.0 * self.avail_kib / self.size_kib if self.size_kib else 0.0


def parse_df(text: str) -> Space:
    """`df -P -k` output: a header, then one row (POSIX format never wraps a row)."""
    rows = [line for line in text.splitlines()[1:] if line.strip()]
    found = _ROW.match(rows[-1]) if rows else None
    if found is None:
        raise KitValueError(f"unreadable df output: {text.strip()[:200]!r}")
    return Space(found["device"], found["mount"], int(found["size"]), int(found["avail"]))


def parse_threshold(text: str) -> tuple[float, str]:
    """("10%") -> (10.0, "%"); ("2GiB") -> (2097152.0, "KiB")."""
    found = _THRESHOLD.match(str(text).strip())
    if found is None:
        raise KitValueError(f"invalid free-space threshold {text!r} (want e.g. 10%, 2GiB)")
    n, unit = float(found["n"]), found["unit"]
    if unit == "%":
        if n > 100:
            raise KitValueError(f"invalid free-space threshold {text!r}: over 100%")
        return n, "%"
    return n * (1024 if unit == "MiB" else 1024 * 1024), "KiB"


def _gib(kib: int) -> str:
    return f"{kib / 1024 / 1024:.1f} GiB"


def space_verdict(path: str, existing: str, space: Space, threshold: str) -> None:
    floor, unit = parse_threshold(threshold)
    have = space.percent_free if unit == "%" else float(space.avail_kib)
    where = path if existing == path else f"{path} (not there yet; {existing})"
    assert have >= floor, (
        f"{where} is on {space.mountpoint} ({space.device}) with {space.percent_free:.1f}% "
        f"free ({_gib(space.avail_kib)} of {_gib(space.size_kib)}), want at least {threshold}"
    )


@check(
    "k8s.disk.free",
    "Enough free space on the filesystem holding the node's state directory",
    severity="warning",
    refs={
        "kubelet": "pkg/kubelet/eviction/defaults_linux.go DefaultEvictionHard: "
        "nodefs.available<10%, imagefs.available<15%",
    },
    params="disk_free",
    argnames="path,threshold",
    tags=("storage",),
)
def test_disk_free(conn, facts, path, threshold):
    """A node below kubelet's hard eviction thresholds is under disk pressure from its
    first minute: kubelet evicts pods and refuses new ones. /var/lib/kubelet is nodefs;
    /var/lib/containerd is imagefs where it is a filesystem of its own (on the same one,
    nodefs's threshold applies too, and the profile's stricter value covers both)."""
    parse_threshold(threshold)  # a bad profile value fails before the host is asked
    if not path.startswith("/") or "\0" in path or "\n" in path:
        raise KitValueError(f"disk_free: {path!r} is not an absolute path")
    gathered = facts.kernelprep.disk.get(path) if facts.kernelprep is not None else None
    if gathered is not None:
        existing, df = gathered
    else:
        out = conn.read("sh -c %s sh %s", _DF, path).check().stdout
        existing, _, df = out.partition("\n")
    space_verdict(path, existing, parse_df(df), threshold)
